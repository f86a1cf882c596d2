"""Snapshots of a pinned run and of the linked cursor: the demo logdir at 160x45 with one run
pinned (its mark in the run panel, its lines bold on top with ◆ on the last point) and the
cursor put on a step in one chart (every chart draws it, with each run's value under it).

Deterministic as tests/ui/test_snapshots.py (the demo's seeded data, pinned file times, the
app's clock injected). Update after a reviewed visual change:
pytest tests/ui/test_snapshots_query.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.ui.conftest import make_app
from tests.ui.test_snapshots import LARGE, then
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart

SnapCompare = Callable[..., bool]


async def pin_and_cursor(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    app.query_one("#scalars-view").set_filter_text("loss")  # type: ignore[attr-defined]
    await pilot.pause()
    tree = app.query_one(RunTree)
    tree.focus()
    run = "resnet/lr=0.01"
    tree.move_cursor(tree._run_nodes[run])
    await pilot.pause()
    await pilot.press("P")
    await pilot.pause()
    chart = next(c for c in app.query(ScalarChart) if c.tag == "loss/train")
    chart.focus()
    await pilot.press("right_square_bracket", *["left_curly_bracket"] * 3)
    await pilot.pause()
    assert app.board.selection.pinned == {run} and app.board.linked_cursor() is not None


def test_pinned_run_and_linked_cursor(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None
) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=LARGE, run_before=then(pin_and_cursor))
