"""Histogram renderers on histograms written by tensorboardX and read back by TensorBoard.

Expected percentiles: TensorBoard's own EventAccumulator.CompressedHistograms (which runs
compress_histogram_proto) and a direct transcription of that function written here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboardX import SummaryWriter

from tuiboard.core.types import HistogramValue
from tuiboard.render.histogram import (
    BASIS_POINTS,
    compress_histogram,
    compress_histograms,
    distribution_chart,
    histogram_bars,
    histogram_stats,
    rebin,
    ridge_chart,
)
from tuiboard.render.theme import default_theme

THEME = default_theme()
PLAIN = default_theme(color=False)


def tb_compress(
    bucket: list[float], limits: list[float], hmin: float, hmax: float, num: float
) -> list[float]:
    """tensorboard/plugins/distribution/compressor.py compress_histogram_proto, transcribed."""
    bps = BASIS_POINTS
    if not num:
        return [0.0 for _ in bps]
    b = np.array(bucket)
    weights = (b * bps[-1] / (b.sum() or 1.0)).cumsum()
    values = []
    j = 0
    while j < len(bps):
        i = int(np.searchsorted(weights, bps[j], side="right"))
        while i < len(weights):
            cumsum = weights[i]
            cumsum_prev = weights[i - 1] if i > 0 else 0.0
            if cumsum == cumsum_prev:
                i += 1
                continue
            lhs = hmin if not i or not cumsum_prev else max(limits[i - 1], hmin)
            rhs = min(limits[i], hmax)
            values.append(lhs + (bps[j] - cumsum_prev) * float(rhs - lhs) / (cumsum - cumsum_prev))
            j += 1
            break
        else:
            break
    while j < len(bps):
        values.append(hmax)
        j += 1
    return values


def to_value(step: int, wall: float, proto) -> HistogramValue:  # type: ignore[no-untyped-def]
    """HistogramProto -> HistogramValue by the rule documented in core/types.py."""
    right = np.array(proto.bucket_limit, dtype=np.float64)
    left = np.concatenate(([proto.min], right[:-1]))
    return HistogramValue(
        step=step,
        wall_time=wall,
        left=left,
        right=right,
        counts=np.array(proto.bucket, dtype=np.float64),
        count=proto.num,
        min=proto.min,
        max=proto.max,
        sum=proto.sum,
        sum_squares=proto.sum_squares,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[np.ndarray]], Path]:
    d = tmp_path_factory.mktemp("hist")
    rng = np.random.default_rng(7)
    data: dict[str, list[np.ndarray]] = {"normal": [], "skewed": [], "const": [], "tiny": []}
    w = SummaryWriter(str(d))
    for step in range(12):
        v = rng.normal(step * 0.5, 1.0 + step * 0.1, 2000)
        data["normal"].append(v)
        w.add_histogram("normal", v, step)
        s = rng.exponential(2.0, 500) ** 2
        data["skewed"].append(s)
        w.add_histogram("skewed", s, step)
        c = np.full(10, 3.0)
        data["const"].append(c)
        w.add_histogram("const", c, step)
        t = np.array([0.5, -1e-3, 7.0])
        data["tiny"].append(t)
        w.add_histogram("tiny", t, step)
    w.close()
    return data, d


@pytest.fixture(scope="module")
def accumulator(written) -> EventAccumulator:  # type: ignore[no-untyped-def]
    ea = EventAccumulator(
        str(written[1]), size_guidance={"histograms": 0, "compressedHistograms": 0}
    )
    ea.Reload()
    return ea


def values_of(ea: EventAccumulator, tag: str) -> list[HistogramValue]:
    return [to_value(e.step, e.wall_time, e.histogram_value) for e in ea.Histograms(tag)]


@pytest.mark.parametrize("tag", ["normal", "skewed", "const", "tiny"])
def test_compress_matches_tensorboard(accumulator: EventAccumulator, tag: str) -> None:
    hs = values_of(accumulator, tag)
    compressed = accumulator.CompressedHistograms(tag)
    assert len(hs) == len(compressed) == 12
    for h, ev, raw in zip(hs, compressed, accumulator.Histograms(tag), strict=True):
        got = compress_histogram(h)
        tb_reader = [value for _bp, value in ev.compressed_histogram_values]
        p = raw.histogram_value
        direct = tb_compress(list(p.bucket), list(p.bucket_limit), p.min, p.max, p.num)
        np.testing.assert_allclose(got, tb_reader, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got, direct, rtol=1e-12, atol=1e-12)


def test_compress_edge_cases() -> None:
    empty = HistogramValue(0, 0.0, np.array([]), np.array([]), np.array([]), 0.0, 0.0, 0.0)
    assert compress_histogram(empty).tolist() == [0.0] * 9
    # Weight only in the last bucket, all-zero buckets in between, infinite outer limits.
    right = np.array([-1.0, 0.0, 1.0, 2.0, math.inf])
    left = np.concatenate(([-5.0], right[:-1]))
    counts = np.array([0.0, 0.0, 0.0, 4.0, 0.0])
    h = HistogramValue(1, 0.0, left, right, counts, 4.0, 1.2, 1.9)
    want = tb_compress(counts.tolist(), right.tolist(), 1.2, 1.9, 4.0)
    np.testing.assert_allclose(compress_histogram(h), want)


def test_stats_from_sums_and_buckets(written, accumulator: EventAccumulator) -> None:  # type: ignore[no-untyped-def]
    data = written[0]["normal"]
    for v, h in zip(data, values_of(accumulator, "normal"), strict=True):
        st = histogram_stats(h)
        assert st["count"] == len(v)
        assert st["min"] == pytest.approx(v.min()) and st["max"] == pytest.approx(v.max())
        assert st["mean"] == pytest.approx(v.mean(), rel=1e-9, abs=1e-9)
        assert st["std"] == pytest.approx(v.std(), rel=1e-6)
        # Without sum/sum_squares (tensor form): estimated from bucket centres, close to it.
        no_sums = HistogramValue(
            h.step, h.wall_time, h.left, h.right, h.counts, h.count, h.min, h.max
        )
        est = histogram_stats(no_sums)
        assert est["mean"] == pytest.approx(v.mean(), abs=0.1)
        assert est["std"] == pytest.approx(v.std(), rel=0.1)


def test_rebin_preserves_counts(accumulator: EventAccumulator) -> None:
    for tag in ("normal", "skewed", "const", "tiny"):
        for h in values_of(accumulator, tag):
            for cols in (1, 7, 40):
                r = rebin(h, h.min, h.max, cols)
                assert r.shape == (cols,)
                assert r.sum() == pytest.approx(float(np.sum(h.counts)))
                assert np.all(r >= -1e-9)


def _sizes(t, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    ls = t.plain.split("\n")
    assert len(ls) == height
    assert all(cell_len(line) == width for line in ls), ls


@pytest.mark.parametrize("tag", ["normal", "skewed", "const", "tiny"])
@pytest.mark.parametrize(("width", "height"), [(1, 1), (8, 3), (16, 4), (40, 12), (100, 30)])
@pytest.mark.parametrize("theme", [THEME, PLAIN])
def test_exact_sizes(
    accumulator: EventAccumulator, tag: str, width: int, height: int, theme
) -> None:  # type: ignore[no-untyped-def]
    hs = values_of(accumulator, tag)
    for t in (
        histogram_bars(hs[-1], width, height, theme, "cyan"),
        distribution_chart(hs, width, height, theme, "cyan"),
        distribution_chart(hs, width, height, theme, "cyan", x_mode="relative"),
        distribution_chart(hs[:1], width, height, theme, "cyan", x_mode="wall"),
        ridge_chart(hs, width, height, theme, "cyan"),
        ridge_chart(hs[:1], width, height, theme, "cyan"),
    ):
        _sizes(t, width, height)
        if not theme.color:
            assert t.spans == [] and not t.style
    _sizes(distribution_chart([], width, height, theme, "cyan"), width, height)
    _sizes(ridge_chart([], width, height, theme, "cyan"), width, height)


def test_bars_shape_and_ticks(accumulator: EventAccumulator) -> None:
    h = values_of(accumulator, "normal")[0]  # N(0, 1), 2000 values
    t = histogram_bars(h, 50, 12, THEME, "cyan")
    ls = t.plain.split("\n")
    bars = ls[:-1]
    heights = [sum(1 for line in bars if line[c] == "█") for c in range(50)]
    peak = int(np.argmax(heights))
    # The tallest column sits near 0 in value: the x labels put 0 near it.
    zero_col = ls[-1].index(" 0 ") + 1
    assert abs(peak - zero_col) <= 3
    assert "0┤" in ls[-2]


def test_distribution_median_follows_data(accumulator: EventAccumulator) -> None:
    hs = values_of(accumulator, "normal")  # mean grows 0 -> 5.5 over the steps
    t = distribution_chart(hs, 60, 16, THEME, "#ff8700")
    ls = t.plain.split("\n")[:-1]
    med_rows = {}
    for r, line in enumerate(ls):
        for c, ch in enumerate(line):
            if ch == "━":
                med_rows.setdefault(c, r)
    cols = sorted(med_rows)
    assert len(cols) >= 40
    assert med_rows[cols[0]] > med_rows[cols[-1]]  # later steps: higher median, upper rows
    for ch in "░▒▓█":
        assert ch in t.plain
    styles = {str(s.style) for s in t.spans}
    assert "bold #ff8700" in styles


def test_ridges_label_steps(accumulator: EventAccumulator) -> None:
    hs = values_of(accumulator, "normal")
    t = ridge_chart(hs, 60, 20, THEME, "cyan", max_ridges=4)
    labels = [line[:3].strip() for line in t.plain.split("\n")[:-1]]
    assert [s for s in labels if s] == ["0", "4", "7", "11"]


def test_compress_many_equals_one_at_a_time(accumulator: EventAccumulator) -> None:
    hs = [h for tag in ("normal", "skewed", "const", "tiny") for h in values_of(accumulator, tag)]
    empty = HistogramValue(0, 0.0, np.array([]), np.array([]), np.array([]), 0.0, 0.0, 0.0)
    right = np.array([-1.0, 0.0, 1.0, 2.0, math.inf])
    odd = HistogramValue(
        1, 0.0, np.concatenate(([-5.0], right[:-1])), right,
        np.array([0.0, 0.0, 0.0, 4.0, 0.0]), 4.0, 1.2, 1.9,
    )  # fmt: skip
    hs = [empty, *hs, odd, empty]
    many = compress_histograms(hs)
    one = np.array([compress_histogram(h) for h in hs])
    np.testing.assert_allclose(many, one, rtol=1e-12, atol=1e-12)


@st.composite
def histograms(draw) -> HistogramValue:  # type: ignore[no-untyped-def]
    k = draw(st.integers(0, 40))
    edges = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=k + 1, max_size=k + 1)))
    if k and draw(st.booleans()):
        edges[0] = -1.7976931348623157e308  # TensorFlow's default outer limits
        edges[-1] = 1.7976931348623157e308
    if k and draw(st.booleans()):
        edges[-1] = math.inf
    counts = draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 3.0, 1e6]), min_size=k, max_size=k))
    finite = [e for e in edges if abs(e) < 1e300]
    lo = min(finite) if finite else 0.0
    hi = max(finite) if finite else 0.0
    return HistogramValue(
        draw(st.integers(0, 10**6)), 0.0, np.array(edges[:-1]), np.array(edges[1:]),
        np.array(counts), float(sum(counts)), lo, hi,
    )  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(histograms(), max_size=8), st.integers(1, 90), st.integers(1, 25))
def test_any_histograms_any_size(hs: list[HistogramValue], width: int, height: int) -> None:
    hs = sorted(hs, key=lambda h: h.step)
    for theme in (THEME, PLAIN):
        texts = [
            distribution_chart(hs, width, height, theme, "cyan"),
            ridge_chart(hs, width, height, theme, "cyan"),
        ]
        texts += [histogram_bars(h, width, height, theme, "cyan") for h in hs]
        for t in texts:
            _sizes(t, width, height)
    for h in hs:
        st_ = histogram_stats(h)
        assert st_["count"] == h.count
        assert compress_histogram(h).shape == (9,)
