"""The HParams dashboard's drawings: the sessions table, parallel coordinates and a scatter plot
of one hparam against one metric, plus `tuiboard plot --kind hparams`.

Owns: `hparams_table_text`, `cell_text`, `parallel_coordinates`, `scatter`, `plot_blocks`.
Must not import: textual, tuiboard.ui (render/ is pure: table + size + theme -> Rich Text).

Every run name, hparam name and string value is untrusted: it goes through `clean` into a Text
and is measured in cells (`fit_text`); only our own glyphs (braille, box drawing, digits) are
written into a Canvas. Labels are laid over the canvas' lines afterwards, cell for cell.

Axes: a numeric column is linear over the drawn rows' finite values, logarithmic when asked and
every value is > 0 spanning more than LOG_SPAN times; strings and bools are categories spaced
evenly bottom to top in sorted order ("false" below "true"). A row missing a value has no point
on that axis (its polyline breaks there). Where lines cross, the row drawn later (later in
`rows`) owns the cell's colour.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from tuiboard.core.hparams import NUMBER, Column, HParamsTable, build_table
from tuiboard.render.axes import value_ticks
from tuiboard.render.canvas import BLANK, Canvas, fit_text, join_lines
from tuiboard.render.numbers import fmt_tick, fmt_value
from tuiboard.render.raster import BRAILLE_BASE, braille_bits
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme, run_color

if TYPE_CHECKING:
    from tuiboard.render.plot_request import PlotRequest

Rows = Sequence[int] | np.ndarray
SWATCH = "■"
COLUMN_MAX = 16
"""Widest a table cell gets (longer values and names are cut with an ellipsis)."""
RUN_MAX = 32
GAP = "  "
LOG_SPAN = 100.0
_STATUS_W = 7  # len("running") == len("success") == len("failure") == len("unknown")


def _style(theme: Theme, style: str) -> str:
    return style if theme.color else ""


def _colour(table: HParamsTable, i: int, theme: Theme, colours: Mapping[str, str]) -> str:
    return colours.get(table.rows[i].run) or run_color(theme, i)


def _cut(s: str, width: int, style: str = "") -> Text:
    """Untrusted `s` cleaned, cut with an ellipsis (or padded) to exactly `width` cells."""
    return fit_text(Text(clean(s), style=style), max(width, 0))


def cell_text(col: Column, i: int) -> str:
    """What a table shows for row i of `col`, cleaned: numbers compact (6 significant digits),
    "true"/"false", strings as written; "" when missing."""
    if not col.present[i]:
        return ""
    if col.kind == NUMBER:
        return fmt_value(col.values[i])
    return clean(col.text[i])


# -- the table ----------------------------------------------------------------------------------


def hparams_table_text(
    table: HParamsTable,
    rows: Rows,
    width: int,
    theme: Theme,
    *,
    colours: Mapping[str, str],
    columns: Sequence[str] | None = None,
) -> Text:
    """A header line and one line per row index of `rows` (in that order), each exactly `width`
    cells: a swatch in the run's colour, the run, its status, then `columns` (default: every
    hparam then every metric column). Numbers are right-aligned; what does not fit the width is
    cut with an ellipsis."""
    if width <= 0:
        return Text("", no_wrap=True, overflow="crop")
    cols = list(table.columns) if columns is None else [table.column(c) for c in columns]
    idx = [int(i) for i in rows]
    names = [clean(table.rows[i].run) for i in idx]
    run_w = min(max([3, *(_cells(n) for n in names)]), RUN_MAX, max(8, width // 3))
    cells = [[cell_text(c, i) for i in idx] for c in cols]
    heads = [clean(c.name) for c in cols]
    widths = [
        min(max([_cells(h), *(_cells(s) for s in cs)]), COLUMN_MAX)
        for h, cs in zip(heads, cells, strict=True)
    ]
    # Each line is three plain strings (the swatch and the status carry the only styles), cut
    # to the width once: a Text per cell would cost ten times as much on a 1,000-row table.
    padded = [
        [GAP + _pad(v, w, c.kind == NUMBER) for v in cs]
        for c, w, cs in zip(cols, widths, cells, strict=True)
    ]
    rest = ["".join(parts) for parts in zip(*padded, strict=True)] if cols else [""] * len(idx)
    head_rest = "".join(
        GAP + _pad(h, w, c.kind == NUMBER) for c, h, w in zip(cols, heads, widths, strict=True)
    )
    head = f"  {_pad('run', run_w)}{GAP}{_pad('status', _STATUS_W)}{head_rest}"
    lines = [fit_text(Text(head, style=_style(theme, f"bold {theme.text}")), width)]
    for k, i in enumerate(idx):
        status = table.rows[i].status
        line = Text(no_wrap=True, overflow="crop")
        line.append(SWATCH, style=_style(theme, _colour(table, i, theme, colours)))
        line.append(f" {_pad(names[k], run_w)}{GAP}")
        line.append(_pad(status, _STATUS_W), _style(theme, _status_style(theme, status)))
        line.append(rest[k])
        lines.append(fit_text(line, width))
    return join_lines(lines)


def _status_style(theme: Theme, status: str) -> str:
    return theme.nan if status == "failure" else theme.faint


def _cells(s: str) -> int:
    return len(s) if s.isascii() else cell_len(s)


def _pad(s: str, width: int, right: bool = False) -> str:
    """Clean `s` cut with an ellipsis, or padded (on the left when `right`), to `width` cells."""
    n = _cells(s)
    if n > width:
        if s.isascii():
            return s[: width - 1] + "…" if width > 0 else ""
        return fit_text(Text(s), width).plain
    fill = " " * (width - n)
    return fill + s if right else s + fill


# -- axes ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Axis:
    """Where each drawn row sits on one column's axis."""

    column: Column
    t: np.ndarray
    """float64 in [0, 1] per drawn row (0 bottom, 1 top); NaN where the row has no point."""
    low: str
    high: str
    """Labels of the bottom and top ends (untrusted for categories)."""
    categories: tuple[tuple[float, str], ...] = ()
    """(t, label) of each category, bottom to top; empty for numeric axes."""
    log: bool = False
    lo: float = 0.0
    hi: float = 1.0
    """The numeric range (log10 values when `log`)."""


def _axis(col: Column, idx: np.ndarray, log_ok: bool) -> _Axis:
    if col.kind == NUMBER:
        v = col.values[idx]
        ok = np.isfinite(v)
        if not ok.any():
            return _Axis(col, np.full(idx.shape[0], np.nan), "", "")
        lo, hi = float(v[ok].min()), float(v[ok].max())
        log = log_ok and lo > 0 and hi / lo > LOG_SPAN
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.log10(v) if log else v.copy()
        flo, fhi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        f[~ok] = np.nan
        t = (f - flo) / (fhi - flo) if fhi > flo else np.where(ok, 0.5, np.nan)
        return _Axis(col, t, fmt_tick(lo), fmt_tick(hi), log=log, lo=flo, hi=fhi)
    ranks = col.rank[idx]
    shown = np.unique(ranks[ranks >= 0])
    k = shown.shape[0]
    pos = np.searchsorted(shown, ranks).astype(np.float64)
    t = np.where(ranks >= 0, pos / (k - 1) if k > 1 else 0.5, np.nan)
    spots = [(j / (k - 1) if k > 1 else 0.5, str(col.uniques[r])) for j, r in enumerate(shown)]
    if not spots:
        return _Axis(col, t, "", "")
    return _Axis(col, t, spots[0][1], spots[-1][1], categories=tuple(spots))


def _overlay(line: Text, col: int, label: Text) -> Text:
    """`line` (single-cell characters only, as a canvas row is) with `label` written over it
    from cell `col`, clipped to the line; the line keeps its width in cells."""
    width = len(line.plain)
    room = width - col
    if room <= 0 or col < 0:
        return line
    label = fit_text(label, min(label.cell_len, room))
    out = line[:col]
    out.append_text(label)
    out.append_text(line[col + label.cell_len :])
    return out


def _label_line(
    width: int, slots: list[tuple[int, int, int]], labels: list[str], style: str
) -> Text:
    """One line of untrusted labels, each cut to its slot (centre cell, start, end) and centred
    on its cell within [start, end)."""
    line = Text(" " * width, no_wrap=True, overflow="crop")
    for (centre, start, end), s in zip(slots, labels, strict=True):
        text = Text(clean(s), style=style)
        w = min(text.cell_len, end - start)
        if w <= 0 or (w < 3 and w < text.cell_len):
            continue  # a lone "…" says nothing
        left = min(max(centre - w // 2, start), end - w)
        line = _overlay(line, left, fit_text(text, w))
    return line


def _owner_cells(
    xi: np.ndarray, yi: np.ndarray, who: np.ndarray, cols: int, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """(braille bits, owner) per cell of dots (xi, yi) belonging to drawn rows `who` (0-based);
    the owner is 1 + the highest row index with a dot in the cell, 0 where empty."""
    bits = braille_bits(xi, yi, cols, rows)
    owner = np.zeros(rows * cols, dtype=np.int64)
    if xi.shape[0]:
        np.maximum.at(owner, (yi >> 2) * cols + (xi >> 1), who + 1)
    return bits, owner.reshape(rows, cols)


def _paint(
    canvas: Canvas,
    top: int,
    bits: np.ndarray,
    owner: np.ndarray,
    style_ids: np.ndarray,
    left: int = 0,
) -> None:
    """Braille `bits` into the canvas at (top, left), each lit cell in its owner's style."""
    rows, cols = bits.shape
    lit = bits != 0
    block = canvas.codes[top : top + rows, left : left + cols]
    block[lit] = BRAILLE_BASE + bits[lit].astype(np.uint32)
    sids = canvas.style_ids[top : top + rows, left : left + cols]
    sids[lit] = style_ids[owner[lit]]


def _row_styles(
    canvas: Canvas, table: HParamsTable, idx: np.ndarray, theme: Theme, colours: Mapping[str, str]
) -> np.ndarray:
    """Style id by 1 + drawn row position (entry 0: unstyled)."""
    ids = [0] + [canvas.style(_colour(table, int(i), theme, colours)) for i in idx]
    return np.asarray(ids, dtype=np.int32)


# -- parallel coordinates -----------------------------------------------------------------------


def parallel_coordinates(
    table: HParamsTable,
    rows: Rows,
    columns: Sequence[str],
    width: int,
    height: int,
    theme: Theme,
    colours: Mapping[str, str],
    *,
    log_axes: bool = True,
) -> Text:
    """One vertical axis per column (left to right, each in an equal slot), each row of `rows` a
    braille polyline through its values in its run's colour. Exactly `height` lines of `width`
    cells: the column names, the top labels, the plot, the bottom labels (below 4 lines: the
    names and blank lines). `log_axes`: allow logarithmic numeric axes."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    idx = np.asarray(rows, dtype=np.int64)
    cols = [table.column(c) for c in columns]
    n = len(cols)
    slot = width / max(n, 1)
    starts = [int(slot * a) for a in range(n)]
    ends = [*starts[1:], width] if n else []
    centres = [int(slot * a + slot / 2) for a in range(n)]
    name_style = _style(theme, f"bold {theme.text}")
    label_style = _style(theme, theme.faint)
    slots = list(zip(centres, starts, ends, strict=True))
    names = _label_line(width, slots, [c.name for c in cols], name_style)
    plot_rows = height - 3
    if plot_rows < 1:
        blank = fit_text(Text(""), width)
        return join_lines([names, *[blank] * (height - 1)])
    axes = [_axis(col, idx, log_axes) for col in cols]
    highs = _label_line(width, slots, [ax.high for ax in axes], label_style)
    lows = _label_line(width, slots, [ax.low for ax in axes], label_style)

    canvas = Canvas(width, plot_rows)
    h = plot_rows * 4
    xs = np.array([2 * c for c in centres], dtype=np.float64)
    ys = np.array([(1.0 - ax.t) * (h - 1) for ax in axes]).reshape(n, idx.shape[0])
    dots_x, dots_y, dots_who = _polyline_dots(xs, ys)
    bits, owner = _owner_cells(dots_x, dots_y, dots_who, width, plot_rows)
    _paint(canvas, 0, bits, owner, _row_styles(canvas, table, idx, theme, colours))
    axis_sid = canvas.style(_style(theme, theme.axis))
    for c in centres:
        empty = canvas.codes[:, c] == BLANK
        canvas.codes[empty, c] = ord("│")
        canvas.style_ids[empty, c] = axis_sid
    body = list(canvas.to_text(theme.color).split("\n", allow_blank=True))
    for a, ax in enumerate(axes):
        # Inner categories are labelled beside their axis (the ends are in the label lines).
        for t, label in ax.categories[1:-1]:
            r = round((1.0 - t) * (h - 1)) >> 2
            room = ends[a] - centres[a] - 1
            if room >= 2:
                body[r] = _overlay(body[r], centres[a] + 1, _cut(label, room, label_style))
    return join_lines([names, highs, *body, lows])


def _polyline_dots(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dots of every row's polyline: ys[a, r] is row r's dot row on axis a (NaN: no point),
    xs[a] the axis' dot column. Segments join neighbouring axes where both points exist, sampled
    once per dot crossed; every point is a dot too. Returns (columns, rows, row of each dot)."""
    n_axes, n_rows = ys.shape
    who_pts = np.tile(np.arange(n_rows), n_axes)
    px = np.repeat(xs, n_rows)
    py = ys.reshape(-1)
    ok = np.isfinite(py)
    parts_x = [px[ok]]
    parts_y = [py[ok]]
    parts_w = [who_pts[ok]]
    if n_axes > 1:
        y0 = ys[:-1].reshape(-1)
        y1 = ys[1:].reshape(-1)
        x0 = np.repeat(xs[:-1], n_rows)
        x1 = np.repeat(xs[1:], n_rows)
        who = np.tile(np.arange(n_rows), n_axes - 1)
        both = np.isfinite(y0) & np.isfinite(y1)
        x0, x1, y0, y1, who = x0[both], x1[both], y0[both], y1[both], who[both]
        length = np.ceil(np.maximum(np.abs(x1 - x0), np.abs(y1 - y0))).astype(np.int64) + 1
        seg = np.repeat(np.arange(length.shape[0]), length)
        first = np.cumsum(length) - length
        t = (np.arange(seg.shape[0]) - first[seg]) / np.maximum(length - 1, 1)[seg]
        parts_x.append(x0[seg] + t * (x1 - x0)[seg])
        parts_y.append(y0[seg] + t * (y1 - y0)[seg])
        parts_w.append(who[seg])
    dx = np.rint(np.concatenate(parts_x)).astype(np.int64)
    dy = np.rint(np.concatenate(parts_y)).astype(np.int64)
    return dx, dy, np.concatenate(parts_w)


# -- scatter ------------------------------------------------------------------------------------


def scatter(
    table: HParamsTable,
    rows: Rows,
    x_col: str,
    y_col: str,
    width: int,
    height: int,
    theme: Theme,
    colours: Mapping[str, str],
    *,
    log_axes: bool = True,
) -> Text:
    """`y_col` (a metric) against `x_col` (an hparam): one braille dot per row of `rows` having
    both, in its run's colour. Exactly `height` lines of `width` cells: a title line, then the
    plot with y ticks on the left and, when there is room, an x axis line and x tick labels."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    idx = np.asarray(rows, dtype=np.int64)
    xc, yc = table.column(x_col), table.column(y_col)
    title = _cut(f"{yc.name} vs {xc.name}", width, _style(theme, f"bold {theme.text}"))
    if height == 1:
        return join_lines([title])
    body_h = height - 1
    xa, ya = _axis(xc, idx, log_axes), _axis(yc, idx, log_axes)
    axes = body_h >= 3 and width >= 16
    x_line = axes and body_h >= 6
    plot_rows = body_h - (1 + int(x_line) if axes else 0)
    y_ticks = _ticks(ya, plot_rows) if axes else []
    label_w = min(max((cell_len(clean(s)) for _, s in y_ticks), default=1), 10) if axes else 0
    left = label_w + 1 if axes else 0
    plot_cols = width - left
    canvas = Canvas(width, body_h)
    if plot_cols <= 0:
        return join_lines([title, canvas.to_text(False)])
    w, h = plot_cols * 2, plot_rows * 4
    ok = np.isfinite(xa.t) & np.isfinite(ya.t)
    dx = np.rint(xa.t[ok] * (w - 1)).astype(np.int64)
    dy = np.rint((1.0 - ya.t[ok]) * (h - 1)).astype(np.int64)
    bits, owner = _owner_cells(dx, dy, np.flatnonzero(ok), plot_cols, plot_rows)
    _paint(canvas, 0, bits, owner, _row_styles(canvas, table, idx, theme, colours), left)
    if not axes:
        return join_lines([title, canvas.to_text(theme.color)])

    axis_sid = canvas.style(_style(theme, theme.axis))
    label_style = _style(theme, theme.faint)
    canvas.codes[:plot_rows, label_w] = ord("│")
    canvas.style_ids[:plot_rows, label_w] = axis_sid
    y_rows = [(round((1.0 - t) * (h - 1)) >> 2, s) for t, s in y_ticks]
    for r, _ in y_rows:
        canvas.put(r, label_w, "┤", axis_sid)
    x_ticks = _ticks(xa, max(3, plot_cols * 3 // 10), horizontal=True)
    x_cols = [left + (round(t * (w - 1)) >> 1) for t, _ in x_ticks]
    if x_line:
        canvas.put(plot_rows, label_w, "└" + "─" * plot_cols, axis_sid)
        for c in x_cols:
            canvas.put(plot_rows, c, "┬", axis_sid)
    body = list(canvas.to_text(theme.color).split("\n", allow_blank=True))
    used: set[int] = set()
    for r, s in y_rows:
        if r in used or not 0 <= r < plot_rows:
            continue
        used.add(r)
        text = _cut(s, min(cell_len(clean(s)), label_w), label_style)
        body[r] = _overlay(body[r], label_w - text.cell_len, text)
    label_row = plot_rows + int(x_line)
    next_free = left if x_line else 0
    for c, (_, s) in zip(x_cols, x_ticks, strict=True):
        text = _cut(s, min(cell_len(clean(s)), COLUMN_MAX), label_style)
        lw = text.cell_len
        start = min(max(c - lw // 2, next_free), width - lw)
        if start < next_free or lw > width - next_free:
            continue
        body[label_row] = _overlay(body[label_row], start, text)
        next_free = start + lw + 1
    return join_lines([title, *body])


def _ticks(ax: _Axis, cells: int, horizontal: bool = False) -> list[tuple[float, str]]:
    """(t, label) of an axis' ticks over `cells` rows (or, `horizontal`, about cells / 3 ticks):
    every category, or round values within the numeric range."""
    if ax.categories:
        return list(ax.categories)
    if not ax.low:
        return []
    if ax.hi <= ax.lo:
        return [(0.5, ax.low)]
    ticks, labels = value_ticks(ax.lo, ax.hi, cells, ax.log)
    span = ax.hi - ax.lo
    out = [((v - ax.lo) / span, s) for v, s in zip(ticks, labels, strict=True)]
    return [(t, s) for t, s in out if -1e-6 <= t <= 1 + 1e-6]  # float32 values: 0.7 is 0.69999


# -- tuiboard plot --kind hparams ---------------------------------------------------------------


def _json_number(v: float) -> float | str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def _json_value(v: Any) -> Any:
    if isinstance(v, float):
        return _json_number(v)
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return v


def plot_blocks(req: PlotRequest) -> list[Text]:
    """The hparams table of `req.runs` as one block (metric columns limited to --tags), or with
    `req.as_json` one JSON object a line (`run`, `status`, `hparams`, `metrics`; non-finite
    numbers as "NaN"/"Infinity" strings) in one plain block. No rows: no block."""
    table = build_table(req.runs)
    if not len(table):
        return []
    metrics = [c for c in table.metric_columns if req.tag_ok(c.key)]
    if req.as_json:
        keep = {c.key for c in metrics}
        lines = [
            json.dumps(
                {
                    "run": row.run,
                    "status": row.status,
                    "hparams": _json_value(row.hparams),
                    "metrics": {k: _json_number(v) for k, v in row.metrics.items() if k in keep},
                },
                ensure_ascii=False,
                allow_nan=False,
                default=str,
            )
            for row in table.rows
        ]
        return [Text("\n".join(lines), no_wrap=True, overflow="crop")]
    names = [c.name for c in table.hparam_columns] + [c.name for c in metrics]
    text = hparams_table_text(
        table, range(len(table)), req.width, req.theme, colours=req.colours, columns=names
    )
    return [text]
