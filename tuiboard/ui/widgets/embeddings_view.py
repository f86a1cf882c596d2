"""The Embeddings tab (TensorBoard's projector): one embedding at a time as a braille PCA
scatter, 2D or 3D (turned with the arrow keys), coloured by a metadata column; a cursor picks a
point, whose metadata row, sprite thumbnail and nearest neighbours (drawn in the scatter too)
the side panel shows; `/` searches the label column.

Owns: `EmbeddingsView` (which embedding, the view's options, the selection, the keys) and
`Shown` (what is on screen); its parts, the scatter and the side panel, are in
embedding_panels.py. Reading the tensor, PCA, the sprite's decoding and the neighbour search run
on worker threads (core/embeddings.py, core/projection.py); the UI thread only turns the 3D
points (an n x 3 by 3 x 3 product) and draws. One embedding's data is held at a time.
Must not import: tuiboard.core readers other than core/embeddings.py and core/projection.py.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tuiboard.core.embeddings import MAX_SPRITE_PX, Loaded, load
from tuiboard.core.projection import METRICS, Neighbours, Pca, pca, search, spherize_default
from tuiboard.render.canvas import fit_text
from tuiboard.render.embeddings import (
    Colouring,
    bounds_of,
    colouring,
    fit_dots,
    legend_lines,
    nearest_point,
    rotate,
    scatter,
    selection_line,
)
from tuiboard.render.sanitize import clean
from tuiboard.ui.screens.prompt import PromptScreen
from tuiboard.ui.widgets.embedding_panels import EmbeddingPlot, EmbeddingSide
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.core.types import EmbeddingInfo
    from tuiboard.ui.board import Board

K_STEPS = (5, 10, 20, 50, 100)
"""Neighbour counts `+`/`-` step through (TensorBoard: 5 to 999, default 100)."""
TURN = 15.0
"""Degrees an arrow key turns the 3D view."""
START = (30.0, 20.0)
"""(yaw, pitch) of a fresh 3D view: turned a little, so depth shows."""


@dataclass(frozen=True, slots=True, eq=False)
class Shown:
    """The embedding on screen: what was read and its projection (None while working)."""

    run: str
    info: EmbeddingInfo
    loaded: Loaded | None = None
    result: Pca | None = None
    sheet: np.ndarray | None = None
    """The decoded sprite sheet (h, w, 3), when there is one."""
    problem: str = ""
    """Why there is no scatter (refused, unreadable), or a progress note."""


class EmbeddingsView(LazyTab, Horizontal, can_focus=True):
    TAB = "embeddings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "arrow(-1, 0)", "3D: turn left; 2D: cursor left"),
        Binding("right", "arrow(1, 0)", "3D: turn right; 2D: cursor right"),
        Binding("up", "arrow(0, -1)", "3D: tilt up; 2D: cursor up"),
        Binding("down", "arrow(0, 1)", "3D: tilt down; 2D: cursor down"),
        Binding("shift+left", "cursor(-4, 0)", "Cursor left (x4 in 2D)", show=False),
        Binding("shift+right", "cursor(4, 0)", "Cursor right", show=False),
        Binding("shift+up", "cursor(0, -2)", "Cursor up", show=False),
        Binding("shift+down", "cursor(0, 2)", "Cursor down", show=False),
        Binding("enter", "select", "Select the point nearest the cursor"),
        Binding("escape", "clear", "Clear the selection and the search"),
        Binding("slash", "search", "Search the labels (regex)"),
        Binding("n", "next_match(1)", "Next search match"),
        Binding("N", "next_match(-1)", "Previous search match"),
        Binding("d", "toggle_3d", "2D / 3D"),
        Binding("c", "colour_by(1)", "Colour by the next metadata column"),
        Binding("C", "colour_by(-1)", "Colour by the previous column", show=False),
        Binding("l", "label_by", "Label (and search) by the next column"),
        Binding("m", "metric", "Neighbour distance: cosine / euclidean"),
        Binding("plus,equals_sign", "neighbours(1)", "More neighbours (5-100)"),
        Binding("minus", "neighbours(-1)", "Fewer neighbours"),
        Binding("z", "spherize", "Spherize data on / off (PCA again)"),
        Binding("t", "tensor(1)", "Next embedding"),
        Binding("T", "tensor(-1)", "Previous embedding", show=False),
        Binding("0", "reset", "Reset the turn and the cursor"),
    ]

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(**kw)
        self.board = board
        self.entries: list[tuple[str, EmbeddingInfo]] = []
        """(run, embedding) of the shown runs whose tensor name passes the tag filter."""
        self.shown_data: Shown | None = None
        self.neighbour_index: Neighbours | None = None
        self.three_d = False
        self.yaw, self.pitch = START
        self.spherize: bool | None = None
        """None: TensorBoard's default (on from 50 dimensions)."""
        self.metric = METRICS[0]
        self.k = 10
        self.colour_column: int | None = -1
        """Metadata column coloured by; None = none; -1 = the first colourable one."""
        self.label_column = -1
        """-1: TensorBoard's default (the first non-numeric column)."""
        self.cursor: tuple[int, int] | None = None
        """(column, row) in the plot; None = its centre."""
        self.hovered: int | None = None
        self.selected: int | None = None
        self.neighbours: tuple[np.ndarray, np.ndarray] | None = None
        """(rows, distances) of the selected point's nearest neighbours."""
        self.matches = np.zeros(0, dtype=np.int64)
        self.match_at = 0
        self.query = ""
        self.loads = 0
        """Embeddings loaded and projected (tests wait on it)."""
        self.searches = 0
        """Neighbour searches finished (tests wait on it)."""
        self._dots: np.ndarray | None = None
        self._plot_size = (0, 0)

    @classmethod
    def help_bindings(cls) -> list[BindingType]:
        return list(cls.BINDINGS)

    def compose(self) -> ComposeResult:
        with Vertical(id="emb-main"):
            yield Static(id="emb-title")
            yield EmbeddingPlot(self, id="emb-plot")
            yield Static(id="emb-legend")
        yield EmbeddingSide(self, id="emb-side")

    def focus_first(self) -> None:
        self.shown()
        self.focus()

    # -- which embedding ------------------------------------------------------------------------

    def list_entries(self) -> list[tuple[str, EmbeddingInfo]]:
        board = self.board
        out = []
        for name in board.visible_runs():
            run = board.logdir.run(name)
            if run is None:
                continue
            out.extend(
                (name, info) for info in run.embeddings if board.tag_matches(info.tensor_name)
            )
        return out

    def rebuild(self) -> None:
        self._stale = False
        self.entries = self.list_entries()
        current = self.shown_data
        if current is not None and (current.run, current.info) in self.entries:
            self.refresh_all()
            return
        keep = None
        if current is not None:  # the same tensor, its config re-read: keep the view options
            keep = next(
                (
                    e
                    for e in self.entries
                    if e[0] == current.run and e[1].tensor_name == current.info.tensor_name
                ),
                None,
            )
        self.open(keep or (self.entries[0] if self.entries else None))

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        if self.list_entries() != self.entries:
            self.rebuild()

    def open(self, entry: tuple[str, EmbeddingInfo] | None) -> None:
        """Show `entry` (None: nothing), reading it on a worker. Another tensor starts with
        TensorBoard's colour and label columns; the same one read again keeps the user's."""
        s = self.shown_data
        if (
            entry is None
            or s is None
            or (s.run, s.info.tensor_name)
            != (
                entry[0],
                entry[1].tensor_name,
            )
        ):
            self.colour_column = -1
            self.label_column = -1
        self.selected = None
        self.neighbours = None
        self.matches = np.zeros(0, dtype=np.int64)
        self.neighbour_index = None
        self._dots = None
        if entry is None:
            self.shown_data = None
            self.refresh_all()
            return
        run, info = entry
        self.shown_data = Shown(run, info, problem="reading…")
        self.refresh_all()
        self._load(run, info, self.spherize)

    @work(thread=True, exclusive=True, group="emb-load")
    def _load(self, run: str, info: EmbeddingInfo, spherize: bool | None) -> None:
        last = [0.0]

        def progress(fraction: float) -> None:
            if fraction - last[0] >= 0.05:
                last[0] = fraction
                self._post(self._progress, run, info, fraction)

        loaded = load(info, progress=progress)
        result = None
        if loaded.tensor is not None:
            self._post(self._progress, run, info, 1.0)
            d = loaded.tensor.shape[1]
            result = pca(
                loaded.tensor, 3, spherize=spherize_default(d) if spherize is None else spherize
            )
        sheet, problem = _decode_sprite(loaded)
        shown = Shown(run, info, loaded, result, sheet, problem)
        self._post(self._loaded, shown)

    def _post(self, fn: Any, *args: Any) -> None:
        from textual.worker import get_current_worker

        if not get_current_worker().is_cancelled:
            with contextlib.suppress(RuntimeError):  # the app is closing
                self.app.call_from_thread(fn, *args)

    def _progress(self, run: str, info: EmbeddingInfo, fraction: float) -> None:
        s = self.shown_data
        if s is not None and s.loaded is None and (s.run, s.info) == (run, info):
            note = "PCA…" if fraction >= 1 else f"reading… {fraction:.0%}"
            self.shown_data = Shown(run, info, problem=note)
            self.refresh_all()

    def _loaded(self, shown: Shown) -> None:
        s = self.shown_data
        if s is None or (s.run, s.info) != (shown.run, shown.info):
            return  # another embedding was opened meanwhile
        tensor = shown.loaded.tensor if shown.loaded is not None else None
        problem = shown.problem
        if tensor is None and shown.loaded is not None:
            problem = "; ".join(w.message for w in shown.loaded.warnings) or "not readable"
        self.shown_data = Shown(
            shown.run, shown.info, shown.loaded, shown.result, shown.sheet, problem
        )
        self.neighbour_index = Neighbours(tensor) if tensor is not None else None
        self.loads += 1
        if self.selected is not None:
            self._find_neighbours()
        self.refresh_all()

    # -- drawing --------------------------------------------------------------------------------

    def metadata_columns(self) -> int:
        s = self.shown_data
        meta = s.loaded.metadata if s is not None and s.loaded is not None else None
        return 0 if meta is None else len(meta.columns)

    def colour_index(self) -> int | None:
        s = self.shown_data
        meta = s.loaded.metadata if s is not None and s.loaded is not None else None
        if meta is None or self.colour_column is None:
            return None
        if self.colour_column == -1:
            return next((i for i, c in enumerate(meta.columns) if c.colourable), None)
        return self.colour_column

    def label_index(self) -> int:
        s = self.shown_data
        meta = s.loaded.metadata if s is not None and s.loaded is not None else None
        if meta is None:
            return -1
        if 0 <= self.label_column < len(meta.columns):
            return self.label_column
        return meta.label_column()

    def colours(self) -> Colouring | None:
        s = self.shown_data
        if s is None or s.result is None or s.loaded is None:
            return None
        n = s.result.coords.shape[0]
        base = self.board.colour_of(s.run)
        return colouring(s.loaded.metadata, self.colour_index(), n, base, self.board.theme)

    def screen_points(
        self,
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float, float, float]] | None:
        """(x/y on screen, drawing order or None, bounds) of the shown projection."""
        s = self.shown_data
        if s is None or s.result is None:
            return None
        coords = s.result.coords.astype(np.float64)
        if coords.shape[1] < 3:
            coords = np.column_stack([coords, np.zeros((coords.shape[0], 3 - coords.shape[1]))])
        if not self.three_d:
            xy = coords[:, :2]
            return xy, None, bounds_of(xy)
        xy, depth = rotate(coords[:, :3], self.yaw, self.pitch)
        return xy, np.argsort(depth, kind="stable"), bounds_of(coords[:, :3], sphere=True)

    def draw_plot(self, width: int, height: int) -> RenderableType:
        s = self.shown_data
        theme = self.board.theme
        if s is None:
            return Text("No embeddings in the shown runs.", style="dim")
        if s.result is None or width < 2 or height < 1:
            self._dots = None
            return Text(
                clean(f"⚠ {s.problem}" if s.loaded else s.problem),
                style="red" if s.loaded else "dim",
            )
        points = self.screen_points()
        colours = self.colours()
        assert points is not None and colours is not None
        xy, order, bounds = points
        self._plot_size = (width, height)
        dots = fit_dots(xy, width, height, bounds)
        self._dots = dots
        cursor = self._cursor_cell(width, height)
        self.hovered = nearest_point(dots, cursor)
        neighbours = self.neighbours[0] if self.neighbours is not None else None
        self.call_after_refresh(self.query_one(EmbeddingSide).show_point)
        return scatter(
            dots,
            colours,
            width,
            height,
            theme,
            order=order,
            selected=self.selected,
            neighbours=neighbours,
            matches=self.matches,
            cursor=cursor,
        )

    def _cursor_cell(self, width: int, height: int) -> tuple[int, int]:
        if self.cursor is None:
            return width // 2, height // 2
        c, r = self.cursor
        self.cursor = (min(max(c, 0), width - 1), min(max(r, 0), height - 1))
        return self.cursor

    def refresh_all(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(EmbeddingPlot).refresh()
        self._title()
        self.query_one(EmbeddingSide).show()

    def _title(self) -> None:
        s = self.shown_data
        theme = self.board.theme
        width = max(1, self.query_one("#emb-title").size.width or 60)
        line = Text(no_wrap=True, overflow="crop")
        if s is not None:
            line.append(clean(s.info.tensor_name), style="bold")
            line.append("  ")
            line.append("■ ", style=self.board.colour_of(s.run))
            line.append(clean(s.run))
            tensor = s.loaded.tensor if s.loaded is not None else None
            if tensor is not None:
                line.append(f"  {tensor.shape[0]:,} × {tensor.shape[1]:,}", style="dim")
            line.append(f"  {'3D' if self.three_d else '2D'}", style="dim")
            if len(self.entries) > 1:
                at = next((i for i, e in enumerate(self.entries) if e == (s.run, s.info)), 0)
                line.append(f"  {at + 1}/{len(self.entries)} (t: next)", style="dim")
        legend: list[Text] = []
        colours = self.colours()
        if colours is not None:
            picked = self.selected is not None or len(self.matches)
            legend = legend_lines(colours, width, 1 if picked else 2, theme)
            if picked:
                near = 0 if self.neighbours is None else len(self.neighbours[0])
                legend.append(selection_line(self.selected, near, len(self.matches), width, theme))
        self.query_one("#emb-title", Static).update(fit_text(line, width))
        self.query_one("#emb-legend", Static).update(Group(*legend))

    # -- keys -----------------------------------------------------------------------------------

    def action_arrow(self, dx: int, dy: int) -> None:
        if self.three_d:
            self.yaw = (self.yaw + dx * TURN) % 360
            self.pitch = max(-90.0, min(90.0, self.pitch - dy * TURN))
            self.refresh_all()
        else:
            self.action_cursor(dx, dy)

    def action_cursor(self, dx: int, dy: int) -> None:
        w, h = self._plot_size
        c, r = self.cursor if self.cursor is not None else (w // 2, h // 2)
        self.cursor = (c + dx, r + dy)
        self.query_one(EmbeddingPlot).refresh()

    def action_select(self) -> None:
        """Select the point nearest the cursor (as drawn last)."""
        w, h = self._plot_size
        if self._dots is None or not w or not h:
            return
        self.hovered = nearest_point(self._dots, self._cursor_cell(w, h))
        if self.hovered is not None:
            self.select(self.hovered)

    def select(self, index: int | None) -> None:
        """Select point `index` and look for its neighbours (None: clear)."""
        self.selected = index
        self.neighbours = None
        if index is not None:
            self._find_neighbours()
        self.refresh_all()

    def _find_neighbours(self) -> None:
        s = self.shown_data
        if self.selected is None or self.neighbour_index is None or s is None:
            return
        self._search_neighbours(s, self.neighbour_index, self.selected, self.k, self.metric)

    @work(thread=True, exclusive=True, group="emb-knn")
    def _search_neighbours(
        self, s: Shown, index: Neighbours, point: int, k: int, metric: str
    ) -> None:
        rows, dists = index.query(point, k, metric)
        self._post(self._found, s, point, k, metric, rows, dists)

    def _found(
        self, s: Shown, point: int, k: int, metric: str, rows: np.ndarray, dists: np.ndarray
    ) -> None:
        if s is not self.shown_data or (point, k, metric) != (self.selected, self.k, self.metric):
            return
        self.neighbours = (rows, dists)
        self.searches += 1
        self.refresh_all()

    def action_clear(self) -> None:
        self.matches = np.zeros(0, dtype=np.int64)
        self.query = ""
        self.select(None)

    def action_search(self) -> None:
        def done(answer: str | None) -> None:
            if answer is not None:
                self.search(answer)

        self.app.push_screen(PromptScreen("Search the labels (regex)", self.query), done)

    def search(self, query: str) -> None:
        """Points whose label matches `query`; the first is selected."""
        s = self.shown_data
        self.query = query.strip()
        if s is None or s.result is None or not self.query:
            self.action_clear()
            return
        meta = s.loaded.metadata if s.loaded is not None else None
        label = self.label_index()
        n = s.result.coords.shape[0]
        values: tuple[str | None, ...] | list[str]
        if meta is not None and label >= 0:
            values = meta.columns[label].values[:n]
        else:
            values = [str(i) for i in range(n)]
        self.matches = search(values, self.query)
        self.match_at = 0
        self.select(int(self.matches[0]) if len(self.matches) else None)

    def action_next_match(self, delta: int) -> None:
        if not len(self.matches):
            return
        self.match_at = (self.match_at + delta) % len(self.matches)
        self.select(int(self.matches[self.match_at]))

    def action_toggle_3d(self) -> None:
        self.three_d = not self.three_d
        self.refresh_all()

    def action_colour_by(self, delta: int) -> None:
        s = self.shown_data
        meta = s.loaded.metadata if s is not None and s.loaded is not None else None
        if meta is None:
            return
        options: list[int | None] = [None] + [i for i, c in enumerate(meta.columns) if c.colourable]
        now = self.colour_index()
        at = options.index(now) if now in options else 0
        self.colour_column = options[(at + delta) % len(options)]
        self.refresh_all()

    def action_label_by(self) -> None:
        columns = self.metadata_columns()
        if columns:
            self.label_column = (self.label_index() + 1) % columns
            self.refresh_all()

    def action_metric(self) -> None:
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self._refind()

    def action_neighbours(self, delta: int) -> None:
        at = min(range(len(K_STEPS)), key=lambda i: abs(K_STEPS[i] - self.k))
        self.k = K_STEPS[max(0, min(len(K_STEPS) - 1, at + delta))]
        self._refind()

    def _refind(self) -> None:
        self.neighbours = None
        self._find_neighbours()
        self.refresh_all()

    def action_spherize(self) -> None:
        s = self.shown_data
        if s is None or s.result is None:
            return
        self.spherize = not s.result.spherized
        self.shown_data = Shown(s.run, s.info, s.loaded, None, s.sheet, "PCA…")
        self.refresh_all()
        self._project(self.shown_data, self.spherize)

    @work(thread=True, exclusive=True, group="emb-load")
    def _project(self, s: Shown, spherize: bool) -> None:
        assert s.loaded is not None and s.loaded.tensor is not None
        result = pca(s.loaded.tensor, 3, spherize=spherize)
        self._post(self._loaded, Shown(s.run, s.info, s.loaded, result, s.sheet, ""))

    def action_tensor(self, delta: int) -> None:
        if not self.entries:
            return
        s = self.shown_data
        at = next(
            (i for i, e in enumerate(self.entries) if s is not None and e == (s.run, s.info)), -1
        )
        self.open(self.entries[(at + delta) % len(self.entries)])

    def action_reset(self) -> None:
        self.yaw, self.pitch = START
        self.cursor = None
        self.refresh_all()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_all)


def _decode_sprite(loaded: Loaded) -> tuple[np.ndarray | None, str]:
    """The sprite sheet as RGB, or a reason it is not shown (TensorBoard's size limit)."""
    if loaded.sprite is None:
        return None, ""
    from tuiboard.render.images import decode

    decoded = decode(loaded.sprite, max_pixels=MAX_SPRITE_PX * MAX_SPRITE_PX)
    if isinstance(decoded, str):
        return None, f"sprite: {decoded}"
    if decoded.width > MAX_SPRITE_PX or decoded.height > MAX_SPRITE_PX:
        return None, (
            f"sprite of {decoded.width}x{decoded.height} px exceeds the maximum of "
            f"{MAX_SPRITE_PX}x{MAX_SPRITE_PX} px"
        )
    return decoded.frames[0], ""
