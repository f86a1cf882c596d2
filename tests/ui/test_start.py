"""What the app's start at many runs rests on (bench/bench_scale.py measures it): only the tabs
in the tab bar are built, the Board's tags follow the runs changed, a `status:` filter and the
Overview's sort by a number are worked out on worker threads (their answers dropped when a
later question was asked), and the first paint is waited for. Logdirs by tensorboardX and
tuiboard's own SDK (tests/query_runs.py); the worker paths are forced on these small logdirs by
lowering their thresholds, and give what the UI thread gives.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter
from textual.pilot import Pilot
from textual.widgets import Input

import tuiboard
import tuiboard.ui.board as board_mod
import tuiboard.ui.widgets.overview as overview_mod
from tests.core.test_walk_ahead import beside_another_thread
from tests.query_runs import query_runs_dir
from tests.ui.conftest import TBX_RUNS, make_app, started
from tests.ui.test_app import drawn_runs
from tuiboard.core import forking
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.board import Board
from tuiboard.ui.widgets.cards import CardsView
from tuiboard.ui.widgets.images_view import ImagesView
from tuiboard.ui.widgets.overview import OverviewView
from tuiboard.ui.widgets.run_panel import RunTree

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


async def until(pilot: Pilot[int], predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        if predicate():  # type: ignore[operator]
            return
    raise AssertionError("condition not reached in time")


def workers(app: TuiboardApp, group: str) -> list[object]:
    return [w for w in app.workers if w.group == group and w.is_running]


# -- only the tabs shown are built ------------------------------------------------------------


async def test_only_the_tabs_in_the_tab_bar_are_built(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        shown = app.shown_tabs()
        assert shown == ["scalars", "histograms", "overview"]
        assert set(app._built) == set(shown)
        assert not list(app.query(ImagesView))
        # asked for anyway (a test, the palette's "Go to"), a tab's widget is built then
        view = app.view("images")
        assert isinstance(view, CardsView)
        await until(pilot, lambda: view.is_mounted)
        assert [v for v in app.views() if isinstance(v, ImagesView)] == [view]


async def test_a_tab_whose_kind_appears_is_built_then(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    with SummaryWriter(str(root / "a")) as w:
        w.add_scalar("loss", 1.0, 0)
    logdir = tuiboard.open(str(root))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert "text" not in app._built
        with SummaryWriter(str(root / "a"), filename_suffix=".2") as w:
            w.add_text("notes", "hello **world**", 1)
        changes = logdir.refresh()
        app.apply_changes(changes)
        assert "text" in app.shown_tabs() and "text" in app._built
        app.action_show_tab("text")
        view = app.view("text")
        await until(pilot, lambda: view.is_mounted and bool(view.cards()))  # type: ignore[attr-defined]
        assert app.active_tab == "text"


# -- the Board's tags, kept from the runs changed ----------------------------------------------


def _full(logdir: Logdir) -> tuple[dict[str, list[str]], set[str]]:
    """What a Board that never saw a change works out (every run in the store)."""
    fresh = Board(logdir)
    return {k: fresh.tags(k) for k in ("scalars", "histograms", "text")}, fresh.kinds()


def test_board_tags_follow_the_changes_applied(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for name in ("a", "b"):
        with SummaryWriter(str(root / name)) as w:
            w.add_scalar("loss", 1.0, 0)
    logdir = tuiboard.open(str(root), load=False)
    board = Board(logdir)
    assert board.tags() == [] and board.kinds() == set()
    for changes in logdir.refresh_iter():
        board.note_changes(changes)
        assert ({k: board.tags(k) for k in ("scalars", "histograms", "text")}, board.kinds()) == (
            _full(logdir)
        )
    assert board.tags() == ["loss"]
    # a new tag in one run, a new kind in another, a config, then a run gone
    with SummaryWriter(str(root / "a"), filename_suffix=".2") as w:
        w.add_scalar("acc", 0.5, 1)
    with SummaryWriter(str(root / "b"), filename_suffix=".2") as w:
        w.add_text("notes", "x", 1)
    (root / "b" / "config.json").write_text('{"lr": 0.1}')
    board.note_changes(logdir.refresh())
    assert board.tags() == ["acc", "loss"] and board.tags("text") == ["notes/text_summary"]
    assert "config" in board.kinds()
    assert ({k: board.tags(k) for k in ("scalars", "histograms", "text")}, board.kinds()) == (
        _full(logdir)
    )
    assert board.run_tags("b", "scalars") == ["loss"] and board.run_tags("a", "text") == []
    shutil.rmtree(root / "b")
    board.note_changes(logdir.refresh())
    assert board.tags("text") == [] and "config" not in board.kinds()
    assert board.tags() == ["acc", "loss"]
    assert ({k: board.tags(k) for k in ("scalars", "histograms", "text")}, board.kinds()) == (
        _full(logdir)
    )


def test_charts_take_only_the_runs_read(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for name in ("a", "b", "c"):
        with SummaryWriter(str(root / name)) as w:
            w.add_scalar("loss", 1.0, 0)
    logdir = tuiboard.open(str(root), load=False)
    board = Board(logdir)
    batches = iter(logdir.refresh_iter())
    board.note_changes(next(batches))  # listed, none read
    assert board.visible_runs() == ["a", "b", "c"] and board.chart_runs() == []
    board.note_changes(next(batches))  # the first read
    assert board.chart_runs() == ["a"]
    for changes in batches:
        board.note_changes(changes)
    board.selection.pinned.add("c")
    assert board.chart_runs() == ["c", "a", "b"]


# -- `status:` on a worker ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def query_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = query_runs_dir(tmp_path_factory, "start-query")
    return root


async def test_a_status_filter_is_worked_out_on_a_worker(
    query_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = ["plain_run", "tbx/hp", "tbx/hp/session", "tbx/nan"]
    # the UI thread's answer (few runs)
    async with make_app(tuiboard.open(str(query_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.query_one("#run-filter", Input).value = "status:diverged OR -has:loss"
        await pilot.pause()
        assert app.board.visible_runs() == want
    monkeypatch.setattr(board_mod, "STATUS_WORKER_RUNS", 0)
    async with make_app(tuiboard.open(str(query_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        board = app.board
        everyone = list(board.visible_runs())
        asked: list[int] = []
        worker = board.status_worker
        assert worker is not None

        def held(rf, now, ticket, runs):  # type: ignore[no-untyped-def]
            asked.append(ticket)  # the question is asked; the answer comes when let through

        board.status_worker = held
        assert board.set_run_filter("status:diverged OR -has:loss", app.clock()) is None
        app.view_changed(runs_changed=True)
        # until the worker answers, the runs kept are those of the filter before (all)
        assert board.visible_runs() == everyone and len(asked) == 1
        rf = board._run_filter
        assert rf is not None
        # an answer to an older question is dropped
        stale = board.status_result(rf, asked[0] - 1, frozenset({"tbx/nan"}))
        assert not stale and board.visible_runs() == everyone
        board.status_worker = worker
        app.query_one("#run-filter", Input).value = "status:diverged OR -has:loss"
        await until(pilot, lambda: board.visible_runs() == want)
        assert drawn_runs(app, "loss") == ["tbx/nan"]
        assert "4/" in str(app.query_one("#run-summary").render())
        # the clock moves (every 10 s): asked again on the worker, the same answer
        app._tick()
        await until(pilot, lambda: not workers(app, "status-filter"))
        await pilot.pause()
        assert board.visible_runs() == want
        # a regex again: at once, on the UI thread
        app.query_one("#run-filter", Input).value = "^tbx/"
        await pilot.pause()
        assert all(n.startswith("tbx/") for n in board.visible_runs())


# -- the Overview's sort by a number on a worker ------------------------------------------------


async def test_overview_sorts_by_a_number_on_a_worker(
    tbx_logdir: Logdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.action_show_tab("overview")
        await pilot.pause()
        view = app.query_one(OverviewView)
        orders = {}
        for column, reverse in (("last", False), ("min", True), ("step", False)):
            view.sort_by(column, reverse)
            assert not view.sorting  # 12 series: at once
            orders[column] = list(view.table.keys)
        view.sort_by("tag", False)
        monkeypatch.setattr(overview_mod, "SORT_WORKER_KEYS", 0)
        for column, reverse in (("last", False), ("min", True), ("step", False)):
            view.sort_by(column, reverse)
            await until(pilot, lambda: not view.sorting)
            assert view.table.keys == orders[column], column
        assert len(view.table.keys) == len(TBX_RUNS) * 4
        # two sorts asked at once: the table ends in the last one's order
        view.sort_by("last", False)
        view.sort_by("min", True)
        await until(pilot, lambda: not view.sorting and not workers(app, "overview-sort"))
        await pilot.pause()
        assert view.table.keys == orders["min"]
        assert "sorted by min ↓" in str(view.query_one("#overview-hint").render())


async def test_the_app_reads_on_once_the_first_runs_are_drawn(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for i in range(6):
        with SummaryWriter(str(root / f"run{i}")) as w:
            w.add_scalar("loss", float(i), 0)
    logdir = tuiboard.open(str(root), load=False)
    app = TuiboardApp(logdir, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.point_count == 6 and app._progress is None)
        assert app._first_drawn
        assert sorted(drawn_runs(app, "loss")) == [f"run{i}" for i in range(6)]


# -- the first walk in a forked child (core/walk_ahead.py) -------------------------------------


def few_runs(root: Path) -> list[str]:
    names = [f"run{i}" for i in range(4)]
    for name in names:
        with SummaryWriter(str(root / name)) as w:
            w.add_scalar("loss", 1.0, 0)
    return names


def fork_allowed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forking as when the app starts alone on two cores (under pytest-xdist a worker holds
    other threads); the forks made are counted."""
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("TUIBOARD_WORKERS", raising=False)
    forks: list[int] = []
    real = os.fork

    def counted() -> int:
        pid = real()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return forks


async def test_the_first_walk_runs_in_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = few_runs(tmp_path)
    forks = fork_allowed(monkeypatch)
    app = TuiboardApp(tuiboard.open(str(tmp_path), load=False), clock=lambda: 0.0)
    assert len(forks) == 1  # begun as the app is made, before any thread of its own
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.point_count == 4 and app._progress is None)
        assert app.query_one(RunTree).run_count() == 4
        assert sorted(drawn_runs(app, "loss")) == names


async def test_an_app_whose_forked_walk_dies_lists_its_runs_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = few_runs(tmp_path)
    forks = fork_allowed(monkeypatch)
    monkeypatch.setattr(Logdir, "discover_packed", lambda self: os._exit(3))
    app = TuiboardApp(tuiboard.open(str(tmp_path), load=False), clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.point_count == 4 and app._progress is None)
        assert sorted(drawn_runs(app, "loss")) == names
    assert len(forks) == 1


async def test_no_fork_when_the_app_is_made_beside_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = few_runs(tmp_path)
    with beside_another_thread(monkeypatch):
        app = TuiboardApp(tuiboard.open(str(tmp_path), load=False), clock=lambda: 0.0)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.board.point_count == 4 and app._progress is None)
            assert sorted(drawn_runs(app, "loss")) == names


def test_the_command_begins_the_walk_and_hands_it_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import tuiboard.ui.app as app_mod
    from tuiboard.cli import main

    names = few_runs(tmp_path)
    forks = fork_allowed(monkeypatch)
    handed: dict[str, object] = {}

    def run_app(logdir: Logdir, **options: object) -> int:
        handed["forks"] = len(forks)  # forked before the app (and its imports)
        handed["found"] = sorted(options["discovered"]())  # type: ignore[operator]
        return 0

    monkeypatch.setattr(app_mod, "run_app", run_app)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main([str(tmp_path)]) == 0
    assert handed == {"forks": 1, "found": names}


# -- the collector's pause while the app starts --------------------------------------------------


def test_gc_pauses_nest_and_end_by_themselves() -> None:
    import gc

    from tuiboard.core.gc_pause import pause_gc

    assert gc.isenabled()
    first = pause_gc(30.0)
    second = pause_gc(0.2)
    assert not gc.isenabled()
    first()
    first()  # idempotent
    assert not gc.isenabled()  # the second still holds
    deadline = time.monotonic() + 5
    while not gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gc.isenabled()  # its timer ended it
    second()
    assert gc.isenabled()
    gc.disable()
    try:
        pause_gc(30.0)()
        assert not gc.isenabled()  # off before: stays off
    finally:
        gc.enable()


async def test_the_collector_runs_again_once_the_first_load_ends(tmp_path: Path) -> None:
    import gc

    root = tmp_path / "logs"
    for name in ("a", "b"):
        with SummaryWriter(str(root / name)) as w:
            w.add_scalar("loss", 1.0, 0)
    gc.unfreeze()
    app = TuiboardApp(tuiboard.open(str(root), load=False), clock=lambda: 0.0)
    assert not gc.isenabled()  # paused from the app's making (the first walk begins then)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.point_count == 2)
        await until(pilot, gc.isenabled)
        assert app._progress is None  # not before the first load ended
        assert gc.get_freeze_count() > 0  # what it made is frozen, not met by later passes
    assert gc.isenabled()
    gc.unfreeze()
