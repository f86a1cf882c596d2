"""Pilot tests of the full-screen chart's cursor: a cursor move repaints the cursor only (the
picture is the one render_chart draws with that cursor), a click moves the cursor to the step
nearest the mouse, the mouse wheel zooms around the cursor.

Expected steps come from TensorBoard's EventAccumulator on the same files.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from tests.ui.conftest import TBX_RUNS, TBX_STEPS, make_app
from tests.ui.test_app import chart, started, tb_scalars
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


async def test_click_moves_the_cursor_to_the_nearest_step(
    tbx_root: Path, tbx_logdir: Logdir
) -> None:
    tag = "loss/train"
    steps = [e.step for e in tb_scalars(tbx_root, "b", tag)]
    assert len(steps) == TBX_STEPS
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        _, screen = await open_full(pilot, tag)
        full = screen.chart
        frame = full.frame
        assert frame is not None and frame.plot_cols > 100
        pad = full.content_region.x - full.region.x
        row = 1 + frame.plot_rows // 2

        async def click_column(col: int) -> None:
            assert await pilot.click(full, offset=(pad + frame.left + col, row))
            await pilot.pause()

        # A click on the column of a step puts the cursor on that step ...
        for step in (steps[0], steps[13], steps[25], steps[-1]):
            col = frame.column_of(float(step))
            assert col is not None
            await click_column(col)
            assert {r.step for r in screen.cursor_rows()} == {step}
            assert {r.run for r in screen.cursor_rows()} == set(TBX_RUNS)
        # ... and a click anywhere on the plot on the step nearest the x under the mouse.
        for col in range(0, frame.plot_cols, 9):
            await click_column(col)
            x = frame.x_at(col)
            nearest = min(steps, key=lambda s: (abs(s - x), s))
            assert full.cursor_x == nearest
            assert {r.step for r in screen.cursor_rows()} == {nearest}
        # The y labels are not the plot: the cursor stays.
        before = full.cursor_x
        assert await pilot.click(full, offset=(pad, row))
        await pilot.pause()
        assert full.cursor_x == before
        # A double click stays on this screen (the grid chart's double click opens a chart).
        assert await pilot.double_click(full, offset=(pad + frame.left + 3, row))
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_click_when_zoomed_stays_in_the_shown_range(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        _, screen = await open_full(pilot, "lr")
        full = screen.chart
        for _ in range(20):
            await pilot.press("left")
        await pilot.press("plus", "plus")
        await pilot.pause()
        x_range = full.x_range
        assert x_range is not None
        frame = full.frame
        assert frame is not None and (frame.x_lo, frame.x_hi) == x_range
        pad = full.content_region.x - full.region.x
        for col in (0, frame.plot_cols // 3, frame.plot_cols - 1):
            assert await pilot.click(full, offset=(pad + frame.left + col, 3))
            await pilot.pause()
            x = frame.x_at(col)
            shown = [s for s in range(0, TBX_STEPS * 10, 10) if x_range[0] <= s <= x_range[1]]
            assert full.cursor_x == min(shown, key=lambda s: (abs(s - x), s))
            assert full.x_range == x_range  # a click never pans


async def test_wheel_zooms_around_the_cursor(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        _, screen = await open_full(pilot, "lr")
        full = screen.chart
        for _ in range(10):
            await pilot.press("left")
        await pilot.pause()
        cursor = full.cursor_x
        assert cursor == (TBX_STEPS - 11) * 10
        span = float((TBX_STEPS - 1) * 10)

        def wheel(kind: type[events.MouseScrollUp | events.MouseScrollDown]) -> None:
            full.post_message(kind(full, 20, 5, 0, 0, 0, False, False, False))

        wheel(events.MouseScrollUp)
        await pilot.pause()
        lo, hi = full.x_range  # type: ignore[misc]
        assert math.isclose(hi - lo, span / 2) and lo <= cursor <= hi
        wheel(events.MouseScrollUp)
        await pilot.pause()
        lo, hi = full.x_range  # type: ignore[misc]
        assert math.isclose(hi - lo, span / 4) and lo <= cursor <= hi
        assert full.cursor_x == cursor
        wheel(events.MouseScrollDown)
        wheel(events.MouseScrollDown)
        await pilot.pause()
        assert full.x_range is None
