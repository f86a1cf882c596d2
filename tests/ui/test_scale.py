"""Pilot tests of the app with many runs (issue 11): behaviour, never timing (that is
bench/bench_scale.py). Logdirs are written by tuiboard.writer (EventWriter and JsonlWriter)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

import tuiboard
from tests.ui.conftest import make_app, started
from tuiboard.ui.widgets import scalar_chart
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart, chart_series
from tuiboard.writer import EventWriter, JsonlWriter

SIZE = (160, 45)
pytestmark = pytest.mark.anyio
T0 = 1_795_690_000.0


def write_runs(root: Path, n: int) -> list[str]:
    """n runs in a sweep layout (sweep_k/trial_i), even ones tfevents, odd ones JSONL, each
    with "loss" at steps 0..4 (value: the run's index, so a line tells its run)."""
    names = []
    for i in range(n):
        name = f"sweep_{i // 10:02d}/trial_{i:03d}"
        d = root / name
        if i % 2 == 0:
            with EventWriter(str(d), filename="events.out.tfevents.1.test.0.0", start_time=T0) as w:
                for s in range(5):
                    w.add_scalar("loss", float(i), s, wall_time=T0 + s)
        else:
            with JsonlWriter(str(d)) as j:
                for s in range(5):
                    j.log(s, {"loss": float(i)}, wall_time=T0 + s)
        names.append(name)
    return names


def loss_chart(app: object) -> ScalarChart:
    return next(c for c in app.query(ScalarChart) if c.tag == "loss" and c.id != "full-chart")  # type: ignore[attr-defined]


async def test_a_chart_draws_the_first_runs_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scalar_chart, "MAX_RUNS_DRAWN", 4)
    names = write_runs(tmp_path, 10)
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        prepared, series = chart_series(app.board, "loss")
        assert [p.run for p in prepared] == sorted(names)[:4]
        # the lines are those runs' own values (run i logged the value i)
        assert [float(s.y[0]) for s in series] == [0.0, 1.0, 2.0, 3.0]
        text = loss_chart(app).draw(60, 16)
        assert isinstance(text, Text)
        assert "first 4 of 10 shown runs drawn" in text.plain
        # the run filter chooses which runs are drawn: a run past the first four
        app.query_one(RunTree)  # the panel is there
        app.board.selection.pattern = "trial_00[7-9]"
        app.view_changed(runs_changed=True)
        await pilot.pause()
        prepared, _ = chart_series(app.board, "loss")
        assert [p.run for p in prepared] == [n for n in sorted(names) if n[-1] in "789"]
        assert "shown runs drawn" not in loss_chart(app).draw(60, 16).plain


async def test_few_runs_have_no_note(tmp_path: Path) -> None:
    names = write_runs(tmp_path, 3)
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert [p.run for p in chart_series(app.board, "loss")[0]] == sorted(names)
        assert "shown runs drawn" not in loss_chart(app).draw(60, 16).plain


async def test_the_run_panel_builds_only_the_rows_on_screen(tmp_path: Path) -> None:
    names = write_runs(tmp_path, 1000)  # 1,100 lines with the sweep folders
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        assert tree.run_count() == 1000
        await pilot.pause()
        tree.labels_built = 0
        tree.repaint_labels()
        await pilot.pause()
        height = tree.size.height
        # at most one build per row on screen (and one per row for the width: none, it is cheap)
        assert 0 < tree.labels_built <= height
        # the lines drawn are the runs' full lines: the first run shows its last step, 4
        first = tree._run_nodes[sorted(names)[0]]
        assert "trial_000" in str(first.label) and " 4 " in str(first.label) + " "
        # moving to the end of the list builds the rows then on screen, not the ones passed
        tree.focus()
        tree.labels_built = 0
        await pilot.press("end")
        await pilot.pause()
        assert tree.cursor_node is tree._run_nodes[sorted(names)[-1]]
        assert 0 < tree.labels_built <= 5 * height < 1100


async def test_the_run_filter_finds_the_last_run(tmp_path: Path) -> None:
    names = write_runs(tmp_path, 300)
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("f", *"trial_299$")
        await pilot.pause()
        assert [p.run for p in chart_series(app.board, "loss")[0]] == [sorted(names)[-1]]
        assert "1/300 runs shown" in str(app.query_one("#run-summary").render())
