"""The Images tab: a card per (tag, run, sample) at one step — every step of every image is
kept and reachable (TensorBoard keeps 10) — decoded off the event loop.

Owns: `ImagesView`, `ImageCard` (brightness, contrast, actual size, GIF frame, save) and
`ImageScreen`, the full-screen image. Cards draw Unicode half-blocks (render/images.py: numpy,
on a worker thread, cached by card, step, size and options — the same half-blocks textual-image
itself uses in tmux and over plain SSH, and testable as text). Full screen hands the image to
textual-image, which shows it with the Kitty graphics protocol or Sixel where the terminal
speaks one (detected when the app starts), else half-blocks. The store keeps only the encoded
bytes; only what is shown is decoded.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tuiboard.core.types import IMAGES, ImageValue
from tuiboard.render.images import (
    adjust,
    decode,
    frame_count,
    image_card,
    image_info,
    scale_nearest,
)
from tuiboard.render.sanitize import clean
from tuiboard.ui.screens.card import CardScreen
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardKey, CardsView, save_bytes

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
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
        name = f"{self.key.run}_{self.key.tag}_{value.step}_{self.key.sample}.{ext}"
        save_bytes(self, data, name, "image")


def image_widget() -> type:
    """textual-image's widget for this terminal: Kitty graphics or Sixel where the terminal
    answered that it speaks one, else coloured half-blocks. (textual-image falls back to grey
    shade characters when stdout is no terminal — never the case for the app; tests and
    screenshots then get the half-blocks tmux users see.)"""
    from textual_image import renderable
    from textual_image.widget import HalfcellImage, Image

    if renderable.Image in (renderable.TGPImage, renderable.SixelImage):
        return Image
    return HalfcellImage


def image_cells(
    w: int, h: int, cols: int, rows: int, cell_w: int, cell_h: int, actual: bool
) -> tuple[int, int]:
    """The image's size in cells on a terminal whose cells are cell_w x cell_h pixels: as large
    as fits cols x rows keeping the aspect ratio, or (actual) one image pixel per screen pixel,
    shrunk to fit when the screen is smaller."""
    cell_w, cell_h = max(1, cell_w), max(1, cell_h)
    if actual:
        want_c, want_r = -(-w // cell_w), -(-h // cell_h)
        if want_c <= cols and want_r <= rows:
            return max(1, want_c), max(1, want_r)
    c = cols
    r = round(c * (h / w) * (cell_w / cell_h))
    if r > rows:
        r = rows
        c = round(r * (w / h) * (cell_h / cell_w))
    return max(1, min(cols, c)), max(1, min(rows, r))


class ImageScreen(CardScreen):
    """One image as large as the terminal allows, through textual-image (Kitty, Sixel or
    half-blocks): the card above draws the title, slider and image facts; this draws pixels."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(id="full-image-problem")
        yield image_widget()(id="full-image")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#full-image-problem").display = False
        self.card.styles.height = 3
        self.show()

    def show(self) -> None:
        """Decode the shown image (worker thread) if the step, sample or options moved."""
        shown = self.card.shown_image()  # type: ignore[attr-defined]
        if shown is None or not self.is_mounted:
            return
        value, data = shown
        opts = self.card.options
        box = self.query_one("#full-image").parent.size  # type: ignore[union-attr]
        key = (value.step, value.wall_time, self.card.key, tuple(sorted(opts.items())), box)
        if key == getattr(self, "_shown_key", None):
            return
        self._shown_key = key
        # Below the hint line and the 3-line card; the image keeps a margin of 1 each side.
        self._prepare(data, dict(opts), max(1, box.width - 2), max(1, box.height - 4))

    @work(thread=True, exclusive=True, group="full-image")
    def _prepare(self, data: bytes, opts: dict[str, object], cols: int, rows: int) -> None:
        from PIL import Image as PILImage
        from textual_image._terminal import get_cell_size

        decoded = decode(data)
        if isinstance(decoded, str):
            self.app.call_from_thread(self._problem, decoded)
            return
        frames = decoded.frames
        rgb = frames[int(opts.get("frame", 0)) % len(frames)]  # type: ignore[call-overload]
        rgb = adjust(rgb, opts.get("brightness", 1.0), opts.get("contrast", 1.0))  # type: ignore[arg-type]
        h, w = rgb.shape[:2]
        cell = get_cell_size()  # pixels per cell, as the terminal said (or textual-image's guess)
        size = image_cells(w, h, cols, rows, cell.width, cell.height, bool(opts.get("actual")))
        # Small images (MNIST's 28x28) are scaled up by a whole factor with nearest neighbour,
        # so textual-image (which resamples smoothly) keeps their pixels crisp.
        k = int(min(size[0] * cell.width / w, size[1] * cell.height / h))
        if k > 1:
            rgb = scale_nearest(rgb, w * k, h * k)
        self.app.call_from_thread(self._put, PILImage.fromarray(rgb), size)

    def _put(self, image: object, size: tuple[int, int]) -> None:
        self.query_one("#full-image-problem").display = False
        widget = self.query_one("#full-image")
        widget.display = True
        widget.styles.width, widget.styles.height = size
        widget.image = image  # type: ignore[attr-defined]

    def _problem(self, reason: str) -> None:
        self.query_one("#full-image").display = False
        problem = self.query_one("#full-image-problem", Static)
        problem.display = True
        problem.update(Text(clean(f"⚠ cannot decode: {reason}"), style="red"))

    def apply_changes(self, changes: Changes) -> None:
        super().apply_changes(changes)
        self.show()

    def on_resize(self) -> None:
        self.call_after_refresh(self.show)


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

    def title_extra(self, card: Card, value: ValueRecord) -> Text:
        head = Text()
        if isinstance(value, ImageValue) and len(value.images) > 1:
            head.append(f"  {card.key.sample + 1}/{len(value.images)}", style="dim")
        if card.full and isinstance(value, ImageValue):
            head.append("  " + image_info(value, card.key.sample), style="dim")
            if "frame" in card.options and card.key.sample < len(value.images):
                frames = frame_count(value.images[card.key.sample])
                head.append(f"  frame {card.options['frame'] % frames + 1}/{frames}", style="dim")
            bright = card.options.get("brightness", 1.0)
            contrast = card.options.get("contrast", 1.0)
            if (bright, contrast) != (1.0, 1.0):
                head.append(f"  brightness {bright:.0%} contrast {contrast:.0%}", style="dim")
            if card.options.get("actual"):
                head.append("  actual size", style="dim")
        return head

    def full_screen(self, key: CardKey, index: int | None) -> CardScreen:
        return ImageScreen(self, key, index)

    def draw_card(self, card: Card, width: int, height: int) -> RenderableType:
        drawn = super().draw_card(card, width, height) if not card.full else self._head(card, width)
        if card.full and card.is_mounted and isinstance(card.screen, ImageScreen):
            card.screen.call_after_refresh(card.screen.show)
        return drawn

    def _head(self, card: Card, width: int) -> RenderableType:
        cur = card.current()
        if cur is None:
            return Text("no data yet", style="dim")
        return Group(*self.head(card, cur, width))

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
