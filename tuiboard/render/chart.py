"""Line charts of scalar series in braille (2x4 dots per cell), drawn with numpy.

Owns: `ChartSeries`, `ChartOptions`, `render_chart` (layout, ranges, ticks, markers; the dots
themselves come from raster.py), and `draw_chart` / `ChartFrame`: the same picture without its
cursor plus where the plot sits, so a widget moving a cursor repaints one column instead of
redrawing every series (`frame.text(cursor_x)`), and maps a mouse column to x (`frame.x_at`).
Must not import: textual, tuiboard.ui.

Pipeline: the y range comes from the finite values inside the x range (or their 5th-95th
percentiles); then each layer (a run's faint raw line, then its line) is reduced to the first,
lowest, highest and last point of each dot column of the plot (the rasteriser's own columns, so
spikes, extremes and the last point are drawn exactly as the full series would be), and every
layer is rasterised at once by raster.draw_layers, where the layer drawn later owns a shared
cell's colour (raw lines first, then the lines, in series order, pinned ones last and bold). A
series' band (margin charts) is filled by raster.band_bits into the cells no line touches, in a
dim colour, and counts in the y range. A series' mark goes on its last visible point; NaN/inf
points are marked separately at their x, over everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Text

from tuiboard.render.axes import draw_x_axis, draw_y_axis, value_ticks, x_ticks
from tuiboard.render.canvas import BLANK, Canvas, fit_text, join_lines
from tuiboard.render.raster import BRAILLE_BASE, band_bits, draw_layers
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

PIN_MARK = "◆"
NAN_MARK = "×"
POS_INF_MARK = "▲"
NEG_INF_MARK = "▼"
_EMPTY = np.empty(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """One run's line in a chart."""

    label: str
    """Untrusted run name (only ever shown through `clean`)."""
    color: str
    """Rich colour string of the line."""
    x: np.ndarray
    """float64, sorted ascending (the caller sorts)."""
    y: np.ndarray
    """float64 values drawn as the line (smoothed when smoothing is on); may hold NaN/inf."""
    raw_y: np.ndarray | None = None
    """Unsmoothed values, drawn faint under `y`, or None."""
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    """A band (margin charts): the area between these two curves (same x) is filled with dim
    dots under every line; both or neither. They count in the y range."""
    mark: str = ""
    """One single-cell character drawn on the last visible point of `y` (which of a run's
    several lines this is, as TensorBoard's per-series symbols), or ""."""
    pinned: bool = False
    """The user pinned the run: its line is drawn after (over) every unpinned one, in bold,
    with PIN_MARK on its last point when it has no mark of its own."""


@dataclass(frozen=True, slots=True)
class ChartOptions:
    """How to draw a chart; every field has a default."""

    title: str = ""
    """Untrusted (a tag); cleaned and cut to the width."""
    log_y: bool = False
    """Log10 y axis; values <= 0 are left out."""
    ignore_outliers: bool = False
    """Y range from the 5th-95th percentiles of the visible values (TensorBoard's option)."""
    x_mode: str = "step"
    """"step" | "relative" (x in seconds since start, labelled 1m30s) | "wall" (unix time) |
    any other name: numbers, ticked as steps are ("metric": a step metric's values)."""
    x_label: str = ""
    """Untrusted (a tag: a step metric's name): written at the right end of the x tick labels'
    row, the ticks placed left of it ("" = none)."""
    x_range: tuple[float, float] | None = None
    """Zoomed x range in data units; None = the full extent of the series."""
    cursor_x: float | None = None
    """Where to draw the vertical cursor line, in data units."""
    show_axes: bool = True
    """Y tick labels on the left and x tick labels at the bottom (when the size allows)."""


@dataclass(slots=True)
class _Prepared:
    x: np.ndarray
    y: np.ndarray
    raw: np.ndarray | None
    color: str
    orig: np.ndarray
    """The untransformed y: NaN/inf markers come from it (log_y turns values <= 0 into NaN,
    which are left out, not marked)."""
    band: tuple[np.ndarray, np.ndarray] | None = None
    """(lower, upper), transformed like y."""
    mark: str = ""


def _transform(y: np.ndarray, log_y: bool) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if not log_y:
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.where(y > 0, y, np.nan))
    # +inf stays +inf (marked), non-positive values become NaN (left out, not marked).
    return out


def _x_extent(series: Sequence[ChartSeries]) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for s in series:
        if s.x.shape[0]:
            lo = min(lo, float(s.x[0]))
            hi = max(hi, float(s.x[-1]))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return lo, hi


def _visible(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> np.ndarray:
    i0 = int(np.searchsorted(x, lo, side="left"))
    i1 = int(np.searchsorted(x, hi, side="right"))
    v = y[i0:i1]
    return v[np.isfinite(v)]


def _finite_extent(v: np.ndarray) -> tuple[float, float] | None:
    if v.shape[0] == 0:
        return None
    if not np.isfinite(v).all():
        v = v[np.isfinite(v)]
        if v.shape[0] == 0:
            return None
    return float(v.min()), float(v.max())


def _y_range(
    layers: list[tuple[np.ndarray, np.ndarray]], x_lo: float, x_hi: float, outliers: bool
) -> tuple[float, float] | None:
    """The y extent of the finite values inside [x_lo, x_hi] (TensorBoard's "ignore outliers":
    their 5th to 95th percentile)."""
    if outliers:
        parts = [_visible(lx, ly, x_lo, x_hi) for lx, ly in layers]
        parts = [v for v in parts if v.shape[0]]
        if not parts:
            return None
        lo, hi = np.percentile(np.concatenate(parts), [5.0, 95.0])
        return float(lo), float(hi)
    extents = []
    for lx, ly in layers:
        i0 = int(np.searchsorted(lx, x_lo, side="left"))
        i1 = int(np.searchsorted(lx, x_hi, side="right"))
        e = _finite_extent(ly[i0:i1])
        if e is not None:
            extents.append(e)
    if not extents:
        return None
    return min(e[0] for e in extents), max(e[1] for e in extents)


def _column_points(
    x: np.ndarray, y: np.ndarray, x_lo: float, sx: float, dots_w: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of a layer that land on the plot's dot columns, reduced to the first, lowest,
    highest and last of each column. Columns here are exactly the rasteriser's (dot c holds
    x mapped to [c - 0.5, c + 0.5)), so the drawn dots are those of the full series. This is
    the charts' min/max downsampling; the positions of the lowest and highest points are not
    searched for, since the rasteriser only needs their column."""
    lo_edge = x_lo - 0.5 / sx
    hi_edge = x_lo + (dots_w - 0.5) / sx
    i0 = int(np.searchsorted(x, lo_edge, side="left"))
    i1 = int(np.searchsorted(x, hi_edge, side="left"))
    xs = x[i0:i1]
    ys = y[i0:i1]
    if not np.isfinite(ys).all():
        ok = np.isfinite(ys)
        xs = xs[ok]
        ys = ys[ok]
    n = xs.shape[0]
    if n <= 4 * dots_w:
        return xs, ys
    edges = x_lo + (np.arange(1, dots_w, dtype=np.float64) - 0.5) / sx
    bounds = np.empty(dots_w + 1, dtype=np.int64)
    bounds[0] = 0
    bounds[-1] = n
    bounds[1:-1] = np.searchsorted(xs, edges, side="left")
    starts = bounds[:-1]
    ends = bounds[1:] - 1
    nonempty = ends >= starts
    if not nonempty.all():
        starts = starts[nonempty]
        ends = ends[nonempty]
    px = np.empty((starts.shape[0], 4))
    py = np.empty((starts.shape[0], 4))
    px[:, 0] = xs[starts]
    # The lowest and highest points sit at their column's centre: inside it whatever rounding
    # does at its edges (their order against first/last does not matter within a column).
    px[:, 1] = px[:, 2] = x_lo + np.flatnonzero(nonempty) / sx
    px[:, 3] = xs[ends]
    py[:, 0] = ys[starts]
    py[:, 1] = np.minimum.reduceat(ys, starts)
    py[:, 2] = np.maximum.reduceat(ys, starts)
    py[:, 3] = ys[ends]
    return px.reshape(-1), py.reshape(-1)


def _pad_range(lo: float, hi: float, log_y: bool) -> tuple[float, float]:
    """A drawable range: a flat series (or one flatter than float64 can resolve) gets a band
    around its value; a tiny value (denormal) counts as 0."""
    span = hi - lo
    if span > 1e-300 and span > max(abs(lo), abs(hi)) * 1e-12 and math.isfinite(span):
        return lo, hi
    mid = lo + span / 2 if math.isfinite(span) else lo
    if log_y:
        return mid - 0.5, mid + 0.5
    d = abs(mid) * 0.1 if abs(mid) > 1e-290 else 1.0
    return mid - d, mid + d


def _neighbours(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """Index of the last finite point before `lo` and the first after `hi` (-1 if none), so
    lines run to the edges of a zoomed chart."""
    i0 = int(np.searchsorted(x, lo, side="left"))
    i1 = int(np.searchsorted(x, hi, side="right"))
    before = -1
    if i0 > 0:
        idx = np.flatnonzero(np.isfinite(y[max(0, i0 - 64) : i0]))
        if idx.shape[0]:
            before = max(0, i0 - 64) + int(idx[-1])
    after = -1
    if i1 < x.shape[0]:
        idx = np.flatnonzero(np.isfinite(y[i1 : i1 + 64]))
        if idx.shape[0]:
            after = i1 + int(idx[0])
    return before, after


def _with_neighbours(
    x: np.ndarray, y: np.ndarray, xs: np.ndarray, ys: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """The downsampled points plus the nearest finite points outside [lo, hi], so lines run
    to the edges of a zoomed chart (the rasteriser clips them)."""
    before, after = _neighbours(x, y, lo, hi)
    if before < 0 and after < 0:
        return xs, ys
    pre_x = x[before : before + 1] if before >= 0 else _EMPTY
    pre_y = y[before : before + 1] if before >= 0 else _EMPTY
    post_x = x[after : after + 1] if after >= 0 else _EMPTY
    post_y = y[after : after + 1] if after >= 0 else _EMPTY
    return np.concatenate((pre_x, xs, post_x)), np.concatenate((pre_y, ys, post_y))


@dataclass(frozen=True, slots=True)
class ChartFrame:
    """A drawn chart without its cursor, and where its plot sits.

    Invariant: `canvas` is never written after `draw_chart` returns (`text` paints the cursor
    on a copy), so one frame serves every cursor position.
    """

    title_line: Text | None
    """The title cut to the width; None when the chart has no cells at all."""
    canvas: Canvas | None
    """The body (plot, axes, labels); None when the chart is a title line or nothing."""
    color: bool
    left: int = 0
    """First cell column of the plot in the body (after the y labels and the axis column)."""
    plot_cols: int = 0
    plot_rows: int = 0
    """The plot's cells: body rows [0, plot_rows), columns [left, left + plot_cols)."""
    x_lo: float = 0.0
    x_hi: float = 1.0
    """The x range mapped onto the plot's dot columns 0 .. 2 * plot_cols - 1."""
    cursor_style: str = ""

    def column_of(self, x: float) -> int | None:
        """The plot cell column (0-based) holding x, or None when x is outside the range."""
        if self.plot_cols <= 0 or not (self.x_lo <= x <= self.x_hi):
            return None
        dots_w = self.plot_cols * 2
        return round((x - self.x_lo) / (self.x_hi - self.x_lo) * (dots_w - 1)) >> 1

    def x_at(self, col: int) -> float:
        """x at the centre of plot cell column `col` (its two dot columns' middle)."""
        dots_w = self.plot_cols * 2
        if dots_w <= 1:
            return self.x_lo
        return self.x_lo + (2 * col + 0.5) * (self.x_hi - self.x_lo) / (dots_w - 1)

    def text(self, cursor_x: float | None = None) -> Text:
        """The chart as Text, with a vertical cursor line at `cursor_x` through the empty cells
        of its column (drawn points and NaN/inf marks stay on top)."""
        if self.title_line is None:
            return Text("", no_wrap=True, overflow="crop")
        if self.canvas is None:
            return join_lines([self.title_line])
        canvas = self.canvas
        c = None if cursor_x is None else self.column_of(cursor_x)
        if c is not None:
            canvas = _copy(self.canvas)
            col = self.left + c
            cells = canvas.codes[: self.plot_rows, col]
            empty = cells == BLANK
            cells[empty] = ord("│")
            canvas.style_ids[: self.plot_rows, col][empty] = canvas.style(self.cursor_style)
        return join_lines([self.title_line, canvas.to_text(self.color)])


def _copy(canvas: Canvas) -> Canvas:
    out = Canvas(0, 0)
    out.width, out.height = canvas.width, canvas.height
    out.codes = canvas.codes.copy()
    out.style_ids = canvas.style_ids.copy()
    out.styles = list(canvas.styles)
    return out


def render_chart(
    series: Sequence[ChartSeries], opts: ChartOptions, width: int, height: int, theme: Theme
) -> Text:
    """The chart as exactly `height` lines of exactly `width` cells (empty Text if either is 0).

    Line 1 is the title; then the braille plot with y tick labels on the left and x tick labels
    at the bottom. NaN/inf points are marked in the top (NaN ×, +inf ▲) or bottom (-inf ▼) row
    at their x and never affect the y range. A cursor (`opts.cursor_x`) is a vertical line
    through the empty cells of its column.
    """
    return draw_chart(series, opts, width, height, theme).text(opts.cursor_x)


def draw_chart(
    series: Sequence[ChartSeries], opts: ChartOptions, width: int, height: int, theme: Theme
) -> ChartFrame:
    """The chart of `render_chart` without the cursor (`opts.cursor_x` is ignored)."""
    color = theme.color
    if width <= 0 or height <= 0:
        return ChartFrame(None, None, color)
    title = Text(clean(opts.title), style=f"bold {theme.text}" if color else "")
    title_line = fit_text(title, width)
    if height == 1:
        return ChartFrame(title_line, None, color)
    body_h = height - 1
    canvas = Canvas(width, body_h)

    log_y = opts.log_y
    series = sorted(series, key=lambda s: s.pinned)  # stable: pinned lines last, on top
    prepared = [
        _Prepared(
            np.asarray(s.x, dtype=np.float64),
            _transform(s.y, log_y),
            None if s.raw_y is None else _transform(s.raw_y, log_y),
            f"bold {s.color}" if s.pinned and color else s.color,
            np.asarray(s.y, dtype=np.float64),
            None
            if s.lower is None or s.upper is None
            else (_transform(s.lower, log_y), _transform(s.upper, log_y)),
            s.mark or (PIN_MARK if s.pinned else ""),
        )
        for s in series
    ]
    extent = opts.x_range if opts.x_range is not None else _x_extent(series)
    if extent is None:
        x_lo, x_hi = 0.0, 1.0
    else:
        x_lo, x_hi = float(extent[0]), float(extent[1])
        if x_hi < x_lo:
            x_lo, x_hi = x_hi, x_lo
        if x_hi == x_lo:
            x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    # Layers: raw lines (faint) first, then the lines, in series order: later ones own a cell.
    layer_data: list[tuple[np.ndarray, np.ndarray]] = []
    layer_styles: list[str] = []
    for p in prepared:
        if p.raw is not None:
            layer_data.append((p.x, p.raw))
            layer_styles.append(f"dim {p.color.removeprefix('bold ')}")
    for p in prepared:
        layer_data.append((p.x, p.y))
        layer_styles.append(p.color)
    bands = [(p.x, p.band, p.color.removeprefix("bold ")) for p in prepared if p.band is not None]
    range_data = layer_data + [(bx, b) for bx, band, _ in bands for b in band]
    yr = _y_range(range_data, x_lo, x_hi, opts.ignore_outliers)
    if yr is None:
        y_lo, y_hi = (0.0, 1.0)
    else:
        y_lo, y_hi = _pad_range(yr[0], yr[1], log_y)

    # Layout: [y labels][axis column][plot], then optionally an x axis line and an x label row.
    axes = opts.show_axes and body_h >= 3 and width >= 16
    x_axis_line = axes and body_h >= 8
    plot_rows = body_h - (1 + int(x_axis_line) if axes else 0)
    y_ticks: list[float] = []
    y_labels: list[str] = []
    label_w = 0
    if axes:
        y_ticks, y_labels = value_ticks(y_lo, y_hi, plot_rows, log_y)
        label_w = min(max((len(s) for s in y_labels), default=1), 10)
    left = label_w + 1 if axes else 0
    plot_cols = width - left
    dots_w = plot_cols * 2
    dots_h = plot_rows * 4

    sx = (dots_w - 1) / (x_hi - x_lo)
    lines = []
    for lx, ly in layer_data:
        xs, ys = _column_points(lx, ly, x_lo, sx, dots_w)
        lines.append(_with_neighbours(lx, ly, xs, ys, x_lo, x_hi))
    faint = sum(1 for p in prepared if p.raw is not None)
    allbits, owner = draw_layers(lines, x_lo, x_hi, y_lo, y_hi, plot_cols, plot_rows, under=faint)
    style_of_layer = np.array([0] + [canvas.style(st) for st in layer_styles], dtype=np.int32)
    owner = style_of_layer[owner]
    line_cells = allbits != 0
    for bx, (lower, upper), colour in bands:
        # A band goes under every line: only cells no line touches show it (a later band wins).
        fill = band_bits(bx, lower, upper, x_lo, x_hi, y_lo, y_hi, plot_cols, plot_rows)
        take = (fill != 0) & ~line_cells
        if take.any():
            owner = np.where(take, canvas.style(f"dim {colour}"), owner)
            allbits = np.where(take, fill, allbits)
    plot_codes = np.where(allbits != 0, BRAILLE_BASE + allbits.astype(np.uint32), 0x20)
    plot_styles = np.where(allbits != 0, owner, 0)

    for p in prepared:
        if p.mark:
            _mark_last(p, x_lo, x_hi, y_lo, y_hi, sx, plot_codes, plot_styles, canvas)

    # NaN / inf markers at their x, over whatever is drawn there.
    nan_sid = canvas.style(f"bold {theme.nan}")
    for p in prepared:
        _mark_nonfinite(p, x_lo, x_hi, sx, plot_rows, plot_codes, plot_styles, nan_sid)

    canvas.codes[:plot_rows, left:] = plot_codes
    canvas.style_ids[:plot_rows, left:] = plot_styles

    if axes:
        y_scale = (dots_h - 1) / (y_hi - y_lo)
        tick_rows = [round((y_hi - t) * y_scale) >> 2 for t in y_ticks]
        axis_sid, text_sid = draw_y_axis(
            canvas, plot_rows, label_w, tick_rows, y_labels, theme.axis, theme.faint
        )
        xt, xl = x_ticks(x_lo, x_hi, plot_cols, opts.x_mode)
        tick_cols = [left + (round((t - x_lo) * sx) >> 1) for t in xt]
        draw_x_axis(
            canvas,
            plot_rows,
            label_w,
            left,
            width,
            tick_cols,
            xl,
            x_axis_line,
            axis_sid,
            text_sid,
            name=clean(opts.x_label),
            name_sid=canvas.style(f"italic {theme.text}") if color else text_sid,
        )

    return ChartFrame(
        title_line,
        canvas,
        color,
        left=left,
        plot_cols=plot_cols,
        plot_rows=plot_rows,
        x_lo=x_lo,
        x_hi=x_hi,
        cursor_style=theme.cursor,
    )


def _mark_nonfinite(
    p: _Prepared,
    x_lo: float,
    x_hi: float,
    sx: float,
    plot_rows: int,
    codes: np.ndarray,
    styles: np.ndarray,
    sid: int,
) -> None:
    y = p.orig
    i0 = int(np.searchsorted(p.x, x_lo, side="left"))
    i1 = int(np.searchsorted(p.x, x_hi, side="right"))
    ys = y[i0:i1]
    bad = ~np.isfinite(ys)
    if not bad.any():
        return
    idx = np.flatnonzero(bad)
    vals = ys[idx]
    cols = (np.rint((p.x[i0:i1][idx] - x_lo) * sx).astype(np.int64)) >> 1
    cols = np.clip(cols, 0, codes.shape[1] - 1)
    for mask, row, mark in (
        (vals == np.inf, 0, POS_INF_MARK),
        (vals == -np.inf, plot_rows - 1, NEG_INF_MARK),
        (np.isnan(vals), 0, NAN_MARK),
    ):
        if mask.any():
            c = np.unique(cols[mask])
            codes[row, c] = ord(mark)
            styles[row, c] = sid


def _mark_last(
    p: _Prepared,
    x_lo: float,
    x_hi: float,
    y_lo: float,
    y_hi: float,
    sx: float,
    codes: np.ndarray,
    styles: np.ndarray,
    canvas: Canvas,
) -> None:
    """`p.mark` on the last finite point of the line inside [x_lo, x_hi] and the y range."""
    i0 = int(np.searchsorted(p.x, x_lo, side="left"))
    i1 = int(np.searchsorted(p.x, x_hi, side="right"))
    ys = p.y[i0:i1]
    ok = np.flatnonzero(np.isfinite(ys) & (ys >= y_lo) & (ys <= y_hi))
    if ok.shape[0] == 0:
        return
    k = i0 + int(ok[-1])
    rows, cols = codes.shape
    if rows == 0 or cols == 0:
        return
    sy = (rows * 4 - 1) / (y_hi - y_lo)
    col = min(max(round((float(p.x[k]) - x_lo) * sx) >> 1, 0), cols - 1)
    row = min(max(round((y_hi - float(p.y[k])) * sy) >> 2, 0), rows - 1)
    codes[row, col] = ord(p.mark[0])
    styles[row, col] = canvas.style(f"bold {p.color.removeprefix('bold ')}")
