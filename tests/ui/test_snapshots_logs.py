"""Snapshots of the W&B side of the app at 80x24 and 160x45: the Logs pane under the charts on a
real wandb output.log (escapes removed, the tqdm bar at its last state), the display name in the
run panel, and a chart whose x axis is its step metric.

Deterministic: the wandb script prints the same text every time, fixed wall times, pinned file
times, the app's clock injected, no text cursor. Update after a reviewed visual change:
pytest tests/ui/test_snapshots_logs.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app
from tests.ui.test_snapshots import LARGE, SMALL, then
from tests.ui.wandb_ui import wandb_logdir
from tests.wandb_console import WandbConsole, make_wandb_console
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.logs_pane import LogsPane

SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_wandb_console(tmp_path_factory.mktemp("wandb-snap"))


@pytest.fixture
def logdir(tmp_path: Path, wb: WandbConsole) -> Logdir:
    return wandb_logdir(tmp_path / "logs", wb)[0]


async def console_read(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    pane = app.query_one(LogsPane)
    for _ in range(200):
        if pane.updates:
            break
        await pilot.pause(0.02)
    assert pane.updates
    await pilot.pause()


async def metric_axis(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    await pilot.press("L")  # the charts alone
    app.query_one("#scalars-view").set_filter_text("val/")  # type: ignore[attr-defined]
    for _ in range(3):
        await pilot.press("x")
    assert app.board.options.x_axis == "metric"


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_logs_pane(
    snap_compare: SnapCompare, logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(logdir), terminal_size=size, run_before=then(console_read))


def test_step_metric_axis(snap_compare: SnapCompare, logdir: Logdir, utc: None) -> None:
    assert snap_compare(
        make_app(logdir), terminal_size=LARGE, run_before=then(console_read, metric_axis)
    )
