"""Discovery's directory-listing cache and the loaders' no-change check (issue 11, 10,000 runs):
a refresh that lists again only directories whose mtime moved must still see every change a
full walk sees. Directories are aged with os.utime (a directory modified within RACY_NS of a
walk is never kept, so fresh test directories would never exercise the cache)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
from tensorboardX import SummaryWriter

import tuiboard
from tuiboard.core import discovery
from tuiboard.writer import EventWriter, JsonlWriter

T0 = 1_700_000_000.0
OLD = time.time() - 3600


def age(root: Path) -> None:
    """Every directory under root (root included) modified an hour ago."""
    for d, _, _ in os.walk(root):
        os.utime(d, (OLD, OLD))


def write_events(path: Path, steps: range, tag: str = "loss", suffix: str = "") -> None:
    w = SummaryWriter(str(path), filename_suffix=suffix)
    for s in steps:
        w.add_scalar(tag, np.float32(s * 0.5), s, walltime=T0 + s)
    w.close()


def write_jsonl(path: Path, steps: range) -> None:
    with JsonlWriter(str(path)) as j:
        for s in steps:
            j.log(s, {"acc": s / 100}, wall_time=T0 + s)


def make_tree(root: Path) -> None:
    write_events(root / "sweep" / "a", range(10))
    write_jsonl(root / "sweep" / "b", range(5))
    write_events(root / "c", range(3))
    (root / "sweep" / "a" / "checkpoints").mkdir()
    age(root)


def points(ld: tuiboard.Logdir, run: str, tag: str) -> list[float]:
    r = ld.run(run)
    assert r is not None
    return r.scalars(tag, raw=True).value.tolist()


def test_cached_walk_equals_a_full_walk(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "sweep" / "link").symlink_to(tmp_path / "c")  # never kept: it holds a link
    os.utime(tmp_path / "sweep", (OLD, OLD))
    cache: discovery.DirCache = {}
    first, _ = discovery.discover(str(tmp_path), {}, cache)
    assert str(tmp_path / "sweep" / "a") in cache and str(tmp_path) in cache
    assert str(tmp_path / "sweep") not in cache
    second, _ = discovery.discover(str(tmp_path), {}, cache)
    plain, _ = discovery.discover(str(tmp_path), {})
    assert list(second) == list(plain) == list(first) == ["c", "sweep/a", "sweep/b", "sweep/link"]
    for name, rf in plain.items():
        assert second[name] == rf
    assert second["sweep/a"] is first["sweep/a"]  # taken from the cache, not listed again


def test_recent_directories_are_listed_again(tmp_path: Path) -> None:
    write_events(tmp_path / "a", range(3))
    cache: discovery.DirCache = {}
    discovery.discover(str(tmp_path), {}, cache)
    assert cache == {}  # modified just now: a file may yet appear within the same mtime tick


def test_a_new_run_in_an_old_directory(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    write_events(tmp_path / "sweep" / "d", range(4))
    ch = ld.refresh()
    assert ch.new_runs == {"sweep/d"}
    assert points(ld, "sweep/d", "loss") == [0.0, 0.5, 1.0, 1.5]


def test_a_new_run_deep_below_an_unchanged_directory(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    # a new directory inside a run's subdirectory: only that subdirectory's mtime moves
    write_jsonl(tmp_path / "sweep" / "a" / "checkpoints" / "eval", range(2))
    ch = ld.refresh()
    assert ch.new_runs == {"sweep/a/checkpoints/eval"}


def test_a_new_file_in_an_old_run(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    age(tmp_path)
    write_events(tmp_path / "c", range(3, 6), suffix=".2")  # a restart: a second event file
    ch = ld.refresh()
    assert ch.runs == {"c"}
    assert points(ld, "c", "loss") == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_a_file_appended_in_place(tmp_path: Path) -> None:
    run = tmp_path / "run"
    w = EventWriter(str(run), start_time=T0)
    for s in range(5):
        w.add_scalar("loss", float(s), s, wall_time=T0 + s)
    w.flush()
    age(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    assert ld.refresh().runs == frozenset()
    mtime = os.stat(run).st_mtime_ns
    for s in range(5, 8):
        w.add_scalar("loss", float(s), s, wall_time=T0 + s)
    w.flush()
    assert os.stat(run).st_mtime_ns == mtime  # the listing did not change
    ch = ld.refresh()
    assert ch.runs == {"run"} and ch.points == 3
    assert points(ld, "run", "loss") == [float(s) for s in range(8)]
    assert not ld.refresh()
    w.close()


def test_a_jsonl_line_completed_later_makes_a_run(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    path = run / "metrics.jsonl"
    path.write_bytes(b'{"step": 0, "lo')  # no complete line: not settled, sniffed again
    age(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    assert ld.runs == []
    with open(path, "ab") as fh:
        fh.write(b'ss": 1.5}\n')
    os.utime(run, (OLD, OLD))  # an append never moves the directory's mtime
    ld.refresh()
    assert points(ld, "r", "loss") == [1.5]


def test_a_removed_run(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    shutil.rmtree(tmp_path / "sweep" / "b")
    ch = ld.refresh()
    assert ch.removed_runs == {"sweep/b"}
    assert [r.name for r in ld.runs] == ["c", "sweep/a"]


def test_a_config_rewritten_in_place(tmp_path: Path) -> None:
    make_tree(tmp_path)
    cfg = tmp_path / "c" / "config.json"
    cfg.write_text('{"lr": 0.1}')
    age(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    run = ld.run("c")
    assert run is not None and run.config == {"lr": 0.1}
    cfg.write_text('{"lr": 0.2}')
    os.utime(cfg, (OLD + 60, OLD + 60))
    assert ld.refresh().runs == {"c"}
    assert run.config == {"lr": 0.2}


def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ld = tuiboard.open(str(tmp_path))
    ld.refresh()
    (f,) = (tmp_path / "c").glob("*tfevents*")
    f.unlink()
    write_events(tmp_path / "c", range(2), tag="acc")
    new = next((tmp_path / "c").glob("*tfevents*"))
    new.rename(f)  # the same name, another inode
    os.utime(tmp_path / "c", (OLD, OLD))
    assert ld.refresh().runs == {"c"}
    run = ld.run("c")
    assert run is not None and run.tags("scalars") == ["acc"]


def test_runs_come_in_name_order_from_a_cached_walk(tmp_path: Path) -> None:
    for name in ("a", "a/x", "a-b", "b"):
        write_jsonl(tmp_path / name, range(2))
    age(tmp_path)
    cache: discovery.DirCache = {}
    known: dict[str, bool] = {}
    for _ in range(2):  # listed, then from the cache
        found, _ = discovery.discover(str(tmp_path), known, cache)
        assert list(found) == ["a", "a-b", "a/x", "b"]  # "-" sorts before "/"
    assert len(cache) == 5 and len(known) == 4
    shutil.rmtree(tmp_path / "a-b")
    found, _ = discovery.discover(str(tmp_path), known, cache)
    assert list(found) == ["a", "a/x", "b"]
    assert len(known) == 3  # the gone file's sniff verdict is dropped
