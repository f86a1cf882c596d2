"""The Images tab: a card per (tag, run, sample) at one step — every step of every image is
kept and reachable (TensorBoard keeps 10) — decoded off the event loop.

Owns: `ImagesView` and `ImageCard` (brightness, contrast, actual size, GIF frame, save). Cards
draw Unicode half-blocks (render/images.py; what textual-image itself falls back to in tmux and
over plain SSH); the store keeps only the encoded bytes and a card decodes only what it shows,
on a worker thread, caching the drawing by (card, step, size, options).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from tuiboard.core.types import IMAGES, ImageValue
from tuiboard.render.canvas import fit_text
from tuiboard.render.images import image_card, image_info
from tuiboard.render.sanitize import clean
from tuiboard.ui.screens.prompt import PromptScreen
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardsView

if TYPE_CHECKING:
    from tuiboard.core.types import ValueRecord

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
}


class ImageCard(Card):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SLIDER_BINDINGS,
        Binding("b", "adjust('brightness', 0.1)", "Brightness +10%"),
        Binding("B", "adjust('brightness', -0.1)", "Brightness -10%"),
        Binding("c", "adjust('contrast', 0.1)", "Contrast +10%"),
        Binding("C", "adjust('contrast', -0.1)", "Contrast -10%"),
        Binding("0", "reset", "Reset brightness and contrast"),
        Binding("A", "actual", "Actual size (one pixel per half cell)"),
        Binding("comma", "frame(-1)", "GIF: previous frame"),
        Binding("full_stop", "frame(1)", "GIF: next frame"),
        Binding("s", "save", "Save the shown image to a file"),
    ]

    def action_adjust(self, what: str, delta: float) -> None:
        hi = 2.0 if what == "brightness" else 5.0  # TensorBoard: 0-2 and 0-500 %
        value = round(self.options.get(what, 1.0) + delta, 2)
        self.options[what] = max(0.0, min(hi, value))
        self.refresh()

    def action_reset(self) -> None:
        self.options.pop("brightness", None)
        self.options.pop("contrast", None)
        self.refresh()

    def action_actual(self) -> None:
        self.options["actual"] = not self.options.get("actual", False)
        self.refresh()

    def action_frame(self, delta: int) -> None:
        self.options["frame"] = max(0, self.options.get("frame", 0) + delta)
        self.refresh()

    def action_step(self, delta: int) -> None:
        self.options.pop("frame", None)
        super().action_step(delta)

    def shown_image(self) -> tuple[ImageValue, bytes] | None:
        cur = self.current()
        if cur is None:
            return None
        value = cur[2]
        assert isinstance(value, ImageValue)
        if self.key.sample >= len(value.images):
            return None
        return value, value.images[self.key.sample]

    def action_save(self) -> None:
        shown = self.shown_image()
        if shown is None:
            return
        value, data = shown
        ext = EXTENSIONS.get(value.content_type, "bin")
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.key.run}_{self.key.tag}")
        default = os.path.join(os.getcwd(), f"{base}_{value.step}_{self.key.sample}.{ext}")
        problem = self.app.export_problem  # type: ignore[attr-defined]

        def done(answer: str | None) -> None:
            if answer is not None and problem(answer) is None:
                self._write(str(Path(answer).expanduser()), data)

        self.app.push_screen(PromptScreen("Save the image as", default, problem), done)

    @work(thread=True, group="save")
    def _write(self, path: str, data: bytes) -> None:
        try:
            with open(path, "wb") as out:
                out.write(data)
        except OSError as e:
            self.app.call_from_thread(
                self.app.notify, clean(f"save failed: {e}"), severity="error", markup=False
            )
            return
        message = clean(f"saved {len(data)} bytes to {path}")
        self.app.call_from_thread(self.app.notify, message, markup=False)


class ImagesView(CardsView):
    KIND: ClassVar[str] = IMAGES
    CARD: ClassVar[type[Card]] = ImageCard
    CARD_WIDTH: ClassVar[int] = 36
    CARD_HEIGHT: ClassVar[int] = 16
    SLOW: ClassVar[bool] = True
    EMPTY: ClassVar[str] = "No images in the shown runs."

    def samples(self, run: str, tag: str) -> int:
        r = self.board.logdir.run(run)
        values = () if r is None else r.values(IMAGES, tag)
        last = values[-1] if values else None
        return max(1, len(last.images)) if isinstance(last, ImageValue) else 1

    def title(self, card: Card, value: ValueRecord, width: int) -> Text:
        head = super().title(card, value, width)
        if isinstance(value, ImageValue) and len(value.images) > 1:
            head.append(f"  {card.key.sample + 1}/{len(value.images)}", style="dim")
        if card.full and isinstance(value, ImageValue):
            head.append("  " + image_info(value, card.key.sample), style="dim")
            bright = card.options.get("brightness", 1.0)
            contrast = card.options.get("contrast", 1.0)
            if (bright, contrast) != (1.0, 1.0):
                head.append(f"  brightness {bright:.0%} contrast {contrast:.0%}", style="dim")
            if card.options.get("actual"):
                head.append("  actual size", style="dim")
        return fit_text(head, width)

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        """Worker thread: decode and draw one image (half-blocks) in width x height cells."""
        assert isinstance(value, ImageValue)
        if card.key.sample >= len(value.images):
            return Text("(no such sample at this step)", style="dim")
        opts = card.options
        body = image_card(
            value,
            card.key.sample,
            width,
            height,
            self.board.theme,
            truecolor=True,  # Textual maps colours down to what the terminal has
            brightness=opts.get("brightness", 1.0),
            contrast=opts.get("contrast", 1.0),
            actual=opts.get("actual", False),
            frame=opts.get("frame", 0),
        )
        return Group(body)
