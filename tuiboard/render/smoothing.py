"""TensorBoard's scalar smoothing (debiased exponential moving average), vectorised.

Owns: `ema_debiased`. Must not import: textual, rich, tuiboard.ui.

TensorBoard (vz_line_chart2/line-chart.ts, resmoothDataset) runs, over the points in order:
    last = 0; num_accum = 0
    if the whole series is constant, or the value is not finite: smoothed = value
    else: last = last * w + (1 - w) * value; num_accum += 1
          smoothed = last / (1 - w ** num_accum)        (w == 1: divide by 1)
Non-finite points therefore pass through and leave the state untouched.

The recurrence over the k finite values x_0..x_{k-1} has the closed form
    last_i = (1 - w) * sum_{j <= i} w^(i - j) x_j = (1 - w) * w^i * cumsum(x_j * w^-j)_i
which numpy evaluates with a cumulative sum. w^-j overflows for long series, so the values are cut
into chunks of C points (C chosen so that w^-C stays below 1e150) laid out as the rows of a 2-D
array: every chunk is solved at once along axis 1 with a zero start, then the state carried from
one chunk to the next (one scalar per chunk) is added back as carry * w^(i+1). Rounding stays
relative to the magnitude of the recent terms, as in the sequential loop.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_EXP = 150.0 * math.log(10.0)  # w^-C < 1e150: no overflow, ample headroom for the cumsum


def _chunk_len(weight: float, n: int) -> int:
    if weight <= 0.0:
        return 1
    c = int(_MAX_EXP / -math.log(weight))
    return max(1, min(n, c))


def ema_debiased(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothed series of `values` (float64 result, same length).

    `weight` in [0, 1]; 0 returns the values unchanged (as a float64 copy).
    """
    y = np.asarray(values, dtype=np.float64)
    n = y.shape[0]
    if n == 0 or weight == 0.0:
        return y.copy()
    if np.all(y == y[0]):  # TensorBoard's constant-series rule (#786); NaN never equals itself
        return y.copy()
    w = float(weight)
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    x = y if all_finite else y[finite]
    k = x.shape[0]
    out = y.copy()
    if k == 0:
        return out
    if w == 1.0:
        # last stays 0 forever and the debias factor is 1.
        sm = np.zeros(k)
    else:
        sm = _ema_finite(x, w)
        # Debias by 1 - w**count (expm1: accurate for w close to 1). Past the count where
        # w**count < 1e-17 the factor is exactly 1.0 in float64: only the head needs it.
        head = k if w <= 0.0 else min(k, int(math.log(1e-17) / math.log(w)) + 2)
        counts = np.arange(1, head + 1, dtype=np.float64)
        sm[:head] /= -np.expm1(counts * math.log(w))
    if all_finite:
        return sm
    out[finite] = sm
    return out


def _ema_finite(x: np.ndarray, w: float) -> np.ndarray:
    """The biased EMA `last` after each of the (all finite) values `x`, starting from 0."""
    k = x.shape[0]
    c = _chunk_len(w, k)
    rows = -(-k // c)
    if rows * c != k:
        padded = np.zeros(rows * c)
        padded[:k] = x
    else:
        padded = x.astype(np.float64, copy=True)
    m = padded.reshape(rows, c)
    j = np.arange(c, dtype=np.float64)
    log_w = math.log(w)
    up = np.exp(-j * log_w)  # w^-j
    down = np.exp(j * log_w)  # w^j
    m *= up
    np.cumsum(m, axis=1, out=m)
    m *= down * (1.0 - w)  # local EMA of each chunk from a zero start
    if rows > 1:
        # Carry the state across chunks: start_r = w^c * start_{r-1} + local_end_{r-1}.
        ends = m[:, -1].tolist()
        wc = w**c
        carry = [0.0] * rows
        acc = 0.0
        for r in range(1, rows):
            acc = acc * wc + ends[r - 1]
            carry[r] = acc
        m += np.asarray(carry)[:, None] * (down * w)[None, :]
    return m.reshape(-1)[:k]
