"""Tick positions and labels for chart axes (value, step, relative time and wall time).

Owns: choosing ticks for a cell grid and labelling them without collisions, and drawing the
y axis of a plot onto a Canvas.
Must not import: textual, tuiboard.ui.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from rich.cells import cell_len

from tuiboard.render.canvas import Canvas
from tuiboard.render.numbers import (
    fmt_duration,
    fmt_tick,
    fmt_wall,
    nice_ticks,
    time_ticks,
    utc_offset,
)

X_MODES = ("step", "relative", "wall")


def unique_labels(values: list[float], log: bool = False) -> list[str]:
    """fmt_tick labels with just enough precision that neighbours differ."""
    shown = [10.0**v for v in values] if log else values
    labels = [fmt_tick(v) for v in shown]
    for precision in range(4, 11):
        if len(set(labels)) == len(labels):
            break
        labels = [fmt_tick(v, precision) for v in shown]
    return labels


def value_ticks(
    lo: float, hi: float, rows: int, log: bool = False
) -> tuple[list[float], list[str]]:
    """Ticks for a vertical value axis of `rows` cells; with `log`, lo/hi are log10 values and
    ticks fall on powers of ten when at least two fit (else on round log values)."""
    n = max(1, rows // 3)
    if log:
        powers = [float(k) for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
        if len(powers) >= 2:
            stride = max(1, math.ceil(len(powers) / max(n, 1)))
            ticks = powers[::stride]
        else:
            ticks = nice_ticks(lo, hi, n)
        return ticks, unique_labels(ticks, log=True)
    ticks = nice_ticks(lo, hi, n)
    return ticks, unique_labels(ticks)


def x_ticks(lo: float, hi: float, cols: int, mode: str) -> tuple[list[float], list[str]]:
    """Ticks for a horizontal axis of `cols` cells in `mode` ("step", "relative", "wall")."""
    n = max(1, cols // 10)
    if mode == "relative":
        ticks = time_ticks(lo, hi, n)
        return ticks, [fmt_duration(t) for t in ticks]
    if mode == "wall":
        ticks = time_ticks(lo, hi, n, offset=utc_offset(lo))
        return ticks, [fmt_wall(t, hi - lo) for t in ticks]
    ticks = nice_ticks(lo, hi, n)
    return ticks, unique_labels(ticks)


def place_labels(
    positions: list[int], labels: list[str], start: int, end: int
) -> list[tuple[int, str]]:
    """Left columns for labels centred on `positions` within [start, end), dropping any that
    would touch the previous one (one blank cell between labels)."""
    out: list[tuple[int, str]] = []
    next_free = start
    for pos, label in zip(positions, labels, strict=True):
        w = len(label)
        if w > end - start:
            continue
        left = min(max(pos - w // 2, start), end - w)
        if left < next_free:
            continue
        out.append((left, label))
        next_free = left + w + 1
    return out


def draw_y_axis(
    canvas: Canvas,
    rows: int,
    label_w: int,
    tick_rows: Iterable[int],
    labels: Iterable[str],
    axis_style: str,
    label_style: str,
) -> tuple[int, int]:
    """A plot's y axis at column `label_w`: a │ line over its `rows` rows, and at each tick's
    row a ┤ with the label right-aligned before it (cut to `label_w`). The first label of a row
    wins; rows outside the plot are skipped. Returns the (axis, label) style ids."""
    axis_sid = canvas.style(axis_style)
    text_sid = canvas.style(label_style)
    canvas.codes[:rows, label_w] = ord("│")
    canvas.style_ids[:rows, label_w] = axis_sid
    used: set[int] = set()
    for row, lab in zip(tick_rows, labels, strict=True):
        if row in used or not 0 <= row < rows:
            continue
        used.add(row)
        lab = lab[:label_w]
        canvas.put(row, label_w - len(lab), lab, text_sid)
        canvas.put(row, label_w, "┤", axis_sid)
    return axis_sid, text_sid


def draw_x_axis(
    canvas: Canvas,
    row: int,
    label_w: int,
    left: int,
    width: int,
    tick_cols: list[int],
    labels: list[str],
    axis_line: bool,
    axis_sid: int,
    text_sid: int,
    name: str = "",
    name_sid: int = 0,
) -> None:
    """The x axis under a plot of `row` rows: an axis line with ticks (when `axis_line`; the
    plot is tall enough for it), then the tick labels placed without overlapping, and the
    axis's `name` (clean text) at the right end of their row, cut to a third of the plot."""
    plot_cols = width - left
    if axis_line:
        canvas.put(row, label_w, "└" + "─" * plot_cols, axis_sid)
        for c in tick_cols:
            if left <= c < width:
                canvas.put(row, c, "┬", axis_sid)
    label_row = row + int(axis_line)
    end = width
    if name and plot_cols >= 9:
        name = "".join(c if cell_len(c) == 1 else "?" for c in name)  # one cell a character
        keep = max(3, plot_cols // 3)
        shown = name if len(name) <= keep else name[: keep - 1] + "…"
        end = width - len(shown)
        canvas.put(label_row, end, shown, name_sid)
        end -= 1
    for col, lab in place_labels(tick_cols, labels, left if axis_line else 0, end):
        canvas.put(label_row, col, lab, text_sid)
