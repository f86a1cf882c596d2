"""The batched HistogramProto path (tfevents_values.histo_proto_parts + pack_histograms, what
read_events uses) against the plain one (_histo_proto, one histogram at a time, then packed),
on protos written by protobuf itself: random buckets, counts that are and are not float32-exact
(fractions, negatives, nan, huge totals), limits and buckets of different lengths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import summary_pb2

from tuiboard.core import tfevents_values as conv

counts_st = st.lists(
    st.one_of(
        st.integers(0, 50).map(float),
        st.sampled_from([0.5, -1.0, -0.0, float("nan"), float("inf"), 2.0**24, 2.0**25, 1e300]),
    ),
    max_size=12,
)


@st.composite
def protos(draw: st.DrawFn) -> bytes:
    counts = draw(counts_st)
    k = len(counts) + draw(st.integers(-2, 2))
    limits = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=max(k, 0), max_size=max(k, 0))))
    h = summary_pb2.HistogramProto(
        min=draw(st.floats(allow_nan=False)),
        max=draw(st.floats(allow_nan=False)),
        num=float(len(counts)),
        sum=draw(st.floats(-10, 10)),
        sum_squares=draw(st.floats(0, 10)),
        bucket_limit=limits,
        bucket=counts,
    )
    return h.SerializeToString()


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=150, deadline=None)
@given(st.lists(protos(), min_size=1, max_size=6))
def test_batched_histograms_equal_plain_ones(payloads: list[bytes]) -> None:
    plain = conv.pack_histograms(
        [conv._histo_proto(p, i, 10.0 + i) for i, p in enumerate(payloads)]
    )
    batched = conv.pack_histograms(
        [conv.histo_proto_parts(p, i, 10.0 + i) for i, p in enumerate(payloads)]
    )
    for a, b in zip(batched, plain, strict=True):
        assert (a.step, a.wall_time) == (b.step, b.wall_time)
        for x, y in ((a.count, b.count), (a.min, b.min), (a.max, b.max), (a.sum, b.sum)):
            assert x == y or (x != x and y != y)
        assert same(a.left, b.left) and same(a.right, b.right) and same(a.counts, b.counts)
        if a.left.shape[0]:
            assert a.right.ctypes.data == a.left.ctypes.data + a.left.itemsize
    blocks = {id(h.counts.base) for h in batched if h.counts.shape[0]}
    assert len(blocks) <= 1


@settings(max_examples=300, deadline=None)
@given(counts_st)
def test_float32_decision_equals_compact_counts(counts: list[float]) -> None:
    arr = np.array(counts, dtype=np.float64)
    assert conv._f32_exact(arr) == (conv.compact_counts(arr).dtype == np.float32)
