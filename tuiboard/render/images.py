"""Images in a terminal: decoding, TensorBoard's brightness/contrast, fitting and half-blocks.

Owns: `decode` (bytes -> RGB frames, or a reason), `adjust`, `fit_cells`, `scale_nearest`,
`halfblocks`, `luminance`, `image_card`, `image_info` and `plot_blocks` (`plot --kind images`).
Must not import: textual, tuiboard.ui. Pillow is imported lazily, on the first decode, so that
importing this module stays cheap and works (with a "Pillow is not installed" mark) without it.

Choices, stated once:
- Transparency is composited on black (a terminal's usual background): rgb * alpha / 255.
- 16-bit samples are scaled to 8 bits (x * 255 / 65535, rounded); every mode ends as RGB uint8.
- Animated GIF/WebP: every frame up to `MAX_FRAMES`, and fewer when all frames together would
  exceed `max_pixels` (so a 500-frame 4k GIF cannot take gigabytes).
- A decompression bomb never allocates: the header size is checked before any pixel is decoded
  (Pillow's `Image.open` is lazy).
- One cell is two pixels stacked ("▀": foreground = top pixel, background = bottom pixel).
  Upscaling (the usual 28x28 case) is nearest-neighbour, as TensorBoard's `pixelated` CSS;
  downscaling is Pillow's BOX filter (the mean of each source box).
- 256-colour mode maps each pixel to the nearest xterm colour among the 6x6x6 cube and the
  24-step grey ramp (squared RGB distance), never to the 16 terminal-defined system colours.
- Without colour, `luminance` draws one of " ░▒▓█" per cell by Rec. 601 luma
  (0.299 R + 0.587 G + 0.114 B) of the mean of the cell's two pixels.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.color import Color, ColorTriplet, ColorType
from rich.style import Style
from rich.text import Span, Text

from tuiboard.core.tfevents_values import MAX_IMAGE_PIXELS
from tuiboard.core.types import IMAGES, ImageValue
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.numbers import fmt_bytes
from tuiboard.render.plot_request import block_head
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

if TYPE_CHECKING:
    from tuiboard.render.plot_request import PlotRequest

MAX_FRAMES = 500
"""At most this many frames of an animated image are decoded."""
MAX_PIXELS = MAX_IMAGE_PIXELS
"""Default limit on width * height of one image (about 150 MB once decoded)."""
_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
_UPPER_HALF = "▀"
_RAMP = " ░▒▓█"
_MARK = "⚠"


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded image (several frames when animated)."""

    frames: tuple[np.ndarray, ...]
    """At least one; each a read-only C-contiguous uint8 array of shape (height, width, 3)."""
    width: int
    height: int
    format: str
    """Pillow's format name: "PNG", "JPEG", "GIF", "BMP" or "WEBP"."""
    durations_ms: tuple[int, ...]
    """Display time of each frame (0 where the file does not say); len == len(frames)."""


# -- decoding ------------------------------------------------------------------------------------


def _composite_on_black(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.uint16)
    return ((rgba[..., :3].astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)


def _to_rgb(im: Any) -> np.ndarray:
    """The current frame of a Pillow image as (h, w, 3) uint8 RGB."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8)
    if mode == "L" and "transparency" not in im.info:
        gray = np.asarray(im, dtype=np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale PNG ("I" in older Pillow, "I;16" in newer): values 0..65535.
        wide = np.clip(np.asarray(im).astype(np.int64), 0, 65535)
        gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        gray = np.clip(np.nan_to_num(np.asarray(im, dtype=np.float64)), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if "A" in mode or "a" in mode or "transparency" in im.info:
        return _composite_on_black(np.asarray(im.convert("RGBA"), dtype=np.uint8))
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=np.uint8)
    out.flags.writeable = False
    return out


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Decoded | str:
    """`data` (PNG, JPEG, GIF, BMP or WebP) decoded to RGB frames, or a short reason why not.

    Never raises on bad input: undecodable, truncated or oversized images give a reason string.
    """
    if not data:
        return "no image data"
    try:
        from PIL import Image
    except ImportError:
        return "Pillow is not installed (pip install pillow)"
    # Pillow raises many exception types on hostile input (OSError, SyntaxError, ValueError,
    # EOFError, struct.error, IndexError, ...): all of them mean "this image cannot be shown",
    # which is a value for the card to display, not a bug of ours.
    try:
        with warnings.catch_warnings():
            # Over Image.MAX_IMAGE_PIXELS Pillow warns (on stderr, under the TUI); our own limit
            # below decides instead. catch_warnings is process-wide: at worst a concurrent
            # decode's warning of this one category is hidden too.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_FORMATS)
    except Image.DecompressionBombError:
        return f"too large to decode (over the {max_pixels:,}-pixel limit)"
    except Image.UnidentifiedImageError:
        return "not a PNG, JPEG, GIF, BMP or WebP image"
    except Exception as e:  # see above: any failure is a reason, not a crash
        return _reason(e)
    try:
        width, height = (int(v) for v in im.size)
        if width <= 0 or height <= 0:
            return f"empty image ({width}x{height})"
        if width * height > max_pixels:
            return f"{width}x{height} is over the {max_pixels:,}-pixel limit"
        n = int(getattr(im, "n_frames", 1) or 1)
        n = max(1, min(n, MAX_FRAMES, max_pixels // (width * height)))
        frames: list[np.ndarray] = []
        durations: list[int] = []
        for i in range(n):
            if i:
                im.seek(i)
            rgb = _to_rgb(im)
            if rgb.shape[:2] != (height, width):  # a frame of another size: pad or crop it
                canvas = np.zeros((height, width, 3), dtype=np.uint8)
                h, w = min(height, rgb.shape[0]), min(width, rgb.shape[1])
                canvas[:h, :w] = rgb[:h, :w]
                rgb = canvas
            frames.append(_frozen(rgb))
            durations.append(int(im.info.get("duration", 0) or 0))
        return Decoded(tuple(frames), width, height, str(im.format), tuple(durations))
    except Exception as e:  # as above
        return _reason(e)
    finally:
        im.close()


def _reason(e: BaseException) -> str:
    msg = clean(str(e)).strip()
    if "truncated" in msg.lower() or isinstance(e, EOFError):
        return "truncated image data"
    if isinstance(e, MemoryError):
        return "not enough memory to decode"
    msg = msg[:80] or type(e).__name__
    return f"broken image ({msg})"


# -- pixels --------------------------------------------------------------------------------------


def adjust(rgb: np.ndarray, brightness: float = 1.0, contrast: float = 1.0) -> np.ndarray:
    """TensorBoard's `filter: contrast(c) brightness(b)`, in that order, each step clipped to
    [0, 255] as CSS does: contrast (x - 127.5) * c + 127.5, then brightness x * b.
    `brightness` is clamped to TensorBoard's slider range 0..2, `contrast` to 0..5 (0-500 %).
    Applied through a 256-entry table, so the cost is one lookup per channel value."""
    b = min(max(float(brightness), 0.0), 2.0)
    c = min(max(float(contrast), 0.0), 5.0)
    if b == 1.0 and c == 1.0:
        return rgb
    x = np.arange(256, dtype=np.float64)
    x = np.clip((x - 127.5) * c + 127.5, 0.0, 255.0)
    x = np.clip(x * b, 0.0, 255.0)
    lut = np.floor(x + 0.5).astype(np.uint8)
    return lut[rgb]


def fit_cells(
    img_w: int, img_h: int, max_cols: int, max_rows: int, *, actual: bool = False
) -> tuple[int, int]:
    """(cols, rows) of cells an `img_w` x `img_h` image takes in a `max_cols` x `max_rows` box,
    one cell being 1 pixel wide and 2 pixels tall. The aspect ratio is kept and the image is
    scaled up or down to fill the box; `actual`: one image pixel per half-cell, cropped to the
    box. (0, 0) when there is nothing to draw."""
    if img_w <= 0 or img_h <= 0 or max_cols <= 0 or max_rows <= 0:
        return 0, 0
    if actual:
        return min(img_w, max_cols), min((img_h + 1) // 2, max_rows)
    scale = min(max_cols / img_w, 2.0 * max_rows / img_h)
    cols = min(max_cols, max(1, int(img_w * scale + 0.5)))
    rows = min(max_rows, max(1, int(img_h * scale / 2.0 + 0.5)))
    return cols, rows


def scale_nearest(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """`rgb` resized to `w` x `h` pixels by nearest neighbour (the source pixel under each
    target pixel's centre), with index arrays."""
    src_h, src_w = rgb.shape[:2]
    rows = ((2 * np.arange(h, dtype=np.int64) + 1) * src_h) // (2 * max(h, 1))
    cols = ((2 * np.arange(w, dtype=np.int64) + 1) * src_w) // (2 * max(w, 1))
    return rgb[rows[:, None], cols[None, :]]


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    src_h, src_w = rgb.shape[:2]
    if (w, h) == (src_w, src_h):
        return rgb
    if w >= src_w and h >= src_h:
        return scale_nearest(rgb, w, h)
    from PIL import Image

    small = Image.fromarray(np.ascontiguousarray(rgb)).resize((w, h), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def _even_rows(rgb: np.ndarray) -> np.ndarray:
    """An odd last pixel row gets a black row under it (the bottom half of the last cell)."""
    if rgb.shape[0] % 2 == 0:
        return rgb
    pad = np.zeros((1, *rgb.shape[1:]), dtype=np.uint8)
    return np.concatenate((rgb, pad), axis=0)


# -- colours -------------------------------------------------------------------------------------

_CUBE_LEVELS = np.array([0, 95, 135, 175, 215, 255], dtype=np.int32)
# Nearest cube level of every byte value (midpoints 47.5, 115, 155, 195, 235).
_CUBE_INDEX = np.searchsorted(
    np.array([48, 115, 155, 195, 235]), np.arange(256), side="right"
).astype(np.int32)


def xterm256(rgb: np.ndarray) -> np.ndarray:
    """The nearest xterm-256 colour number (16-255) of every pixel of a (..., 3) uint8 array."""
    c = rgb.astype(np.int32)
    q = _CUBE_INDEX[c]  # (..., 3)
    cube = _CUBE_LEVELS[q]
    d_cube = ((c - cube) ** 2).sum(axis=-1)
    g = np.clip((c.sum(axis=-1) - 24 + 15) // 30, 0, 23)  # round((mean - 8) / 10)
    gv = (8 + 10 * g)[..., None]
    d_gray = ((c - gv) ** 2).sum(axis=-1)
    cube_no = 16 + 36 * q[..., 0] + 6 * q[..., 1] + q[..., 2]
    return np.where(d_gray < d_cube, 232 + g, cube_no).astype(np.int32)


_ANSI_COLORS = tuple(Color.from_ansi(i) for i in range(256))


def _rgb_color(v: int) -> Color:
    # Positional arguments: this runs once per distinct colour of a photo (tens of thousands).
    return Color(
        f"#{v:06x}", ColorType.TRUECOLOR, None, ColorTriplet(v >> 16, (v >> 8) & 0xFF, v & 0xFF)
    )


def _pair_styles(fg: np.ndarray, bg: np.ndarray, truecolor: bool) -> list[Style]:
    """Style(fg on bg) of each pair: 24-bit values (truecolor) or xterm numbers. Each distinct
    colour becomes one Color object, whatever the number of cells using it."""
    if not truecolor:
        ansi = _ANSI_COLORS
        pairs = zip(fg.tolist(), bg.tolist(), strict=True)
        return [Style.from_color(ansi[f], ansi[b]) for f, b in pairs]
    values, inverse = np.unique(np.concatenate((fg, bg)), return_inverse=True)
    colors = [_rgb_color(v) for v in values.tolist()]
    idx = inverse.reshape(-1).tolist()
    n = fg.shape[0]
    return [Style.from_color(colors[idx[i]], colors[idx[n + i]]) for i in range(n)]


def _grid_text(codes: np.ndarray, left: int, width: int) -> tuple[str, int]:
    """The plain text of `codes` (rows x cols code points) placed at column `left` of lines
    `width` cells wide (spaces around); also the length of one line plus its newline."""
    rows, cols = codes.shape
    grid = np.full((rows, width + 1), 0x20, dtype=np.uint32)
    grid[:, left : left + cols] = codes
    grid[:, width] = 0x0A
    plain = grid.tobytes().decode("utf-32-le")[:-1] if rows else ""
    return plain, width + 1


def _halfblock_text(rgb: np.ndarray, truecolor: bool, left: int, width: int) -> Text:
    rgb = _even_rows(rgb)
    top, bot = rgb[0::2], rgb[1::2]
    rows, cols = top.shape[:2]
    codes = np.full((rows, cols), ord(_UPPER_HALF), dtype=np.uint32)
    plain, stride = _grid_text(codes, left, width)
    if rows == 0 or cols == 0:
        return Text(plain, no_wrap=True, overflow="crop")
    if truecolor:
        t = top.astype(np.int64)
        b = bot.astype(np.int64)
        keys = (((t[..., 0] << 16) | (t[..., 1] << 8) | t[..., 2]) << 24) | (
            (b[..., 0] << 16) | (b[..., 1] << 8) | b[..., 2]
        )
    else:
        keys = (xterm256(top).astype(np.int64) << 8) | xterm256(bot)
    # Every row starts a run, so no run crosses a line end.
    new_run = np.ones((rows, cols), dtype=bool)
    new_run[:, 1:] = keys[:, 1:] != keys[:, :-1]
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], rows * cols)
    offsets = (starts // cols) * stride + left + starts % cols
    uniq, inverse = np.unique(keys.reshape(-1)[starts], return_inverse=True)
    shift = 24 if truecolor else 8
    styles = _pair_styles(uniq >> shift, uniq & ((1 << shift) - 1), truecolor)
    spans = [
        Span(a, a + n, styles[k])
        for a, n, k in zip(
            offsets.tolist(), (ends - starts).tolist(), inverse.reshape(-1).tolist(), strict=True
        )
    ]
    return Text(plain, spans=spans, no_wrap=True, overflow="crop")


def halfblocks(rgb: np.ndarray, *, truecolor: bool) -> Text:
    """`rgb` (h x w pixels) as ceil(h / 2) lines of w "▀" cells: foreground = top pixel,
    background = bottom pixel; 24-bit colours, or the nearest xterm-256 colours. One span per
    run of equal cells in a line."""
    return _halfblock_text(rgb, truecolor, 0, int(rgb.shape[1]))


_RAMP_CODES = np.array([ord(c) for c in _RAMP], dtype=np.uint32)


def _luminance_text(rgb: np.ndarray, left: int, width: int) -> Text:
    rgb = _even_rows(rgb)
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    cell = (luma[0::2] + luma[1::2]) / 2.0
    level = np.clip((cell * (len(_RAMP) / 256.0)).astype(np.int64), 0, len(_RAMP) - 1)
    plain, _ = _grid_text(_RAMP_CODES[level], left, width)
    return Text(plain, no_wrap=True, overflow="crop")


def luminance(rgb: np.ndarray) -> Text:
    """`rgb` with no colour at all (for mail and logs): one of " ░▒▓█" per cell (two pixels
    stacked) by their mean Rec. 601 luma; black is " ", white "█"."""
    return _luminance_text(rgb, 0, int(rgb.shape[1]))


# -- cards ---------------------------------------------------------------------------------------


CARD_CACHE_BYTES = 64 << 20
"""Card-sized pixels kept for redraws (slider, brightness, animation), all images together."""
CARD_CACHE_ITEMS = 256
"""At most this many cards cached (each key holds its encoded bytes alive)."""
_CARD_FRAME_PIXELS = 2_000_000
"""Card pixels kept per image, all its frames together (a long GIF keeps its first frames)."""


_CardKey = tuple[bytes, int, int, bool]
_CardFrames = tuple[np.ndarray, ...] | str


class _CardCache:
    """Card-sized frames of recently drawn images, least recently used dropped first once they
    hold more than `limit` bytes or `max_items` entries. Keyed by (encoded bytes, box,
    actual): Python computes a bytes object's hash once and keeps it, and the store hands out
    the same objects each time.
    Any thread may draw: the dictionary is only touched under the lock, and the decoding of a
    miss happens outside it."""

    def __init__(self, limit: int, max_items: int = CARD_CACHE_ITEMS) -> None:
        self._limit = limit
        self._max_items = max(1, max_items)
        self._lock = threading.Lock()
        self._items: OrderedDict[_CardKey, tuple[_CardFrames, int]] = OrderedDict()
        """key -> (frames or reason, its size in bytes); oldest first."""
        self._total = 0
        """Sum of the sizes in `_items`; at most `_limit` after every put (unless one entry
        alone is bigger: the newest entry is always kept)."""

    def get(self, key: _CardKey, make: Callable[[], _CardFrames]) -> _CardFrames:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
        value = make()
        size = len(value) if isinstance(value, str) else sum(f.nbytes for f in value)
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, size)
                self._total += size
            while len(self._items) > 1 and (
                self._total > self._limit or len(self._items) > self._max_items
            ):
                _, (_, old) = self._items.popitem(last=False)
                self._total -= old
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0


_CARDS = _CardCache(CARD_CACHE_BYTES)


def _card_frames(data: bytes, max_cols: int, max_rows: int, actual: bool) -> _CardFrames:
    """The frames of one card (each 2 * rows x cols x 3, read-only), or why it has none."""
    decoded = decode(data)
    if isinstance(decoded, str):
        return decoded
    cols, rows = fit_cells(decoded.width, decoded.height, max_cols, max_rows, actual=actual)
    if cols == 0 or rows == 0:
        return ()
    keep = max(1, min(len(decoded.frames), _CARD_FRAME_PIXELS // (2 * cols * rows)))
    out = []
    for rgb in decoded.frames[:keep]:
        px = _even_rows(rgb[: 2 * rows, :cols]) if actual else _resize(rgb, cols, 2 * rows)
        out.append(_frozen(px))
    return tuple(out)


def _mark(message: str, width: int, theme: Theme) -> Text:
    line = Text(f"{_MARK} {clean(message)}", style=theme.nan if theme.color else "")
    return fit_text(line, width)


def image_card(
    value: ImageValue,
    index: int,
    width: int,
    height: int,
    theme: Theme,
    *,
    truecolor: bool = False,
    brightness: float = 1.0,
    contrast: float = 1.0,
    actual: bool = False,
    frame: int = 0,
) -> Text:
    """Sample `index` of `value` drawn in exactly `width` cells by at most `height` lines,
    centred: half-blocks when `theme.color`, else the luminance ramp. An image that cannot be
    drawn gives one line "⚠ cannot decode: <reason>" instead. `frame` picks the frame of an
    animated image and wraps around, so an animation just counts up. Decoded, fitted frames
    are cached (up to CARD_CACHE_BYTES): redrawing a card does not decode it again."""
    if width <= 0 or height <= 0:
        return Text("", no_wrap=True, overflow="crop")
    if not 0 <= index < len(value.images):
        return _mark(f"no sample {index + 1} (this step has {len(value.images)})", width, theme)
    data = value.images[index]
    frames = _CARDS.get(
        (data, width, height, actual), lambda: _card_frames(data, width, height, actual)
    )
    if isinstance(frames, str):
        return _mark(f"cannot decode: {frames}", width, theme)
    if not frames:
        return _mark("empty image", width, theme)
    px = frames[frame % len(frames)]
    left = (width - px.shape[1]) // 2
    if not theme.color:
        return _luminance_text(adjust(px, brightness, contrast), left, width)
    return _halfblock_text(adjust(px, brightness, contrast), truecolor, left, width)


def frame_count(data: bytes) -> int:
    """How many frames an (animated) image has; 1 when it is still or unreadable."""
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_FORMATS) as im:
                return max(1, min(MAX_FRAMES, int(getattr(im, "n_frames", 1) or 1)))
    except Exception:  # unreadable: the card says why
        return 1


def image_info(value: ImageValue, index: int) -> str:
    """One line about sample `index`: "28x28 PNG · 1.2 kB" (" · 12 frames" when animated, then
    the image's caption, its first line, when it has one).
    Sizes come from the image's own header when it can be read, else from the summary."""
    if not 0 <= index < len(value.images):
        return f"no sample {index + 1}"
    data = value.images[index]
    w, h = value.width, value.height
    fmt = value.content_type.rpartition("/")[2].upper() or "?"
    frames = 1
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_FORMATS) as im:
                w, h = im.size
                fmt = str(im.format)
                if fmt == "GIF":
                    frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # an unreadable header: the card shows why; keep the summary's numbers
        pass
    if fmt == "OCTET-STREAM":
        fmt = "?"
    out = f"{w}x{h} {clean(fmt)}"
    if frames > 1:
        out += f" · {frames} frames"
    out = f"{out} · {fmt_bytes(len(data))}"
    caption = value.captions[index] if index < len(value.captions) else ""
    if caption.strip():
        out += f" · {clean(caption.strip().splitlines()[0])}"
    return out


# -- plot --images -------------------------------------------------------------------------------


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per run x image tag x sample: a head line
    "tag · run · step N · sample i/n · 28x28 PNG · 1.2 kB" (samples counted from 1, as
    TensorBoard does) and the image, every line exactly `req.width` cells, the image at most
    `req.height` lines. A run without a value at or before `req.step` is left out."""
    theme = req.theme
    width = req.width
    blocks: list[Text] = []
    for run in req.runs:
        colour = req.colours.get(run.name, theme.text)
        for tag in run.tags(IMAGES):
            if not req.tag_ok(tag):
                continue
            value = req.value(run, IMAGES, tag, ImageValue)
            if value is None:
                continue
            n = len(value.images)
            for i in range(max(n, 1)):
                head = block_head(theme, tag, run.name, colour, value.step)
                if n == 0:
                    head.append(" · no image")
                    blocks.append(fit_text(head, width))
                    continue
                head.append(f" · sample {i + 1}/{n} · {image_info(value, i)}")
                body = image_card(value, i, width, req.height, theme, truecolor=req.truecolor)
                blocks.append(join_lines([fit_text(head, width), body]))
    return blocks
