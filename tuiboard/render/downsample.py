"""Min/max downsampling of a sorted series to a chart's horizontal resolution.

Owns: `minmax_downsample`. Must not import: textual, rich, tuiboard.ui.

Per column of the x range: the first, minimum, maximum and last points, in x order, so a spike
of a single point always survives and a line drawn through the kept points covers the same
vertical extent in every column as the full series. Columns are contiguous slices of the sorted
x array (found with searchsorted). When the slices have similar lengths (evenly spaced steps,
the usual case) they are gathered into one padded 2-D array and reduced with argmin/argmax along
its rows; otherwise the extremes come from reduceat and a search for their first position.
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.empty(0, dtype=np.float64)


def _arg_extreme(
    y: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ext: np.ndarray
) -> np.ndarray:
    """Index (into y) of the first occurrence of ext[k] inside segment k."""
    hit = np.flatnonzero(y == np.repeat(ext, lengths))
    seg = np.searchsorted(starts, hit, side="right") - 1
    first = np.ones(hit.shape[0], dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    return hit[first]


def _extremes(
    ys: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the minimum and of the maximum of every segment [starts[k], ends[k]]."""
    lengths = ends - starts + 1
    n = ys.shape[0]
    longest = int(lengths.max())
    if longest * lengths.shape[0] <= 2 * n + 64:
        # Rows padded by repeating their last index: argmin/argmax return a first occurrence,
        # so padding never moves the answer past the real last element.
        idx = starts[:, None] + np.arange(longest)[None, :]
        np.minimum(idx, ends[:, None], out=idx)
        g = ys[idx]
        return starts + g.argmin(axis=1), starts + g.argmax(axis=1)
    mins = np.minimum.reduceat(ys, starts)
    maxs = np.maximum.reduceat(ys, starts)
    return _arg_extreme(ys, starts, lengths, mins), _arg_extreme(ys, starts, lengths, maxs)


def minmax_downsample(
    x: np.ndarray, y: np.ndarray, x_lo: float, x_hi: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) with x in [x_lo, x_hi] reduced to at most 4 per column.

    `x` must be sorted ascending. Points whose x or y is NaN/inf are excluded (the chart marks
    them separately). Returns float64 arrays (x, y) in x order, never views of the inputs; the
    last finite point inside the range is always among them. With `columns` <= 0 or an empty
    range, returns empty arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if columns <= 0 or not x_hi >= x_lo:
        return _EMPTY, _EMPTY
    i0 = int(np.searchsorted(x, x_lo, side="left"))
    i1 = int(np.searchsorted(x, x_hi, side="right"))
    if i1 <= i0:
        return _EMPTY, _EMPTY
    xs = x[i0:i1]
    ys = y[i0:i1]
    # x is sorted, so finite ends mean a finite x range (NaN would break the order).
    if not (np.isfinite(ys).all() and np.isfinite(xs[0]) and np.isfinite(xs[-1])):
        ok = np.isfinite(ys) & np.isfinite(xs)
        xs = xs[ok]
        ys = ys[ok]
    n = xs.shape[0]
    if n == 0:
        return _EMPTY, _EMPTY
    if n <= 4 * columns:
        return xs.copy(), ys.copy()
    if x_hi == x_lo:
        keep = np.unique(np.array([0, int(np.argmin(ys)), int(np.argmax(ys)), n - 1]))
        return xs[keep], ys[keep]
    edges = x_lo + (x_hi - x_lo) * (np.arange(1, columns, dtype=np.float64) / columns)
    bounds = np.empty(columns + 1, dtype=np.int64)
    bounds[0] = 0
    bounds[-1] = n
    bounds[1:-1] = np.searchsorted(xs, edges, side="left")
    starts = bounds[:-1]
    ends = bounds[1:] - 1
    nonempty = ends >= starts
    if not nonempty.all():
        starts = starts[nonempty]
        ends = ends[nonempty]
    imin, imax = _extremes(ys, starts, ends)
    # Within a segment: start <= min(imin, imax) <= max(imin, imax) <= end, so the rows of this
    # (segments x 4) array, read in order, are already sorted.
    keep = np.empty((starts.shape[0], 4), dtype=np.int64)
    keep[:, 0] = starts
    keep[:, 1] = np.minimum(imin, imax)
    keep[:, 2] = np.maximum(imin, imax)
    keep[:, 3] = ends
    flat = keep.reshape(-1)
    new = np.empty(flat.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(flat[1:], flat[:-1], out=new[1:])
    flat = flat[new]
    return xs[flat], ys[flat]
