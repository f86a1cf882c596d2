"""The first walk in a forked child process (core/walk_ahead.py): its listing is what the walk
here gives (runs in order, every file list, warnings for unreadable directories, sniff
verdicts, directory listings kept, the same RunFiles objects in them), a child that dies or
writes a cut-short answer leaves the walk to this process, and no fork happens beside another
thread, for a URL root, or when asked not to. Logdirs by tensorboardX and tuiboard's writers."""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

import tuiboard.core.walk_ahead as walk_ahead
from tests.core.test_discovery import refuse_listing
from tests.core.test_discovery_cache import age, write_events, write_jsonl
from tuiboard.core import discovery, forking
from tuiboard.core.logdir import Logdir
from tuiboard.core.watch import discover_ahead
from tuiboard.writer import JsonlWriter


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about what the child returns: they see their thread as the only one
    (under pytest-xdist a worker may hold other, idle threads; tests/core/test_parallel_load)
    and two cores."""
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("TUIBOARD_WORKERS", raising=False)


def make_logdir(root: Path) -> None:
    """Event, JSONL and CSV runs, nested runs, a directory that is no run, a JSONL candidate
    that is no metric log, one with no complete line yet, links (followed, a loop, a sibling
    "latest" pointer), config and run files; every directory aged (kept by the listing cache)
    but one."""
    write_events(root / "sweep" / "a", range(5))
    write_events(root / "sweep" / "a", range(5, 8), suffix=".2")  # two event files
    write_jsonl(root / "sweep" / "b", range(3))
    write_events(root / "sweep" / "b" / "eval", range(2))  # a run inside a run
    with SummaryWriter(str(root / "tbx")) as w:
        w.add_scalar("loss", 1.0, 0)
        w.add_hparams({"lr": 0.1}, {"hp/acc": 0.5})
    (root / "tbx" / "config.yaml").write_text("lr: 0.1\n")
    csv = root / "lightning" / "version_0"
    csv.mkdir(parents=True)
    (csv / "metrics.csv").write_text("epoch,step,train_loss\n0,0,1.5\n0,1,1.2\n")
    data = root / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"text": "a", "label": 1}\n')  # a data set: no run
    pending = root / "pending"
    pending.mkdir()
    (pending / "metrics.jsonl").write_bytes(b'{"step": 0, "lo')  # not settled yet
    (root / "checkpoints").mkdir()
    with JsonlWriter(str(root / "wandb" / "run-1")) as j:
        j.log(0, {"acc": 0.5})
    (root / "wandb" / "latest-run").symlink_to(root / "wandb" / "run-1")
    (root / "sweep" / "up").symlink_to(root)  # a loop
    external = root.parent / (root.name + "_external")
    write_events(external / "x", range(2))
    (root / "linked").symlink_to(external)
    age(root)
    write_events(root / "fresh", range(2))  # modified just now: not kept


def same_walk(forked: Logdir, here: Logdir, got: dict, expected: dict) -> None:  # type: ignore[type-arg]
    assert list(got) == list(expected)
    for name, rf in expected.items():
        assert got[name] == rf
    assert forked.warnings == here.warnings
    for mine, theirs in zip(forked._roots, here._roots, strict=True):
        assert mine.known_jsonl == theirs.known_jsonl
        assert list(mine.dir_cache) == list(theirs.dir_cache)
        for path, listed in theirs.dir_cache.items():
            kept = mine.dir_cache[path]
            assert (kept.mtime_ns, kept.subdirs, kept.candidates) == (
                listed.mtime_ns,
                listed.subdirs,
                listed.candidates,
            )
            assert kept.run == listed.run
            if kept.run is not None:
                assert kept.run is got[kept.run.name]  # the very object the listing gave


def forked_walk(ld: Logdir) -> dict:  # type: ignore[type-arg]
    result = walk_ahead.fork_discover(ld)
    assert result is not None, "expected a fork"
    return result()


def test_the_forked_walk_gives_what_the_walk_here_gives(tmp_path: Path, alone: None) -> None:
    make_logdir(tmp_path)
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    assert "pending" not in expected and "data" not in expected
    assert {"sweep/a", "sweep/b", "sweep/b/eval", "tbx", "lightning/version_0"} <= set(expected)
    assert any(name.startswith("linked/") for name in expected)
    forked = Logdir([str(tmp_path)])
    got = forked_walk(forked)
    same_walk(forked, here, got, expected)
    assert forked._roots[0].dir_cache  # the listings came back, to spare the next walk


def test_several_roots_and_a_missing_one(tmp_path: Path, alone: None) -> None:
    make_logdir(tmp_path / "one")
    write_jsonl(tmp_path / "two" / "r", range(2))
    specs = [f"a:{tmp_path / 'one'}", f"b:{tmp_path / 'two'}", f"c:{tmp_path / 'absent'}"]
    here = Logdir(specs)
    expected = here.discover()
    assert here.warnings  # the missing root
    forked = Logdir(specs)
    same_walk(forked, here, forked_walk(forked), expected)


def test_an_unreadable_directory_warns_as_here(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_logdir(tmp_path)
    locked = str(tmp_path / "sweep")
    refuse_listing(monkeypatch, locked)
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    [warning] = here.warnings
    assert warning.file == locked and "Permission denied" in warning.message
    forked = Logdir([str(tmp_path)])
    same_walk(forked, here, forked_walk(forked), expected)


def test_the_next_walk_uses_the_listings_sent_back(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_logdir(tmp_path)
    os.utime(tmp_path / "fresh", (0, 0))
    listed: list[str] = []
    real = discovery._scandir

    def counted(path: str) -> object:
        listed.append(path)
        return real(path)

    def next_walk(ld: Logdir, found: dict) -> list[str]:  # type: ignore[type-arg]
        for _ in ld.refresh_iter(found=found):
            pass
        monkeypatch.setattr(discovery, "_scandir", counted)
        listed.clear()
        assert not ld.refresh()  # nothing changed, nothing read again
        monkeypatch.setattr(discovery, "_scandir", real)
        return sorted(listed)

    here = Logdir([str(tmp_path)])
    again_here = next_walk(here, here.discover())
    forked = Logdir([str(tmp_path)])
    again_forked = next_walk(forked, forked_walk(forked))
    # only what the cache never keeps is listed again (directories holding links, reached
    # through one, or holding a metric log not settled yet), as after a walk here
    assert again_forked == again_here
    assert str(tmp_path / "sweep" / "a") not in again_forked
    assert len(again_forked) < 10
    write_events(tmp_path / "sweep" / "a", range(8, 9), suffix=".3")
    assert forked.refresh().runs == {"sweep/a"}


def test_a_child_that_dies_leaves_the_walk_to_this_process(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_logdir(tmp_path)
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    monkeypatch.setattr(Logdir, "discover_packed", lambda self: os._exit(3))
    forked = Logdir([str(tmp_path)])
    same_walk(forked, here, forked_walk(forked), expected)


def test_a_child_that_raises_leaves_the_walk_to_this_process(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_logdir(tmp_path)

    def fails(self: Logdir) -> bytes:
        raise RuntimeError("a bug in the walk")

    monkeypatch.setattr(Logdir, "discover_packed", fails)
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    forked = Logdir([str(tmp_path)])
    same_walk(forked, here, forked_walk(forked), expected)


@pytest.mark.parametrize("cut", [1, 7, 100])
def test_an_answer_cut_short_leaves_the_walk_to_this_process(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch, cut: int
) -> None:
    make_logdir(tmp_path)
    real = forking.write_all
    monkeypatch.setattr(forking, "write_all", lambda fd, data: real(fd, data[:-cut]))
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    forked = Logdir([str(tmp_path)])
    same_walk(forked, here, forked_walk(forked), expected)


@pytest.mark.parametrize(
    "blob",
    [
        b"\x00not marshal",
        marshal.dumps(([("a",)], [], [({}, [])])),  # a run of one field
        marshal.dumps(([], [], [({}, [("/x", 1, 5, [], ())])])),  # a listing's run not sent
        marshal.dumps(([], [], [])),  # no root
    ],
)
def test_an_answer_not_a_listing_leaves_the_walk_to_this_process(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch, blob: bytes
) -> None:
    make_logdir(tmp_path)
    monkeypatch.setattr(Logdir, "discover_packed", lambda self: blob)
    here = Logdir([str(tmp_path)])
    expected = here.discover()
    forked = Logdir([str(tmp_path)])
    same_walk(forked, here, forked_walk(forked), expected)


@contextlib.contextmanager
def beside_another_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two cores, another thread alive for the block, and os.fork failing the test if called."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)

    def no_fork() -> int:
        raise AssertionError("forked beside a live thread")

    monkeypatch.setattr(os, "fork", no_fork)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        yield
    finally:
        stop.set()
        other.join()


def test_no_fork_beside_another_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_logdir(tmp_path)
    with beside_another_thread(monkeypatch):
        ld = Logdir([str(tmp_path)])
        assert walk_ahead.fork_discover(ld) is None
        found = discover_ahead(ld)()  # walked on a thread instead
    assert list(found) == list(Logdir([str(tmp_path)]).discover())


def test_no_fork_when_not_worth_it_or_asked_not_to(
    tmp_path: Path, alone: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = Logdir([str(tmp_path)])
    assert walk_ahead.can_fork(ld)
    monkeypatch.setenv("TUIBOARD_WORKERS", "1")
    assert not walk_ahead.can_fork(ld)
    monkeypatch.delenv("TUIBOARD_WORKERS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not walk_ahead.can_fork(ld)  # one core: the walk would only wait for the UI
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(Logdir, "roots", property(lambda self: [("", "s3://bucket/logs")]))
    assert not walk_ahead.can_fork(ld)  # a URL root: its walk runs on fsspec's threads


def test_a_walk_never_asked_for_is_ended_and_reaped(tmp_path: Path, alone: None) -> None:
    make_logdir(tmp_path)
    result = walk_ahead.fork_discover(Logdir([str(tmp_path)]))
    assert result is not None
    child = result.__self__  # type: ignore[attr-defined]
    pid = child.pid
    del result, child
    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_a_result_is_taken_once(tmp_path: Path, alone: None) -> None:
    write_jsonl(tmp_path / "r", range(2))
    result = walk_ahead.fork_discover(Logdir([str(tmp_path)]))
    assert result is not None
    assert list(result()) == ["r"]
    with pytest.raises(RuntimeError):
        result()
