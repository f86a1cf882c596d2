"""Braille rasterisation with numpy: polylines to per-cell dot masks (2x4 dots per cell).

Owns: `draw_layers` (the charts' column-span rasteriser, every layer at once), `band_bits` (the
filled area between two curves: margin charts), `rasterize` (a clipped polyline to dot
coordinates, used by the ridge chart), `rasterize_segments` (many independent segments at
once: mesh wireframes) and `braille_bits`.
Must not import: textual, rich, tuiboard.ui.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Braille dot bits by (dot row 0..3, dot column 0..1) within a cell (Unicode 2800-28FF).
_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
BRAILLE_BASE = 0x2800
"""Code point of the empty braille cell; a cell's character is BRAILLE_BASE + its bits."""


def rasterize(px: np.ndarray, py: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Dot (column, row) integer coordinates of the polyline through (px, py), clipped to
    [0, w-1] x [0, h-1]. A single point gives one dot when inside."""
    n = px.shape[0]
    if n < 2:
        a = np.zeros(n, dtype=np.int64)
        xi, yi, _ = rasterize_segments(px, py, a, a, w, h)
        return xi, yi
    a = np.arange(n - 1)
    xi, yi, _ = rasterize_segments(px, py, a, a + 1, w, h)
    return xi, yi


def rasterize_segments(
    px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray, w: int, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dots of the segments from point a[k] to point b[k] (a == b: a single dot), all clipped
    to [0, w-1] x [0, h-1] at once (Liang-Barsky) and sampled at least once per dot crossed.
    Returns (columns, rows, segment index of each dot)."""
    empty = np.empty(0, np.int64)
    if a.shape[0] == 0 or w <= 0 or h <= 0:
        return empty, empty, empty
    x0 = px[a]
    y0 = py[a]
    dx = px[b] - x0
    dy = py[b] - y0
    m = a.shape[0]
    t0 = np.zeros(m)
    t1 = np.ones(m)
    keep = np.ones(m, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x0), (dx, (w - 1.0) - x0), (-dy, y0), (dy, (h - 1.0) - y0)):
            r = q / p
            np.maximum(t0, r, out=t0, where=p < 0)
            np.minimum(t1, r, out=t1, where=p > 0)
            keep &= (p != 0) | (q >= -1e-9)
    keep &= t0 <= t1
    seg_ids = np.flatnonzero(keep)
    if seg_ids.shape[0] == 0:
        return empty, empty, empty
    if seg_ids.shape[0] != m:
        t0 = t0[seg_ids]
        t1 = t1[seg_ids]
        dx = dx[seg_ids]
        dy = dy[seg_ids]
        x0 = x0[seg_ids]
        y0 = y0[seg_ids]
    cx0 = x0 + t0 * dx
    cy0 = y0 + t0 * dy
    span = t1 - t0
    cdx = span * dx
    cdy = span * dy
    lengths = np.ceil(np.maximum(np.abs(cdx), np.abs(cdy))).astype(np.int64) + 1
    total = int(lengths.sum())
    seg = np.repeat(np.arange(lengths.shape[0]), lengths)
    starts = np.cumsum(lengths) - lengths
    t = (np.arange(total) - starts[seg]) / np.maximum(lengths - 1, 1)[seg]
    xi = np.rint(cx0[seg] + t * cdx[seg]).astype(np.int64)
    yi = np.rint(cy0[seg] + t * cdy[seg]).astype(np.int64)
    np.clip(xi, 0, w - 1, out=xi)
    np.clip(yi, 0, h - 1, out=yi)
    return xi, yi, seg_ids[seg]


def braille_bits(xi: np.ndarray, yi: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Per-cell braille bit masks (rows x cols, uint8) of the given dots."""
    bits = np.zeros(rows * cols, dtype=np.uint8)
    if xi.shape[0]:
        flat = (yi >> 2) * cols + (xi >> 1)
        np.bitwise_or.at(bits, flat, _BRAILLE_BITS[yi & 3, xi & 1])
    return bits.reshape(rows, cols)


def _group_extremes(keys: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """lo[k] = min(lo[k], vals with key k), hi likewise; `keys` must be sorted."""
    if keys.shape[0] == 0:
        return
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], change))
    uk = keys[starts]
    lo[uk] = np.minimum(lo[uk], np.minimum.reduceat(vals, starts))
    hi[uk] = np.maximum(hi[uk], np.maximum.reduceat(vals, starts))


def draw_layers(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    x_lo: float,
    x_hi: float,
    y_lo: float,
    y_hi: float,
    cols: int,
    rows: int,
    under: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Polylines (data coordinates, x ascending) drawn in one pass: (braille bits, owner) per
    cell, where owner is 1 + the index of the last layer with a dot in the cell (0: empty).

    The first `under` layers (a chart's faint raw lines) only show in cells no later layer
    touches: a cell has one colour, so mixing their dots into a line's cell would blur the line.

    Column-span rasterisation: dot column c covers x in [c - 0.5, c + 0.5); a polyline lights,
    in that column, every dot between the lowest and highest y it takes there (its points in the
    column and where it crosses the column's edges). Spans of all layers are computed together
    from sorted keys (layer * width + column) and filled by comparing row numbers with each
    column's first and last row, so there is no per-dot work and no scatter with repeated
    indexes.
    """
    w, h = cols * 2, rows * 4
    n_layers = len(layers)
    empty = (np.zeros((rows, cols), np.uint8), np.zeros((rows, cols), np.int32))
    parts = [(lx, ly, k) for k, (lx, ly) in enumerate(layers) if lx.shape[0]]
    if not parts or not (x_hi > x_lo and y_hi > y_lo) or w <= 0 or h <= 0:
        return empty
    sx = (w - 1) / (x_hi - x_lo)
    sy = (h - 1) / (y_hi - y_lo)
    px = (np.concatenate([p[0] for p in parts]) - x_lo) * sx
    py = (y_hi - np.concatenate([p[1] for p in parts])) * sy
    sizes = np.array([p[0].shape[0] for p in parts])
    layer_of = np.repeat(np.array([p[2] for p in parts], dtype=np.int64), sizes)

    lo = np.full(n_layers * w, np.inf)
    hi = np.full(n_layers * w, -np.inf)
    # The points themselves.
    inside = (px >= -0.5) & (px < w - 0.5)
    pcol = np.floor(px[inside] + 0.5).astype(np.int64)
    _group_extremes(layer_of[inside] * w + pcol, py[inside], lo, hi)
    # Where segments cross column edges b = k + 0.5 (k = -1 .. w-1).
    seg = np.flatnonzero(layer_of[1:] == layer_of[:-1])
    if seg.shape[0]:
        x0 = px[seg]
        x1 = px[seg + 1]
        y0 = py[seg]
        y1 = py[seg + 1]
        k0 = np.maximum(np.ceil(x0 - 0.5), -1.0).astype(np.int64)
        k1 = np.minimum(np.floor(x1 - 0.5), w - 1.0).astype(np.int64)
        count = np.maximum(k1 - k0 + 1, 0)
        total = int(count.sum())
        if total:
            which = np.repeat(np.arange(seg.shape[0]), count)
            k = np.arange(total) - np.repeat(np.cumsum(count) - count, count) + k0[which]
            dx = (x1 - x0)[which]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(dx > 0, (k + 0.5 - x0[which]) / dx, 0.0)
            yc = y0[which] + t * (y1 - y0)[which]
            base = layer_of[seg][which] * w
            left = k >= 0
            _group_extremes((base + k)[left], yc[left], lo, hi)
            right = k + 1 <= w - 1
            _group_extremes((base + k + 1)[right], yc[right], lo, hi)
    # Spans -> dots, clipped to the plot.
    has = (hi >= -0.5) & (lo <= h - 0.5)
    keys = np.flatnonzero(has)
    if keys.shape[0] == 0:
        return empty
    top = np.clip(np.floor(lo[keys] + 0.5), 0, h - 1).astype(np.int64)
    bottom = np.clip(np.floor(hi[keys] + 0.5), 0, h - 1).astype(np.int64)
    # Dense (layer, column) -> first and last dot row; empty columns get top > bottom.
    first = np.full(n_layers * w, h, dtype=np.int64)
    last = np.full(n_layers * w, -1, dtype=np.int64)
    first[keys] = top
    last[keys] = bottom
    r = np.arange(h, dtype=np.int64)[None, :, None]
    cover = (r >= first.reshape(n_layers, 1, w)) & (r <= last.reshape(n_layers, 1, w))
    cells = cover.reshape(n_layers, rows, 4, cols, 2)
    bits = np.zeros((n_layers, rows, cols), dtype=np.uint8)
    for dy in range(4):
        for dx_ in range(2):
            bits |= cells[:, :, dy, :, dx_].view(np.uint8) * _BRAILLE_BITS[dy, dx_]
    lit = bits != 0
    owner = (n_layers - np.argmax(lit[::-1], axis=0)).astype(np.int32)
    if 0 < under < n_layers:
        upper: np.ndarray = np.bitwise_or.reduce(bits[under:], axis=0)
        allbits = np.where(upper != 0, upper, np.bitwise_or.reduce(bits[:under], axis=0))
    else:
        allbits = np.bitwise_or.reduce(bits, axis=0)
    owner[allbits == 0] = 0
    return allbits, owner


def band_bits(
    x: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    x_lo: float,
    x_hi: float,
    y_lo: float,
    y_hi: float,
    cols: int,
    rows: int,
) -> np.ndarray:
    """The braille dots (rows x cols bit masks) of the area between two curves sharing x
    (ascending): every dot between them, column by column, clipped to the plot.

    A dot column's span runs between the curves interpolated at its centre, widened to every
    point inside the column (so a dense band keeps its extremes, as lines do); columns outside
    the curves' x extent stay empty. Points where either curve is not finite are left out (the
    band bridges them). Whether `lower` is below `upper` does not matter."""
    w, h = cols * 2, rows * 4
    out = np.zeros((rows, cols), dtype=np.uint8)
    if w <= 0 or h <= 0 or not (x_hi > x_lo and y_hi > y_lo):
        return out
    ok = np.isfinite(x) & np.isfinite(lower) & np.isfinite(upper)
    if not ok.any():
        return out
    sx = (w - 1) / (x_hi - x_lo)
    sy = (h - 1) / (y_hi - y_lo)
    px = (x[ok] - x_lo) * sx
    pa = (y_hi - lower[ok]) * sy
    pb = (y_hi - upper[ok]) * sy
    top_pts = np.minimum(pa, pb)
    bottom_pts = np.maximum(pa, pb)
    c0 = max(int(np.ceil(px[0] - 0.5)), 0)
    c1 = min(int(np.floor(px[-1] + 0.5)), w - 1)
    if c1 < c0:
        return out
    centres = np.arange(c0, c1 + 1, dtype=np.float64)
    at = np.clip(centres, px[0], px[-1])
    ia = np.interp(at, px, pa)
    ib = np.interp(at, px, pb)
    top = np.full(w, np.inf)
    bottom = np.full(w, -np.inf)
    top[c0 : c1 + 1] = np.minimum(ia, ib)
    bottom[c0 : c1 + 1] = np.maximum(ia, ib)
    inside = (px >= -0.5) & (px < w - 0.5)
    pcol = np.floor(px[inside] + 0.5).astype(np.int64)
    np.minimum.at(top, pcol, top_pts[inside])
    np.maximum.at(bottom, pcol, bottom_pts[inside])
    has = (bottom >= -0.5) & (top <= h - 0.5)
    first = np.full(w, h, dtype=np.int64)
    last = np.full(w, -1, dtype=np.int64)
    first[has] = np.clip(np.floor(top[has] + 0.5), 0, h - 1).astype(np.int64)
    last[has] = np.clip(np.floor(bottom[has] + 0.5), 0, h - 1).astype(np.int64)
    r = np.arange(h, dtype=np.int64)[:, None]
    cells = ((r >= first[None, :]) & (r <= last[None, :])).reshape(rows, 4, cols, 2)
    for dy in range(4):
        for dx in range(2):
            out |= cells[:, dy, :, dx].view(np.uint8) * _BRAILLE_BITS[dy, dx]
    return out
