"""The batched read of many small event files (tfevents.read_events_many, loader.preread_small):
each file gives exactly what read_events gives it alone, on files written by tensorboardX,
PyTorch, TensorBoard's own writer and ours, damaged ones included; a Logdir of many small runs
holds the same store and warnings either way, and TensorBoard's EventAccumulator agrees."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tensorboardX import SummaryWriter

import tuiboard
from tests.core.writers import (
    accumulator,
    event_files,
    frame,
    scalar_event,
    write_tbx_all,
    write_tf2,
)
from tuiboard.core import logdir as logdir_mod
from tuiboard.core import tfevents
from tuiboard.core import tfrecord as tfr
from tuiboard.core.tfevents import EventsRead, read_events, read_events_many
from tuiboard.writer import EventWriter

T0 = 1_700_000_000.0


def assert_same(many: EventsRead, alone: EventsRead) -> None:
    assert (many.consumed, many.need, many.fatal) == (alone.consumed, alone.need, alone.fatal)
    a, b = many.parsed, alone.parsed
    assert a.records == b.records
    assert a.warnings == b.warnings
    assert a.metadata == b.metadata
    assert a.sessions == b.sessions
    assert a.file_version == b.file_version
    assert a.scalars.keys() == b.scalars.keys()
    for tag, cols in a.scalars.items():
        other = b.scalars[tag]
        for name in ("step", "wall_time", "value", "seq"):
            x, y = getattr(cols, name), getattr(other, name)
            assert x.dtype == y.dtype, (tag, name)
            assert np.array_equal(x, y, equal_nan=True), (tag, name)
    assert [(k, t, s) for k, t, s, _ in a.values] == [(k, t, s) for k, t, s, _ in b.values]
    for (_, _, _, x), (_, _, _, y) in zip(a.values, b.values, strict=True):
        assert type(x) is type(y)
        assert repr(x) == repr(y)  # records hold arrays: compare their full text


def write_sweep(root: Path, runs: int) -> list[Path]:
    """A sweep through tensorboardX: the same tags at the same steps (equal file sizes, the
    framing shortcut), a few runs longer, one with a histogram."""
    rng = np.random.default_rng(1)
    for i in range(runs):
        w = SummaryWriter(str(root / f"trial_{i:02d}"), filename_suffix=f".{i}")
        steps = 40 if i % 5 else 200  # step varints of 1 and 2 bytes
        for s in range(steps):
            w.add_scalar("train/loss", float(rng.random()), s, walltime=T0 + s)
            w.add_scalar("val/acc", float(rng.random()), s, walltime=T0 + s)
        if i == 3:
            w.add_histogram("weights", rng.standard_normal(100), 0, walltime=T0)
        w.close()
    return sorted(p for d in sorted(root.iterdir()) for p in event_files(d))


def read_all(paths: list[Path]) -> tuple[list[EventsRead | None], list[EventsRead]]:
    items = [(p.read_bytes(), str(p), {}) for p in paths]
    alone = [read_events(data, 0, name, {}) for data, name, _ in items]
    return read_events_many(items), alone


def test_a_tensorboardx_sweep_reads_as_each_file_alone(tmp_path: Path) -> None:
    paths = write_sweep(tmp_path, 12)
    many, alone = read_all(paths)
    assert all(m is not None for m in many)
    for m, a in zip(many, alone, strict=True):
        assert m is not None
        assert_same(m, a)
    # and as TensorBoard reads it
    acc = accumulator(paths[0].parent)
    first = many[0]
    assert first is not None
    got = first.parsed.scalars["train/loss"]
    want = acc.Scalars("train/loss")
    assert got.step.tolist() == [e.step for e in want]
    assert got.value.tolist() == [e.value for e in want]


def test_every_kind_and_tf2_tensors(tmp_path: Path) -> None:
    write_tbx_all(tmp_path / "tbx")
    write_tf2(tmp_path / "tf2")
    write_sweep(tmp_path / "sweep", 3)
    ours = EventWriter(str(tmp_path / "ours"), start_time=T0)
    for s in range(30):
        ours.add_scalar("loss", 1.0 / (s + 1), s, wall_time=T0 + s)
        ours.add_text("note", f"step {s}", s, wall_time=T0 + s)
    ours.close()
    paths = [
        p
        for d in (tmp_path / "tbx", tmp_path / "tf2", tmp_path / "ours")
        for p in event_files(d)
        if p.stat().st_size <= tfevents.SMALL_FILE
    ]
    paths += sorted((tmp_path / "sweep").glob("*/*tfevents*"))
    assert len(paths) >= 6
    many, alone = read_all(paths)
    for m, a in zip(many, alone, strict=True):
        assert m is not None
        assert_same(m, a)


def test_pytorch_files(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = textwrap.dedent(
        """
        import sys
        import torch
        from torch.utils.tensorboard import SummaryWriter
        torch.manual_seed(0)
        for run in range(4):
            w = SummaryWriter(f"{sys.argv[1]}/run{run}")
            for s in range(60):
                w.add_scalar("loss", torch.rand(1).item(), s)
                w.add_scalars("cmp", {"a": s * 0.5, "b": -s}, s)
            w.add_histogram("w", torch.randn(200), 0)
            w.add_text("t", "hello", 0)
            w.close()
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=300)
    paths = sorted(tmp_path.rglob("*tfevents*"))
    assert len(paths) == 12  # add_scalars writes a sub-run per key
    many, alone = read_all(paths)
    for m, a in zip(many, alone, strict=True):
        assert m is not None
        assert_same(m, a)


def test_damaged_files(tmp_path: Path) -> None:
    paths = write_sweep(tmp_path, 6)
    datas = [p.read_bytes() for p in paths]
    cut = datas[0][:-7]  # cut short: not clean, read alone
    flipped = bytearray(datas[1])
    flipped[200] ^= 0xFF  # a data byte: one record's data CRC fails
    last = bytearray(datas[2])
    last[-6] ^= 0xFF  # the last record's data: retried later at EOF
    length = bytearray(datas[3])
    framed = tfr.frame_small(datas[3], {})
    assert framed is not None
    length[int(framed[0][10])] ^= 0x01  # a length field: its length CRC fails, framing lost
    tiny = datas[4][:5]
    items = [
        (bytes(d), f"f{i}", {})
        for i, d in enumerate((cut, flipped, last, length, tiny, datas[5], datas[5]))
    ]
    many = read_events_many(items)
    assert many[0] is None and many[3] is None and many[4] is None
    for i in (1, 2, 5, 6):
        m = many[i]
        assert m is not None
        assert_same(m, read_events(items[i][0], 0, items[i][1], {}))
    m1, m2 = many[1], many[2]
    assert m1 is not None and m2 is not None
    assert len(m1.parsed.warnings) == 1
    assert m1.parsed.warnings[0].message.startswith("data CRC mismatch")
    assert m2.consumed < len(items[2][0])  # the last record waits


def test_a_logdir_of_small_runs_is_the_same_with_and_without_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sweep(tmp_path / "sweep", 12)
    write_tbx_all(tmp_path / "all")
    w = SummaryWriter(str(tmp_path / "sweep" / "trial_01"), filename_suffix=".z")
    w.add_scalar("train/loss", 9.0, 500, walltime=T0 + 500)  # a second file in one run
    w.close()
    bad = tmp_path / "broken" / "events.out.tfevents.1.host"
    bad.parent.mkdir()
    data = bytearray((tmp_path / "sweep" / "trial_02").glob("*tfevents*").__next__().read_bytes())
    data[300] ^= 0x55
    bad.write_bytes(bytes(data))
    calls: list[int] = []
    real = logdir_mod.preread_small

    def counted(loaders):  # type: ignore[no-untyped-def]
        n = real(loaders)
        calls.append(n)
        return n

    monkeypatch.setattr(logdir_mod, "preread_small", counted)
    batched = tuiboard.open(str(tmp_path))
    assert calls and calls[0] >= 13  # every run's first small file went through the batch
    monkeypatch.setattr(logdir_mod, "PREREAD_MIN_RUNS", 10**9)
    serial = tuiboard.open(str(tmp_path))
    assert [r.name for r in batched.runs] == [r.name for r in serial.runs]
    for a, b in zip(batched.runs, serial.runs, strict=True):
        assert a.kinds() == b.kinds()
        assert a.warnings == b.warnings
        assert a._data.metadata == b._data.metadata
        assert a.sessions == b.sessions
        for tag in a.tags("scalars"):
            x, y = a.scalars(tag, raw=True), b.scalars(tag, raw=True)
            assert np.array_equal(x.step, y.step) and np.array_equal(x.value, y.value)
            assert np.array_equal(x.wall_time, y.wall_time) and x.value.dtype == y.value.dtype
        for kind, tags in a.kinds().items():
            if kind != "scalars":
                for tag in tags:
                    assert repr(a.values(kind, tag)) == repr(b.values(kind, tag))
    for name, loader in batched._loaders.items():
        assert loader.tags == serial._loaders[name].tags  # a run's next files see its tags
    broken = batched.run("broken")
    assert broken is not None and len(broken.warnings) == 1
    assert batched.stats == serial.stats
    run = batched.run("sweep/trial_01")
    assert run is not None and run.scalars("train/loss").step[-1] == 500
    # later appends go on from the cursors the batch left: only the new bytes are read
    path = next((tmp_path / "sweep" / "trial_04").glob("*tfevents*"))
    record = frame(scalar_event("train/loss", 1000, 0.5, T0 + 1000))
    with open(path, "ab") as fh:
        fh.write(record)
    ch = batched.refresh()
    assert ch.runs == {"sweep/trial_04"} and ch.bytes_read == len(record) and ch.points == 1
    run = batched.run("sweep/trial_04")
    assert run is not None and run.scalars("train/loss").step[-3:].tolist() == [38, 39, 1000]
