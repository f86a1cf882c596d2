"""Snapshots of the Custom scalars tab at 80x24 and 160x45 on the runs tensorboardX wrote
(tests/ui/conftest.py write_custom_scalars_runs): the categories with their multiline and margin
charts, and a margin chart full screen with its cursor table.

Deterministic as tests/ui/test_snapshots.py: fixed wall times, pinned file times, the app's
clock injected, wall-time labels in UTC, no text cursor focused.
Update after a reviewed visual change:
    pytest tests/ui/test_snapshots_custom_scalars.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app, until
from tests.ui.test_snapshots import LARGE, SMALL, SnapCompare, then
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.custom_scalars_view import CustomChart, CustomScalarsView


async def custom_tab(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    app.action_show_tab("custom_scalars")
    view = app.view("custom_scalars")
    assert isinstance(view, CustomScalarsView)
    await until(pilot, lambda: view.built, step=None)
    await pilot.pause()


async def margin_full_screen(pilot: Pilot[int]) -> None:
    app = pilot.app
    chart = next(c for c in app.query(CustomChart) if c.tag == "top1 with CI")
    chart.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*["left"] * 4)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_custom_scalars(
    snap_compare: SnapCompare, cs_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(cs_logdir), terminal_size=size, run_before=then(custom_tab))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_margin_chart_full_screen(
    snap_compare: SnapCompare, cs_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(
        make_app(cs_logdir), terminal_size=size, run_before=then(custom_tab, margin_full_screen)
    )
