"""Logdir end to end: real writers, TensorBoard's reader as the reference, appends between
refreshes, restarts, and files that change under the reader."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.types import HISTOGRAMS, SCALARS

T0 = 1_700_000_000.0


def raw_scalar_points(run_dir: str) -> dict[str, list[tuple[int, float, float]]]:
    """Every scalar point of a run as written, files in name order, via TensorBoard's loader."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for name in sorted(os.listdir(run_dir)):
        if "tfevents" not in name:
            continue
        for ev in event_file_loader.LegacyEventFileLoader(os.path.join(run_dir, name)).Load():
            for v in ev.summary.value:
                if v.HasField("simple_value"):
                    out.setdefault(v.tag, []).append((ev.step, ev.wall_time, v.simple_value))
    return out


def rustboard_rule(points: list[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
    out: list[tuple[int, float, float]] = []
    for p in points:
        out = [q for q in out if q[0] < p[0]]
        out.append(p)
    return out


def write_run(path: Path, steps: range, tags: tuple[str, ...] = ("loss", "acc"), **kw) -> None:
    w = SummaryWriter(str(path), **kw)
    for s in steps:
        for i, tag in enumerate(tags):
            w.add_scalar(tag, np.float32(np.sin(s * 0.1 + i)), s, walltime=T0 + s)
    w.close()


def test_every_point_equals_tensorboards(tmp_path: Path) -> None:
    write_run(tmp_path / "a", range(300))
    write_run(tmp_path / "nested" / "b", range(0, 1000, 7), tags=("train/loss", "weird tag//x "))
    w = SummaryWriter(str(tmp_path / "a"), filename_suffix=".hist")
    rng = np.random.default_rng(0)
    for s in range(0, 300, 50):
        w.add_histogram("weights", rng.normal(size=500), s, walltime=T0 + s)
    w.close()

    ld = tuiboard.open(str(tmp_path))
    assert [r.name for r in ld.runs] == ["a", "nested/b"]
    for run in ld.runs:
        acc = accumulate(run.path)
        assert run.tags(SCALARS) == sorted(acc.Tags()["scalars"])
        for tag in run.tags(SCALARS):
            got = run.scalars(tag)
            want = acc.Scalars(tag)
            assert got.step.tolist() == [e.step for e in want]
            assert got.wall_time.tolist() == [e.wall_time for e in want]
            assert got.value.astype(np.float64).tolist() == [e.value for e in want]
    a = ld.run("a")
    assert a is not None
    hists = a.histograms("weights")
    want_h = accumulate(a.path).Histograms("weights")
    assert [h.step for h in hists] == [e.step for e in want_h]
    for h, e in zip(hists, want_h, strict=True):
        assert h.count == e.histogram_value.num
        assert h.min == e.histogram_value.min and h.max == e.histogram_value.max
        assert h.right.tolist() == list(e.histogram_value.bucket_limit)
        assert h.counts.tolist() == list(e.histogram_value.bucket)
    assert a.kinds()[HISTOGRAMS] == ["weights"]


def test_restart_file_gives_one_clean_line(tmp_path: Path) -> None:
    run = tmp_path / "job"
    write_run(run, range(0, 100), filename_suffix=".1")
    write_run(run, range(60, 150), filename_suffix=".2")  # restarted from a step-60 checkpoint
    ld = tuiboard.open(str(tmp_path))
    got = ld.runs[0]
    raw = raw_scalar_points(str(run))
    for tag, points in raw.items():
        clean = rustboard_rule(points)
        s = got.scalars(tag)
        assert s.step.tolist() == [p[0] for p in clean]
        assert s.value.astype(np.float64).tolist() == [p[2] for p in clean]
        r = got.scalars(tag, raw=True)
        assert r.step.tolist() == [p[0] for p in points]  # the raw view: as written


def _event(step: int, **fields: object) -> bytes:
    return event_pb2.Event(wall_time=T0 + step, step=step, **fields).SerializeToString()


def test_session_start_purges_later_steps_but_not_the_first(tmp_path: Path) -> None:
    run = tmp_path / "tf2"
    run.mkdir()
    w = EventFileWriter(str(run))

    def scalar(step: int, v: float) -> None:
        summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=v)])
        w.add_event(event_pb2.Event(wall_time=T0 + step, step=step, summary=summ))

    start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    w.add_event(event_pb2.Event(wall_time=T0, step=0, session_log=start))  # first: no purge
    for s in range(0, 50):
        scalar(s, float(s))
    w.add_event(event_pb2.Event(wall_time=T0 + 60, step=30, session_log=start))
    for s in range(40, 45):
        scalar(s, -float(s))
    w.close()
    ld = tuiboard.open(str(tmp_path))
    s = ld.runs[0].scalars("loss")
    # TensorBoard's Python loader purges at the second START: compare with it.
    acc = accumulate(str(run))
    want = acc.Scalars("loss")
    assert s.step.tolist() == [e.step for e in want]
    assert s.value.tolist() == [e.value for e in want]
    assert s.step.tolist() == [*range(30), *range(40, 45)]
    assert len(ld.runs[0].scalars("loss", raw=True)) == 55


def _only_file(run: Path) -> Path:
    (f,) = [p for p in run.iterdir() if "tfevents" in p.name]
    return f


def test_appends_are_read_incrementally_and_cut_tails_wait(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_run(src, range(200))
    data = _only_file(src).read_bytes()
    run = tmp_path / "logs" / "r"
    run.mkdir(parents=True)
    target = run / _only_file(src).name
    # Record boundaries from the framing itself.
    ends, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + n + 4
        ends.append(pos)
    half = ends[len(ends) // 2]
    target.write_bytes(data[:half])
    ld = tuiboard.open(str(tmp_path / "logs"))
    n1 = len(ld.runs[0].scalars("loss"))
    assert n1 > 0
    read_before = ld.stats.bytes_read
    # Append all but the last byte: the last record is incomplete, so it is not shown yet.
    with open(target, "ab") as fh:
        fh.write(data[half:-1])
    ch = ld.refresh()
    assert ch.runs == {"r"}
    assert ld.stats.bytes_read - read_before == len(data) - 1 - half  # only the new bytes
    full_loss = [p[0] for p in raw_scalar_points(str(src))["loss"]]
    shown = ld.runs[0].scalars("loss").step.tolist()
    assert shown == full_loss[: len(shown)] and len(shown) >= len(full_loss) - 1
    with open(target, "ab") as fh:
        fh.write(data[-1:])
    ld.refresh()
    assert ld.runs[0].scalars("loss").step.tolist() == full_loss
    assert not ld.refresh()  # nothing new: no change reported
    assert ld.runs[0].warnings == ()


def test_replaced_file_is_read_again_and_vanished_file_keeps_points(tmp_path: Path) -> None:
    write_run(tmp_path / "r", range(50))
    ld = tuiboard.open(str(tmp_path))
    old = ld.runs[0]
    assert len(old.scalars("loss")) == 50
    f = _only_file(tmp_path / "r")
    shutil.rmtree(tmp_path / "r")
    write_run(tmp_path / "r", range(10))
    os.rename(_only_file(tmp_path / "r"), f)  # same name, new inode, fewer bytes
    ld.refresh()
    assert len(ld.runs[0].scalars("loss")) == 10
    assert len(old.scalars("loss")) == 50  # a view taken before stays consistent
    os.unlink(f)
    ch = ld.refresh()
    # The run directory still exists but holds no event file: it is no longer a run.
    assert "r" in ch.removed_runs or any("vanished" in w.message for w in ld.runs[0].warnings)


def test_vanished_file_in_a_live_run_warns(tmp_path: Path) -> None:
    run = tmp_path / "r"
    write_run(run, range(20), filename_suffix=".1")
    write_run(run, range(20, 40), filename_suffix=".2")
    ld = tuiboard.open(str(tmp_path))
    assert len(ld.runs[0].scalars("loss")) == 40
    first = sorted(p for p in run.iterdir() if p.name.endswith(".1"))[0]
    first.unlink()
    ld.refresh()
    r = ld.runs[0]
    assert len(r.scalars("loss")) == 40
    assert any("vanished" in w.message and w.file == str(first) for w in r.warnings)


def test_new_runs_appear_and_named_logdirs_prefix_runs(tmp_path: Path) -> None:
    write_run(tmp_path / "x" / "r1", range(5))
    ld = tuiboard.open(f"first:{tmp_path / 'x'}", str(tmp_path / "y"))
    assert [r.name for r in ld.runs] == ["first/r1"]
    assert any("not a directory" in w.message for w in ld.warnings)
    write_run(tmp_path / "y" / "r2", range(5))
    ch = ld.refresh()
    assert ch.new_runs == {"y/r2"}
    assert [r.name for r in ld.runs] == ["first/r1", "y/r2"]


def test_refresh_with_paths_reads_only_those_runs(tmp_path: Path) -> None:
    write_run(tmp_path / "a", range(5))
    write_run(tmp_path / "b", range(5))
    ld = tuiboard.open(str(tmp_path))
    fa = _only_file(tmp_path / "a")
    w = SummaryWriter(str(tmp_path / "a"), filename_suffix=".late")
    w.add_scalar("loss", 1.0, 99, walltime=T0 + 99)
    w.close()
    late = next(p for p in (tmp_path / "a").iterdir() if p.name.endswith(".late"))
    ch = ld.refresh([str(late)])  # an unknown file: rediscovers
    assert ch.runs == {"a"}
    with open(fa, "ab"):
        pass
    assert not ld.refresh([str(fa)])


@pytest.mark.parametrize("damage", ["length_crc", "data_crc"])
def test_damaged_records_warn_and_keep_the_rest(tmp_path: Path, damage: str) -> None:
    write_run(tmp_path / "r", range(100))
    f = _only_file(tmp_path / "r")
    data = bytearray(f.read_bytes())
    pos = 0
    for _ in range(40):  # the 40th record
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + n + 4
    bad_at = pos
    (n,) = struct.unpack_from("<Q", data, pos)
    if damage == "length_crc":
        data[pos + 8] ^= 0xFF
    else:
        data[pos + 12 + n // 2] ^= 0x01
    f.write_bytes(bytes(data))
    ld = tuiboard.open(str(tmp_path))
    run = ld.runs[0]
    (w,) = run.warnings
    assert w.file == str(f) and w.offset == bad_at
    got = len(run.scalars("loss")) + len(run.scalars("acc"))
    if damage == "length_crc":
        assert got == 39  # records 1..39 are scalars (record 0 is file_version)
    else:
        assert got == 199  # only the damaged record is lost


def test_first_load_in_growing_batches_shows_the_first_run_first(tmp_path: Path) -> None:
    for i in range(11):
        write_run(tmp_path / f"r{i:02d}", range(3))
    ld = tuiboard.open(str(tmp_path), load=False)
    batches = iter(ld.refresh_iter(most=4))
    listed = next(batches)  # every run found is listed at once, before any is read
    assert listed.new_runs == {f"r{i:02d}" for i in range(11)} and not listed.runs
    assert len(ld.runs) == 11 and all(r.point_count == 0 for r in ld.runs)
    sizes = []
    for ch in batches:
        sizes.append(len(ch.runs))
        read = [r for r in ld.runs if r.point_count]
        assert len(read) == sum(sizes)  # each batch is in the store when it is yielded
    assert sizes == [1, 2, 4, 4]
    shutil.rmtree(tmp_path / "r03")
    assert [c.removed_runs for c in ld.refresh_iter()][-1] == {"r03"}
    assert "r03" not in [r.name for r in ld.runs]


def test_refresh_iter_batches_grow_with_the_run_count(tmp_path: Path, monkeypatch) -> None:
    """Many runs: batches past the ramp hold len/BATCHES runs, so a viewer's pass over every run
    per batch stays linear in the number of runs (10,000 runs: bench_scale.py)."""
    from tuiboard.core import logdir as logdir_mod

    monkeypatch.setattr(logdir_mod, "BATCHES", 4)
    for i in range(40):
        write_run(tmp_path / f"r{i:02d}", range(2))
    ld = tuiboard.open(str(tmp_path), load=False)
    batches = list(ld.refresh_iter(most=4))
    assert batches[0].new_runs == {f"r{i:02d}" for i in range(40)}
    sizes = [len(ch.runs) for ch in batches[1:]]
    assert sizes == [1, 2, 4, 8, 10, 10, 5]
    assert all(r.point_count == 4 for r in ld.runs)  # 2 tags x 2 steps, every run read


def test_file_rewritten_in_place_with_the_same_size_is_read_again(tmp_path: Path) -> None:
    write_run(tmp_path / "src1", range(1000, 1030))  # steps of one varint length: same size
    write_run(tmp_path / "src2", range(2000, 2030))
    one, two = _only_file(tmp_path / "src1"), _only_file(tmp_path / "src2")
    assert one.stat().st_size == two.stat().st_size
    (tmp_path / "logs" / "r").mkdir(parents=True)
    target = tmp_path / "logs" / "r" / one.name
    target.write_bytes(one.read_bytes())
    ld = tuiboard.open(str(tmp_path / "logs"))
    assert ld.runs[0].scalars("loss").step.tolist() == list(range(1000, 1030))
    inode = target.stat().st_ino
    with open(target, "r+b") as fh:  # same inode, same size, other bytes
        fh.write(two.read_bytes())
    os.utime(target, (target.stat().st_atime, target.stat().st_mtime + 5))
    assert target.stat().st_ino == inode
    ld.refresh()
    assert ld.runs[0].scalars("loss").step.tolist() == list(range(2000, 2030))
