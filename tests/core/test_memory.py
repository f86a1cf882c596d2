"""Memory-saving representations read back exactly what TensorBoard's reader reads: histogram
edges as views of one array, counts held as float32 only when exact, columns reserved ahead and
mapped, reads in small chunks, templates remembered across reads, and the small-file paths."""

from __future__ import annotations

import gc
import mmap
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util
from tensorboardX import SummaryWriter

import tuiboard
from tests.core import writers
from tuiboard.core import loader, store, tfevents_fast
from tuiboard.core import types as t
from tuiboard.core.types import ScalarColumns

T0 = 1.7e9


def _histograms(parsed: t.Parsed, tag: str) -> list[t.HistogramValue]:
    out = [r for k, g, _, r in parsed.values if k == t.HISTOGRAMS and g == tag]
    assert all(isinstance(r, t.HistogramValue) for r in out)
    return out  # type: ignore[return-value]


def test_histogram_edges_share_one_array_and_counts_read_back_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    with SummaryWriter(str(tmp_path)) as w:
        for step in range(6):
            w.add_histogram("w", rng.normal(step, 1.0, 500), step, walltime=T0 + step)
        # counts that are not integers, and integers too big for float32 sums
        for step, scale in ((0, 0.25), (1, 3e7)):
            counts = np.array([0.0, 1.0, 2.0, 5.0]) * scale + (0.5 if scale < 1 else 0.0)
            w.add_histogram_raw(
                "raw",
                min=-1.0,
                max=3.0,
                num=float(counts.sum()),
                sum=1.0,
                sum_squares=2.0,
                bucket_limits=[0.0, 1.0, 2.0, 3.0],
                bucket_counts=counts.tolist(),
                global_step=step,
                walltime=T0,
            )
    path = writers.only_file(tmp_path)
    acc = writers.accumulator(path)
    parsed = writers.read_whole(path).parsed
    for tag in ("w", "raw"):
        got = _histograms(parsed, tag)
        expected = acc.Histograms(tag)
        assert len(got) == len(expected) > 0
        for h, e in zip(got, expected, strict=True):
            hv = e.histogram_value
            assert h.right.tolist() == list(hv.bucket_limit)
            assert h.left.tolist() == [hv.min, *list(hv.bucket_limit)[:-1]]
            assert h.counts.tolist() == list(hv.bucket)
            assert np.asarray(h.counts, np.float64).tolist() == list(hv.bucket)
            assert np.shares_memory(h.left, h.right)
            assert h.left.dtype == h.right.dtype == np.float64
    small = _histograms(parsed, "w")
    assert all(h.counts.dtype == np.float32 for h in small)
    # one read: every array of every histogram lives in one block
    blocks = {id(a.base) for h in small for a in (h.left, h.right, h.counts)}
    assert len(blocks) == 1
    # every partial sum of float32 counts is exact: the sums agree with float64 ones
    assert all(float(h.counts.sum()) == float(np.sum(h.counts, dtype=np.float64)) for h in small)
    fractional, huge = _histograms(parsed, "raw")
    assert fractional.counts.dtype == np.float64  # 0.5 + k/4 is exact in float32, but not integral
    assert huge.counts.dtype == np.float64  # integral, but the total exceeds 2**24


def _tensor_histogram(tag: str, arr: np.ndarray, step: int) -> event_pb2.Event:
    v = summary_pb2.Summary.Value(tag=tag)
    v.tensor.CopyFrom(tensor_util.make_tensor_proto(arr.astype(np.float64)))
    v.metadata.plugin_data.plugin_name = "histograms"
    ev = event_pb2.Event(step=step, wall_time=T0 + step)
    ev.summary.value.append(v)
    return ev


def test_tensor_histograms_views_only_where_buckets_touch(tmp_path: Path) -> None:
    touching = np.array([[0.0, 1.0, 3.0], [1.0, 2.5, 4.0], [2.5, 4.0, 0.0]])
    gaps = np.array([[0.0, 1.0, 3.0], [1.5, 2.0, 0.5], [-0.0, 4.0, 1.0]])
    w = EventFileWriter(str(tmp_path))
    w.add_event(_tensor_histogram("h", touching, 0))
    w.add_event(_tensor_histogram("h", gaps, 1))
    w.close()
    path = writers.only_file(tmp_path)
    expected = [
        tensor_util.make_ndarray(e.tensor_proto) for e in writers.accumulator(path).Tensors("h")
    ]
    got = _histograms(writers.read_whole(path).parsed, "h")
    assert len(got) == len(expected) == 2
    for h, arr in zip(got, expected, strict=True):
        assert np.stack([h.left, h.right, h.counts], 1).tolist() == arr.tolist()
        # bit for bit: a -0.0 left edge stays -0.0
        assert np.signbit(h.left).tolist() == np.signbit(arr[:, 0]).tolist()
    assert np.shares_memory(got[0].left, got[0].right)
    assert not np.shares_memory(got[1].left, got[1].right)
    assert got[0].counts.dtype == np.float32 and got[1].counts.dtype == np.float64


def _write_scalars(logdir: Path, tags: list[str], steps: range) -> None:
    with SummaryWriter(str(logdir)) as w:
        for step in steps:
            for i, tag in enumerate(tags):
                w.add_scalar(tag, np.sin(step * 0.01 + i), step, walltime=T0 + step * 0.5)


def test_small_chunks_reserve_ahead_and_match_tensorboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = ["a/loss", "a/acc", "lr"]
    _write_scalars(tmp_path, tags, range(3000))
    acc = writers.accumulator(writers.only_file(tmp_path))
    monkeypatch.setattr(loader, "CHUNK", 4096)  # about 40 reads
    ld = tuiboard.open(str(tmp_path))
    (run,) = ld.runs
    for tag in tags:
        s = run.scalars(tag)
        expected = acc.Scalars(tag)
        assert s.step.tolist() == [e.step for e in expected]
        assert s.wall_time.tolist() == [e.wall_time for e in expected]
        assert s.value.astype(np.float64).tolist() == [e.value for e in expected]
        assert s.value.dtype == np.float32
    # reserved from the first chunk: room for what follows without a chain of copies
    data = ld.store.runs["."]
    assert data.scalars is not None
    for series in data.scalars.values():
        cap = series._state.step.shape[0]
        want = int(3000 * loader.RESERVE_HEADROOM * 1.1)
        assert 3000 <= cap <= -(-want // store.PAGE_CELLS) * store.PAGE_CELLS


def test_live_append_after_a_chunked_load_copies_nothing_and_keeps_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "CHUNK", 8192)
    _write_scalars(tmp_path, ["x", "y"], range(2000))
    ld = tuiboard.open(str(tmp_path))
    (run,) = ld.runs
    before = run.scalars("x")
    data = ld.store.runs["."]
    assert data.scalars is not None
    buffer_before = data.scalars["x"]._state.step
    path = writers.only_file(tmp_path)
    with path.open("ab") as fh:
        for step in range(2000, 2050):
            fh.write(writers.frame(writers.scalar_event("x", step, 0.5, T0 + step)))
    changes = ld.refresh()
    assert changes.points == 50
    after = run.scalars("x")
    assert len(after) == 2050 and after.step[-1] == 2049
    assert data.scalars["x"]._state.step is buffer_before  # filled in place: no copy
    assert len(before) == 2000 and before.step[-1] == 1999  # an older snapshot is unchanged


def test_large_columns_are_private_mappings_and_fall_back_to_the_heap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 10_000  # 200 KB of columns: above MAPPED_COLUMN
    cols = ScalarColumns(
        np.arange(n, dtype=np.int64),
        np.linspace(T0, T0 + 1, n),
        np.linspace(0, 1, n).astype(np.float32),
        np.arange(n, dtype=np.int64),
    )
    mapped = store.ScalarSeries()
    mapped.append(cols)
    block = mapped._state.step.base
    assert block is not None and isinstance(block.base, memoryview)
    assert isinstance(block.base.obj, mmap.mmap)

    def no_maps(*args: object, **kwargs: object) -> mmap.mmap:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(store.mmap, "mmap", no_maps)
    heap = store.ScalarSeries()
    heap.append(cols)
    for series in (mapped, heap):
        s = series.snapshot()
        assert s.step.tolist() == cols.step.tolist()
        assert s.wall_time.tolist() == cols.wall_time.tolist()
        assert s.value.tolist() == cols.value.tolist() and s.value.dtype == np.float32
    # a float64 append widens the value column exactly
    heap.append(ScalarColumns(np.array([n]), np.array([T0]), np.array([0.1]), np.array([0])))
    widened = heap.snapshot()
    assert widened.value.dtype == np.float64
    assert widened.value[:n].tolist() == cols.value.astype(np.float64).tolist()
    assert widened.value[-1] == 0.1


def test_live_mappings_are_counted_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 10_000
    cols = ScalarColumns(
        np.arange(n, dtype=np.int64),
        np.zeros(n),
        np.zeros(n, dtype=np.float32),
        np.arange(n, dtype=np.int64),
    )
    gc.collect()
    before = store._mapped_live
    series = store.ScalarSeries()
    series.append(cols)
    assert store._mapped_live == before + 1
    del series
    gc.collect()
    assert store._mapped_live == before  # the mapping is gone with its last view
    monkeypatch.setattr(store, "MAX_MAPPED", before)
    capped = store.ScalarSeries()
    capped.append(cols)
    block = capped._state.step.base
    assert block is not None and not isinstance(block.base, memoryview)  # from the heap
    assert store._mapped_live == before
    assert capped.snapshot().step.tolist() == cols.step.tolist()


def test_small_first_batch_is_kept_without_copy_and_never_written() -> None:
    step = np.arange(5, dtype=np.int64)
    cols = ScalarColumns(step, step * 0.5 + T0, step.astype(np.float32), step.copy())
    series = store.ScalarSeries()
    series.append(cols)
    assert series._state.step is cols.step
    first = series.snapshot()
    more = np.arange(5, 9, dtype=np.int64)
    series.append(ScalarColumns(more, more * 0.5 + T0, more.astype(np.float32), more.copy()))
    assert cols.step.tolist() == [0, 1, 2, 3, 4]  # the adopted array was not written to
    assert first.step.tolist() == [0, 1, 2, 3, 4]
    assert series.snapshot().step.tolist() == list(range(9))
    assert series.snapshot().wall_time.tolist() == [i * 0.5 + T0 for i in range(9)]
    # a slice of a bigger array is copied: the store keeps no more memory than it shows
    big = np.arange(1000, dtype=np.int64)
    part = ScalarColumns(big[:3], np.zeros(3), np.zeros(3, np.float32), big[:3].copy())
    sliced = store.ScalarSeries()
    sliced.append(part)
    assert sliced._state.step is not part.step and sliced.snapshot().step.tolist() == [0, 1, 2]
    # restart rule still applies to an adopted batch
    back = np.array([0, 1, 2, 1], dtype=np.int64)
    restarted = store.ScalarSeries()
    restarted.append(ScalarColumns(back, np.zeros(4), np.zeros(4, np.float32), back.copy()))
    assert restarted.snapshot().step.tolist() == [0, 1]
    assert restarted.snapshot(raw=True).step.tolist() == [0, 1, 2, 1]


def test_malloc_trim_is_a_no_op_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader.sys, "platform", "darwin")
    assert loader._glibc_malloc() is None
    monkeypatch.setattr(loader.sys, "platform", "win32")
    assert loader._glibc_malloc() is None


def test_cached_layouts_equal_fresh_ones(tmp_path: Path) -> None:
    tfevents_fast._LAYOUT_CACHE.clear()
    payloads = []
    for tag in ("loss", "lose", "lossy", "acc"):  # "loss" and "lose": one length
        for step, value in ((1, 0.5), (2, -1e30), (200, float("nan")), (300, 2.0)):
            payloads.append(writers.scalar_event(tag, step, value, T0 + step))
    for p in payloads * 2:  # the second round comes from the cache
        cached = tfevents_fast.cached_layout(p)
        fresh = tfevents_fast.scalar_layout(p)
        assert cached is not None and fresh is not None
        assert (cached.wall_pos, cached.step_pos, cached.step_len) == (
            fresh.wall_pos,
            fresh.step_pos,
            fresh.step_len,
        )
        assert [(v.tag, v.pos, v.code) for v in cached.values] == [
            (v.tag, v.pos, v.code) for v in fresh.values
        ]
    assert tfevents_fast.cached_layout(b"\x09" + bytes(8)) is None  # no summary: not a scalar


def test_tiny_files_read_by_template_match_tensorboard(tmp_path: Path) -> None:
    """Files with fewer records of a length than a group holds: every scalar record then goes
    through the one-record template path (a rank-0 tensor of another plugin's tag is no
    scalar)."""
    w = EventFileWriter(str(tmp_path))
    for step in (0, 1, 2**40):
        ev = event_pb2.Event(step=step, wall_time=T0 + step)
        ev.summary.value.add(tag="simple", simple_value=step / 3.0)
        w.add_event(ev)
        v = summary_pb2.Summary.Value(tag="tensor")
        v.tensor.CopyFrom(tensor_util.make_tensor_proto(np.float64(step / 7.0)))
        if step == 0:
            v.metadata.plugin_data.plugin_name = "scalars"
        ev = event_pb2.Event(step=step, wall_time=T0 + step)
        ev.summary.value.append(v)
        w.add_event(ev)
        v = summary_pb2.Summary.Value(tag="other")
        v.tensor.CopyFrom(tensor_util.make_tensor_proto(np.float32(1.5)))
        if step == 0:
            v.metadata.plugin_data.plugin_name = "my_plugin"
        ev = event_pb2.Event(step=step, wall_time=T0 + step)
        ev.summary.value.append(v)
        w.add_event(ev)
    w.close()
    path = writers.only_file(tmp_path)
    acc = writers.accumulator(path)
    parsed = writers.read_whole(path).parsed
    assert sorted(parsed.scalars) == ["simple", "tensor"]
    simple = parsed.scalars["simple"]
    expected = acc.Scalars("simple")
    assert simple.step.tolist() == [e.step for e in expected] == [0, 1, 2**40]
    assert simple.wall_time.tolist() == [e.wall_time for e in expected]
    assert simple.value.astype(np.float64).tolist() == [e.value for e in expected]
    tensor = parsed.scalars["tensor"]
    want = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors("tensor")]
    assert tensor.value.tolist() == want and tensor.value.dtype == np.float64
    other = [(k, r) for k, g, _, r in parsed.values if g == "other"]
    assert [k for k, _ in other] == ["my_plugin"] * 3
    assert [r.step for _, r in other] == [e.step for e in acc.Tensors("other")]


def test_many_small_runs_and_a_quiet_refresh(tmp_path: Path) -> None:
    for r in range(12):
        _write_scalars(tmp_path / f"run_{r:02d}", ["loss", "acc"], range(20 + r))
    ld = tuiboard.open(str(tmp_path))
    assert len(ld.runs) == 12
    for r, run in enumerate(ld.runs):
        acc = writers.accumulator(writers.only_file(tmp_path / run.name))
        for tag in ("loss", "acc"):
            assert run.scalars(tag).step.tolist() == [e.step for e in acc.Scalars(tag)]
            assert run.scalars(tag).value.astype(np.float64).tolist() == [
                e.value for e in acc.Scalars(tag)
            ]
        assert run.point_count == 2 * (20 + r)
    assert not ld.refresh()
