"""The first load in worker processes (loader.read_in_workers, issue 11's "every core"): the
same store, warnings and cursors as a load in one process, on files written by real writers;
a worker that dies costs only time; never with other threads running."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from tensorboardX import SummaryWriter

import tuiboard
from tests.core.writers import frame, scalar_event, write_tbx_all
from tuiboard.core import forking
from tuiboard.core import loader as loader_mod
from tuiboard.core import logdir as logdir_mod
from tuiboard.core.store import ScalarSeries
from tuiboard.core.types import ScalarColumns
from tuiboard.writer import JsonlWriter

T0 = 1_700_000_000.0


def write_logdir(root: Path) -> None:
    rng = np.random.default_rng(2)
    for i in range(5):
        w = SummaryWriter(str(root / f"run{i}"), filename_suffix=".a")
        for s in range(400 * (i + 1)):
            w.add_scalar("loss", float(rng.random()), s, walltime=T0 + s)
            if s % 100 == 0:
                w.add_histogram("w", rng.standard_normal(50), s, walltime=T0 + s)
        w.close()
    # a restart in a second file: points at steps >= 100 from the first file are dropped
    w = SummaryWriter(str(root / "run0"), filename_suffix=".b")
    for s in range(100, 150):
        w.add_scalar("loss", -1.0, s, walltime=T0 + 1000 + s)
    w.close()
    with JsonlWriter(str(root / "jsonl")) as j:
        for s in range(300):
            j.log(s, {"acc": s / 300, "text": f"line {s}"}, wall_time=T0 + s)
    with open(root / "jsonl" / "metrics.jsonl", "ab") as fh:
        fh.write(b"not json\n")
    write_tbx_all(root / "all")
    damaged = next((root / "run1").glob("*tfevents*"))
    data = bytearray(damaged.read_bytes())
    data[len(data) // 3] ^= 0x40
    damaged.write_bytes(bytes(data))


def load(root: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> tuiboard.Logdir:
    monkeypatch.setattr(logdir_mod, "PARALLEL", parallel)
    monkeypatch.setattr(logdir_mod, "PARALLEL_MIN_BYTES", 0)
    return tuiboard.open(str(root))


def assert_same_store(a: tuiboard.Logdir, b: tuiboard.Logdir) -> None:
    assert [r.name for r in a.runs] == [r.name for r in b.runs]
    # bytes_read may differ: a chunked read counts again the record cut by a chunk's end, and
    # whether a small file is read in chunks or whole depends on how many runs are read at once
    sa, sb = a.stats, b.stats
    assert (sa.runs, sa.files, sa.points, sa.records) == (sb.runs, sb.files, sb.points, sb.records)
    for x, y in zip(a.runs, b.runs, strict=True):
        assert x.kinds() == y.kinds()
        assert x.warnings == y.warnings
        assert x.config == y.config and x.hparams == y.hparams and x.meta == y.meta
        assert x.sessions == y.sessions and x.embeddings == y.embeddings
        assert x._data.metadata == y._data.metadata
        for tag in x.tags("scalars"):
            for raw in (True, False):
                p, q = x.scalars(tag, raw=raw), y.scalars(tag, raw=raw)
                assert p.value.dtype == q.value.dtype
                for name in ("step", "wall_time", "value"):
                    assert np.array_equal(getattr(p, name), getattr(q, name), equal_nan=True)
        for kind, tags in x.kinds().items():
            if kind != "scalars":
                for tag in tags:
                    assert repr(x.values(kind, tag)) == repr(y.values(kind, tag))
        la, lb = a._loaders[x.name], b._loaders[y.name]
        assert {p: (c.offset, c.size, c.dead) for p, c in la.cursors.items()} == {
            p: (c.offset, c.size, c.dead) for p, c in lb.cursors.items()
        }


def alone_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader forks only when its thread is the only one (logdir._parallel_groups: the
    app's UI thread runs beside its first load). Under pytest-xdist a worker may have run a
    remote test first, whose fsspec event-loop thread lives on, idle, for the process's life:
    these tests are about what the workers return, so they see this thread as the only one."""
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)


def test_workers_give_the_same_store_warnings_and_cursors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_logdir(tmp_path)
    calls: list[int] = []
    real = logdir_mod.read_in_workers

    def counted(groups, *args):  # type: ignore[no-untyped-def]
        calls.append(len(groups))
        return real(groups, *args)

    monkeypatch.setattr(logdir_mod, "read_in_workers", counted)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    alone_here(monkeypatch)
    parallel = load(tmp_path, True, monkeypatch)
    assert calls == [2]
    serial = load(tmp_path, False, monkeypatch)
    assert calls == [2]
    assert_same_store(parallel, serial)
    run1 = parallel.run("run1")
    assert run1 is not None and any("CRC" in w.message for w in run1.warnings)
    run0 = parallel.run("run0")
    assert run0 is not None
    clean = run0.scalars("loss")  # the restart at step 100 replaced the first file's later points
    assert clean.step.tolist() == list(range(150)) and clean.value[100:].tolist() == [-1.0] * 50
    # the watcher goes on from the workers' cursors: only appended bytes are read
    path = next((tmp_path / "run2").glob("*tfevents*"))
    record = frame(scalar_event("loss", 5000, 0.25, T0 + 5000))
    with open(path, "ab") as fh:
        fh.write(record)
    ch = parallel.refresh()
    assert ch.runs == {"run2"} and ch.bytes_read == len(record) and ch.points == 1
    run2 = parallel.run("run2")
    assert run2 is not None and run2.scalars("loss").step[-1] == 5000
    assert not parallel.refresh()


def test_a_worker_that_dies_mid_message_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker gone after its message's sizes and pickle, halfway through the arrays sent out
    of band (loader._send): the parent's read of them ends (EOF) and it reads the runs itself."""
    write_logdir(tmp_path)
    real_send = loader_mod._send

    def send_half(send, batch):  # type: ignore[no-untyped-def]
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
        assert raws and sum(r.nbytes for r in raws) > 1000  # the columns go out of band
        send.send([r.nbytes for r in raws])
        send.send_bytes(data)
        os.write(send.fileno(), raws[0][: raws[0].nbytes // 2])
        os._exit(3)

    monkeypatch.setattr(loader_mod, "_send", send_half)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    parallel = load(tmp_path, True, monkeypatch)
    monkeypatch.setattr(loader_mod, "_send", real_send)
    serial = load(tmp_path, False, monkeypatch)
    assert_same_store(parallel, serial)


def test_sent_arrays_land_whole_and_writable(tmp_path: Path) -> None:
    """loader._send/_receive over a real pipe: every array arrives equal, in memory of its own
    that the parent may write (a scalar series goes on appending into its columns)."""
    import multiprocessing

    series = ScalarSeries()
    n = 70_000  # columns above tfevents_values.PACK_MAPPED: they land in mappings
    series.append(
        ScalarColumns(
            np.arange(n, dtype=np.int64),
            np.linspace(T0, T0 + 1, n),
            np.arange(n, dtype=np.float32) / 3,
            np.arange(n, dtype=np.int64),
        )
    )
    small = ScalarSeries()
    small.append(ScalarColumns(np.arange(3), np.zeros(3), np.ones(3, np.float32), np.arange(3)))
    recv, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    payload = {"big": series, "small": small}
    proc = multiprocessing.get_context("fork").Process(
        target=loader_mod._send,
        args=(send, payload),  # type: ignore[arg-type]
    )
    proc.start()
    send.close()
    got = loader_mod._receive(recv)
    proc.join()
    recv.close()
    assert proc.exitcode == 0
    for name, want in payload.items():
        back = got[name]  # type: ignore[call-overload]
        for a, b in zip(back.snapshot(), want.snapshot(), strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    big = got["big"]  # type: ignore[call-overload]
    big.append(
        ScalarColumns(np.array([n]), np.array([T0 + 2]), np.array([1.0], np.float32), np.array([0]))
    )
    assert big.snapshot().step[-1] == n and len(big) == n + 1


def test_a_worker_that_dies_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_logdir(tmp_path)

    def dies(group, preread_min, send):  # type: ignore[no-untyped-def]
        os._exit(3)

    monkeypatch.setattr(loader_mod, "_worker", dies)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    alone_here(monkeypatch)
    parallel = load(tmp_path, True, monkeypatch)
    serial = load(tmp_path, False, monkeypatch)
    assert_same_store(parallel, serial)


def test_no_workers_beside_other_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_logdir(tmp_path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)

    def refuse(groups, *args):  # type: ignore[no-untyped-def]
        raise AssertionError("forked beside a running thread")

    monkeypatch.setattr(logdir_mod, "read_in_workers", refuse)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        ld = load(tmp_path, True, monkeypatch)
    finally:
        stop.set()
        t.join()
    assert len(ld.runs) == 10
    monkeypatch.setenv("TUIBOARD_WORKERS", "1")
    assert len(load(tmp_path, True, monkeypatch).runs) == 10


def test_a_pickled_series_keeps_its_points_capacity_and_clean_line() -> None:
    s = ScalarSeries(restarts=True)
    s.append(
        ScalarColumns(
            np.arange(10, dtype=np.int64),
            np.arange(10, dtype=np.float64) + T0,
            np.arange(10, dtype=np.float32),
            np.arange(10, dtype=np.int64),
        )
    )
    s.reserve(5000)
    s.append(  # a restart at step 5: a clean line apart from the raw points
        ScalarColumns(
            np.array([5, 6], dtype=np.int64),
            np.array([T0 + 20, T0 + 21]),
            np.array([-1, -2], dtype=np.float32),
            np.array([10, 11], dtype=np.int64),
        )
    )
    back = pickle.loads(pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL))
    assert len(pickle.dumps(s)) < 5000 * 8  # the unused capacity is not pickled
    assert back.raw_len == 12 and len(back) == 7 and back.version == s.version
    for raw in (True, False):
        p, q = back.snapshot(raw=raw), s.snapshot(raw=raw)
        assert p.step.tolist() == q.step.tolist() and p.value.tolist() == q.value.tolist()
        assert p.value.dtype == np.float32
    assert back._state.step.shape[0] == s._state.step.shape[0] >= 5000  # capacity kept
    back.append(
        ScalarColumns(
            np.array([7], dtype=np.int64),
            np.array([T0 + 30]),
            np.array([3], dtype=np.float32),
            np.array([12], dtype=np.int64),
        )
    )
    assert back.snapshot().step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]


def test_histograms_from_a_worker_share_their_edges_and_one_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_logdir(tmp_path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    alone_here(monkeypatch)
    parallel = load(tmp_path, True, monkeypatch)
    serial = load(tmp_path, False, monkeypatch)
    for name in ("run1", "run2", "run3", "run4"):
        a, b = parallel.run(name), serial.run(name)
        assert a is not None and b is not None
        hists, want = a.histograms("w", raw=True), b.histograms("w", raw=True)
        assert len(hists) == len(want) >= 4
        for h, w in zip(hists, want, strict=True):
            assert np.array_equal(h.left, w.left) and np.array_equal(h.right, w.right)
            assert np.array_equal(h.counts, w.counts) and h.step == w.step
            # left and right are views of one edges array, as the reader makes them
            assert h.right.ctypes.data == h.left.ctypes.data + h.left.itemsize
        # packed into blocks (one a read, or one a series from a worker), never an
        # allocation per array
        blocks = {id(h.counts.base) for h in hists}
        assert len(blocks) <= len({id(h.counts.base) for h in want}) < len(hists)


def test_histogram_series_pickles_as_one_block() -> None:
    """store.ValueSeries.__reduce__ of histograms (a worker's): edges shared or not, float32
    or float64 counts, odd lengths, no buckets, a sum or none; back equal, in one block, the
    shared edges shared again, every array 8-byte aligned; the clean line follows."""
    from tuiboard.core.store import ValueSeries
    from tuiboard.core.tfevents_values import edges_views
    from tuiboard.core.types import HistogramValue

    def hist(step: int, k: int, shared: bool, f32: bool, total: float | None) -> HistogramValue:
        right = np.arange(1.0, k + 1.0) * (step + 1)
        if shared:
            left, right = edges_views(-0.0, right)
        else:
            left = right - 0.5
        counts = np.arange(k, dtype=np.float32 if f32 else np.float64)
        return HistogramValue(step, T0 + step, left, right, counts, float(k), 0.0, k, total)

    records = [
        hist(0, 3, True, True, 1.0),
        hist(1, 0, False, False, None),
        hist(2, 5, False, True, 2.5),
        hist(3, 1, True, False, None),
        hist(2, 4, True, True, 3.0),  # a restart: step 2 again drops steps 2 and 3
    ]
    series = ValueSeries()
    series.extend(records)
    back = pickle.loads(pickle.dumps(series, protocol=5))
    got, want = back.snapshot(raw=True), series.snapshot(raw=True)
    assert len(got) == len(want) == 5
    for a, b in zip(got, want, strict=True):
        assert (a.step, a.wall_time, a.count, a.min, a.max, a.sum, a.sum_squares) == (
            b.step,
            b.wall_time,
            b.count,
            b.min,
            b.max,
            b.sum,
            b.sum_squares,
        )
        for x, y in ((a.left, b.left), (a.right, b.right), (a.counts, b.counts)):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
            assert x.ctypes.data % 8 == 0 or x.shape[0] == 0
        assert np.signbit(a.left).tolist() == np.signbit(b.left).tolist()
        shared = b.left.shape[0] > 0 and np.shares_memory(b.left, b.right)
        assert (a.left.shape[0] > 0 and np.shares_memory(a.left, a.right)) == shared
    bases = {id(h.counts.base) for h in got if h.counts.shape[0]}
    assert len(bases) == 1
    assert [h.step for h in back.snapshot()] == [h.step for h in series.snapshot()] == [0, 1, 2]
