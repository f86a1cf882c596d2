"""Pilot tests of the run query in the run filter (`f`), pinned runs (`P`) and the linked cursor
(`[`/`]`, a click, the full-screen chart) on logdirs written by real writers.

Expected runs come from what the writers were given (tests/query_runs.py); expected values at
the cursor from TensorBoard's EventAccumulator on the same files, smoothed as TensorBoard does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

import tuiboard
from tests.query_runs import SDK_RUNS, query_runs_dir
from tests.ui.conftest import TBX_RUNS, TBX_SCALARS, TBX_STEPS, make_app
from tests.ui.test_app import chart, drawn_runs, started, tb_scalars, tb_smooth
from tuiboard.core.logdir import Logdir
from tuiboard.render.numbers import fmt_value
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.widgets.run_panel import PIN_MARK, RunTree
from tuiboard.ui.widgets.scalar_chart import chart_series

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def query_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = query_runs_dir(tmp_path_factory, "query-ui")
    return root


@pytest.fixture
def query_logdir(query_root: Path) -> Logdir:
    return tuiboard.open(str(query_root))


def summary_text(app: object) -> str:
    return str(app.query_one("#run-summary").render())  # type: ignore[attr-defined]


async def test_filter_by_query_and_a_bad_query_keeps_the_filter(query_logdir: Logdir) -> None:
    baseline = sorted(f"sdk/{n}" for n, s in SDK_RUNS.items() if "baseline" in s["tags"])
    async with make_app(query_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("f")
        assert isinstance(app.focused, Input)
        await pilot.press(*"tag:baseline")
        await pilot.pause()
        assert sorted(drawn_runs(app, "loss")) == baseline
        assert f"{len(baseline)}/7 runs shown" in summary_text(app)
        # half a comparison: an error under the box, the previous filter still in force
        box = app.query_one("#run-filter", Input)
        box.value = "tag:baseline cfg.lr>"
        await pilot.pause()
        assert sorted(drawn_runs(app, "loss")) == baseline
        assert "✗ cfg.lr> needs a value (at 14)" in summary_text(app)
        assert "previous filter kept" in summary_text(app)
        await pilot.press("end", *"1e-3")
        await pilot.pause()
        want = [r for r in baseline if SDK_RUNS[r[4:]]["config"]["lr"] > 1e-3]  # type: ignore[index]
        assert drawn_runs(app, "loss") == want == ["sdk/base-sgd"]
        assert "✗" not in summary_text(app)
        # a status, OR, NOT
        box.value = "status:diverged OR -has:loss"
        await pilot.pause()
        assert app.board.visible_runs() == ["plain_run", "tbx/hp", "tbx/hp/session", "tbx/nan"]
        assert drawn_runs(app, "loss") == ["tbx/nan"]
        # today's regex still works (case-insensitive, on the name)
        box.value = "^SDK/BASE"
        await pilot.pause()
        assert sorted(drawn_runs(app, "loss")) == baseline


async def test_palette_prompt_refuses_a_bad_query(query_logdir: Logdir) -> None:
    async with make_app(query_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.action_prompt_run_filter()
        await pilot.pause()
        prompt = app.screen.query_one("#prompt-input", Input)
        prompt.value = "status:sleeping"
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#prompt-error").render())
        assert "unknown status 'sleeping'" in error
        prompt.value = "cfg.optimizer=adam"
        await pilot.press("enter")
        await pilot.pause()
        adam = {f"sdk/{n}" for n, s in SDK_RUNS.items() if s["config"]["optimizer"] == "adam"}
        assert set(drawn_runs(app, "loss")) == adam | {"tbx/nan"}


async def test_pin_draws_a_run_on_top(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        tree.focus()
        tree.move_cursor(tree._run_nodes["a/lr=0.1"])
        await pilot.pause()
        await pilot.press("P")
        await pilot.pause()
        assert app.board.selection.pinned == {"a/lr=0.1"}
        assert PIN_MARK in str(tree._run_nodes["a/lr=0.1"].label)
        assert PIN_MARK not in str(tree._run_nodes["b"].label)
        assert "1 pinned" in summary_text(app)
        # drawn first among the runs a chart takes, flagged for render/ to draw last
        assert app.board.chart_runs()[0] == "a/lr=0.1"
        _, series = chart_series(app.board, "loss/train")
        assert [s.pinned for s in series] == [s.label == "a/lr=0.1" for s in series]
        # the chart shows the pin mark in the run's colour
        c = chart(app, "loss/train")
        text = c.draw(c.content_size.width, c.content_size.height)
        at = text.plain.index("◆")
        styles = [str(s.style) for s in text.spans if s.start <= at < s.end]
        assert any(app.board.colour_of("a/lr=0.1") in st and "bold" in st for st in styles)
        # a folder pins every run under it; P again on a pinned set unpins it
        tree.move_cursor(tree._run_nodes["a"])
        await pilot.press("P")
        await pilot.pause()
        assert app.board.selection.pinned == {"a/lr=0.1", "a/lr=0.01"}
        await pilot.press("P")
        await pilot.pause()
        assert app.board.selection.pinned == set()
        assert "◆" not in chart(app, "loss/train").draw(80, 16).plain


def readout(app: object, tag: str) -> str:
    c = chart(app, tag)  # type: ignore[arg-type]
    return c.draw(c.content_size.width, c.content_size.height).plain.split("\n")[-1]


async def test_linked_cursor_across_charts(tbx_logdir: Logdir, tbx_root: Path) -> None:
    last = (TBX_STEPS - 1) * 10
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        chart(app, "loss/train").focus()
        await pilot.press("right_square_bracket")  # no cursor yet: the last point
        await pilot.pause()
        assert app.board.cursor == ("step", float(last))
        await pilot.press("left_square_bracket", "left_curly_bracket")
        await pilot.pause()
        step = last - 110
        assert app.board.linked_cursor() == float(step)
        # every chart shows its values at that step: TensorBoard's smoothed values
        for tag in TBX_SCALARS:
            line = readout(app, tag)
            assert line.startswith(f"step {step} ")
            for run in TBX_RUNS:
                events = tb_scalars(tbx_root, run, tag)
                smooth = tb_smooth([e.value for e in events], app.board.options.smoothing)
                i = [e.step for e in events].index(step)
                assert fmt_value(smooth[i]) in line
        # the cursor column is painted on another chart too
        other = chart(app, "acc/top1")
        assert other.frame is not None and other._text_cursor == float(step)
        # the full-screen chart opens at the linked cursor; moving it there moves the grid's
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        assert {r.step for r in screen.cursor_rows()} == {step}
        await pilot.press("right")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert readout(app, "lr").startswith(f"step {step + 10} ")
        # another x axis: the cursor was put on steps, it is gone
        await pilot.press("x")
        await pilot.pause()
        assert app.board.linked_cursor() is None
        assert not readout(app, "lr").startswith("step")
        await pilot.press("x", "x")  # back to steps: it comes back
        await pilot.pause()
        assert readout(app, "lr").startswith(f"step {step + 10} ")
        chart(app, "lr").focus()
        await pilot.press("backspace")
        await pilot.pause()
        assert app.board.cursor is None


async def test_click_puts_the_linked_cursor(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        c = chart(app, "loss/val")
        frame = c.frame
        assert frame is not None
        col = frame.plot_cols // 2
        await pilot.click(c, offset=(frame.left + col, 3))
        await pilot.pause()
        x = app.board.linked_cursor()
        assert x is not None and x % 10 == 0  # a step that was written
        assert abs(x - frame.x_at(col)) <= 10
        assert readout(app, "acc/top1").startswith(f"step {int(x)} ")


async def test_the_filter_follows_live_data(tbx_logdir: Logdir, tbx_root: Path) -> None:
    """A query on data: a run that logs the tag later, and a new run that has it, join the
    filter as the store changes (only the changed runs are looked at again)."""
    from tensorboardX import SummaryWriter

    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.query_one("#run-filter", Input).value = "has:extra/*"
        await pilot.pause()
        assert app.board.visible_runs() == []
        with SummaryWriter(str(tbx_root / "b"), flush_secs=1, filename_suffix=".2") as w:
            w.add_scalar("extra/x", 1.0, 1000)
        with SummaryWriter(str(tbx_root / "c"), flush_secs=1) as w:
            w.add_scalar("extra/y", 2.0, 0)
        changes = tbx_logdir.refresh()
        assert changes.runs >= {"b", "c"}
        app.apply_changes(changes)
        await pilot.pause()
        assert app.board.visible_runs() == ["b", "c"]
        assert "2/4 runs shown" in summary_text(app)
        assert drawn_runs(app, "extra/x") == ["b"]
