"""ema_debiased against a direct transcription of TensorBoard's resmoothDataset."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiboard.render.smoothing import ema_debiased


def tb_resmooth(values: list[float], smoothing_weight: float) -> list[float]:
    """tensorboard/components/vz_line_chart2/line-chart.ts, resmoothDataset, line by line."""
    last = 0.0 if len(values) > 0 else math.nan
    num_accum = 0
    is_constant = all(v == values[0] for v in values)
    out = []
    for next_val in values:
        if is_constant or not math.isfinite(next_val):
            out.append(next_val)
        else:
            last = last * smoothing_weight + (1 - smoothing_weight) * next_val
            num_accum += 1
            debias_weight = 1.0
            if smoothing_weight != 1:
                debias_weight = 1 - math.pow(smoothing_weight, num_accum)
            out.append(last / debias_weight)
    return out


def check(values: list[float], w: float, rtol: float = 1e-9) -> None:
    got = ema_debiased(np.array(values, dtype=np.float64), w)
    want = np.array(tb_resmooth(values, w), dtype=np.float64)
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, equal_nan=True)
    # Non-finite points pass through exactly (same NaN / same inf).
    bad = ~np.isfinite(want)
    assert np.array_equal(np.isnan(got[bad]), np.isnan(want[bad]))
    assert np.array_equal(got[bad & ~np.isnan(want)], want[bad & ~np.isnan(want)])


def test_known_input_with_nan_and_inf() -> None:
    values = [1.0, 2.0, math.nan, 4.0, math.inf, 3.0, -math.inf, 10.0, 0.5]
    check(values, 0.6)
    got = ema_debiased(np.array(values), 0.6)
    # Hand-computed first values: 1; (0.4*1*0.6 + 0.4*2)/(1-0.36) = 1.625; NaN kept;
    # the state is untouched by NaN, so the 4th value uses num_accum = 3.
    assert got[0] == 1.0
    assert math.isclose(got[1], (0.6 * 0.4 * 1.0 + 0.4 * 2.0) / (1 - 0.6**2))
    assert math.isnan(got[2])
    last = (0.6 * 0.4 * 1.0 + 0.4 * 2.0) * 0.6 + 0.4 * 4.0
    assert math.isclose(got[3], last / (1 - 0.6**3))
    assert got[4] == math.inf and got[6] == -math.inf


def test_weight_zero_is_identity() -> None:
    values = np.array([3.0, math.nan, -1.0, 7.5])
    got = ema_debiased(values, 0.0)
    np.testing.assert_array_equal(got, values)
    assert got is not values


def test_constant_series_passes_through() -> None:
    check([2.5] * 50, 0.9)
    np.testing.assert_array_equal(ema_debiased(np.full(50, 2.5), 0.9), np.full(50, 2.5))


def test_edge_cases() -> None:
    assert ema_debiased(np.array([]), 0.6).shape == (0,)
    check([5.0], 0.6)
    check([math.nan, math.nan], 0.6)
    check([math.nan, 1.0, 2.0], 0.6)
    check([1.0, 2.0, 3.0], 1.0)  # TensorBoard's weight 1: state stays 0
    check([float(v) for v in np.float32([0.1, 0.2, 0.3])], 0.5)


def test_long_series_many_chunks() -> None:
    rng = np.random.default_rng(3)
    for w in (1e-9, 0.01, 0.3, 0.6, 0.95, 0.999, 0.99999):
        v = (rng.normal(size=30_000).cumsum() + 50.0).tolist()
        for i in rng.integers(0, len(v), 40):
            v[int(i)] = math.nan
        check(v, w, rtol=1e-8)


def test_float32_input() -> None:
    v = np.random.default_rng(1).normal(size=1000).astype(np.float32)
    check([float(a) for a in v], 0.8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.sampled_from([math.nan, math.inf, -math.inf]),
        ),
        max_size=300,
    ),
    st.floats(0.0, 0.999),
)
def test_matches_tensorboard(values: list[float], w: float) -> None:
    got = ema_debiased(np.array(values, dtype=np.float64), w)
    want = np.array(tb_resmooth(values, w), dtype=np.float64)
    scale = max((abs(v) for v in values if math.isfinite(v)), default=1.0)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9 * max(scale, 1.0), equal_nan=True)
