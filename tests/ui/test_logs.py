"""The W&B side of the app with Pilot: the Logs pane on a real wandb output.log (following the
highlighted run, tailing live, \\r bars, bounded, search), the run panel's display names, the run
details screen, the system/ group, and the step-metric x axis."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

import tuiboard
from tests.ui.conftest import FIXED_TIME, NOW_OFFSET, make_app, started
from tests.ui.wandb_ui import (
    EPOCHS,
    PLAIN_RUN,
    STEPS_PER_EPOCH,
    WB_RUN,
    set_meta,
    wandb_logdir,
    wandb_meta,
)
from tests.wandb_console import WandbConsole, make_wandb_console
from tuiboard.core.console import MAX_LINES
from tuiboard.core.logdir import Logdir
from tuiboard.render.run_details import STATUS_STYLES, run_details, status_style
from tuiboard.render.scalar_series import metric_x
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.run_details import RunDetailsScreen
from tuiboard.ui.widgets.logs_pane import LogLines, LogsPane
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart
from tuiboard.ui.widgets.scalars_view import ScalarsView

pytestmark = pytest.mark.anyio

SIZE = (160, 45)
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_wandb_console(tmp_path_factory.mktemp("wandb-ui"))


@pytest.fixture
def logs(tmp_path: Path, wb: WandbConsole) -> tuple[Logdir, Path]:
    return wandb_logdir(tmp_path / "logs", wb)


async def until(pilot: Pilot[int], ok: Callable[[], bool], timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if ok():
            return
        await pilot.pause(0.05)
    assert ok(), "never happened"


def pane(app: TuiboardApp) -> LogsPane:
    return app.query_one(LogsPane)


def title(app: TuiboardApp) -> str:
    return str(app.query_one("#logs-title").render())


async def highlight(pilot: Pilot[int], run: str) -> None:
    app = pilot.app
    tree = app.query_one(RunTree)
    tree.focus()
    node = tree._run_nodes[run]
    tree.move_cursor(node)
    await pilot.pause()


async def test_the_pane_opens_on_the_real_output_log(
    logs: tuple[Logdir, Path], wb: WandbConsole
) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await until(pilot, lambda: pane(app).updates > 0)
        assert pane(app).display  # opened by itself: a run has console output
        lines = app.query_one(LogLines)
        assert list(lines.lines) == wb.lines
        assert "files/output.log" in title(app) and "following" in title(app)
        shown = "\n".join(str(lines.render_line(y).text) for y in range(lines.size.height))
        assert "green and bold then plain" in shown and "[bold]not markup[/bold]" in shown
        assert not FORBIDDEN.search(shown.replace("\n", ""))


async def test_the_pane_follows_the_highlighted_run(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await highlight(pilot, PLAIN_RUN)
        assert pane(app).run_name == PLAIN_RUN
        assert "no console output" in title(app)
        assert app.query_one(LogLines).lines == ()
        await highlight(pilot, WB_RUN)
        await until(pilot, lambda: len(app.query_one(LogLines).lines) > 0)
        assert pane(app).run_name == WB_RUN


async def test_away_and_back_before_the_worker_wakes_shows_the_lines_again(
    logs: tuple[Logdir, Path],
) -> None:
    """Down, Down in the run panel faster than the worker polls: the pane cleared its lines when
    the highlight left the run, so coming back must read them again (it stayed at 0 lines)."""
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await until(pilot, lambda: len(app.query_one(LogLines).lines) > 0)
        wb_run, plain = logdir.run(WB_RUN), logdir.run(PLAIN_RUN)
        for _ in range(5):
            pane(app).follow_run(plain)  # no await between: the worker cannot have woken
            pane(app).follow_run(wb_run)
            assert app.query_one(LogLines).lines == ()
            await until(pilot, lambda: len(app.query_one(LogLines).lines) > 0)


async def test_lines_appended_while_it_runs_appear_and_a_bar_shows_its_last_state(
    logs: tuple[Logdir, Path], wb: WandbConsole
) -> None:
    logdir, output = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        lines = app.query_one(LogLines)
        await until(pilot, lambda: len(lines.lines) == len(wb.lines))
        with open(output, "ab") as f:
            f.write(b"epoch 1 \x1b[32mok\x1b[0m\n")
            for i in range(0, 101, 25):
                f.write(f"\reval {i:3d}%".encode())
        await until(pilot, lambda: lines.lines[-1:] == ("eval 100%",))
        assert lines.lines[-2] == "epoch 1 ok"
        assert not any("eval  25%" in s for s in lines.lines)
        assert lines.following and lines.scroll_y == lines.max_scroll_y

        many = "".join(f"step {i}\n" for i in range(60))
        with open(output, "a") as f:
            f.write("\n" + many)
        await until(pilot, lambda: lines.lines[-1] == "step 59")
        assert lines.scroll_y == lines.max_scroll_y  # followed the tail

        lines.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert not lines.following
        assert "End/G follows" in title(app)
        top = lines.scroll_y
        with open(output, "a") as f:
            f.write("step 60\n")
        await until(pilot, lambda: lines.lines[-1] == "step 60")
        assert lines.scroll_y == top  # reading back: the view stays put

        await pilot.press("G")
        await pilot.pause()
        assert lines.following and lines.scroll_y == lines.max_scroll_y
        assert "following" in title(app)


async def test_L_hides_and_shows_the_pane_and_its_worker(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await until(pilot, lambda: pane(app).updates > 0)
        await pilot.press("L")
        await pilot.pause(0.3)
        assert not pane(app).display
        assert not [w for w in app.workers if w.group == "console-tail" and w.is_running]
        await pilot.press("L")
        await pilot.pause()
        assert pane(app).display
        assert isinstance(app.focused, LogLines)
        assert [w for w in app.workers if w.group == "console-tail" and w.is_running]


async def test_search_jumps_to_the_newest_match(logs: tuple[Logdir, Path]) -> None:
    logdir, output = logs
    with open(output, "a") as f:
        f.write("".join(f"filler {i}\n" for i in range(200)))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        lines = app.query_one(LogLines)
        await until(pilot, lambda: len(lines.lines) > 200)
        lines.focus()
        await pilot.press("slash", *"stderr", "enter")
        await pilot.pause()
        row = lines.lines.index("warning on stderr")
        assert lines.scroll_y <= row < lines.scroll_y + lines.size.height
        assert not lines.following
        assert "1 matches" in title(app)


async def test_memory_is_bounded_and_said(logs: tuple[Logdir, Path]) -> None:
    logdir, output = logs
    with open(output, "a") as f:
        f.write("".join(f"line {i}\n" for i in range(MAX_LINES + 2000)))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        lines = app.query_one(LogLines)
        await until(pilot, lambda: len(lines.lines) == MAX_LINES)
        assert lines.lines[-1] == f"line {MAX_LINES + 1999}"
        assert "the last 5,000 kept" in title(app)


async def test_run_panel_shows_the_display_name_literally(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        label = app.query_one(RunTree)._run_nodes[WB_RUN].label
        assert label.plain.startswith("■ ☑ resnet [bold]baseline[/bold] offline-run-")
        assert not label.spans or all(str(s.style) != "bold" for s in label.spans[2:3])


async def test_run_details_show_everything_literally(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await highlight(pilot, WB_RUN)
        await pilot.press("I")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailsScreen)
        text = app.screen.query_one("#details-text", Static).content
        console = Console(width=120, color_system=None)
        with console.capture() as cap:
            console.print(text)
        shown = cap.get()
        for expected in (
            "resnet [bold]baseline[/bold]",
            "y3a7zrb7",
            "console-proj",
            "sweep-1",
            "[red]tag",
            "second line",
            "gpu-box",
            "2026-11-26 10:46:40 UTC",
            "failed (exit code 1)",
            "files/output.log",
            '{"max": 0.8}',
            "[i]literal[/i]",
            "val/loss  x axis: epoch",
        ):
            assert expected in shown, expected
        assert "\x1b[31m" not in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunDetailsScreen)


def test_statuses_health_does_not_know_yet_draw_plain() -> None:
    """failed is drawn like diverged; a status added later to health is shown, plainly."""
    assert status_style("failed") == status_style("diverged") == STATUS_STYLES["diverged"]
    assert status_style("some-new-status") == ""
    console = Console(width=100, color_system=None)
    meta = wandb_meta((), exit_code=None)
    with console.capture() as cap:
        console.print(run_details("r", "/p", meta, {}, [("some-new-status", "why")]))
    out = cap.get()
    assert "some-new-status  why" in out and "no exit record" in out


async def test_system_metrics_come_after_the_users_groups(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tags = [c.tag for c in app.query_one(ScalarsView).visible_charts()]
        assert tags == [
            "epoch",
            "loss",
            "train/acc",
            "val/acc",
            "val/loss",
            "system/cpu",
            "system/memory_percent",
        ]


async def test_x_cycles_through_the_step_metric_when_a_run_has_one(
    logs: tuple[Logdir, Path], tbx_logdir: Logdir
) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        seen = []
        for _ in range(5):
            await pilot.press("x")
            seen.append(app.board.options.x_axis)
        assert seen == ["relative", "wall", "metric", "step", "relative"]
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        seen = []
        for _ in range(4):
            await pilot.press("x")
            seen.append(app.board.options.x_axis)
        assert seen == ["relative", "wall", "step", "relative"]  # no step metric: skipped


async def test_metric_x_plots_a_tag_against_its_step_metric(logs: tuple[Logdir, Path]) -> None:
    logdir, _ = logs
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.set_x_axis("metric")
        await pilot.pause()
        board = app.board
        val = board.cache.get(WB_RUN, "val/loss", board.options)
        assert val is not None
        assert val.x.tolist() == [float(e) for e in EPOCHS]  # epoch's value at val's steps
        assert val.step.tolist() == [(e + 1) * STEPS_PER_EPOCH - 1 for e in EPOCHS]
        loss = board.cache.get(WB_RUN, "loss", board.options)
        assert loss is not None and loss.x.tolist() == loss.step.astype(float).tolist()
        charts = {c.tag: c for c in app.query(ScalarChart)}
        assert charts["val/loss"].chart_options().x_label == "epoch"
        assert charts["loss"].chart_options().x_label == "step"
        text = charts["val/loss"].draw(56, 16).plain
        assert text.splitlines()[-1].rstrip().endswith("epoch")

        # The step metric's own points move the chart: x is the metric's value.
        set_meta(logdir, WB_RUN, wandb_meta((), step_metrics={"val/loss": "train/acc"}))
        val = board.cache.get(WB_RUN, "val/loss", board.options)
        assert val is not None
        assert val.x.tolist() == pytest.approx([s / 40 for s in val.step.tolist()])


def test_metric_x_joins_on_step() -> None:
    step = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)
    m_step = np.array([4, 0, 2, 2, 5], dtype=np.int64)  # out of order, step 2 written twice
    m_val = np.array([40.0, 0.0, 20.0, 21.0, np.nan])
    x, hit = metric_x(step, m_step, m_val)
    assert hit.tolist() == [True, False, True, False, True, False]  # 1, 3: none; 5: NaN
    assert x[hit].tolist() == [0.0, 21.0, 40.0]  # the last value written at step 2
    x, hit = metric_x(step, np.empty(0, np.int64), np.empty(0))
    assert not hit.any()


async def test_console_paths_that_appear_later_open_the_pane(
    tmp_path: Path, wb: WandbConsole
) -> None:
    """The reader may find output.log after the first read: the pane opens then, once."""
    from tests.ui.wandb_ui import write_runs
    from tuiboard import open as open_logdir
    from tuiboard.core.logdir import Changes

    write_runs(tmp_path / "logs")
    logdir = open_logdir(str(tmp_path / "logs"))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert not pane(app).display
        set_meta(logdir, WB_RUN, wandb_meta((str(wb.output_log),)))
        app.apply_changes(Changes(frozenset({WB_RUN}), frozenset(), version=logdir.version))
        await until(pilot, lambda: pane(app).updates > 0)
        assert pane(app).display
        assert list(app.query_one(LogLines).lines) == wb.lines


async def test_overview_keeps_every_point_in_metric_mode(logs: tuple[Logdir, Path]) -> None:
    from tuiboard.ui.widgets.overview import OverviewView

    logdir, _ = logs
    set_meta(logdir, WB_RUN, wandb_meta((), step_metrics={"loss": "val/acc"}))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.set_x_axis("metric")
        await pilot.pause()
        placed = app.board.cache.get(WB_RUN, "loss", app.board.options)
        assert placed is not None and len(placed) == len(EPOCHS)  # steps with a val/acc
        row = app.query_one(OverviewView)._row(WB_RUN, "loss")
        assert row is not None
        assert len(row.y) == len(EPOCHS) * STEPS_PER_EPOCH and row.step == 39
        assert row.last == pytest.approx(2.0 / 40)


# -- the console the run file holds (no files/output.log) ----------------------------------------


def records_only_run(root: Path, wb: WandbConsole, cut_at: bytes | None = None) -> Path:
    """A copy of the real wandb run directory in `root` without files/output.log (deleted, as
    a copied run dir may lack it). `cut_at`: the .wandb file ends just before these bytes (a run
    wandb is still writing). Returns the copy's .wandb file."""
    run = root / wb.run_dir.name
    shutil.copytree(wb.run_dir, run)
    (run / "files" / "output.log").unlink()
    (wandb_file,) = run.glob("run-*.wandb")
    if cut_at is not None:
        data = wandb_file.read_bytes()
        wandb_file.write_bytes(data[: data.index(cut_at)])
    return wandb_file


async def test_without_output_log_the_pane_shows_the_run_files_records(
    tmp_path: Path, wb: WandbConsole
) -> None:
    records_only_run(tmp_path / "logs", wb)
    logdir = tuiboard.open(str(tmp_path / "logs"))
    (run,) = logdir.runs
    assert run.meta.console == () and run.meta.console_records
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await until(pilot, lambda: pane(app).updates > 0)
        assert pane(app).display  # opened by itself: the run has console output
        lines = app.query_one(LogLines)
        assert list(lines.lines) == wb.lines
        assert f"run-{wb.run_id}.wandb · output records · {len(wb.lines)} lines" in title(app)
        assert "following" in title(app)
        shown = "\n".join(str(lines.render_line(y).text) for y in range(lines.size.height))
        assert "green and bold then plain" in shown and "[bold]not markup[/bold]" in shown
        assert not FORBIDDEN.search(shown.replace("\n", ""))


async def test_records_read_later_appear_in_the_pane(tmp_path: Path, wb: WandbConsole) -> None:
    """wandb still writing: the reader reads more records, the pane shows them (the watcher
    thread reads; the pane's worker renders)."""
    wandb_file = records_only_run(tmp_path / "logs", wb, cut_at=b"warning on stderr")
    full = (wb.run_dir / wandb_file.name).read_bytes()
    before = wb.lines[: wb.lines.index("warning on stderr")]
    logdir = tuiboard.open(str(tmp_path / "logs"), load=False)
    app = TuiboardApp(logdir, poll=0.1, clock=lambda: FIXED_TIME + NOW_OFFSET)
    async with app.run_test(size=SIZE) as pilot:
        lines = app.query_one(LogLines)
        await until(pilot, lambda: list(lines.lines) == before)
        with open(wandb_file, "ab") as f:
            f.write(full[wandb_file.stat().st_size :])
        await until(pilot, lambda: list(lines.lines) == wb.lines)
        assert pane(app).run_name is not None
        assert "output records" in title(app)
