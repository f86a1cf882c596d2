"""Pilot tests of the app: filters, visibility, smoothing, cursor, zoom, x axes, histograms, help.

Expected numbers come from TensorBoard's EventAccumulator on the same files (or from
TensorBoard's smoothing formula written out here), never from tuiboard itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rich.text import Text
from tensorboard.backend.event_processing import event_accumulator
from textual.widgets import DataTable, Input, Static

from tests.ui.conftest import (
    T0,
    TBX_HIST_STEPS,
    TBX_HISTOGRAM,
    TBX_RUNS,
    TBX_SCALARS,
    TBX_STEPS,
    make_app,
    started,
)
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.screens.help import HelpScreen
from tuiboard.ui.widgets.histograms_view import HistogramsView
from tuiboard.ui.widgets.overview import OverviewView
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart, chart_series
from tuiboard.ui.widgets.scalars_view import ScalarsView

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


def tb_scalars(root: Path, run: str, tag: str) -> list[event_accumulator.ScalarEvent]:
    acc = event_accumulator.EventAccumulator(
        str(root / run), size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    return list(acc.Scalars(tag))


def tb_smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased EMA (vz_line_chart2/line-chart.ts, resmoothDataset)."""
    last = 0.0
    out = []
    for i, v in enumerate(values):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** (i + 1)))
    return out


def chart(app: TuiboardApp, tag: str) -> ScalarChart:
    return next(c for c in app.query(ScalarChart) if c.tag == tag and c.id != "full-chart")


def drawn_runs(app: TuiboardApp, tag: str) -> list[str]:
    prepared, _ = chart_series(app.board, tag)
    return [p.run for p in prepared]


async def test_runs_and_charts_appear(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        labels = {n: str(node.label) for n, node in tree._run_nodes.items()}
        assert set(TBX_RUNS) <= set(labels)
        assert "lr=0.1" in labels["a/lr=0.1"] and "490" in labels["a/lr=0.1"]  # name, last step
        assert {c.tag for c in app.query_one(ScalarsView).query(ScalarChart)} == set(TBX_SCALARS)
        # Every chart drew every run, and drew it once.
        for tag in TBX_SCALARS:
            assert sorted(drawn_runs(app, tag)) == sorted(TBX_RUNS)
            assert chart(app, tag).renders >= 1


async def test_run_filter_regex(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("f")
        assert isinstance(app.focused, Input)
        await pilot.press(*"^a/")
        await pilot.pause()
        assert sorted(drawn_runs(app, "lr")) == ["a/lr=0.01", "a/lr=0.1"]
        assert "2/3 runs shown" in str(app.query_one("#run-summary").render())
        await pilot.press("end", *["backspace"] * 3)
        await pilot.pause()
        assert sorted(drawn_runs(app, "lr")) == sorted(TBX_RUNS)
        # An invalid regex filters literally instead of failing.
        await pilot.press(*"lr=0.1(")
        await pilot.pause()
        assert drawn_runs(app, "lr") == []


async def test_hide_show_only_runs(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        tree.focus()
        tree.move_cursor(tree._run_nodes["b"])
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert "b" not in drawn_runs(app, "loss/train")
        assert "☐" in str(tree._run_nodes["b"].label)
        await pilot.press("space")
        await pilot.pause()
        assert "b" in drawn_runs(app, "loss/train")
        await pilot.press("n")
        await pilot.pause()
        assert drawn_runs(app, "loss/train") == []
        await pilot.press("a")
        await pilot.pause()
        assert sorted(drawn_runs(app, "loss/train")) == sorted(TBX_RUNS)
        await pilot.press("o")  # only the highlighted run
        await pilot.pause()
        assert drawn_runs(app, "loss/train") == ["b"]
        await pilot.press("o")
        await pilot.pause()
        assert len(drawn_runs(app, "loss/train")) == 3
        # A folder toggles every run under it.
        tree.move_cursor(tree._run_nodes["a"])
        await pilot.press("space")
        await pilot.pause()
        assert drawn_runs(app, "loss/train") == ["b"]


async def test_tag_filter(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.id == "tag-filter"
        await pilot.press(*"^loss", "enter")
        await pilot.pause()
        shown = {c.tag for c in app.query_one(ScalarsView).query(ScalarChart) if c.display}
        assert shown == {"loss/train", "loss/val"}
        assert isinstance(app.focused, ScalarChart) and app.focused.tag == "loss/train"
        await pilot.press("slash", "escape")
        await pilot.pause()
        shown = {c.tag for c in app.query_one(ScalarsView).query(ScalarChart) if c.display}
        assert shown == set(TBX_SCALARS)


async def test_smoothing_changes_the_drawn_data(tbx_root: Path, tbx_logdir: Logdir) -> None:
    tb = tb_scalars(tbx_root, "b", "loss/train")
    raw = [e.value for e in tb]
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        c = chart(app, "loss/train")
        before = c.draw(60, 12).plain
        _, series = chart_series(app.board, "loss/train")
        drawn = next(s for s in series if s.label == "b")
        np.testing.assert_allclose(drawn.y, tb_smooth(raw, 0.6), rtol=1e-6)
        np.testing.assert_array_equal(drawn.raw_y, raw)
        for _ in range(5):
            await pilot.press("s")
        await pilot.pause()
        assert app.board.options.smoothing == 0.85
        _, series = chart_series(app.board, "loss/train")
        drawn = next(s for s in series if s.label == "b")
        np.testing.assert_allclose(drawn.y, tb_smooth(raw, 0.85), rtol=1e-6)
        assert c.draw(60, 12).plain != before
        for _ in range(20):
            await pilot.press("S")
        await pilot.pause()
        assert app.board.options.smoothing == 0.0
        _, series = chart_series(app.board, "loss/train")
        drawn = next(s for s in series if s.label == "b")
        np.testing.assert_array_equal(drawn.y, raw)
        assert drawn.raw_y is None


async def test_cursor_values_equal_tensorboards(tbx_root: Path, tbx_logdir: Logdir) -> None:
    tag = "loss/val"
    expected = {run: tb_scalars(tbx_root, run, tag) for run in TBX_RUNS}
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        chart(app, tag).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        # Starts on the last step; each left moves one step back.
        for back in (0, 1, 7):
            for _ in range(back - (0 if back == 0 else {1: 0, 7: 1}[back])):
                await pilot.press("left")
            await pilot.pause()
            rows = {r.run: r for r in screen.cursor_rows()}
            want_index = TBX_STEPS - 1 - back
            for run in TBX_RUNS:
                ev = expected[run][want_index]
                row = rows[run]
                assert row.step == ev.step
                assert row.value == np.float32(ev.value)
                assert row.wall_time == ev.wall_time
                values = [e.value for e in expected[run]]
                assert math.isclose(row.smoothed, tb_smooth(values, 0.6)[want_index], rel_tol=1e-9)
            # The table shows the same numbers.
            table = screen.query_one(DataTable)
            cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            by_run = {cell[0][2:]: cell for cell in cells}
            for run in TBX_RUNS:
                assert by_run[run][1] == str(expected[run][want_index].step)
                assert by_run[run][2] == f"{rows[run].value:.6g}"
        await pilot.press("home")
        await pilot.pause()
        assert {r.step for r in screen.cursor_rows()} == {0}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChartScreen)


async def test_zoom_around_cursor(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        chart(app, "lr").focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        full = (0.0, float((TBX_STEPS - 1) * 10))
        for _ in range(20):
            await pilot.press("left")
        await pilot.press("plus")
        await pilot.pause()
        cursor = screen.chart.cursor_x
        assert cursor == (TBX_STEPS - 21) * 10
        lo, hi = screen.chart.x_range  # type: ignore[misc]
        assert math.isclose(hi - lo, (full[1] - full[0]) / 2)
        assert lo <= cursor <= hi  # type: ignore[operator]
        await pilot.press("plus")
        await pilot.pause()
        lo2, hi2 = screen.chart.x_range  # type: ignore[misc]
        assert math.isclose(hi2 - lo2, (full[1] - full[0]) / 4) and lo2 <= cursor <= hi2  # type: ignore[operator]
        # The cursor table still reads the store's points under the zoom.
        assert {r.step for r in screen.cursor_rows()} == {int(cursor)}  # type: ignore[arg-type]
        # Walking past the edge pans the zoomed range with the cursor.
        for _ in range(15):
            await pilot.press("right")
        await pilot.pause()
        lo3, hi3 = screen.chart.x_range  # type: ignore[misc]
        assert math.isclose(hi3 - lo3, hi2 - lo2) and lo3 <= screen.chart.cursor_x <= hi3  # type: ignore[operator]
        await pilot.press("minus", "minus", "minus")
        await pilot.pause()
        assert screen.chart.x_range is None
        await pilot.press("plus", "0")
        await pilot.pause()
        assert screen.chart.x_range is None


async def test_x_axis_modes(tbx_root: Path, tbx_logdir: Logdir) -> None:
    tb = tb_scalars(tbx_root, "b", "acc/top1")
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)

        def x_of_b() -> np.ndarray:
            _, series = chart_series(app.board, "acc/top1")
            return next(s.x for s in series if s.label == "b")

        np.testing.assert_array_equal(x_of_b(), [e.step for e in tb])
        await pilot.press("x")
        await pilot.pause()
        assert app.board.options.x_axis == "relative"
        np.testing.assert_allclose(x_of_b(), [e.wall_time - tb[0].wall_time for e in tb])
        await pilot.press("x")
        await pilot.pause()
        assert app.board.options.x_axis == "wall"
        np.testing.assert_array_equal(x_of_b(), [e.wall_time for e in tb])
        assert "x wall" in str(app.query_one("#status").render())
        # Full screen in wall mode: the cursor walks wall times; the table still shows steps.
        chart(app, "acc/top1").focus()
        await pilot.press("enter", "left")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        row = next(r for r in screen.cursor_rows() if r.run == "b")
        assert row.wall_time == tb[-2].wall_time and row.step == tb[-2].step
        assert row.relative == tb[-2].wall_time - T0 - 2 * 7
        await pilot.press("escape", "x")
        await pilot.pause()
        assert app.board.options.x_axis == "step"


async def test_histogram_step_slider(tbx_root: Path, tbx_logdir: Logdir) -> None:
    acc = event_accumulator.EventAccumulator(
        str(tbx_root / "a/lr=0.1"), size_guidance={event_accumulator.HISTOGRAMS: 0}
    )
    acc.Reload()
    tb = acc.Histograms(TBX_HISTOGRAM)
    assert len(tb) == TBX_HIST_STEPS
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("2")
        await pilot.pause()
        view = app.query_one(HistogramsView)
        view.select(TBX_HISTOGRAM, "a/lr=0.1")
        await pilot.pause()
        panel = view.panel
        i, h = panel.current()  # type: ignore[misc]
        assert (i, h.step) == (TBX_HIST_STEPS - 1, tb[-1].step)
        await pilot.press("left", "left")
        await pilot.pause()
        i, h = panel.current()  # type: ignore[misc]
        assert h.step == tb[-3].step
        assert h.min == tb[-3].histogram_value.min and h.max == tb[-3].histogram_value.max
        assert h.count == tb[-3].histogram_value.num
        text = panel.render().plain
        assert f"step {tb[-3].step} " in text and f"{TBX_HIST_STEPS - 2}/{TBX_HIST_STEPS}" in text
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert panel.current()[1].step == tb[0].step  # type: ignore[index]
        await pilot.press("shift+right")
        await pilot.pause()
        assert panel.current()[1].step == tb[10].step  # type: ignore[index]
        await pilot.press("greater_than_sign")
        await pilot.pause()
        assert panel.index is None and panel.current()[1].step == tb[-1].step  # type: ignore[index]


async def test_overview_sort_and_open(tbx_root: Path, tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("3")
        await pilot.pause()
        view = app.query_one(OverviewView)
        assert len(view.rows) == len(TBX_RUNS) * len(TBX_SCALARS)
        tb = tb_scalars(tbx_root, "a/lr=0.01", "loss/train")
        row = view.rows["a/lr=0.01\x1floss/train"]
        vals = np.array([e.value for e in tb], dtype=np.float32)
        assert (row.last, row.min, row.max) == (vals[-1], vals.min(), vals.max())
        view.sort_by("last", reverse=True)
        await pilot.pause()
        table = view.table
        lasts = [view.row_at(i).last for i in range(table.row_count)]  # type: ignore[union-attr]
        assert len(lasts) == len(TBX_RUNS) * len(TBX_SCALARS)
        assert lasts == sorted(lasts, reverse=True)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChartScreen)
        top = view.row_at(0)
        assert top is not None and app.screen.tag == top.tag


async def test_help_lists_every_key(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(100, 60)) as pilot:
        app = await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-table", Static).content
        from rich.console import Console

        from tuiboard.ui.widgets.logs_pane import LogLines

        console = Console(width=100, record=True)
        console.print(body)
        text = console.export_text()
        for binding in (
            *app.BINDINGS,
            *ChartScreen.BINDINGS,
            *HistogramsView.BINDINGS,
            *OverviewView.BINDINGS,
            *LogLines.BINDINGS,
        ):
            assert binding.description in text  # type: ignore[union-attr]
        assert "ctrl+p" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_untrusted_names_shown_literally(tmp_path: Path) -> None:
    # tensorboardX replaces odd characters in tags: write with TensorBoard's own writer.
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    import tuiboard
    from tests.ui.conftest import pin_mtimes

    root = tmp_path / "logs"
    run = "[bold red]x[/]"
    tag = "\x1b[31mred/tag"
    writer = EventFileWriter(str(root / run))
    for i in range(5):
        value = summary_pb2.Summary.Value(tag=tag, simple_value=float(i))
        summary = summary_pb2.Summary(value=[value])
        writer.add_event(event_pb2.Event(wall_time=T0 + i, step=i, summary=summary))
    writer.close()
    pin_mtimes(root)
    logdir = tuiboard.open(str(root))
    assert [r.name for r in logdir.runs] == [run]
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        # Nested by path: "[bold red]x[" holds "]"; each label shows its text, unstyled.
        tree = app.query_one(RunTree)
        leaf = tree._run_nodes[run].label
        assert isinstance(leaf, Text) and "]" in leaf.plain
        assert "[bold red]x[" in str(tree._run_nodes["[bold red]x["].label)
        c = next(iter(app.query(ScalarChart)))
        title = c.draw(60, 10).split("\n")[0]
        assert title.plain.startswith("red/tag")
        assert "\x1b" not in c.draw(60, 10).plain
        c.focus()
        await pilot.press("enter")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        name = table.get_row_at(0)[0]
        assert isinstance(name, Text) and name.plain == "■ " + run
        # Only the swatch is styled: the markup in the name did not become style.
        assert all(span.end <= 2 for span in name.spans)
        hint = str(app.screen.query_one("#chart-hint").render())
        assert "\x1b" not in hint and "red/tag" in hint
        await pilot.press("escape", "2")  # no histograms here: Overview is the second tab
        await pilot.pause()
        cells = app.query_one(OverviewView).cells_at(0)
        assert cells[0].plain == "red/tag" and cells[1].plain == "■ " + run


def test_every_binding_has_its_action() -> None:
    """A binding whose action is missing does nothing, silently: catch it here."""
    from textual.binding import Binding

    from tuiboard.ui.screens.card import CardScreen
    from tuiboard.ui.screens.run_details import RunDetailsScreen
    from tuiboard.ui.widgets.audio_view import AudioCard
    from tuiboard.ui.widgets.custom_scalars_view import CustomScalarsView
    from tuiboard.ui.widgets.embeddings_view import EmbeddingsView
    from tuiboard.ui.widgets.graph_view import GraphView
    from tuiboard.ui.widgets.hparams_view import HParamsView
    from tuiboard.ui.widgets.images_view import ImageCard
    from tuiboard.ui.widgets.logs_pane import LogLines
    from tuiboard.ui.widgets.mesh_view import MeshCard
    from tuiboard.ui.widgets.pr_curves_view import PrCard
    from tuiboard.ui.widgets.run_panel import RunTree as Tree
    from tuiboard.ui.widgets.scalars_view import ChartScroll, GroupHeader
    from tuiboard.ui.widgets.scope_tree import GraphTree
    from tuiboard.ui.widgets.text_view import TextCard

    for owner in (
        TuiboardApp,
        ChartScreen,
        HistogramsView,
        OverviewView,
        ScalarsView,
        Tree,
        ScalarChart,
        GroupHeader,
        HelpScreen,
        CardScreen,
        ImageCard,
        TextCard,
        PrCard,
        HParamsView,
        GraphView,
        GraphTree,
        AudioCard,
        MeshCard,
        EmbeddingsView,
        CustomScalarsView,
        ChartScroll,
        LogLines,
        RunDetailsScreen,
    ):
        for b in owner.BINDINGS:
            assert isinstance(b, Binding)
            name = b.action.split("(", 1)[0]
            target = TuiboardApp if name.startswith("app.") else owner
            name = name.removeprefix("app.")
            assert hasattr(target, f"action_{name}"), (owner.__name__, b.action)


async def test_tab_keys_leave_the_full_screen_chart(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        chart(app, "lr").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChartScreen)
        await pilot.press("3")
        await pilot.pause()
        assert not isinstance(app.screen, ChartScreen)
        assert app.active_tab == "overview"
        assert app.focused is app.query_one(OverviewView).table


async def test_arrows_move_between_charts_when_the_grid_scrolls(tbx_logdir: Logdir) -> None:
    """Down goes to the chart below even when the column of groups could scroll (it used to
    scroll the column instead); the focused chart is scrolled into view."""
    async with make_app(tbx_logdir).run_test(size=(100, 24)) as pilot:
        app = await started(pilot)
        view = app.query_one(ScalarsView)
        charts = view.visible_charts()
        assert [c.tag for c in charts] == sorted(TBX_SCALARS)
        charts[0].focus()
        await pilot.pause()
        for expected in charts[1:]:
            await pilot.press("down")
            await pilot.pause()
            assert app.focused is expected
        assert view.query_one("#chart-scroll").scroll_y > 0
