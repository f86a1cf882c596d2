"""minmax_downsample: extremes and the last point survive; non-finite points are excluded."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiboard.render.downsample import minmax_downsample


def brute(x: np.ndarray, y: np.ndarray, lo: float, hi: float, columns: int) -> set[int]:
    """Indexes of the first, min, max and last finite point of every column, by a plain loop."""
    keep: set[int] = set()
    cols: dict[int, list[int]] = {}
    for i in range(len(x)):
        if not (lo <= x[i] <= hi) or not np.isfinite(y[i]):
            continue
        c = min(int((x[i] - lo) / (hi - lo) * columns), columns - 1) if hi > lo else 0
        cols.setdefault(c, []).append(i)
    for idx in cols.values():
        vals = [y[i] for i in idx]
        keep.update(
            {
                idx[0],
                idx[-1],
                idx[int(np.argmin(vals))],
                idx[int(np.argmax(vals))],
            }
        )
    return keep


def test_spike_survives_40_columns() -> None:
    x = np.arange(10_000, dtype=np.float64)
    y = np.sin(x / 500.0)
    y[4321] = 100.0
    y[8000] = -100.0
    xs, ys = minmax_downsample(x, y, 0.0, 9999.0, 40)
    assert len(xs) <= 160
    assert 100.0 in ys and -100.0 in ys
    assert xs[list(ys).index(100.0)] == 4321.0
    assert np.all(np.diff(xs) > 0)


def test_last_point_kept() -> None:
    x = np.arange(5000, dtype=np.float64)
    y = np.zeros(5000)
    y[-1] = 0.5
    xs, ys = minmax_downsample(x, y, 0.0, 4999.0, 40)
    assert xs[-1] == 4999.0 and ys[-1] == 0.5
    # NaN at the very end: the last finite point is kept.
    y[-3:] = np.nan
    xs, ys = minmax_downsample(x, y, 0.0, 4999.0, 40)
    assert xs[-1] == 4996.0


def test_non_finite_excluded_and_range_respected() -> None:
    x = np.arange(1000, dtype=np.float64)
    y = np.linspace(0, 1, 1000)
    y[::7] = np.nan
    y[3] = np.inf
    y[5] = -np.inf
    xs, ys = minmax_downsample(x, y, 100.0, 800.0, 20)
    assert np.all(np.isfinite(ys))
    assert xs.min() >= 100.0 and xs.max() <= 800.0


def test_small_input_returned_whole() -> None:
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([5.0, np.nan, 7.0])
    xs, ys = minmax_downsample(x, y, 0.0, 10.0, 40)
    np.testing.assert_array_equal(xs, [1.0, 3.0])
    np.testing.assert_array_equal(ys, [5.0, 7.0])
    xs, ys = minmax_downsample(np.array([]), np.array([]), 0.0, 1.0, 10)
    assert xs.shape == (0,)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=400),
    st.integers(1, 30),
    st.integers(0, 2**32 - 1),
)
def test_matches_bruteforce(ys: list[float], columns: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.array(ys)
    x = np.sort(rng.integers(0, 200, size=len(y)).astype(np.float64))
    if len(y) > 3:
        y[rng.integers(0, len(y))] = np.nan
    lo, hi = float(x[0]), float(x[-1]) if x[-1] > x[0] else float(x[0]) + 1
    xs, ys_ = minmax_downsample(x, y, lo, hi, columns)
    n_finite = int(np.isfinite(y).sum())
    if n_finite <= 4 * columns:
        assert len(xs) == n_finite
        return
    want = sorted(brute(x, y, lo, hi, columns))
    # Ties (equal y or equal x) may pick another index with the same (x, y): compare points.
    got_pts = sorted(zip(xs.tolist(), ys_.tolist(), strict=True))
    want_pts = sorted({(float(x[i]), float(y[i])) for i in want})
    assert set(got_pts) >= set(want_pts) or _same_columns(got_pts, want_pts, lo, hi, columns)


def _same_columns(got, want, lo, hi, columns) -> bool:  # type: ignore[no-untyped-def]
    def summary(pts):  # type: ignore[no-untyped-def]
        out = {}
        for px, py in pts:
            c = min(int((px - lo) / (hi - lo) * columns), columns - 1)
            a = out.setdefault(c, [py, py, px, px])
            a[0] = min(a[0], py)
            a[1] = max(a[1], py)
            a[2] = min(a[2], px)
            a[3] = max(a[3], px)
        return out

    return summary(got) == summary(want)


def test_uneven_columns_use_the_generic_path() -> None:
    # 5000 points crowded into the first column, then one point per column: the padded 2-D
    # gather would be mostly padding, so extremes come from reduceat.
    x = np.concatenate((np.linspace(0.0, 0.9, 5000), np.arange(1.0, 100.0)))
    y = np.sin(x * 37.0)
    y[1234] = 50.0
    y[4000] = -50.0
    xs, ys = minmax_downsample(x, y, 0.0, 99.0, 100)
    want = brute(x, y, 0.0, 99.0, 100)
    assert sorted(zip(xs.tolist(), ys.tolist(), strict=True)) == sorted(
        (float(x[i]), float(y[i])) for i in want
    )
    assert 50.0 in ys and -50.0 in ys
