"""The watcher thread: first load in batches with progress, then inotify or polling, throttled.

Written with our own EventWriter, which writes synchronously on flush (tensorboardX's writer
thread lags a record behind its flush(), which would make the timing here its, not ours)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import tuiboard
from tuiboard.core.logdir import Changes
from tuiboard.core.watch import Watcher
from tuiboard.writer import EventWriter


class Sink:
    def __init__(self) -> None:
        self.changes: list[Changes] = []
        self.progress: list[tuple[int, int]] = []
        self.times: list[float] = []
        self.event = threading.Event()

    def on_change(self, ch: Changes) -> None:
        self.changes.append(ch)
        self.times.append(time.monotonic())
        self.event.set()

    def on_progress(self, done: int, total: int) -> None:
        self.progress.append((done, total))

    def wait_for(self, pred, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.02)
        return False


@pytest.mark.parametrize("poll", [None, 0.1], ids=["inotify", "poll"])
def test_watcher_sees_appends_and_new_runs(tmp_path: Path, poll: float | None) -> None:
    w = EventWriter(str(tmp_path / "a"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    ld = tuiboard.open(str(tmp_path), load=False)
    sink = Sink()
    watcher = Watcher(ld, sink.on_change, poll=poll, on_progress=sink.on_progress)
    watcher.start()
    try:
        assert sink.wait_for(lambda: any("a" in c.runs for c in sink.changes))
        assert sink.progress[0] == (0, 1) and sink.progress[-1] == (1, 1)
        w.add_scalar("loss", 2.0, 1)
        w.flush()
        run = ld.run("a")
        assert run is not None
        assert sink.wait_for(lambda: len(run.scalars("loss")) == 2, timeout=5)
        w2 = EventWriter(str(tmp_path / "b"))
        w2.add_scalar("loss", 3.0, 0)
        w2.flush()
        assert sink.wait_for(lambda: any("b" in c.new_runs for c in sink.changes), timeout=5)
        w2.close()
    finally:
        watcher.stop()
        w.close()
    gaps = [b - a for a, b in zip(sink.times, sink.times[1:], strict=False)]
    assert all(g >= watcher.min_interval * 0.9 for g in gaps)  # throttled: never floods


def test_paused_watcher_holds_changes_then_delivers_them_merged(tmp_path: Path) -> None:
    w = EventWriter(str(tmp_path / "a"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    ld = tuiboard.open(str(tmp_path), load=False)
    sink = Sink()
    watcher = Watcher(ld, sink.on_change, poll=0.05)
    watcher.start()
    try:
        # The first load: the run listed and read (one notification, or two, throttled).
        assert sink.wait_for(lambda: sum(c.points for c in sink.changes) == 1)
        time.sleep(watcher.min_interval * 2)
        before = len(sink.changes)
        watcher.pause()
        for s in range(1, 4):
            w.add_scalar("loss", float(s), s)
            w.flush()
            time.sleep(0.12)
        assert len(sink.changes) == before
        watcher.resume()
        assert sink.wait_for(lambda: len(sink.changes) == before + 1)
        assert sink.changes[-1].points == 3
    finally:
        watcher.stop()
        w.close()


def test_writes_between_the_first_load_and_the_inotify_watch_are_caught(tmp_path: Path) -> None:
    w = EventWriter(str(tmp_path / "a"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    ld = tuiboard.open(str(tmp_path), load=False)
    sink = Sink()
    watcher = Watcher(ld, sink.on_change)
    watcher.initial_load()
    w.add_scalar("loss", 2.0, 1)  # no inotify watch exists yet: no event will ever say so
    w.flush()
    loop = threading.Thread(target=watcher._watch_loop, daemon=True)
    loop.start()
    try:
        run = ld.run("a")
        assert run is not None
        assert sink.wait_for(lambda: len(run.scalars("loss")) == 2, timeout=5)
    finally:
        watcher.stop()
        loop.join(5)
        w.close()


def _runs(root: Path, n: int) -> None:
    for i in range(n):
        w = EventWriter(str(root / f"run{i}"))
        w.add_scalar("loss", float(i), 0)
        w.close()


def test_the_first_load_lists_every_run_with_the_first_one_read(tmp_path: Path) -> None:
    _runs(tmp_path, 5)
    ld = tuiboard.open(str(tmp_path), load=False)
    sink = Sink()
    watcher = Watcher(ld, sink.on_change, on_progress=sink.on_progress)
    watcher.initial_load()
    # one notification a viewer can draw from: every run listed, the first one read
    first = sink.changes[0]
    assert first.new_runs == {f"run{i}" for i in range(5)}
    assert first.runs == {"run0"} and first.points == 1
    assert sum(c.points for c in sink.changes) == 5
    gaps = [b - a for a, b in zip(sink.times, sink.times[1:], strict=False)]
    assert all(g >= watcher.min_interval * 0.9 for g in gaps)
    assert sink.progress[0] == (0, 5) and sink.progress[-1] == (5, 5)


def test_the_first_load_waits_for_the_viewer_to_draw_the_first_runs(tmp_path: Path) -> None:
    _runs(tmp_path, 5)  # read in batches of 1, 2, 2
    ld = tuiboard.open(str(tmp_path), load=False)
    sink = Sink()
    watcher = Watcher(ld, sink.on_change, first_paint_wait=30.0)
    thread = threading.Thread(target=watcher.initial_load, daemon=True)
    thread.start()
    try:
        assert sink.wait_for(lambda: len(sink.changes) == 1)
        time.sleep(0.5)  # the reading waits: nothing more is read, nothing more is said
        assert len(sink.changes) == 1 and ld.stats.points == 1
        watcher.drawn()
        thread.join(10)
        assert not thread.is_alive()
        assert sum(c.points for c in sink.changes) == 5
    finally:
        watcher.stop()
        thread.join(5)


def test_a_slow_first_run_does_not_hold_the_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runs(tmp_path, 3)
    ld = tuiboard.open(str(tmp_path), load=False)
    listed = threading.Event()
    read_on = threading.Event()
    original = ld._read

    def slow_read(found, names):  # type: ignore[no-untyped-def]
        assert listed.wait(10)  # the listing went out before the first run's read ends
        read_on.set()
        return original(found, names)

    monkeypatch.setattr(ld, "_read", slow_read)
    sink = Sink()

    def on_change(ch: Changes) -> None:
        sink.on_change(ch)
        if ch.new_runs:
            listed.set()

    watcher = Watcher(ld, on_change)
    watcher.initial_load()
    assert read_on.is_set()
    first = sink.changes[0]
    assert first.new_runs == {"run0", "run1", "run2"} and not first.runs
    assert sum(c.points for c in sink.changes) == 3
