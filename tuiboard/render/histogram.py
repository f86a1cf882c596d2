"""Histogram views: one step as bars, TensorBoard's distribution bands, and stacked ridges.

Owns: `histogram_bars`, `distribution_chart`, `ridge_chart`, `histogram_stats` and
`compress_histogram` (TensorBoard's basis-point percentiles).
Must not import: textual, tuiboard.ui.

Bucket edges from writers can be +-inf or +-DBL_MAX (TensorFlow's default first/last limits);
for display every edge is clamped to the histogram's [min, max].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.text import Text

from tuiboard.core.types import HistogramValue
from tuiboard.render.axes import (
    draw_y_axis,
    place_labels,
    unique_labels,
    value_ticks,
    x_ticks,
)
from tuiboard.render.canvas import Canvas
from tuiboard.render.raster import BRAILLE_BASE, braille_bits, rasterize
from tuiboard.render.theme import Theme

# TensorBoard's NORMAL_HISTOGRAM_BPS: the normal CDF at -inf, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, inf
# standard deviations, in basis points.
BASIS_POINTS: tuple[int, ...] = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)
_EIGHTHS = np.array([0x20] + [ord(c) for c in "▁▂▃▄▅▆▇█"], dtype=np.uint32)
_SHADES = "░▒▓█"
_MEDIAN = "━"


def _widen_flat(lo: float, hi: float) -> tuple[float, float]:
    """A drawable range: a flat one (one value) becomes a band of 10 % around it (±0.5 at 0)."""
    if not hi <= lo:
        return lo, hi
    d = abs(lo) * 0.1 if lo else 0.5
    return lo - d, hi + d


def _value_range(h: HistogramValue) -> tuple[float, float]:
    """[min, max] of the histogram's values with non-finite ends replaced by finite edges."""
    lo, hi = float(h.min), float(h.max)
    edges = np.concatenate((np.asarray(h.left, np.float64), np.asarray(h.right, np.float64)))
    finite = edges[np.isfinite(edges) & (np.abs(edges) < 1e300)]
    if not math.isfinite(lo):
        lo = float(finite.min()) if finite.shape[0] else 0.0
    if not math.isfinite(hi):
        hi = float(finite.max()) if finite.shape[0] else 0.0
    if hi < lo:
        lo, hi = hi, lo
    return lo, hi


def _clamped_edges(h: HistogramValue) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = _value_range(h)
    left = np.clip(np.asarray(h.left, np.float64), lo, hi)
    right = np.clip(np.asarray(h.right, np.float64), lo, hi)
    return left, right


def histogram_stats(h: HistogramValue) -> dict[str, float]:
    """count, min, max, mean, std of one histogram. mean/std come from sum/sum_squares when the
    format has them, else from the bucket centres (edges clamped to [min, max])."""
    counts = np.asarray(h.counts, np.float64)
    count = float(h.count) if h.count else float(counts.sum())
    lo, hi = float(h.min), float(h.max)
    if count <= 0:
        return {"count": 0.0, "min": lo, "max": hi, "mean": math.nan, "std": math.nan}
    if h.sum is not None and h.sum_squares is not None:
        mean = h.sum / count
        var = h.sum_squares / count - mean * mean
    else:
        left, right = _clamped_edges(h)
        centres = (left + right) / 2.0
        total = float(counts.sum()) or count
        mean = float((centres * counts).sum() / total)
        var = float((counts * (centres - mean) ** 2).sum() / total)
    return {"count": count, "min": lo, "max": hi, "mean": mean, "std": math.sqrt(max(var, 0.0))}


def compress_histogram(h: HistogramValue, bps: Sequence[int] = BASIS_POINTS) -> np.ndarray:
    """The value at each basis point, as TensorBoard's compress_histogram_proto computes it
    (plugins/distribution/compressor.py): linear interpolation of the cumulative bucket weights,
    bucket edges clamped to [min, max], zero-weight buckets skipped, and every basis point past
    the last bucket set to max."""
    counts = np.asarray(h.counts, np.float64)
    nb = len(bps)
    if not h.count or counts.shape[0] == 0:
        return np.zeros(nb)
    limits = np.asarray(h.right, np.float64)
    weights = (counts * bps[-1] / (counts.sum() or 1.0)).cumsum()
    prev = np.concatenate(([0.0], weights[:-1]))
    nonzero = np.flatnonzero(weights != prev)
    bp = np.asarray(bps, dtype=np.float64)
    i = np.searchsorted(weights, bp, side="right")
    k = np.searchsorted(nonzero, i, side="left")
    ok = k < nonzero.shape[0]
    # Once a basis point runs past the buckets, TensorBoard stops and fills the rest with max.
    if not ok.all():
        ok[np.argmin(ok) :] = False
    out = np.full(nb, float(h.max))
    if ok.any():
        idx = nonzero[k[ok]]
        cum = weights[idx]
        cprev = prev[idx]
        prev_limit = limits[np.maximum(idx - 1, 0)]
        lhs = np.where((idx == 0) | (cprev == 0), float(h.min), np.maximum(prev_limit, h.min))
        rhs = np.minimum(limits[idx], h.max)
        out[ok] = lhs + (bp[ok] - cprev) * (rhs - lhs) / (cum - cprev)
    return out


def compress_histograms(
    hs: Sequence[HistogramValue], bps: Sequence[int] = BASIS_POINTS
) -> np.ndarray:
    """`compress_histogram` of every histogram at once: a (len(hs), len(bps)) array.

    The histograms are padded to a common bucket count (zero counts, never chosen) and every
    step of TensorBoard's search is done with whole-array operations.
    """
    n = len(hs)
    nb = len(bps)
    if n == 0:
        return np.zeros((0, nb))
    width = max((np.asarray(h.counts).shape[0] for h in hs), default=0)
    if width == 0:
        return np.zeros((n, nb))
    counts = np.zeros((n, width))
    limits = np.zeros((n, width))
    for r, h in enumerate(hs):
        k = np.asarray(h.counts).shape[0]
        counts[r, :k] = h.counts
        limits[r, :k] = h.right
    hmin = np.array([float(h.min) for h in hs])
    hmax = np.array([float(h.max) for h in hs])
    empty = np.array([not h.count for h in hs]) | (counts.sum(axis=1) == 0)
    total = counts.sum(axis=1)
    total[total == 0] = 1.0
    weights = (counts * bps[-1] / total[:, None]).cumsum(axis=1)
    prev = np.zeros_like(weights)
    prev[:, 1:] = weights[:, :-1]
    bp = np.asarray(bps, dtype=np.float64)
    # searchsorted(weights, bp, side="right") per row = how many weights are <= bp.
    i = (weights[:, :, None] <= bp[None, None, :]).sum(axis=1)  # (n, nb)
    # The first bucket at or after i whose weight differs from the previous one.
    cols = np.arange(width)
    marked = np.where(weights != prev, cols[None, :], width)
    next_nz = np.full((n, width + 1), width, dtype=np.int64)
    next_nz[:, :width] = np.minimum.accumulate(marked[:, ::-1], axis=1)[:, ::-1]
    j = np.take_along_axis(next_nz, i, axis=1)  # (n, nb); width = past the end
    ok = j < width
    # Once one basis point runs past the buckets, TensorBoard fills the rest with max.
    ok = np.cumprod(ok, axis=1).astype(bool)
    jj = np.minimum(j, width - 1)
    cum = np.take_along_axis(weights, jj, axis=1)
    cprev = np.take_along_axis(prev, jj, axis=1)
    prev_limit = np.take_along_axis(limits, np.maximum(jj - 1, 0), axis=1)
    lhs = np.where((jj == 0) | (cprev == 0), hmin[:, None], np.maximum(prev_limit, hmin[:, None]))
    rhs = np.minimum(np.take_along_axis(limits, jj, axis=1), hmax[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        value = lhs + (bp[None, :] - cprev) * (rhs - lhs) / (cum - cprev)
    out = np.where(ok, value, hmax[:, None])
    out[empty] = 0.0
    return out


def rebin(h: HistogramValue, lo: float, hi: float, columns: int) -> np.ndarray:
    """Counts of `h` spread over `columns` equal bins of [lo, hi], assuming a uniform density
    inside each bucket (a zero-width bucket lands whole in the bin holding it)."""
    counts = np.asarray(h.counts, np.float64)
    if columns <= 0:
        return np.zeros(0)
    if counts.shape[0] == 0 or hi <= lo:
        out = np.zeros(columns)
        out[columns // 2] = counts.sum()
        return out
    left, right = _clamped_edges(h)
    edges = lo + (hi - lo) * np.arange(columns + 1) / columns
    width = right - left
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = np.clip((edges[None, :] - left[:, None]) / width[:, None], 0.0, 1.0)
    zero = width <= 0
    if zero.any():
        frac[zero] = (edges[None, :] > left[zero, None]).astype(np.float64)
        frac[zero, -1] = 1.0
    cdf = counts @ frac
    cdf[0] = 0.0
    return np.diff(cdf)


def _eighth_columns(level: np.ndarray, rows: int) -> np.ndarray:
    """Code points (rows x len(level)) of vertical bars `level` eighths tall, bottom aligned."""
    r = np.arange(rows - 1, -1, -1)[:, None]  # row 0 is the top: it holds eighths 8*(rows-1)...
    k = np.clip(level[None, :] - 8 * r, 0, 8)
    return _EIGHTHS[k]


def histogram_bars(h: HistogramValue, width: int, height: int, theme: Theme, color: str) -> Text:
    """One step's histogram as vertical bars, exactly `height` lines of `width` cells: count
    ticks on the left, value ticks along the bottom."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    canvas = Canvas(width, height)
    axes = height >= 3 and width >= 16
    rows = height - 1 if axes else height
    lo, hi = _value_range(h)
    lo, hi = _widen_flat(lo, hi)
    # Count ticks depend on the re-binned peak, which depends on the plot width left after
    # the labels: guess the label width, and re-bin once more if the guess was wrong.
    label_w = 0
    ticks: list[float] = []
    labels: list[str] = []
    binned = rebin(h, lo, hi, width)
    if axes:
        for guess in (3, None):
            cols = width - (guess if guess is not None else label_w) - 1
            binned = rebin(h, lo, hi, cols)
            peak = float(binned.max()) if binned.shape[0] else 0.0
            ticks, labels = value_ticks(0.0, peak if peak > 0 else 1.0, rows)
            label_w = min(max((len(s) for s in labels), default=1), 8)
            if label_w == guess:
                break
    left = label_w + 1 if axes else 0
    cols = width - left
    if binned.shape[0] != cols:  # the second guess moved the label width again
        binned = rebin(h, lo, hi, cols)
        if axes:
            peak = float(binned.max()) if binned.shape[0] else 0.0
            ticks, labels = value_ticks(0.0, peak if peak > 0 else 1.0, rows)
    peak = float(binned.max()) if binned.shape[0] else 0.0
    y_top = max(peak, 1e-300)
    level = np.rint(binned / y_top * rows * 8).astype(np.int64)
    level[(binned > 0) & (level == 0)] = 1
    codes = _eighth_columns(level, rows)
    sid = canvas.style(color)
    canvas.codes[:rows, left:] = codes
    canvas.style_ids[:rows, left:] = np.where(codes != 0x20, sid, 0)
    if axes:
        tick_rows = [rows - 1 - min(rows - 1, int(t / y_top * rows)) for t in ticks]
        _, text_sid = draw_y_axis(canvas, rows, label_w, tick_rows, labels, theme.axis, theme.faint)
        xt, xl = x_ticks(lo, hi, cols, "step")
        positions = [left + min(cols - 1, int((t - lo) / (hi - lo) * cols)) for t in xt]
        for col, lab in place_labels(positions, xl, 0, width):
            canvas.put(rows, col, lab, text_sid)
    return canvas.to_text(theme.color)


def _hist_x(hs: Sequence[HistogramValue], x_mode: str) -> np.ndarray:
    if x_mode == "wall":
        return np.array([h.wall_time for h in hs], dtype=np.float64)
    if x_mode == "relative":
        w = np.array([h.wall_time for h in hs], dtype=np.float64)
        return w - w[0]
    return np.array([h.step for h in hs], dtype=np.float64)


def distribution_chart(
    hs: Sequence[HistogramValue],
    width: int,
    height: int,
    theme: Theme,
    color: str,
    x_mode: str = "step",
) -> Text:
    """TensorBoard's distribution view: the basis-point percentiles of every step as nested
    shaded bands (░ all, ▒ 7-93%, ▓ 16-84%, █ 31-69%) with the median as a bold ━ line."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    canvas = Canvas(width, height)
    if not hs:
        return canvas.to_text(theme.color)
    axes = height >= 4 and width >= 16
    rows = height - 1 if axes else height
    pct = compress_histograms(hs)  # (steps, 9)
    xs = _hist_x(hs, x_mode)
    order = np.argsort(xs, kind="stable")
    xs = xs[order]
    pct = pct[order]
    finite = pct[np.isfinite(pct)]
    y_lo = float(finite.min()) if finite.shape[0] else 0.0
    y_hi = float(finite.max()) if finite.shape[0] else 1.0
    y_lo, y_hi = _widen_flat(y_lo, y_hi)
    label_w = 0
    yt: list[float] = []
    yl: list[str] = []
    if axes:
        yt, yl = value_ticks(y_lo, y_hi, rows)
        label_w = min(max((len(s) for s in yl), default=1), 8)
    left = label_w + 1 if axes else 0
    cols = width - left
    x_lo, x_hi = float(xs[0]), float(xs[-1])
    if x_hi > x_lo:
        right_edges = x_lo + (x_hi - x_lo) * (np.arange(1, cols + 1) / cols)
        pick = np.searchsorted(xs, right_edges + 1e-9 * (x_hi - x_lo), side="right") - 1
        pick = np.clip(pick, 0, len(xs) - 1)
    else:
        pick = np.full(cols, len(xs) - 1)
    sel = pct[pick]  # (cols, 9)
    # Cell row r covers values [top_r - cell, top_r]; row 0 is the top.
    cell = (y_hi - y_lo) / rows
    row_hi = y_hi - cell * np.arange(rows)
    row_lo = row_hi - cell
    codes = np.full((rows, cols), 0x20, dtype=np.uint32)
    shade = np.full((rows, cols), -1, dtype=np.int64)
    for band in range(4):
        b_lo = sel[:, band][None, :]
        b_hi = sel[:, 8 - band][None, :]
        overlap = (b_lo <= row_hi[:, None]) & (b_hi >= row_lo[:, None])
        shade[overlap] = band
    shade_codes = np.array([ord(c) for c in _SHADES], dtype=np.uint32)
    has = shade >= 0
    codes[has] = shade_codes[shade[has]]
    median = sel[:, 4]
    med_row = np.clip(((y_hi - median) / cell).astype(np.int64), 0, rows - 1)
    ok = np.isfinite(median)
    med_cols = np.flatnonzero(ok)
    codes[med_row[ok], med_cols] = ord(_MEDIAN)
    band_sid = canvas.style(color)
    med_sid = canvas.style(f"bold {color}")
    canvas.codes[:rows, left:] = codes
    canvas.style_ids[:rows, left:] = np.where(has, band_sid, 0)
    canvas.style_ids[med_row[ok], left + med_cols] = med_sid
    if axes:
        tick_rows = [min(rows - 1, max(0, int((y_hi - t) / cell))) for t in yt]
        _, text_sid = draw_y_axis(canvas, rows, label_w, tick_rows, yl, theme.axis, theme.faint)
        if x_hi > x_lo:
            xt, xl = x_ticks(x_lo, x_hi, cols, x_mode)
            positions = [left + min(cols - 1, int((t - x_lo) / (x_hi - x_lo) * cols)) for t in xt]
        else:
            _, xl = x_ticks(x_lo, x_lo, cols, x_mode)
            positions = [left + cols // 2]
        for col, lab in place_labels(positions, xl, 0, width):
            canvas.put(rows, col, lab, text_sid)
    return canvas.to_text(theme.color)


def ridge_chart(
    hs: Sequence[HistogramValue],
    width: int,
    height: int,
    theme: Theme,
    color: str,
    max_ridges: int = 6,
) -> Text:
    """TensorBoard's offset view: up to `max_ridges` steps (evenly spaced, always the last) as
    stacked density ridges, older ones higher and behind, newer ones lower and in front (a ridge
    hides what is behind it). Step labels on the left, value ticks along the bottom."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    canvas = Canvas(width, height)
    if not hs:
        return canvas.to_text(theme.color)
    n = len(hs)
    if n <= max_ridges:
        chosen = list(hs)
    else:
        idx = np.unique(np.rint(np.linspace(0, n - 1, max(1, max_ridges))).astype(np.int64))
        chosen = [hs[int(i)] for i in idx]
    axes = height >= 4 and width >= 16
    rows = height - 1 if axes else height
    ranges = [_value_range(h) for h in chosen]
    lo = min(r[0] for r in ranges)
    hi = max(r[1] for r in ranges)
    lo, hi = _widen_flat(lo, hi)
    step_labels = unique_labels([float(h.step) for h in chosen]) if axes else []
    label_w = min(max((len(s) for s in step_labels), default=0), 8) if axes else 0
    left = label_w + 1 if axes else 0
    cols = width - left
    dots_w, dots_h = cols * 2, rows * 4
    # Densities per cell column, interpolated to dot columns: bucket-level noise of writers'
    # fine bins would otherwise turn every ridge into a comb.
    cell_x = (np.arange(cols) + 0.5) * 2.0 - 0.5
    dot_x = np.arange(dots_w, dtype=np.float64)
    dens = np.array([np.interp(dot_x, cell_x, rebin(h, lo, hi, cols)) for h in chosen])
    peak = float(dens.max()) if dens.size else 0.0
    r_count = len(chosen)
    # Each ridge may rise 2.5 spacings above its baseline: some overlap, as TensorBoard's.
    if r_count > 1:
        spacing = (dots_h - 1) / (r_count - 1 + 2.5)
        amp = 2.5 * spacing
    else:
        spacing, amp = 0.0, float(dots_h - 1)
    base = amp + spacing * np.arange(r_count)
    rr = np.arange(dots_h)[:, None]
    layers: list[np.ndarray] = []
    for k in range(r_count):
        curve = base[k] - (dens[k] / peak * amp if peak > 0 else np.zeros(dots_w))
        # Everything behind, between this ridge's curve and its baseline, is hidden.
        hidden = (rr > curve[None, :] + 0.5) & (rr <= base[k] + 0.5)
        for m in layers:
            m &= ~hidden
        xi, yi = rasterize(np.arange(dots_w, dtype=np.float64), curve, dots_w, dots_h)
        m = np.zeros((dots_h, dots_w), dtype=bool)
        m[yi, xi] = True
        layers.append(m)
    owner = np.zeros((rows, cols), dtype=np.int32)
    allbits = np.zeros((rows, cols), dtype=np.uint8)
    for k, m in enumerate(layers):
        yi, xi = np.nonzero(m)
        bits = braille_bits(xi, yi, cols, rows)
        style = (
            f"bold {color}" if k == r_count - 1 else (f"dim {color}" if k < r_count / 2 else color)
        )
        owner[bits != 0] = canvas.style(style)
        allbits |= bits
    canvas.codes[:rows, left:] = np.where(
        allbits != 0, BRAILLE_BASE + allbits.astype(np.uint32), 0x20
    )
    canvas.style_ids[:rows, left:] = np.where(allbits != 0, owner, 0)
    if axes:
        text_sid = canvas.style(theme.faint)
        used: set[int] = set()
        for k, lab in enumerate(step_labels):
            row = min(rows - 1, int(base[k]) >> 2)
            if row in used:
                continue
            used.add(row)
            lab = lab[:label_w]
            canvas.put(row, label_w - len(lab), lab, text_sid)
        xt, xl = x_ticks(lo, hi, cols, "step")
        positions = [left + min(cols - 1, int((t - lo) / (hi - lo) * cols)) for t in xt]
        for col, lab in place_labels(positions, xl, 0, width):
            canvas.put(rows, col, lab, text_sid)
    return canvas.to_text(theme.color)
