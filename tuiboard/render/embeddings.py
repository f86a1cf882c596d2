"""The projector's drawings: the PCA scatter in braille, the colour legend, a point's metadata
and its nearest neighbours, and `tuiboard plot --kind embeddings`.

Owns: `Colouring` / `colouring` (TensorBoard's "Color by"), `rotate` (the 3D view), `fit_dots`
(data -> braille dot coordinates, shared with the view's cursor), `scatter`, `legend_lines`,
`pca_lines`, `selection_line`, `point_lines`, `neighbour_lines` and `plot_blocks`.
Must not import: textual, tuiboard.ui (render/ is pure: arrays + size + theme -> Rich Text).

Drawing: one braille dot per point, both axes on one scale (a braille dot is about square), so
the picture keeps the projection's shape. A cell has one colour: that of the last point drawn in
it (in 3D points are drawn far to near, so the nearest owns the cell). When a point is selected,
every other point is drawn faint (TensorBoard greys them too), search matches and the selected
point in TensorBoard's selection red, the nearest neighbours in its neighbour amber, and the
selected point as a ● over its cell. Colours (TensorBoard's): categories take d3's category10
reordered as the projector does (i * 3 mod 10), repeating past ten; a numeric column with more
than 50 values a linear gradient from #ffffdd to #1f2d86 (in 16 steps); a missing value is
faint. Every label (column names, values, tensor and run names) is untrusted: cleaned, measured
in cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text

from tuiboard.core.embedding_metadata import Metadata
from tuiboard.core.embeddings import load
from tuiboard.core.projection import Pca, pca, spherize_default
from tuiboard.render.canvas import Canvas, fit_text, join_lines
from tuiboard.render.numbers import fmt_value
from tuiboard.render.raster import BRAILLE_BASE, braille_bits
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme, run_color

if TYPE_CHECKING:
    from tuiboard.render.plot_request import PlotRequest

CATEGORY10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
CATEGORICAL = tuple(CATEGORY10[(i * 3) % len(CATEGORY10)] for i in range(len(CATEGORY10)))
"""The projector's categorical palette: category10 reordered (vz-projector-data-panel.ts)."""
GRADIENT = ((0xFF, 0xFF, 0xDD), (0x1F, 0x2D, 0x86))
GRADIENT_STEPS = 16
SELECTED = "#fa6666"
"""TensorBoard's POINT_COLOR_SELECTED."""
NEIGHBOUR = "#e0b152"
"""hsl(40, 70%, 60%), the near end of TensorBoard's neighbour colour scale."""
SWATCH = "■"
SELECTED_MARK = "●"
CURSOR_MARK = "+"


def _st(theme: Theme, style: str) -> str:
    return style if theme.color else ""


# -- colour ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Colouring:
    """A colour per point."""

    column: str
    """The metadata column coloured by ("" = none)."""
    kind: str
    """"none", "categorical" or "gradient"."""
    styles: tuple[str, ...]
    """Rich colour per colour id; id 0 is the missing-value (or uncoloured) colour."""
    ids: np.ndarray
    """int32 colour id per point."""
    items: tuple[tuple[str, str, int], ...] = ()
    """Categorical: (value, colour, count) in TensorBoard's order."""
    lo: float = math.nan
    hi: float = math.nan


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def gradient_colour(t: float) -> str:
    """TensorBoard's gradient at t in [0, 1] (linear in RGB, as d3.scaleLinear)."""
    a, b = GRADIENT
    t = min(max(t, 0.0), 1.0)
    return _hex(tuple(a[i] + (b[i] - a[i]) * t for i in range(3)))  # type: ignore[arg-type]


def colouring(
    metadata: Metadata | None, column: int | None, points: int, base: str, theme: Theme
) -> Colouring:
    """Colours of `points` points by metadata column `column` (None, or a column TensorBoard
    cannot colour by: every point in `base`). Points past the metadata's rows are missing."""
    ids = np.zeros(points, dtype=np.int32)
    if metadata is None or column is None or not 0 <= column < len(metadata.columns):
        return Colouring("", "none", (base,), ids)
    col = metadata.columns[column]
    if not col.colourable:
        return Colouring("", "none", (base,), ids)
    n = min(points, col.codes.shape[0])
    missing = theme.faint
    if not col.too_many:
        palette = [CATEGORICAL[i % len(CATEGORICAL)] for i in range(len(col.categories))]
        codes = col.codes[:n]
        ids[:n] = np.where(codes >= 0, codes + 1, 0)
        counts = np.bincount(codes[codes >= 0], minlength=len(col.categories))
        items = tuple((value, palette[i], int(counts[i])) for i, value in enumerate(col.categories))
        return Colouring(col.name, "categorical", (missing, *palette), ids, items)
    lo, hi = col.lo, col.hi
    values = col.numbers[:n]
    t = np.full(n, 0.5) if not hi > lo else (values - lo) / (hi - lo)
    step = np.rint(np.nan_to_num(t, nan=-1.0) * (GRADIENT_STEPS - 1)).astype(np.int32)
    ids[:n] = np.where(np.isnan(values), 0, step + 1)
    steps = tuple(gradient_colour(i / (GRADIENT_STEPS - 1)) for i in range(GRADIENT_STEPS))
    return Colouring(col.name, "gradient", (missing, *steps), ids, lo=lo, hi=hi)


# -- geometry -------------------------------------------------------------------------------------


def rotate(coords: np.ndarray, yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """3D points seen after turning them `yaw` degrees about the vertical axis, then `pitch`
    about the horizontal one: (screen x/y (n, 2), depth (n,), larger = nearer)."""
    a, b = math.radians(yaw), math.radians(pitch)
    ry = np.array(
        [[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0, math.cos(a)]]
    )
    rx = np.array(
        [[1.0, 0.0, 0.0], [0.0, math.cos(b), -math.sin(b)], [0.0, math.sin(b), math.cos(b)]]
    )
    turned = np.asarray(coords, dtype=np.float64) @ (rx @ ry).T
    return turned[:, :2], turned[:, 2]


def bounds_of(xy: np.ndarray, sphere: bool = False) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around the finite points; `sphere`: the square around the ball holding
    them all (a 3D view keeps its scale while it turns)."""
    ok = np.isfinite(xy).all(axis=1)
    pts = xy[ok]
    if pts.shape[0] == 0:
        return -1.0, 1.0, -1.0, 1.0
    if sphere:
        r = float(np.sqrt((pts**2).sum(axis=1)).max()) or 1.0
        return -r, r, -r, r
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(x1), float(y0), float(y1)


def fit_dots(
    xy: np.ndarray, cols: int, rows: int, bounds: tuple[float, float, float, float]
) -> np.ndarray:
    """(n, 2) float dot coordinates (column, row; row 0 at the top) of the points in a
    cols x rows braille grid: one scale for both axes, the bounds centred."""
    w, h = cols * 2, rows * 4
    x0, x1, y0, y1 = bounds
    xr = x1 - x0 if x1 > x0 else 1.0
    yr = y1 - y0 if y1 > y0 else 1.0
    s = min((w - 1) / xr, (h - 1) / yr)
    out = np.empty((xy.shape[0], 2))
    out[:, 0] = (w - 1) / 2 + (xy[:, 0] - (x0 + x1) / 2) * s
    out[:, 1] = (h - 1) / 2 - (xy[:, 1] - (y0 + y1) / 2) * s
    return out


def nearest_point(dots: np.ndarray, cursor: tuple[int, int]) -> int | None:
    """The point whose dot is nearest the centre of cell `cursor` (column, row)."""
    if dots.shape[0] == 0:
        return None
    cx, cy = cursor[0] * 2 + 0.5, cursor[1] * 4 + 1.5
    d = (dots[:, 0] - cx) ** 2 + (dots[:, 1] - cy) ** 2
    d[~np.isfinite(d)] = np.inf
    i = int(np.argmin(d))
    return i if np.isfinite(d[i]) else None


# -- the scatter ----------------------------------------------------------------------------------


def scatter(
    dots: np.ndarray,
    colours: Colouring,
    cols: int,
    rows: int,
    theme: Theme,
    *,
    order: np.ndarray | None = None,
    selected: int | None = None,
    neighbours: np.ndarray | None = None,
    matches: np.ndarray | None = None,
    cursor: tuple[int, int] | None = None,
) -> Text:
    """`rows` lines of `cols` cells: a braille dot per point at `dots` (from fit_dots), drawn in
    `order` (default: row order; later points own shared cells), highlights as the module
    docstring says, and the cursor's cell in reverse video (a + when empty)."""
    canvas = Canvas(cols, rows)
    if cols <= 0 or rows <= 0:
        return canvas.to_text(False)
    n = dots.shape[0]
    order = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
    d = np.rint(dots[order]).astype(np.int64) if n else np.zeros((0, 2), np.int64)
    ok = (
        np.isfinite(dots[order]).all(axis=1)
        & (d[:, 0] >= 0)
        & (d[:, 0] < cols * 2)
        & (d[:, 1] >= 0)
        & (d[:, 1] < rows * 4)
    )
    pts, d = order[ok], d[ok]
    bits = braille_bits(d[:, 0], d[:, 1], cols, rows).reshape(-1)
    cell = (d[:, 1] >> 2) * cols + (d[:, 0] >> 1)
    # The owner of each cell: its last point in drawing order.
    owner = np.full(cols * rows, -1, dtype=np.int64)
    if cell.shape[0]:
        by_cell = np.lexsort((np.arange(cell.shape[0]), cell))
        last = np.r_[cell[by_cell][1:] != cell[by_cell][:-1], True]
        owner[cell[by_cell][last]] = pts[by_cell][last]
    lit = owner >= 0
    style_ids = np.zeros(cols * rows, dtype=np.int32)
    picked = (
        selected is not None
        or (neighbours is not None and len(neighbours))
        or (matches is not None and len(matches))
    )
    if picked:
        style_ids[lit] = canvas.style(_st(theme, theme.faint))
        cell_of = np.full(n, -1, dtype=np.int64)
        cell_of[pts] = cell
        for group, style in (
            (matches, SELECTED),
            (neighbours, f"bold {NEIGHBOUR}"),
        ):
            if group is None or not len(group):
                continue
            where = cell_of[np.asarray(group, dtype=np.int64)]
            style_ids[where[where >= 0]] = canvas.style(_st(theme, style))
    else:
        ids = np.array([canvas.style(_st(theme, s)) for s in colours.styles], dtype=np.int32)
        style_ids[lit] = ids[colours.ids[owner[lit]]]
    codes = np.where(bits > 0, BRAILLE_BASE + bits.astype(np.uint32), 0x20).astype(np.uint32)
    canvas.codes[:, :] = codes.reshape(rows, cols)
    canvas.style_ids[:, :] = style_ids.reshape(rows, cols)
    if selected is not None and 0 <= selected < n:
        sd = dots[selected]
        if np.isfinite(sd).all():
            c, r = int(np.rint(sd[0])) >> 1, int(np.rint(sd[1])) >> 2
            canvas.put(r, c, SELECTED_MARK, canvas.style(_st(theme, f"bold {SELECTED}")))
    if cursor is not None and 0 <= cursor[0] < cols and 0 <= cursor[1] < rows:
        c, r = cursor
        if canvas.codes[r, c] == 0x20 or not theme.color:
            canvas.put(r, c, CURSOR_MARK, canvas.style(_st(theme, f"bold {theme.cursor}")))
        else:
            base = canvas.styles[int(canvas.style_ids[r, c])]
            canvas.style_ids[r, c] = canvas.style(f"{base} reverse".strip())
    return canvas.to_text(theme.color)


# -- the side panel -------------------------------------------------------------------------------


def legend_lines(colours: Colouring, width: int, max_lines: int, theme: Theme) -> list[Text]:
    """The "Color by" legend: categories as swatches flowing over at most `max_lines` lines (the
    last says how many more), or the gradient's ends, or "no colour map"."""
    if max_lines <= 0 or width <= 0:
        return []
    head = Text("colour ", style=_st(theme, theme.faint))
    if colours.kind == "none":
        head.append("none", style=_st(theme, theme.text))
        return [fit_text(head, width)]
    head.append(clean(colours.column), style=_st(theme, f"bold {theme.text}"))
    if colours.kind == "gradient":
        head.append(" ")
        head.append(fmt_value(colours.lo), style=_st(theme, theme.faint))
        head.append(" ")
        for i in range(GRADIENT_STEPS // 2):
            head.append("█", style=_st(theme, gradient_colour(i / (GRADIENT_STEPS // 2 - 1))))
        head.append(" ")
        head.append(fmt_value(colours.hi), style=_st(theme, theme.faint))
        return [fit_text(head, width)]
    lines: list[Text] = []
    line = head
    items = colours.items
    for k, (value, colour, count) in enumerate(items):
        entry = Text()
        entry.append(SWATCH + " ", style=_st(theme, colour))
        entry.append(clean(value) if value else '""', style=_st(theme, theme.text))
        entry.append(f" {count}", style=_st(theme, theme.faint))
        last_line = len(lines) == max_lines - 1
        more = f"  +{len(items) - k} more" if k < len(items) - 1 else ""
        room = width - (len(more) if last_line else 0)
        if line.cell_len and line.cell_len + 2 + entry.cell_len > room:
            if last_line:
                line.append(f"  +{len(items) - k} more", style=_st(theme, theme.faint))
                break
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append("  ")
        line.append_text(entry)
    lines.append(line)
    return [fit_text(t, width) for t in lines[:max_lines]]


def pca_lines(result: Pca, components: int, width: int, theme: Theme) -> list[Text]:
    """ "PCA centred  PC1 41.2%  PC2 20.1%  (total 61.3%)": the share of variance each shown
    axis explains; on two lines when one is too narrow."""
    head = Text("PCA", style=_st(theme, f"bold {theme.text}"))
    head.append(" spherized" if result.spherized else " centred", style=_st(theme, theme.faint))
    shown = min(components, result.variance.shape[0])
    parts = Text()
    for i in range(shown):
        if i:
            parts.append("  ")
        parts.append(f"PC{i + 1} ", style=_st(theme, theme.faint))
        parts.append(f"{100 * result.variance[i]:.1f}%", style=_st(theme, theme.text))
    total = Text()
    if shown > 1:
        total.append(f"(total {100 * float(result.variance[:shown].sum()):.1f}%)")
        total.stylize(_st(theme, theme.faint))
    one = Text.assemble(head, "  ", parts, "  ", total)
    if one.cell_len <= width:
        return [fit_text(one, width)]
    head.append("  ")
    head.append_text(total)
    if parts.cell_len > width and shown > 1:  # "PC1-3 57.4% 30.6% 5.1%"
        parts = Text(f"PC1-{shown}", style=_st(theme, theme.faint))
        for i in range(shown):
            parts.append(f" {100 * result.variance[i]:.1f}%", style=_st(theme, theme.text))
        if parts.cell_len > width:
            parts = parts[len(f"PC1-{shown} ") :]
    return [fit_text(head, width), fit_text(parts, width)]


def selection_line(
    selected: int | None, neighbours: int, matches: int, width: int, theme: Theme
) -> Text:
    """What the highlights mean, under the scatter while something is selected."""
    line = Text()
    if selected is not None:
        line.append(SELECTED_MARK, style=_st(theme, f"bold {SELECTED}"))
        line.append(f" #{selected}  ", style=_st(theme, theme.text))
    if neighbours:
        line.append("⣿", style=_st(theme, f"bold {NEIGHBOUR}"))
        line.append(f" {neighbours} nearest  ", style=_st(theme, theme.text))
    if matches:
        line.append("⣿", style=_st(theme, SELECTED))
        line.append(f" {matches} matches  ", style=_st(theme, theme.text))
    line.append("others faint · esc clears", style=_st(theme, theme.faint))
    return fit_text(line, width)


def point_label(metadata: Metadata | None, label_column: int, index: int) -> str:
    """What a point is called: its label column's value, else its row number."""
    if metadata is not None and 0 <= label_column < len(metadata.columns):
        value = metadata.value(label_column, index)
        if value is not None:
            return clean(value)
    return f"#{index}"


def point_lines(
    metadata: Metadata | None, index: int, width: int, max_lines: int, theme: Theme
) -> list[Text]:
    """Row `index`'s metadata, a "name value" line per column (at most max_lines)."""
    head = Text(f"point #{index}", style=_st(theme, f"bold {theme.text}"))
    lines = [fit_text(head, width)]
    if metadata is None:
        return lines[:max_lines]
    name_w = min(14, max((len(clean(c.name)) for c in metadata.columns), default=1))
    for k, col in enumerate(metadata.columns):
        if len(lines) >= max_lines:
            break
        line = Text()
        line.append_text(fit_text(Text(clean(col.name), style=_st(theme, theme.faint)), name_w))
        line.append(" ")
        value = metadata.value(k, index)
        line.append(clean(value) if value is not None else "—", style=_st(theme, theme.text))
        lines.append(fit_text(line, width))
    return lines


def neighbour_lines(
    rows: np.ndarray,
    distances: np.ndarray,
    labels: list[str],
    metric: str,
    width: int,
    max_lines: int,
    theme: Theme,
) -> list[Text]:
    """ "k nearest (cosine)" then one line per neighbour: its distance and label."""
    if max_lines <= 0:
        return []
    head = Text(f"{len(rows)} nearest", style=_st(theme, f"bold {theme.text}"))
    head.append(f" · {metric}", style=_st(theme, theme.faint))
    out = [fit_text(head, width)]
    for row, dist, label in zip(rows, distances, labels, strict=True):
        if len(out) >= max_lines:
            break
        line = Text(f"{float(dist):8.4f} ", style=_st(theme, NEIGHBOUR))
        line.append(clean(label), style=_st(theme, theme.text))
        line.append(f" #{int(row)}", style=_st(theme, theme.faint))
        out.append(fit_text(line, width))
    return out


# -- tuiboard plot --kind embeddings --------------------------------------------------------------


def plot_blocks(req: PlotRequest) -> list[Text]:
    """A block per (run, embedding) whose tensor name matches --tags: a title line, the 2D PCA
    scatter coloured by the first metadata column (TensorBoard's spherize default), the legend,
    and any warning (a tensor refused for its size is named with its size)."""
    theme = req.theme
    blocks: list[Text] = []
    for i, run in enumerate(req.runs):
        colour = req.colours.get(run.name) or run_color(theme, i)
        for info in run.embeddings:
            if not req.tag_ok(info.tensor_name):
                continue
            loaded = load(info)
            title = Text(clean(info.tensor_name), style=_st(theme, f"bold {theme.text}"))
            title.append("  ")
            title.append(SWATCH + " ", style=_st(theme, colour))
            title.append(clean(run.name), style=_st(theme, theme.text))
            lines = [fit_text(title, req.width)]
            warn = [
                fit_text(Text(clean(f"⚠ {w.message}"), style=_st(theme, "red")), req.width)
                for w in loaded.warnings
            ]
            tensor = loaded.tensor
            if tensor is None:
                blocks.append(join_lines(lines + warn))
                continue
            n, d = tensor.shape
            title.append(f"  {n:,} × {d:,}", style=_st(theme, theme.faint))
            lines[0] = fit_text(title, req.width)
            result = pca(tensor, 2, spherize=spherize_default(d))
            if result.left_out:
                note = f"⚠ {result.left_out:,} rows hold NaN or inf: not drawn"
                warn.append(fit_text(Text(note, style=_st(theme, "red")), req.width))
            lines.extend(pca_lines(result, 2, req.width, theme))
            colours, legend = _plot_colours(loaded.metadata, n, colour, req.width, theme)
            height = max(4, req.height - len(lines) - len(legend) - len(warn))
            xy = result.coords[:, :2].astype(np.float64)
            if xy.shape[1] < 2:
                xy = np.column_stack([xy, np.zeros((n, 2 - xy.shape[1]))])
            dots = fit_dots(xy, req.width, height, bounds_of(xy))
            lines.append(scatter(dots, colours, req.width, height, theme))
            blocks.append(join_lines(lines + legend + warn))
    return blocks


def _plot_colours(
    metadata: Metadata | None, n: int, base: str, width: int, theme: Theme
) -> tuple[Colouring, list[Text]]:
    """`plot`'s colouring: by the first metadata column, else (TensorBoard cannot colour by it:
    over 50 values and not numeric) by the first column it can colour by, saying so."""
    if metadata is None or not metadata.columns:
        return colouring(None, None, n, base, theme), []
    column = next((i for i, c in enumerate(metadata.columns) if c.colourable), None)
    colours = colouring(metadata, column, n, base, theme)
    legend = legend_lines(colours, width, 2, theme)
    if column != 0:
        name = clean(metadata.columns[0].name)
        note = f"({name}: over 50 values, not numeric: TensorBoard does not colour by it)"
        legend.append(fit_text(Text(note, style=_st(theme, theme.faint)), width))
    return colours, legend
