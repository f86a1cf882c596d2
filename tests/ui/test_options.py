"""Chart toggles, the grid's columns, groups, the command palette, CSV export and NO_COLOR."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

from tests.ui.conftest import TBX_RUNS, TBX_SCALARS, TBX_STEPS, make_app, started
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.scalar_chart import ScalarChart, chart_series
from tuiboard.ui.widgets.scalars_view import ChartGroup, ScalarsView

pytestmark = pytest.mark.anyio


def chart(app: TuiboardApp, tag: str) -> ScalarChart:
    return next(c for c in app.query(ScalarChart) if c.tag == tag)


async def test_toggles_reach_the_chart(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        c = chart(app, "lr")
        assert not c.chart_options().log_y
        before = c.draw(60, 14).plain
        await pilot.press("l")
        await pilot.pause()
        assert c.chart_options().log_y and c.draw(60, 14).plain != before
        await pilot.press("i")
        await pilot.pause()
        assert c.chart_options().ignore_outliers
        await pilot.press("R")
        await pilot.pause()
        assert app.board.options.raw_points
        status = str(app.query_one("#status").render())
        assert "log y" in status and "no outliers" in status and "raw points" in status


async def test_grid_columns_follow_the_width(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(80, 40)) as pilot:
        app = await started(pilot)
        view = app.query_one(ScalarsView)
        assert view.columns == 1
        loss = chart(app, "loss/train").region
        val = chart(app, "loss/val").region
        assert val.y > loss.y  # one under the other
        await pilot.resize_terminal(200, 40)
        await pilot.pause()
        await pilot.pause()
        assert view.columns >= 3
        loss = chart(app, "loss/train").region
        val = chart(app, "loss/val").region
        assert val.y == loss.y and val.x > loss.x  # side by side


async def test_groups_collapse(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        groups = {g.group_name: g for g in app.query(ChartGroup)}
        assert sorted(groups) == ["acc", "loss", "lr"]
        header = groups["loss"].header
        header.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert groups["loss"].collapsed and not groups["loss"].grid.display
        assert "▶" in str(header.render())
        await pilot.click(header)
        await pilot.pause()
        assert not groups["loss"].collapsed
        chart(app, "acc/top1").focus()
        await pilot.press("c")
        await pilot.pause()
        assert all(g.collapsed for g in groups.values())


async def test_palette_holds_every_action(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        titles = [cmd.title for cmd in app.get_system_commands(app.screen)]
        for wanted in (
            "Set smoothing…",
            "X axis: step",
            "X axis: relative",
            "X axis: wall",
            "Log y scale: on",
            "Ignore outliers: on",
            "Raw points: on",
            "Filter tags…",
            "Filter runs…",
            "Export visible series to CSV…",
            "Pause / resume live redraws",
            "Keys (help)",
        ):
            assert wanted in titles, wanted
        relative = next(
            c for c in app.get_system_commands(app.screen) if c.title.endswith("relative")
        )
        relative.callback()
        await pilot.pause()
        assert app.board.options.x_axis == "relative"
        # Through the palette itself: ctrl+p, type, enter.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Smoothing 0.9")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.board.options.smoothing == 0.9


async def test_export_visible_series(tbx_root: Path, tbx_logdir: Logdir, tmp_path: Path) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        # Never into the logdir.
        assert app.export_problem(str(tbx_root / "out.csv"))
        assert app.export_problem(str(tbx_root / "b" / "out.csv"))
        assert app.export_problem(str(tmp_path / "no-such-dir" / "x.csv"))
        assert app.export_problem(str(tmp_path / "out.csv")) is None
        await pilot.press("slash", *"^loss/val$", "enter")
        await pilot.pause()
        app.board.selection.hidden.add("b")
        app.view_changed(runs_changed=True)
        app.export_csv(str(tmp_path / "out.csv"))
        await app.workers.wait_for_complete()
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert {(r["run"], r["tag"]) for r in rows} == {(r, "loss/val") for r in TBX_RUNS if r != "b"}
    acc = event_accumulator.EventAccumulator(
        str(tbx_root / "a/lr=0.1"), size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    want = [(e.step, np.float32(e.value)) for e in acc.Scalars("loss/val")]
    got = [(int(r["step"]), np.float32(float(r["value"]))) for r in rows if r["run"] == "a/lr=0.1"]
    assert got == want and len(got) == TBX_STEPS


async def test_export_through_the_prompt(tbx_logdir: Logdir, tmp_path: Path) -> None:
    target = tmp_path / "typed.csv"
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        await pilot.press("e")
        await pilot.pause()
        box = app.screen.query_one("#prompt-input")
        box.value = str(target)  # type: ignore[attr-defined]
        assert app.focused is box
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    lines = target.read_text().splitlines()
    assert lines[0] == "run,tag,step,wall_time,value"
    assert len(lines) == 1 + len(TBX_RUNS) * len(TBX_SCALARS) * TBX_STEPS


async def test_no_color(tbx_logdir: Logdir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert not app.board.theme.color
        text = chart(app, "loss/train").draw(60, 12)
        assert not text.spans and not text.style
        assert len(chart_series(app.board, "loss/train")[0]) == len(TBX_RUNS)


async def test_warnings_open_from_the_run_and_the_status(tbx_root: Path) -> None:
    import tuiboard
    from tests.ui.conftest import pin_mtimes
    from tuiboard.ui.screens.warnings import WarningsScreen
    from tuiboard.ui.widgets.run_panel import RunTree

    event_file = next((tbx_root / "b").glob("events.out.tfevents.*"))
    data = bytearray(event_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a payload byte: that record's CRC no longer matches
    event_file.write_bytes(bytes(data))
    pin_mtimes(tbx_root)
    logdir = tuiboard.open(str(tbx_root))
    run = logdir.run("b")
    assert run is not None and run.warnings
    async with make_app(logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        assert f"⚠{len(run.warnings)}" in str(tree._run_nodes["b"].label)
        assert f"⚠ {len(run.warnings)}" in str(app.query_one("#status").render())
        tree.focus()
        tree.move_cursor(tree._run_nodes["b"])
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WarningsScreen)
        shown = str(app.screen.query_one("#warnings-text").render())
        assert run.warnings[0].message in shown
        await pilot.press("escape")
        await pilot.pause()
        await pilot.click("#status")
        await pilot.pause()
        assert isinstance(app.screen, WarningsScreen)


async def test_load_progress_in_status_and_placeholder(tmp_path: Path) -> None:
    import tuiboard
    from tuiboard.ui.messages import LoadProgress

    (tmp_path / "empty").mkdir()
    async with make_app(tuiboard.open(str(tmp_path / "empty"))).run_test(size=(120, 30)) as pilot:
        app = await started(pilot)
        app.post_message(LoadProgress(2, 5))
        await pilot.pause()
        assert "loading 2/5 runs" in str(app.query_one("#status").render())
        assert "2/5 runs" in str(app.query_one("#scalars-empty").render())
        app.post_message(LoadProgress(5, 5))
        await pilot.pause()
        assert "loading" not in str(app.query_one("#status").render())


async def test_many_tags_start_with_groups_collapsed(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    import tuiboard
    from tuiboard.ui.widgets.scalars_view import MANY_TAGS

    root = tmp_path / "logs"
    with SummaryWriter(str(root / "r"), flush_secs=1) as w:
        for g in range(MANY_TAGS // 4 + 1):
            for k in range(5):
                w.add_scalar(f"group{g:02d}/m{k}", float(k), 0, walltime=1.0)
    logdir = tuiboard.open(str(root))
    async with make_app(logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        groups = sorted(app.query(ChartGroup), key=lambda g: g.group_name)
        assert len(groups) == MANY_TAGS // 4 + 1
        assert not groups[0].collapsed
        assert all(g.collapsed for g in groups[1:])


async def test_time_axes_leave_out_runs_without_times(tmp_path: Path) -> None:
    """A JSONL run without a time key has no place on a time axis (steps would mix units)."""
    import json

    import tuiboard
    from tests.ui.conftest import T0, write_tbx_runs

    root = tmp_path / "logs"
    write_tbx_runs(root)
    (root / "j").mkdir()
    with (root / "j" / "metrics.jsonl").open("w") as f:
        for i in range(10):
            f.write(json.dumps({"step": i * 10, "lr": 0.5 - i * 0.01}) + "\n")
    logdir = tuiboard.open(str(root))
    assert logdir.run("j") is not None
    async with make_app(logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert "j" in [p.run for p in chart_series(app.board, "lr")[0]]
        await pilot.press("x")
        await pilot.pause()
        prepared, series = chart_series(app.board, "lr")
        assert "j" not in [p.run for p in prepared]
        assert all(s.x[0] < 1e6 for s in series)  # relative seconds, no steps mixed in
        await pilot.press("x")
        await pilot.pause()
        assert all(s.x[0] >= T0 for s in chart_series(app.board, "lr")[1])
