"""Snapshots of grouped runs at 160x45: the Scalars grid with the run panel's group list (one
group expanded), and a grouped chart full screen (each group's line over its min-max band in a
dim shade of its colour, the cursor table with value, band and run count).

Deterministic: runs written by tensorboardX with fixed wall times, pinned file times, the app's
clock injected. Update after a reviewed visual change:
pytest tests/ui/test_snapshots_groups.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

import tuiboard
from tests.group_runs import write_ui_seeds
from tests.ui.conftest import make_app
from tests.ui.test_snapshots import LARGE, then
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.group_list import GroupList
from tuiboard.ui.widgets.scalar_chart import ScalarChart

SnapCompare = Callable[..., bool]


@pytest.fixture
def logdir(tmp_path: Path) -> Logdir:
    return tuiboard.open(str(write_ui_seeds(tmp_path / "seeds")))


async def group_by_seed(pilot: Pilot[int]) -> None:
    await pilot.press("g")
    await pilot.pause()
    await pilot.press(*r"seed=\d+", "enter")


async def expand_second(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    app.query_one(GroupList).focus()
    await pilot.press("down", "enter")


async def open_loss(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    next(c for c in app.query(ScalarChart) if c.tag == "loss").focus()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*["left"] * 12)


def test_grouped_grid_with_an_expanded_group(snap_compare: SnapCompare, logdir: Logdir) -> None:
    assert snap_compare(
        make_app(logdir), terminal_size=LARGE, run_before=then(group_by_seed, expand_second)
    )


def test_grouped_chart_full_screen(snap_compare: SnapCompare, logdir: Logdir) -> None:
    assert snap_compare(
        make_app(logdir), terminal_size=LARGE, run_before=then(group_by_seed, open_loss)
    )
