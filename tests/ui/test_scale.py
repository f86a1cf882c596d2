"""Pilot tests of the app with many runs (issue 11): behaviour, never timing (that is
bench/bench_scale.py). Logdirs are written by tuiboard.writer (EventWriter and JsonlWriter)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

import tuiboard
from tests.ui.conftest import make_app, started
from tuiboard.core.logdir import Logdir
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.widgets import scalar_chart
from tuiboard.ui.widgets.overview import OverviewView
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


# -- the run panel at 10,000 runs: listed before they are read, virtual ---------------------------

MANY = 10_000


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 JSONL runs (sweep_XX/trial_XXXXX, 100 a sweep), run i logging loss = i at 0..2."""
    root = tmp_path_factory.mktemp("many")
    for i in range(MANY):
        with JsonlWriter(str(root / many_name(i))) as j:
            for s in range(3):
                j.log(s, {"loss": float(i)}, wall_time=T0 + s)
    return root


def many_name(i: int) -> str:
    return f"sweep_{i // 100:02d}/trial_{i:05d}"


def listed_app(root: Path) -> tuple[object, Logdir]:
    """The app on a logdir whose runs are discovered, not read: refresh_iter's first batch lists
    every run empty (what the watcher shows first on a big logdir)."""
    logdir = tuiboard.open(str(root), load=False)
    first = next(iter(logdir.refresh_iter()))
    assert len(first.new_runs) == MANY and logdir.stats.points == 0
    return make_app(logdir), logdir


def visible_text(tree: RunTree) -> list[str]:
    return [tree.render_line(y).text for y in range(tree.size.height)]


async def test_ten_thousand_runs_listed_and_scrolled_to_the_end(many_runs: Path) -> None:
    app, _ = listed_app(many_runs)
    async with app.run_test(size=SIZE) as pilot:  # type: ignore[attr-defined]
        app = await started(pilot)
        tree = app.query_one(RunTree)
        assert tree.run_count() == MANY
        assert len(tree.lines) == MANY + MANY // 100  # every run and its sweep folder
        assert "10000/10000 runs shown" in str(app.query_one("#run-summary").render())
        height = tree.size.height
        # only the rows on screen are built, and only those lines are drawn
        tree.labels_built = 0
        tree.repaint_labels()
        await pilot.pause()
        assert 0 < tree.labels_built <= height
        text = visible_text(tree)
        assert text[0].startswith("▼ sweep_00") and "trial_00000" in text[1]
        tree.focus()
        tree.labels_built = 0
        await pilot.press("end")
        await pilot.pause()
        last = tree._run_nodes[many_name(MANY - 1)]
        assert tree.cursor_node is last and last.line == len(tree.lines) - 1
        assert tree.scroll_offset.y == len(tree.lines) - height
        assert "trial_09999" in visible_text(tree)[-1]
        assert tree.labels_built <= 2 * height
        # and back to the top, a page at a time from there
        await pilot.press("home")
        await pilot.pause()
        assert tree.cursor_line == 0 and tree.scroll_offset.y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert tree.cursor_line == height - 1


async def test_toggling_a_run_far_down_the_list(many_runs: Path) -> None:
    app, _ = listed_app(many_runs)
    async with app.run_test(size=SIZE) as pilot:  # type: ignore[attr-defined]
        app = await started(pilot)
        tree = app.query_one(RunTree)
        tree.focus()
        target = many_name(8_765)
        tree.move_cursor(tree._run_nodes[target])
        await pilot.pause()
        y = tree._run_nodes[target].line - tree.scroll_offset.y
        assert 0 <= y < tree.size.height and "trial_08765" in tree.render_line(y).text
        await pilot.press("space")
        await pilot.pause()
        assert not app.board.selection.is_visible(target)
        assert app.board.selection.hidden == {target}
        assert "☐ trial_08765" in tree.render_line(y).text
        assert "9999/10000 runs shown" in str(app.query_one("#run-summary").render())
        # a click on another run far down shows / hides it too
        other = tree._run_nodes[many_name(8_764)].line - tree.scroll_offset.y
        assert await pilot.click(tree, offset=(10, other))
        await pilot.pause()
        assert app.board.selection.hidden == {target, many_name(8_764)}
        # a folder (its sweep) toggles its hundred runs: some hidden, so all shown; then all
        # hidden. Enter folds it, and the list shortens.
        tree.action_cursor_parent()
        await pilot.pause()
        assert tree.cursor_node is tree._run_nodes["sweep_87"]
        await pilot.press("space")
        await pilot.pause()
        assert app.board.selection.hidden == set()
        await pilot.press("space")
        await pilot.pause()
        assert app.board.selection.hidden == {many_name(i) for i in range(8_700, 8_800)}
        await pilot.press("enter")
        await pilot.pause()
        assert len(tree.lines) == MANY + MANY // 100 - 100
        assert tree._run_nodes[target].line == -1
        assert tree.cursor_node is tree._run_nodes["sweep_87"]


async def test_the_filter_finds_one_run_of_ten_thousand(many_runs: Path) -> None:
    app, _ = listed_app(many_runs)
    async with app.run_test(size=SIZE) as pilot:  # type: ignore[attr-defined]
        app = await started(pilot)
        await pilot.press("f", *"trial_09876$")
        await pilot.pause()
        assert app.board.visible_runs() == [many_name(9_876)]
        assert "1/10000 runs shown" in str(app.query_one("#run-summary").render())
        # the runs the filter hides stay listed, dimmed (their box unticked)
        tree = app.query_one(RunTree)
        assert tree.run_count() == MANY
        assert "☐ trial_00000" in visible_text(tree)[1]


async def test_the_overview_makes_only_the_rows_on_screen(tmp_path: Path) -> None:
    names = sorted(write_runs(tmp_path, 300))
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("2")  # scalars only: Overview is the second tab
        await pilot.pause()
        view = app.query_one(OverviewView)
        table = view.table
        assert app.focused is table and table.row_count == 300
        height = table.size.height
        # the numbers and cells of the rows drawn only (one line is the header)
        assert 0 < len(view.rows) <= height - 1 < 300
        assert "300 series" in str(app.query_one("#overview-hint").render())
        first = table.render_line(1).text
        assert "loss" in first and "trial_000" in first
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 299
        last = view.row_at(299)
        assert last is not None and last.run == names[-1] and last.last == 299.0
        assert "trial_299" in table.render_line(height - 1).text
        assert len(view.rows) <= 2 * height
        # sorting by a number reads every series' numbers (not its drawn row): largest first
        view.sort_by("last", reverse=True)
        await pilot.pause()
        assert len(view.rows) <= height
        lasts = [view.row_at(i).last for i in range(300)]  # type: ignore[union-attr]
        assert lasts == [float(i) for i in range(299, -1, -1)]
        assert view.row_at(0).run == names[-1]  # type: ignore[union-attr]
        # a live point moves the row in place and its line shows it
        run299 = tmp_path / names[-1]
        with JsonlWriter(str(run299), append=True) as j:
            j.log(5, {"loss": -1.0}, wall_time=T0 + 5)
        app.apply_changes(logdir.refresh())
        await pilot.pause()
        assert view.row_at(0).last == -1.0  # type: ignore[union-attr]
        await pilot.press("home", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChartScreen) and app.screen.tag == "loss"
