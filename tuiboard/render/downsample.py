"""Min/max downsampling of a sorted series to a chart's horizontal resolution.

Owns: `minmax_downsample`. Must not import: textual, rich, tuiboard.ui.

Per column of the x range: the first, minimum, maximum and last points, in x order, so a spike
of a single point always survives and a line drawn through the kept points covers the same
vertical extent in every column as the full series. Columns are contiguous slices of the sorted
x array (found with searchsorted), so the work is a handful of passes over the data.
"""

from __future__ import annotations

import numpy as np


def _arg_extreme(
    y: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ext: np.ndarray
) -> np.ndarray:
    """Index (into y) of the first occurrence of ext[k] inside segment k."""
    hit = np.flatnonzero(y == np.repeat(ext, lengths))
    seg = np.searchsorted(starts, hit, side="right") - 1
    first = np.ones(hit.shape[0], dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    return hit[first]


def minmax_downsample(
    x: np.ndarray, y: np.ndarray, x_lo: float, x_hi: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) with x in [x_lo, x_hi] reduced to at most 4 per column.

    `x` must be sorted ascending. Points whose x or y is NaN/inf are excluded (the chart marks
    them separately). Returns float64 copies (x, y) in x order; the last finite point inside the
    range is always among them. With `columns` <= 0 or an empty range, returns empty arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    i0 = int(np.searchsorted(x, x_lo, side="left"))
    i1 = int(np.searchsorted(x, x_hi, side="right"))
    xs = x[i0:i1]
    ys = y[i0:i1]
    ok = np.isfinite(ys) & np.isfinite(xs)
    if not ok.all():
        xs = xs[ok]
        ys = ys[ok]
    n = xs.shape[0]
    if n == 0 or columns <= 0 or not x_hi >= x_lo:
        return np.empty(0), np.empty(0)
    if n <= 4 * columns or x_hi == x_lo:
        if x_hi == x_lo and n > 4:
            keep = np.unique(np.array([0, int(np.argmin(ys)), int(np.argmax(ys)), n - 1]))
            return xs[keep], ys[keep]
        return xs.copy(), ys.copy()
    edges = x_lo + (x_hi - x_lo) * (np.arange(1, columns, dtype=np.float64) / columns)
    bounds = np.empty(columns + 1, dtype=np.int64)
    bounds[0] = 0
    bounds[-1] = n
    bounds[1:-1] = np.searchsorted(xs, edges, side="left")
    starts = bounds[:-1]
    lengths = np.diff(bounds)
    nonempty = lengths > 0
    starts = starts[nonempty]
    lengths = lengths[nonempty]
    ends = starts + lengths - 1
    mins = np.minimum.reduceat(ys, starts)
    maxs = np.maximum.reduceat(ys, starts)
    imin = _arg_extreme(ys, starts, lengths, mins)
    imax = _arg_extreme(ys, starts, lengths, maxs)
    keep = np.concatenate((starts, imin, imax, ends))
    keep.sort()
    dup = np.zeros(keep.shape[0], dtype=bool)
    dup[1:] = keep[1:] == keep[:-1]
    keep = keep[~dup]
    return xs[keep], ys[keep]
