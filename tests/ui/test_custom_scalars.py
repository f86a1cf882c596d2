"""The Custom scalars tab through Pilot, on the runs tensorboardX wrote (conftest
write_custom_scalars_runs): categories as collapsible groups in the merged layout's order,
multiline charts holding the tags `re.match` selects in each shown run, margin charts whose
value and band are the scalars point by point, smoothing on multiline charts only, the
full-screen chart with its cursor table, and a new matching tag appearing live. Expected values
come from TensorBoard's EventAccumulator and from its rules written out here."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboardX import SummaryWriter
from textual.widgets import DataTable

import tuiboard
from tests.core.writers import write_tb_layout
from tests.reference import accumulate
from tests.ui.conftest import (
    CS_RUNS,
    CS_STEPS,
    FIXED_TIME,
    NOW_OFFSET,
    T0,
    make_app,
    started,
    until,
)
from tests.ui.test_live import wait_for
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.widgets.custom_scalars_view import (
    CustomChart,
    CustomScalarsView,
    MarginSource,
    MultilineSource,
)

pytestmark = pytest.mark.anyio
SIZE = (160, 50)


def tb_rule(regexes: tuple[str, ...], tags: list[str]) -> list[str]:
    """TensorBoard's multiline rule, written out: a tag shows when one (valid, non-empty) regex
    `re.match`es it."""
    out = set()
    for r in regexes:
        with contextlib.suppress(re.error):
            out |= {t for t in tags if r and re.match(r, t)}
    return sorted(out)


def tb_smooth(values: np.ndarray, weight: float) -> list[float]:
    last, out = 0.0, []
    for i, v in enumerate(values.astype(np.float64)):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** (i + 1)))
    return out


def tb_scalars(root: Path, run: str, tag: str) -> tuple[list[int], np.ndarray]:
    events = accumulate(root / run).Scalars(tag)
    return [e.step for e in events], np.array([e.value for e in events], dtype=np.float32)


def shown_text(chart: CustomChart) -> str:
    console = Console(width=chart.content_size.width, record=True, color_system=None)
    console.print(chart.render())
    return console.export_text()


async def open_tab(pilot: object, app: TuiboardApp) -> CustomScalarsView:
    app.action_show_tab("custom_scalars")
    view = app.view("custom_scalars")
    assert isinstance(view, CustomScalarsView)
    await until(pilot, lambda: view.built, step=None)
    # the groups are mounted, then laid out in columns after a refresh (_after_mount): a chart's
    # text (its width) is final only after that refresh and the layout it asks for
    for _ in range(2):
        refreshed: list[int] = []
        view.call_after_refresh(refreshed.append, 1)  # runs after the view's own, in order
        await until(pilot, lambda: refreshed)  # noqa: B023 (waited for within the loop)
    await pilot.pause()  # type: ignore[attr-defined]
    return view


def by_title(view: CustomScalarsView) -> dict[str, CustomChart]:
    return {c.layout_source.title: c for c in view.charts()}


async def test_groups_follow_the_merged_layout_and_collapse(cs_logdir: Logdir) -> None:
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.shown_tabs()[-1] == "custom_scalars"
        view = await open_tab(pilot, app)
        groups = view._groups
        assert [g.group_name for g in groups] == ["Losses", "Accuracy", "Schedule"]
        assert [[c.tag for c in g.charts()] for g in groups] == [
            ["all losses", "train only", "validation"],
            ["top1 with CI"],
            ["lr"],
        ]
        # Mounted in the layout's order, not by title.
        mounted = [c.tag for c in groups[0].grid.children]
        assert mounted == ["all losses", "train only", "validation"]
        assert isinstance(app.focused, CustomChart) and app.focused.tag == "all losses"
        # Arrows walk the grid (two charts a row here), then on to the next category.
        assert view.columns == 2
        walked = []
        for key in ("right", "down", "down", "up", "left"):
            await pilot.press(key)
            await pilot.pause()
            walked.append(getattr(app.focused, "tag", None))
        assert walked == ["train only", "validation", "top1 with CI", "validation", "train only"]
        await pilot.press("c")
        await pilot.pause()
        assert all(g.collapsed and not g.grid.display for g in groups)
        groups[1].header.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert [g.collapsed for g in groups] == [True, False, True]
        assert "▼ Accuracy" in str(groups[1].header.render())
        # The shared tag filter picks charts by title, category or tag.
        app.set_tag_filter("acc/upper")
        await pilot.pause()
        assert [g.display for g in groups] == [False, True, False]
        app.set_tag_filter("")
        await pilot.pause()
        assert all(g.display for g in groups)


async def test_a_closed_category_starts_collapsed(tmp_path: Path) -> None:
    layout = layout_pb2.Layout()
    layout.category.add(title="open").chart.add(title="a", multiline={"tag": ["x"]})
    layout.category.add(title="shut", closed=True).chart.add(title="b", multiline={"tag": ["x"]})
    write_tb_layout(tmp_path / "run", [layout])
    with SummaryWriter(str(tmp_path / "run"), flush_secs=1) as w:
        for step in range(5):
            w.add_scalar("x", step, step, walltime=T0 + step)
    async with make_app(tuiboard.open(str(tmp_path))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        assert [(g.group_name, g.collapsed) for g in view._groups] == [
            ("open", False),
            ("shut", True),
        ]


async def test_multiline_charts_hold_what_re_match_selects(
    cs_root: Path, cs_logdir: Logdir
) -> None:
    tags = {run: sorted(accumulate(cs_root / run).Tags()["scalars"]) for run in CS_RUNS}
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        charts = by_title(view)
        for hidden in ((), ("sgd",)):
            app.board.selection.hidden = set(hidden)
            app.view_changed(runs_changed=True)
            await pilot.pause()
            for chart in charts.values():
                source = chart.layout_source
                if not isinstance(source, MultilineSource):
                    continue
                want = [
                    (run, tag)
                    for run in sorted(CS_RUNS)
                    if run not in hidden
                    for tag in tb_rule(source.chart.tags, tags[run])
                ]
                lines = source.lines(app.board)
                assert [(line.run, line.prepared.tag) for line in lines] == want, chart.tag
                assert [line.label for line in lines] == [f"{t} ({r})" for r, t in want]
        # "(unclosed" is flagged on its chart; the valid regex of that chart still draws.
        text = shown_text(charts["train only"])
        assert "⚠ invalid regex '(unclosed'" in text
        assert "Matches (2)" in text and "loss/train (adam)" in text


async def test_margin_chart_is_the_scalars_point_by_point(cs_root: Path, cs_logdir: Logdir) -> None:
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        chart = by_title(view)["top1 with CI"]
        source = chart.layout_source
        assert isinstance(source, MarginSource)
        lines = {line.run: line for line in source.lines(app.board)}
        assert set(lines) == {"adam", "sgd"}  # baseline lacks the bounds
        for run in ("adam", "sgd"):
            line = lines[run]
            upper_steps, upper = tb_scalars(cs_root, run, "acc/upper")
            steps = list(CS_STEPS) if run == "adam" else list(CS_STEPS[::2])
            assert upper_steps == steps == list(line.prepared.step)
            mean = dict(zip(*tb_scalars(cs_root, run, "acc/mean"), strict=True))
            lower = dict(zip(*tb_scalars(cs_root, run, "acc/lower"), strict=True))
            np.testing.assert_array_equal(line.series.y, [mean[s] for s in steps])
            np.testing.assert_array_equal(line.series.lower, [lower[s] for s in steps])
            np.testing.assert_array_equal(line.series.upper, upper)
            assert line.series.raw_y is None
        text = shown_text(chart)
        assert "⚠ run baseline lacks acc/lower, acc/upper (+1 more: Enter)" in text
        assert "Matches (2)" in text
        # On the wall-time axis the band keeps its pairs, at the value tag's wall times.
        await pilot.press("x", "x")
        await pilot.pause()
        assert app.board.options.x_axis == "wall"
        sgd = next(line for line in source.lines(app.board) if line.run == "sgd")
        events = {e.step: e for e in accumulate(cs_root / "sgd").Scalars("acc/mean")}
        np.testing.assert_array_equal(sgd.series.x, [events[s].wall_time for s in CS_STEPS[::2]])
        np.testing.assert_array_equal(sgd.series.y, [events[s].value for s in CS_STEPS[::2]])


async def test_smoothing_applies_to_multiline_charts_not_margin(
    cs_root: Path, cs_logdir: Logdir
) -> None:
    _, raw_loss = tb_scalars(cs_root, "adam", "loss/train")
    _, raw_acc = tb_scalars(cs_root, "adam", "acc/mean")
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        charts = by_title(view)

        def line(title: str, label: str) -> np.ndarray:
            lines = charts[title].layout_source.lines(app.board)
            return next(x for x in lines if x.label == label).series.y

        smoothed = tb_smooth(raw_loss, 0.6)
        np.testing.assert_allclose(line("all losses", "loss/train (adam)"), smoothed)
        np.testing.assert_array_equal(line("top1 with CI", "acc/mean (adam)"), raw_acc)
        before = charts["all losses"].draw(60, 14).plain
        margin_before = charts["top1 with CI"].draw(60, 14).plain
        await pilot.press("s")  # the app's smoothing key, as on Scalars
        await pilot.pause()
        assert app.board.options.smoothing == 0.65
        np.testing.assert_allclose(
            line("all losses", "loss/train (adam)"), tb_smooth(raw_loss, 0.65)
        )
        np.testing.assert_array_equal(line("top1 with CI", "acc/mean (adam)"), raw_acc)
        assert charts["all losses"].draw(60, 14).plain != before
        assert charts["top1 with CI"].draw(60, 14).plain == margin_before


async def test_a_chart_opens_full_screen_with_its_cursor(cs_root: Path, cs_logdir: Logdir) -> None:
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        by_title(view)["top1 with CI"].focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen) and screen.tag == "top1 with CI"
        table = screen.query_one(DataTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers == ["series", "step", "value", "lower", "upper", "relative", "wall time"]
        await pilot.press("left", "left")  # from the last step, two back
        await pilot.pause()
        rows = {r.key: r for r in screen.cursor_rows()}
        assert set(rows) == {"acc/mean (adam)", "acc/mean (sgd)"}
        step = CS_STEPS[-3]
        row = rows["acc/mean (adam)"]
        assert row.step == step
        want = [
            dict(zip(*tb_scalars(cs_root, "adam", t), strict=True))[step]
            for t in ("acc/mean", "acc/lower", "acc/upper")
        ]
        assert list(row.columns) == want
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        adam = next(c for c in cells if "(adam)" in c[0])
        assert adam[1:5] == [str(step), *(f"{v:.6g}" for v in want)]
        # sgd has points only at every other step: its nearest is shown.
        assert rows["acc/mean (sgd)"].step in CS_STEPS[::2]
        await pilot.press("plus")
        await pilot.pause()
        assert screen.chart.x_range is not None
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChartScreen)
        # A multiline chart's table: a row per run x tag, its smoothed value beside the raw.
        by_title(view)["validation"].focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        keys = [r.key for r in screen.cursor_rows()]
        assert keys == [f"{t} ({r})" for r in sorted(CS_RUNS) for t in ("loss/val", "val/loss")]
        assert all(r.columns == (r.value, r.smoothed) for r in screen.cursor_rows())


async def test_a_new_matching_tag_appears_live(cs_root: Path) -> None:
    logdir = tuiboard.open(str(cs_root), load=False)
    app = TuiboardApp(logdir, poll=0.1, clock=lambda: FIXED_TIME + NOW_OFFSET)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.logdir.stats.runs == len(CS_RUNS))
        await wait_for(pilot, lambda: "custom_scalars" in app.shown_tabs())
        view = await open_tab(pilot, app)
        await wait_for(pilot, lambda: "all losses" in by_title(view))
        chart = by_title(view)["all losses"]

        def labels() -> list[str]:
            return [line.label for line in chart.layout_source.lines(app.board)]

        await wait_for(pilot, lambda: "loss/val (sgd)" in labels())
        assert "loss/extra (adam)" not in labels()
        with SummaryWriter(str(cs_root / "adam"), flush_secs=1, filename_suffix=".b") as w:
            for step in (0, 10):
                w.add_scalar("loss/extra", 1.0 + step, step, walltime=T0 + 999 + step)
        await wait_for(pilot, lambda: "loss/extra (adam)" in labels(), why=labels)
        await wait_for(pilot, lambda: "loss/extra (adam)" in shown_text(chart))


async def test_a_pinned_run_is_drawn_on_top_of_multiline_and_margin_charts(
    cs_logdir: Logdir,
) -> None:
    """Pins reach every chart: a custom-scalars line of a pinned run is flagged pinned (render/
    chart.py draws such lines last, in bold); the others are not; unpinning clears it."""
    async with make_app(cs_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_tab(pilot, app)
        app.board.toggle_pins(("sgd",))
        app.view_changed(runs_changed=True)
        await pilot.pause()
        kinds = set()
        for chart in by_title(view).values():
            source = chart.layout_source
            kinds.add(type(source))
            for line in source.lines(app.board):
                assert line.series.pinned == (line.run == "sgd"), (chart.tag, line.run)
        assert {MultilineSource, MarginSource} <= kinds
        app.board.toggle_pins(("sgd",))
        for chart in by_title(view).values():
            assert not any(line.series.pinned for line in chart.layout_source.lines(app.board))
