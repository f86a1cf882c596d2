"""The Embeddings tab's parts: the scatter widget and the side panel (the PCA's variance, the
search, warnings, the point under the cursor or selected: its metadata row, sprite thumbnail and
nearest neighbours).

Owns: `EmbeddingPlot` and `EmbeddingSide`. Both hold no state: they draw what their
`EmbeddingsView` holds, through render/embeddings.py. The sprite thumbnail goes through
textual-image as the Images tab's full screen does (Kitty or Sixel where the terminal speaks one,
else half-blocks), small images scaled up by a whole factor so their pixels stay crisp.
Must not import: tuiboard.core readers other than core/embeddings.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from tuiboard.core.embeddings import sprite_cell
from tuiboard.render.canvas import fit_text
from tuiboard.render.embeddings import neighbour_lines, pca_lines, point_label, point_lines
from tuiboard.render.sanitize import clean

if TYPE_CHECKING:
    from tuiboard.ui.widgets.embeddings_view import EmbeddingsView

THUMB_COLS = 16
THUMB_ROWS = 8
"""The most cells a sprite thumbnail takes."""


class EmbeddingPlot(Widget):
    """The scatter; drawn by the view at this widget's size."""

    def __init__(self, view: EmbeddingsView, **kw: Any) -> None:
        super().__init__(**kw)
        self.view = view

    def render(self) -> RenderableType:
        return self.view.draw_plot(self.content_size.width, self.content_size.height)

    def on_click(self, event: events.Click) -> None:
        self.view.cursor = (event.x, event.y)
        self.view.action_select()


class EmbeddingSide(VerticalScroll):
    """The side panel."""

    def __init__(self, view: EmbeddingsView, **kw: Any) -> None:
        super().__init__(**kw)
        self.view = view
        self._sprite_key: object = None

    def compose(self) -> ComposeResult:
        from tuiboard.ui.widgets.images_view import image_widget

        yield Static(id="emb-pca")
        yield Static(id="emb-point")
        yield image_widget()(id="emb-sprite")
        yield Static(id="emb-neighbours")

    def on_mount(self) -> None:
        self.query_one("#emb-sprite").display = False

    def show(self) -> None:
        """Redraw all of it."""
        v = self.view
        s = v.shown_data
        theme = v.board.theme
        width = max(10, self.scrollable_content_region.width or 30)
        pca_part: list[Text] = []
        if s is not None and s.result is not None:
            pca_part.extend(pca_lines(s.result, 3 if v.three_d else 2, width, theme))
            hint = f"k {v.k} (+ -) · {v.metric} (m) · ? keys"
            if v.query:
                hint = f"/{clean(v.query)}: {len(v.matches)} match" + (
                    "es" if len(v.matches) != 1 else ""
                )
                if len(v.matches):
                    hint += f" ({v.match_at + 1}/{len(v.matches)}, n: next)"
            pca_part.append(fit_text(Text(hint, style="dim"), width))
            problems = [w.message for w in s.loaded.warnings] if s.loaded is not None else []
            problems += [s.problem] if s.problem else []
            if s.result.left_out:
                problems.append(f"{s.result.left_out:,} rows hold NaN or inf: not drawn")
            for message in problems:
                pca_part.append(fit_text(Text(clean(f"⚠ {message}"), style="red"), width))
        self.query_one("#emb-pca", Static).update(Group(*pca_part))
        self.show_point()

    def show_point(self) -> None:
        """The point part: the selected point, else the one nearest the cursor."""
        if not self.is_mounted:
            return
        v = self.view
        s = v.shown_data
        theme = v.board.theme
        width = max(10, self.scrollable_content_region.width or 30)
        point = v.selected if v.selected is not None else v.hovered
        meta = s.loaded.metadata if s is not None and s.loaded is not None else None
        lines: list[Text] = []
        near: list[Text] = []
        if s is not None and s.result is not None and point is not None:
            lines = point_lines(meta, point, width, 8, theme)
            if v.selected is None:
                lines.append(fit_text(Text("enter: select, neighbours", style="dim"), width))
            if v.neighbours is not None and v.selected is not None:
                rows, dists = v.neighbours
                labels = [point_label(meta, v.label_index(), int(r)) for r in rows]
                near = neighbour_lines(rows, dists, labels, v.metric, width, v.k + 1, theme)
            elif v.selected is not None:
                near = [Text("finding neighbours…", style="dim")]
        self.query_one("#emb-point", Static).update(Group(*lines))
        self.query_one("#emb-neighbours", Static).update(Group(*near))
        self._sprite(point, width)

    def _sprite(self, point: int | None, width: int) -> None:
        widget = self.query_one("#emb-sprite")
        s = self.view.shown_data
        cell = None
        if s is not None and s.sheet is not None and point is not None:
            cell = sprite_cell(s.sheet, s.info.sprite_dim, point)
        widget.display = cell is not None
        if cell is None:
            return
        key = (id(s), point, width)
        if self._sprite_key == key:
            return
        self._sprite_key = key
        from PIL import Image as PILImage
        from textual_image._terminal import get_cell_size

        from tuiboard.render.images import scale_nearest
        from tuiboard.ui.widgets.images_view import image_cells

        h, w = cell.shape[:2]
        size = get_cell_size()
        cols, rows = image_cells(
            w, h, min(width, THUMB_COLS), THUMB_ROWS, size.width, size.height, False
        )
        k = int(min(cols * size.width / w, rows * size.height / h))
        rgb = scale_nearest(np.ascontiguousarray(cell), w * k, h * k) if k > 1 else cell
        widget.styles.width, widget.styles.height = cols, rows
        widget.image = PILImage.fromarray(np.ascontiguousarray(rgb))  # type: ignore[attr-defined]
