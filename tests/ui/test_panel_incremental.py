"""The run panel and the Board follow store changes incrementally (issue 11: a change costs the
runs it names): after seeded random sequences of runs added, appended to, rewritten smaller,
removed, filtered (regex and query), hidden, shown only, pinned, the incremental state must be
what a full rebuild gives: the Board's sorted runs and shown runs, the colours, a run panel built
afresh from every run (rows, labels, summary), and the screen as drawn (a full repaint of the
run panel changes nothing on it). Runs are JSONL runs written by tuiboard.writer.JsonlWriter."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

import tuiboard
from tests.ui.conftest import FIXED_TIME, make_app, started
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.messages import RunFilterChanged, RunPinned, RunToggled
from tuiboard.ui.widgets.run_panel import RunPanel, RunTree
from tuiboard.writer import EventWriter, JsonlWriter

pytestmark = pytest.mark.anyio
SIZE = (140, 40)

FLAT = [f"run_{i:02d}" for i in range(40)]
NESTED = ["grp/a", "grp/b", "grp/deep/c", "run_03/sub"]
"""Names that turn the list into a tree by path (and back when they go)."""
FILTERS = ["", "run_0", "[13]$", "name:run_1*", "name:grp* OR name:run_2*", "-name:run_3*"]
"""Regexes and queries (core/query.py), "" for none."""


def write_run(root: Path, name: str, steps: int, value: float) -> None:
    """A JSONL run with `loss` at steps 0..steps-1, fixed wall times (appends when it exists)."""
    with JsonlWriter(str(root / name)) as w:
        for s in range(steps):
            w.log(s, {"loss": value + s}, wall_time=FIXED_TIME - 3600 + s)


def rows(tree: RunTree) -> list[tuple[object, ...]]:
    """Every row listed (folders expanded): place, name, and its whole label as drawn."""
    out = []
    for row in tree.lines:
        depth, r = 0, row.parent
        while r is not None:
            depth, r = depth + 1, r.parent
        label = tree.full_label(row)
        out.append((depth, row.path, row.short, row.data, label.plain, label.spans))
    return out


async def check(app: TuiboardApp, ref_colours: dict[str, int], pilot: object) -> None:
    """The incremental state equals what a full rebuild gives."""
    board = app.board
    names = sorted(r.name for r in app.logdir.runs)
    # the Board: runs sorted, the store's own views; shown runs; colours by first sight
    assert board.run_names() == names
    assert all(r is app.logdir.run(r.name) for r in board.runs())
    assert board.visible_runs() == board.selection.visible(names)
    for name in names:
        if name not in ref_colours:
            ref_colours[name] = len(ref_colours)
    assert {n: board.selection.colour_index[n] for n in names} == {n: ref_colours[n] for n in names}
    # the run panel against one made afresh from every run
    panel = app.query_one("#run-panel", RunPanel)
    fresh = RunPanel(board.selection, board.colour_of, id="fresh-panel")
    fresh.display = False
    await app.query_one("#main").mount(fresh)
    fresh.sync(board.runs(), app.clock(), None)
    assert rows(panel.run_tree) == rows(fresh.run_tree)
    assert panel.run_tree.run_count() == len(names)
    mine, theirs = panel._summary, fresh._summary
    assert mine is not None and theirs is not None
    assert (mine.plain, mine.spans) == (theirs.plain, theirs.spans)
    await fresh.remove()
    # the screen as drawn: a full repaint of the run panel changes nothing on it
    await pilot.pause()  # type: ignore[attr-defined]
    before = app.export_screenshot()
    tree = panel.run_tree
    tree.repaint_labels()
    await pilot.pause()  # type: ignore[attr-defined]
    assert app.export_screenshot() == before


STEPS = (
    *("add", "add", "add_many", "append", "append", "rewrite", "remove", "remove"),
    *("nested", "flat", "filter", "hide", "show", "only", "pin", "cursor"),
)
"""What a random step does (adds and removals twice as likely)."""
FIRST = ["add", "add_many", "nested", "append", "rewrite", "filter", "remove", "flat"]
"""The first steps of every sequence: a run put in place by bisection, many by one sort, the
list turned into a tree and back, a run given a new view, a filter, a run gone."""


async def step(
    app: TuiboardApp, root: Path, rng: random.Random, pilot: object, what: str | None
) -> None:
    """One change (`what`, or a random one): to the files (then a refresh applied) or to the
    user's choices."""
    present = sorted(r.name for r in app.logdir.runs)
    absent = [n for n in FLAT + NESTED if n not in present]
    if what is None:
        what = rng.choice(STEPS)
    if what == "nested":
        for name in NESTED:
            write_run(root, name, rng.randint(1, 3), rng.random())
    elif what == "flat":
        for name in NESTED:
            if (root / name).exists():
                for f in (root / name).glob("*.jsonl"):
                    f.unlink()
        shutil.rmtree(root / "grp", ignore_errors=True)
    elif what in ("add", "add_many") and absent:
        count = 1 if what == "add" else min(len(absent), rng.randint(5, 12))
        for name in rng.sample(absent, count):
            write_run(root, name, rng.randint(1, 4), rng.random())
    elif what == "append" and present:
        for name in rng.sample(present, min(len(present), rng.randint(1, 3))):
            write_run(root, name, rng.randint(1, 3), rng.random())
    elif what == "rewrite" and present:
        # a file rewritten smaller: the run is read again into fresh data (a new view)
        name = rng.choice(present)
        for f in (root / name).glob("*.jsonl"):
            f.unlink()
        write_run(root, name, 1, rng.random())
    elif what == "remove" and present:
        for name in rng.sample(present, min(len(present), rng.randint(1, 3))):
            if any(n.startswith(name + "/") for n in present):
                for f in (root / name).glob("*.jsonl"):
                    f.unlink()  # a run with runs under it: only its own files go
            else:
                shutil.rmtree(root / name)
    elif what == "filter":
        app.post_message(RunFilterChanged(rng.choice(FILTERS)))
    elif what in ("hide", "show") and present:
        chosen = tuple(rng.sample(present, min(len(present), rng.randint(1, 4))))
        app.post_message(RunToggled(chosen, what == "show"))
    elif what == "only" and present:
        app.action_only_run(rng.choice([*present, None]))  # type: ignore[list-item]
    elif what == "pin" and present:
        app.post_message(RunPinned((rng.choice(present),)))
    elif what == "cursor":
        tree = app.query_one(RunTree)
        tree.focus()
        for _ in range(rng.randint(1, 12)):
            await pilot.press(rng.choice(["down", "down", "up", "pagedown"]))  # type: ignore[attr-defined]
    changes = app.logdir.refresh()
    if changes:
        app.apply_changes(changes)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
async def test_incremental_panel_equals_a_full_rebuild(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "logs"
    for name in rng.sample(FLAT, 24):
        write_run(root, name, rng.randint(1, 4), rng.random())
    logdir = tuiboard.open(str(root))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        colours: dict[str, int] = {}
        await check(app, colours, pilot)
        for i in range(24):
            await step(app, root, rng, pilot, FIRST[i] if i < len(FIRST) else None)
            await pilot.pause()
            await check(app, colours, pilot)


async def test_a_run_among_many_moves_only_its_row(tmp_path: Path) -> None:
    """A run added among 400, then one removed: the Board puts it in place (no full pass), the
    panel looks at that run only, and the lines on screen are drawn again only where they
    changed."""
    root = tmp_path / "logs"
    for i in range(0, 800, 2):
        write_run(root, f"run_{i:04d}", 2, float(i))
    logdir = tuiboard.open(str(root))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        board = app.board
        before = board.runs()
        mark, _ = board.moved_since(0)
        write_run(root, "run_0003", 2, 3.0)
        app.apply_changes(logdir.refresh())
        await pilot.pause()
        after = board.runs()
        assert after is not before and [r.name for r in before][:2] == ["run_0000", "run_0002"]
        assert [r.name for r in after][:4] == ["run_0000", "run_0002", "run_0003", "run_0004"]
        assert board.moved_since(mark)[1] == {"run_0003": logdir.run("run_0003")}
        await check(app, {n: i for i, n in enumerate(sorted(r.name for r in before))}, pilot)
        shutil.rmtree(root / "run_0002")
        app.apply_changes(logdir.refresh())
        await pilot.pause()
        assert "run_0002" not in board.run_names()
        assert app.query_one(RunTree).run_count() == 400


def write_tags(root: Path, name: str, tags: list[str], value: float) -> None:
    """A new event file in run `name` logging `tags` once (a new tag: a new series for the
    Overview), by tuiboard.writer.EventWriter."""
    n = len(list((root / name).glob("events.*"))) if (root / name).exists() else 0
    filename = f"events.out.tfevents.{1_700_000_000 + n}.test.0.{n}"
    with EventWriter(str(root / name), filename=filename, start_time=FIXED_TIME - 3600) as w:
        for tag in tags:
            w.add_scalar(tag, value, n, wall_time=FIXED_TIME - 3600 + n)


@pytest.mark.parametrize(("column", "reverse"), [("tag", False), ("tag", True), ("run", True)])
async def test_overview_takes_new_series_in_place(
    tmp_path: Path, column: str, reverse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Series that arrive while the Overview is shown (sorted by a name) are put in their
    places: the same keys, order, column widths as a rebuild, the cursor on its series. Runs
    are tfevents runs here (a JSONL run's columns come from its first line)."""
    from tuiboard.ui.widgets.overview import OverviewView

    rng = random.Random(f"{column}{reverse}")
    inserted: list[int] = []
    insert = OverviewView._insert

    def counted(self: OverviewView, new: list[tuple[str, str]]) -> None:
        inserted.append(len(new))
        insert(self, new)

    monkeypatch.setattr(OverviewView, "_insert", counted)
    root = tmp_path / "logs"
    tags = ["loss", "acc", "Zeta/x", "b", "lr", "a_much_longer_tag_name/for/widths"]
    for name in FLAT[:12]:
        write_tags(root, name, rng.sample(tags[:3], 2), rng.random())
    logdir = tuiboard.open(str(root))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.action_show_tab("overview")
        await pilot.pause()
        view = app.query_one(OverviewView)
        view.sort_by(column, reverse)
        await pilot.pause()
        table = view.table
        table.focus()
        for i in range(10):
            await pilot.press("down")
            cursor = table.cursor_key()
            name = rng.choice([*FLAT[:12], *FLAT[:12], "a_long_run_name_" * 2, "grp2/x"])
            write_tags(root, name, rng.sample(tags, rng.randint(1, 4)), rng.random())
            if i == 6:
                app.post_message(RunFilterChanged("run_1|grp"))  # a rebuild between
            app.apply_changes(logdir.refresh())
            await pilot.pause()
            keys = list(table.keys)
            columns = list(table.columns)
            assert table.key_set == set(keys)
            if cursor is not None and cursor in table.key_set:
                assert table.cursor_key() == cursor
            view.rebuild()
            assert keys == table.keys
            assert columns == table.columns
        assert len(inserted) >= 3  # most changes took the incremental path
