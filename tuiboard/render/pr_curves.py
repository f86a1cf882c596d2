"""Precision-recall curves as TensorBoard's pr_curves plugin shows them, in braille.

Owns: `pr_chart` (x recall, y precision, both fixed to [0, 1], a line per run and a marker at
a threshold), `pr_table` (TensorBoard's tooltip as rows: threshold, precision, recall, TP, FP,
TN, FN), `kept_points`, `threshold_index` and `plot_blocks` (`tuiboard plot --kind pr_curves`).
Must not import: textual, tuiboard.ui.

A value is TensorBoard's [6, N] table; threshold i is i / (N - 1). As TensorBoard's
`pr_curves_plugin._process_data_entry` does, trailing thresholds whose TP + FP (each truncated
to an integer) is 0 are dropped (precision is undefined there; at least the first is kept);
non-finite points of a raw curve are left out. Curves are drawn as polylines in threshold
order with `raster.rasterize`, which takes any direction, so a raw curve whose recall does not
fall with the threshold still draws as written; a later curve owns a shared cell's colour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.text import Text

from tuiboard.core.types import PR_CURVES, PrCurveValue
from tuiboard.render.axes import draw_x_axis, draw_y_axis, value_ticks, x_ticks
from tuiboard.render.canvas import Canvas, fit_text, join_lines
from tuiboard.render.numbers import fmt_value
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.raster import BRAILLE_BASE, braille_bits, rasterize
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme, run_color

CURSOR_MARK = "●"
TABLE_COLUMNS = ("threshold", "precision", "recall", "TP", "FP", "TN", "FN")
PLOT_THRESHOLD = 0.5
"""The threshold `plot_blocks` marks and tabulates."""

Curve = tuple[str, str, PrCurveValue]
"""(untrusted label, Rich colour, value)."""


def kept_points(value: PrCurveValue) -> int:
    """How many leading thresholds TensorBoard shows: trailing ones with TP + FP == 0 dropped
    (TP and FP truncated to integers first, as TensorBoard does), at least one kept."""
    n = min(value.num_thresholds, value.tp.shape[0], value.fp.shape[0])
    if n == 0:
        return 0
    positives = np.trunc(value.tp[:n]) + np.trunc(value.fp[:n])
    nonzero = np.flatnonzero(positives != 0)  # NaN counts as nonzero: it is not "TP+FP = 0"
    return int(nonzero[-1]) + 1 if nonzero.shape[0] else 1


def threshold_index(value: PrCurveValue, threshold: float) -> int:
    """The index of the threshold nearest `threshold` (thresholds are i / (N - 1))."""
    n = value.num_thresholds
    return 0 if n <= 1 else min(max(round(threshold * (n - 1)), 0), n - 1)


def threshold_at(value: PrCurveValue, index: int) -> float:
    n = value.num_thresholds
    return 0.0 if n <= 1 else index / (n - 1)


def _indexes(index: int | Sequence[int] | None, n: int) -> list[int | None]:
    if index is None or isinstance(index, int):
        return [index] * n
    out: list[int | None] = list(index)
    if len(out) != n:
        raise ValueError(f"{len(out)} indexes for {n} curves")
    return out


def pr_chart(
    curves: Sequence[Curve],
    width: int,
    height: int,
    theme: Theme,
    *,
    cursor: int | Sequence[int] | None = None,
    title: str = "",
) -> Text:
    """The curves as exactly `height` lines of exactly `width` cells (empty Text if either is
    0): a title line when `title` (untrusted) is given, then the plot with y ticks on the left
    and x ticks below, both axes fixed to [0, 1]. `cursor` (one threshold index for every
    curve, or one per curve) puts a ● on each curve at that threshold, in its colour; a curve
    whose point there was dropped (TP + FP = 0) or is not finite gets none."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    color = theme.color
    lines: list[Text] = []
    if title:
        head = Text(clean(title), style=f"bold {theme.text}" if color else "")
        lines.append(fit_text(head, width))
    body_h = height - len(lines)
    if body_h <= 0:
        return join_lines(lines)
    canvas = Canvas(width, body_h)

    axes = body_h >= 3 and width >= 16
    x_axis_line = axes and body_h >= 8
    plot_rows = body_h - (1 + int(x_axis_line) if axes else 0)
    y_ticks: list[float] = []
    y_labels: list[str] = []
    label_w = 0
    if axes:
        y_ticks, y_labels = value_ticks(0.0, 1.0, plot_rows)
        label_w = max(len(s) for s in y_labels)
    left = label_w + 1 if axes else 0
    plot_cols = width - left
    dots_w, dots_h = plot_cols * 2, plot_rows * 4

    bits = np.zeros((plot_rows, plot_cols), dtype=np.uint8)
    owner = np.zeros((plot_rows, plot_cols), dtype=np.int32)
    marks: list[tuple[int, int, int]] = []
    for (_, colour, value), index in zip(curves, _indexes(cursor, len(curves)), strict=True):
        sid = canvas.style(colour)
        n = kept_points(value)
        recall = np.asarray(value.recall[:n], dtype=np.float64)
        precision = np.asarray(value.precision[:n], dtype=np.float64)
        px = recall * (dots_w - 1)
        py = (1.0 - precision) * (dots_h - 1)
        ok = np.isfinite(px) & np.isfinite(py)
        xi, yi = rasterize(px[ok], py[ok], dots_w, dots_h)
        layer = braille_bits(xi, yi, plot_cols, plot_rows)
        bits |= layer
        owner[layer != 0] = sid
        if index is not None and 0 <= index < n and ok[index]:
            col = int(np.rint(px[index])) >> 1
            row = int(np.rint(py[index])) >> 2
            if 0 <= col < plot_cols and 0 <= row < plot_rows:
                marks.append((row, col, canvas.style(f"bold {colour}")))
    codes = np.where(bits != 0, BRAILLE_BASE + bits.astype(np.uint32), 0x20)
    for row, col, sid in marks:
        codes[row, col] = ord(CURSOR_MARK)
        owner[row, col] = sid
    canvas.codes[:plot_rows, left:] = codes
    canvas.style_ids[:plot_rows, left:] = np.where(codes != 0x20, owner, 0)

    if axes:
        tick_rows = [round((1.0 - t) * (dots_h - 1)) >> 2 for t in y_ticks]
        axis_sid, text_sid = draw_y_axis(
            canvas, plot_rows, label_w, tick_rows, y_labels, theme.axis, theme.faint
        )
        xt, xl = x_ticks(0.0, 1.0, plot_cols, "step")
        tick_cols = [left + (round(t * (dots_w - 1)) >> 1) for t in xt]
        draw_x_axis(
            canvas, plot_rows, label_w, left, width, tick_cols, xl, x_axis_line, axis_sid, text_sid
        )
    lines.append(canvas.to_text(color))
    return join_lines(lines)


def pr_table(curves: Sequence[Curve], index: int | Sequence[int], width: int, theme: Theme) -> Text:
    """A header and one row per curve: its label, then threshold, precision, recall, TP, FP,
    TN, FN at threshold `index` (one for every curve, or one per curve); "-" where a curve has
    no such threshold. Every line exactly `width` cells; values as `fmt_value`."""
    rows: list[list[str]] = []
    for (_, _, value), i in zip(curves, _indexes(index, len(curves)), strict=True):
        if i is None or not 0 <= i < value.num_thresholds:
            rows.append(["-"] * len(TABLE_COLUMNS))
            continue
        columns = (value.precision, value.recall, value.tp, value.fp, value.tn, value.fn)
        rows.append([fmt_value(threshold_at(value, i)), *(fmt_value(a[i]) for a in columns)])
    widths = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(TABLE_COLUMNS)]
    label_w = max(width - sum(w + 2 for w in widths), 3)
    faint = theme.faint if theme.color else ""
    header = Text(fit_text(Text("run"), label_w).plain, style=faint)
    for h, w in zip(TABLE_COLUMNS, widths, strict=True):
        header.append("  " + h.rjust(w), style=faint)
    lines = [fit_text(header, width)]
    for (label, colour, _), row in zip(curves, rows, strict=True):
        line = fit_text(Text(clean(label), style=colour if theme.color else ""), label_w)
        for cell, w in zip(row, widths, strict=True):
            line.append("  " + cell.rjust(w))
        lines.append(fit_text(line, width))
    return join_lines(lines)


def _legend(curves: Sequence[Curve], width: int, theme: Theme) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    for label, colour, value in curves:
        line.append("━━", style=colour if theme.color else "")
        line.append(f" {clean(label)} step {value.step}  ", style=theme.text if theme.color else "")
    line.append(f"{CURSOR_MARK} threshold {fmt_value(PLOT_THRESHOLD)}")
    return fit_text(line, width)


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per tag (sorted): the chart of every run in `req.runs` holding the tag, at
    `req.step` (latest by default), with a ● at the threshold nearest 0.5, a legend line and
    `pr_table` at that threshold. The chart takes what `req.height` leaves after the legend
    and the table (at least 6 lines); every line is `req.width` cells."""
    theme = req.theme
    tags = sorted({t for r in req.runs for t in r.tags(PR_CURVES) if req.tag_ok(t)})
    blocks: list[Text] = []
    for tag in tags:
        curves: list[Curve] = []
        for i, run in enumerate(req.runs):
            if tag not in run.tags(PR_CURVES):
                continue
            value = req.value(run, PR_CURVES, tag, PrCurveValue)
            if value is not None:
                curves.append((run.name, req.colours.get(run.name) or run_color(theme, i), value))
        if not curves:
            continue
        at = [threshold_index(v, PLOT_THRESHOLD) for _, _, v in curves]
        chart_h = max(req.height - 2 - len(curves), 6)
        title = f"{tag} · precision (y) against recall (x)"
        chart = pr_chart(curves, req.width, chart_h, theme, cursor=at, title=title)
        legend = _legend(curves, req.width, theme)
        blocks.append(join_lines([chart, legend, pr_table(curves, at, req.width, theme)]))
    return blocks
