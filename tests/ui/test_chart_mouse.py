"""Pilot tests of the full-screen chart's cursor: a cursor move repaints the cursor only (the
picture is the one render_chart draws with that cursor), a click moves the cursor to the step
nearest the mouse, the mouse wheel zooms around the cursor.

Expected steps come from TensorBoard's EventAccumulator on the same files.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app
from tests.ui.test_app import chart, started
from tuiboard.core.logdir import Logdir
from tuiboard.render.chart import render_chart
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.widgets.scalar_chart import chart_series

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


async def open_full(pilot: Pilot[int], tag: str) -> tuple[TuiboardApp, ChartScreen]:
    app = await started(pilot)
    chart(app, tag).focus()
    await pilot.press("enter")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ChartScreen)
    return app, screen


async def test_cursor_move_repaints_only_the_cursor(tbx_logdir: Logdir) -> None:
    tag = "loss/train"
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app, screen = await open_full(pilot, tag)
        full = screen.chart
        size = full.content_size
        renders = full.renders
        for key in ("left", "left", "home", "right", "end"):
            await pilot.press(key)
            await pilot.pause()
            drawn = full.draw(size.width, size.height)
            # The same picture as a full draw with this cursor ...
            _, series = chart_series(app.board, tag)
            want = render_chart(
                series, full.chart_options(), size.width, size.height, app.board.theme
            )
            assert drawn.plain == want.plain
            assert drawn.spans == want.spans
            frame = full.frame
            assert frame is not None and full.cursor_x is not None
            col = frame.left + frame.column_of(full.cursor_x)  # type: ignore[operator]
            rows = drawn.plain.split("\n")[1 : 1 + frame.plot_rows]
            assert any(row[col] == "│" for row in rows)
        # ... without drawing the series again.
        assert full.renders == renders
        # Zoom is a new picture.
        await pilot.press("plus")
        await pilot.pause()
        full.draw(size.width, size.height)
        assert full.renders == renders + 1
