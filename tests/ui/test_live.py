"""Live data through the real Watcher thread: new points appear, only touched charts redraw,
pause holds redraws back, new runs appear in place."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter
from textual.pilot import Pilot

import tuiboard
from tests.ui.conftest import FIXED_TIME, NOW_OFFSET, T0, TBX_RUNS
from tuiboard.core.logdir import Changes
from tuiboard.core.types import SCALARS
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.board import Board
from tuiboard.ui.messages import LoadProgress, StoreChanged
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart

pytestmark = pytest.mark.anyio
SIZE = (160, 60)


async def wait_for(
    pilot: Pilot[int], predicate: object, timeout: float = 30.0, why: object = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if predicate():  # type: ignore[operator]
            return
    raise AssertionError(f"condition not reached in time: {why() if why else ''}")  # type: ignore[operator]


def charts(app: TuiboardApp) -> dict[str, ScalarChart]:
    return {c.tag: c for c in app.query(ScalarChart) if c.id != "full-chart"}


def live_app(root: Path) -> TuiboardApp:
    logdir = tuiboard.open(str(root), load=False)
    return TuiboardApp(logdir, poll=0.1, clock=lambda: FIXED_TIME + NOW_OFFSET)


async def test_append_redraws_only_touched_charts(tbx_root: Path) -> None:
    app = live_app(tbx_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(charts(app)) == 4 and app.logdir.stats.runs == 3)
        # the first chart is drawn with the first run read, before the rest arrives: the
        # load's end (its last runs drawn) must be behind us before the renders are counted
        await wait_for(pilot, lambda: app._progress is None)
        await wait_for(pilot, lambda: all(c.renders for c in charts(app).values()))
        await pilot.pause(0.3)
        status = str(app.query_one("#status").render())
        assert "3/3 runs" in status and "loading" not in status
        before = {tag: c.renders for tag, c in charts(app).items()}
        # tensorboardX names files by the second: a suffix keeps each writer's file its own.
        with SummaryWriter(str(tbx_root / "b"), flush_secs=1, filename_suffix=".1") as w:
            w.add_scalar("lr", 123.5, 1000, walltime=T0 + 999)
        await wait_for(pilot, lambda: charts(app)["lr"].renders > before["lr"])
        await pilot.pause(0.3)
        after = {tag: c.renders for tag, c in charts(app).items()}
        assert after["lr"] > before["lr"]
        for tag in ("loss/train", "loss/val", "acc/top1"):
            assert after[tag] == before[tag], tag
        # The new value is what the full-screen cursor shows on the last step.
        charts(app)["lr"].focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        row = next(r for r in screen.cursor_rows() if r.run == "b")
        assert (row.step, row.value) == (1000, 123.5)
        # A cursor on the last point follows new points.
        with SummaryWriter(str(tbx_root / "b"), flush_secs=1, filename_suffix=".2") as w:
            w.add_scalar("lr", 77.25, 1010, walltime=T0 + 1000)
        b = app.logdir.run("b")
        await wait_for(
            pilot,
            lambda: any(r.step == 1010 for r in screen.cursor_rows() if r.run == "b"),
            why=lambda: (
                screen.cursor_rows(),
                b.scalars("lr").step[-3:],
                os.listdir(tbx_root / "b"),
            ),  # type: ignore[union-attr]
        )
        assert next(r for r in screen.cursor_rows() if r.run == "b").value == 77.25


async def test_pause_holds_redraws_and_new_runs_appear(tbx_root: Path) -> None:
    app = live_app(tbx_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.applied and app.logdir.stats.runs == 3)
        await pilot.press("p")
        assert "paused" in str(app.query_one("#status").render())
        with SummaryWriter(str(tbx_root / "c-new"), flush_secs=1) as w:
            w.add_scalar("lr", 1.0, 0, walltime=T0)
            w.add_scalar("extra/metric", 2.0, 0, walltime=T0)
        await wait_for(pilot, lambda: app.logdir.run("c-new") is not None)
        await pilot.pause(0.5)
        tree = app.query_one(RunTree)
        assert "c-new" not in tree._run_nodes
        assert "extra/metric" not in charts(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: "c-new" in tree._run_nodes and "extra/metric" in charts(app))
        assert sorted(n for n in tree._run_nodes if tree._run_nodes[n].data == n) == sorted(
            (*TBX_RUNS, "c-new")
        )


async def test_a_change_delivered_while_the_app_shuts_down_is_dropped(tbx_root: Path) -> None:
    """The watcher thread may post a last StoreChanged / LoadProgress after the app began to
    exit and its widgets are gone: it is dropped, not a NoMatches crash (seen once in CI)."""
    app = live_app(tbx_root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        name = next(iter(app.board.runs())).name
    assert not app.is_running
    changes = Changes(runs=frozenset({name}), points=1, version=app.board.logdir.store.version)
    app._store_changed(StoreChanged(changes))
    app._load_progress(LoadProgress(1, 2))
    app._tick()


def test_a_run_read_afresh_is_not_served_from_the_series_cache(tmp_path: Path) -> None:
    """A file rewritten smaller makes the run read afresh into new data; its series' versions
    go on above the old ones, so the Board's cache (keyed by version) does not hand back the
    old points (it did: the new series started again at version 1)."""
    run = tmp_path / "r"
    run.mkdir()
    lines = [json.dumps({"step": i, "loss": 1.0 + i}) + "\n" for i in range(5)]
    (run / "metrics.jsonl").write_text("".join(lines))
    logdir = tuiboard.open(str(tmp_path))
    board = Board(logdir)
    first = board.cache.get("r", "loss", board.options)
    assert first is not None and first.value.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    version = logdir.run("r").series_version(SCALARS, "loss")  # type: ignore[union-attr]
    (run / "metrics.jsonl").write_text(json.dumps({"step": 0, "loss": 9.0}) + "\n")
    logdir.refresh()
    assert logdir.run("r").series_version(SCALARS, "loss") > version  # type: ignore[union-attr]
    again = board.cache.get("r", "loss", board.options)
    assert again is not None and again.value.tolist() == [9.0]


async def test_a_served_app_exits_when_its_server_is_gone(tbx_root: Path) -> None:
    """Under `tuiboard serve` the app checks every second that the process that started it is
    still there (run_app(served=True)); once it is gone the app exits, status 0."""
    app = live_app(tbx_root)
    gone = [False]
    app.orphaned = lambda: gone[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.5)
        assert app.is_running  # checked, still served
        gone[0] = True
        deadline = time.monotonic() + 5
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert not app.is_running
    assert app.return_code == 0
