"""Image renderers on images written by real writers and read back by TensorBoard.

Owns: the tests of tuiboard/render/images.py. Must not import: textual.

Writers: tensorboardX's SummaryWriter (add_image CHW float and HWC uint8, add_images, add_figure
with a matplotlib figure on the Agg backend, a 28x28 greyscale image, a 1024x1024 one), and
tensorboard's EventFileWriter for the TF2 tensor form `[width, height, png0, png1]` (tensorboard's
summary_v2 image op and summary.v1 need TensorFlow, not installed here, so the Event is built
with tensorboard's protos and image metadata, as tf.summary.image writes it).
tensorboardX's add_video needs moviepy (not installed), so the animated GIF is written the way
add_video writes it: Pillow-made GIF bytes in a Summary.Image through tensorboardX's file writer.
Reference: TensorBoard's EventAccumulator (`Images`, `Tensors`); pixels decoded independently
with Pillow from TensorBoard's bytes, and known pixel values the writers were given.
"""

from __future__ import annotations

import io
import os
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from rich.cells import cell_len
from rich.color import EIGHT_BIT_PALETTE
from rich.console import Console
from rich.text import Text

import tuiboard
from tests.reference import accumulate
from tuiboard.core.types import IMAGES, ImageValue
from tuiboard.render.images import (
    MAX_FRAMES,
    Decoded,
    adjust,
    decode,
    fit_cells,
    halfblocks,
    image_card,
    image_info,
    luminance,
    plot_blocks,
    scale_nearest,
    xterm256,
)
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.theme import default_theme, run_color

os.environ.setdefault("MPLBACKEND", "Agg")

THEME = default_theme()
PLAIN = default_theme(color=False)
T0 = 1_700_000_000.0


# -- helpers -------------------------------------------------------------------------------------


def encode(arr: np.ndarray, fmt: str = "PNG", **kw: Any) -> bytes:
    out = io.BytesIO()
    Image.fromarray(arr).save(out, fmt, **kw)
    return out.getvalue()


def pillow_rgb(data: bytes) -> np.ndarray:
    """TensorBoard's bytes decoded by Pillow directly (the independent reference)."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def ok(d: Decoded | str) -> Decoded:
    assert isinstance(d, Decoded), d
    return d


def gif_bytes(frames: list[np.ndarray], duration: int = 100) -> bytes:
    ims = [Image.fromarray(f) for f in frames]
    out = io.BytesIO()
    ims[0].save(out, "GIF", save_all=True, append_images=ims[1:], duration=duration, loop=0)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming `width` x `height`, with a tiny IDAT: a bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def lines_of(t: Text) -> list[str]:
    return t.plain.split("\n")


def assert_exact_width(t: Text, width: int) -> None:
    for line in lines_of(t):
        assert cell_len(line) == width, repr(line)


# -- real writers --------------------------------------------------------------------------------

# A CHW float gradient whose uint8 value is known exactly: tensorboardX writes (x * 255) truncated,
# so each value sits in the middle of its byte.
GRAD = np.empty((3, 16, 24), dtype=np.float32)
_yy, _xx = np.mgrid[0:16, 0:24]
GRAD_U8 = np.stack([_xx * 10, _yy * 15, (_xx + _yy) * 6]).astype(np.uint8)  # (3, 16, 24)
GRAD[:] = (GRAD_U8.astype(np.float32) + 0.5) / 255.0
HWC = np.zeros((10, 20, 3), dtype=np.uint8)
HWC[:5, :10] = (255, 0, 0)
HWC[:5, 10:] = (0, 255, 0)
HWC[5:, :10] = (0, 0, 255)
HWC[5:, 10:] = (255, 255, 255)
MNIST = (np.add.outer(np.arange(28), np.arange(28)) * 4).astype(np.uint8)  # 0..216
_by, _bx = np.mgrid[0:1024, 0:1024]
BIG = np.stack([_bx // 4, _by // 4, (_bx ^ _by) & 0xFF], axis=-1).astype(np.uint8)
BATCH = np.zeros((4, 3, 8, 8), dtype=np.float32)
for _i in range(4):
    BATCH[_i, _i % 3] = (50 * (_i + 1) + 0.5) / 255.0
GIF_FRAMES = [np.full((6, 9, 3), c, dtype=np.uint8) for c in ((255, 0, 0), (0, 0, 255), (0, 0, 0))]


@pytest.fixture(scope="module")
def tbx_logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tensorboardX import SummaryWriter
    from tensorboardX.proto.summary_pb2 import Summary

    root = tmp_path_factory.mktemp("images")
    w = SummaryWriter(str(root / "tbx"), flush_secs=3600)
    w.add_image("grad/chw_float", GRAD, 0, walltime=T0)
    w.add_image("grad/chw_float", 1.0 - GRAD, 5, walltime=T0 + 5)
    w.add_image("grad/hwc_uint8", HWC, 0, dataformats="HWC", walltime=T0)
    w.add_images("batch", BATCH, 0, walltime=T0)
    w.add_image("mnist", MNIST, 0, dataformats="HW", walltime=T0)
    w.add_image("big", BIG, 0, dataformats="HWC", walltime=T0)
    fig = plt.figure(figsize=(2, 1.5), dpi=50, facecolor=(1.0, 0.0, 0.0))
    fig.add_subplot(111).plot([0, 1, 2], [0, 1, 0])
    w.add_figure("figure", fig, 0, walltime=T0)
    gif = gif_bytes(GIF_FRAMES)
    image = Summary.Image(height=6, width=9, colorspace=3, encoded_image_string=gif)
    w.file_writer.add_summary(Summary(value=[Summary.Value(tag="video", image=image)]), 0)
    w.close()
    return root


@pytest.fixture(scope="module")
def tf2_logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.image import metadata as image_meta
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    root = tmp_path_factory.mktemp("tf2images")
    w = EventFileWriter(str(root / "tf2"))
    content = image_meta.create_summary_metadata("", "").plugin_data.content
    for step in (0, 3):
        imgs = [encode(HWC), encode(np.ascontiguousarray(HWC[::-1]) // (step + 1))]
        cells = np.array([b"20", b"10", *imgs], dtype=object)
        v = summary_pb2.Summary.Value(tag="tf2/image")
        v.tensor.CopyFrom(tensor_util.make_tensor_proto(cells))
        v.metadata.plugin_data.plugin_name = "images"
        v.metadata.plugin_data.content = content
        ev = event_pb2.Event(step=step, wall_time=T0 + step)
        ev.summary.value.append(v)
        w.add_event(ev)
    w.close()
    return root


def images_of(root: Path, run: str) -> dict[str, tuple[ImageValue, ...]]:
    r = tuiboard.open(str(root)).run(run)
    assert r is not None
    return {tag: r.values(IMAGES, tag) for tag in r.tags(IMAGES)}  # type: ignore[misc]


def test_tensorboardx_images_equal_tensorboards(tbx_logdir: Path) -> None:
    ours = images_of(tbx_logdir, "tbx")
    acc = accumulate(tbx_logdir / "tbx")
    tags = acc.Tags()["images"]
    assert sorted(ours) == sorted(tags)
    for tag in tags:
        ref = acc.Images(tag)
        got = ours[tag]
        assert [v.step for v in got] == [e.step for e in ref]
        for v, e in zip(got, ref, strict=True):
            assert v.images == (e.encoded_image_string,)
            assert (v.width, v.height) == (e.width, e.height)
            d = ok(decode(v.images[0]))
            assert (d.width, d.height) == (e.width, e.height)
            np.testing.assert_array_equal(d.frames[0], pillow_rgb(e.encoded_image_string))


def test_known_pixels_come_back(tbx_logdir: Path) -> None:
    ours = images_of(tbx_logdir, "tbx")
    chw = ours["grad/chw_float"]
    np.testing.assert_array_equal(
        ok(decode(chw[0].images[0])).frames[0], GRAD_U8.transpose(1, 2, 0)
    )
    inverted = ((1.0 - GRAD) * 255.0).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(ok(decode(chw[1].images[0])).frames[0], inverted)
    np.testing.assert_array_equal(ok(decode(ours["grad/hwc_uint8"][0].images[0])).frames[0], HWC)
    mnist = ok(decode(ours["mnist"][0].images[0]))
    assert (mnist.width, mnist.height, mnist.format) == (28, 28, "PNG")
    np.testing.assert_array_equal(mnist.frames[0], np.repeat(MNIST[:, :, None], 3, axis=2))
    big = ok(decode(ours["big"][0].images[0])).frames[0]
    assert big.shape == (1024, 1024, 3)
    for y, x in ((0, 0), (1023, 1023), (17, 900), (512, 3)):
        assert tuple(big[y, x]) == tuple(BIG[y, x])
    # add_images: tensorboardX's make_grid, 4 images of 8x8 side by side (up to 8 per row).
    grid = ok(decode(ours["batch"][0].images[0])).frames[0]
    assert grid.shape == (8, 32, 3)
    for i in range(4):
        expect = [0, 0, 0]
        expect[i % 3] = 50 * (i + 1)
        assert tuple(grid[4, 8 * i + 4]) == tuple(expect)
    fig = ok(decode(ours["figure"][0].images[0]))
    assert (fig.width, fig.height) == (100, 75)  # figsize (2, 1.5) at 50 dpi
    assert tuple(fig.frames[0][0, 0]) == (255, 0, 0)  # the red face colour


def test_gif_every_frame(tbx_logdir: Path) -> None:
    v = images_of(tbx_logdir, "tbx")["video"][0]
    assert v.content_type == "image/gif"
    d = ok(decode(v.images[0]))
    assert d.format == "GIF" and (d.width, d.height) == (9, 6)
    assert len(d.frames) == 3 and d.durations_ms == (100, 100, 100)
    for frame, colour in zip(d.frames, GIF_FRAMES, strict=True):
        np.testing.assert_array_equal(frame, colour)
    assert image_info(v, 0).startswith("9x6 GIF · 3 frames · ")


def test_animated_card_frames_wrap(tbx_logdir: Path) -> None:
    v = images_of(tbx_logdir, "tbx")["video"][0]
    colours = []
    for frame in range(5):
        card = image_card(v, 0, 9, 3, THEME, truecolor=True, frame=frame)
        styles = {str(s.style) for s in card.spans}
        assert len(styles) == 1
        colours.append(styles.pop())
    red, blue, black = "#ff0000 on #ff0000", "#0000ff on #0000ff", "#000000 on #000000"
    assert colours == [red, blue, black, red, blue]


def test_card_cache_is_bounded() -> None:
    from tuiboard.render import images

    cache = images._CardCache(limit=1000)
    made: list[int] = []

    def make(n: int) -> tuple[np.ndarray, ...]:
        made.append(n)
        return (np.zeros(n, dtype=np.uint8),)

    assert cache.get((b"a", 1, 1, False), lambda: make(600))[0].nbytes == 600
    cache.get((b"a", 1, 1, False), lambda: make(600))
    assert made == [600]  # a hit
    cache.get((b"b", 1, 1, False), lambda: make(600))  # over the limit: "a" goes
    cache.get((b"a", 1, 1, False), lambda: make(600))
    assert made == [600, 600, 600]
    assert cache.get((b"c", 1, 1, False), lambda: "reason") == "reason"
    few = images._CardCache(limit=10**6, max_items=2)
    for key in (b"x", b"y", b"z", b"x"):
        few.get((key, 1, 1, False), lambda: make(1))
    assert made[3:] == [1, 1, 1, 1]  # "x" was dropped when "z" came


def test_tf2_tensor_form_equals_tensorboards(tf2_logdir: Path) -> None:
    from tensorboard.util import tensor_util

    got = images_of(tf2_logdir, "tf2")["tf2/image"]
    ref = accumulate(tf2_logdir / "tf2").Tensors("tf2/image")
    assert [v.step for v in got] == [e.step for e in ref] == [0, 3]
    for v, e in zip(got, ref, strict=True):
        cells = tensor_util.make_ndarray(e.tensor_proto).tolist()
        assert (str(v.width).encode(), str(v.height).encode()) == (cells[0], cells[1])
        assert v.images == tuple(cells[2:])
        for data in v.images:
            np.testing.assert_array_equal(ok(decode(data)).frames[0], pillow_rgb(data))
    np.testing.assert_array_equal(ok(decode(got[1].images[1])).frames[0], HWC[::-1] // 4)


# -- decoding every mode -------------------------------------------------------------------------


def test_modes_become_rgb_uint8() -> None:
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 128)
    rgba[0, 1] = (10, 200, 30, 255)
    rgba[1, 2] = (255, 255, 255, 0)
    d = ok(decode(encode(rgba)))
    assert d.frames[0].dtype == np.uint8 and d.frames[0].shape == (2, 3, 3)
    # Composited on black: rgb * alpha / 255, rounded.
    assert tuple(d.frames[0][0, 0]) == (128, 0, 0)
    assert tuple(d.frames[0][0, 1]) == (10, 200, 30)
    assert tuple(d.frames[0][1, 2]) == (0, 0, 0)
    wide = np.array([[0, 32896, 65535]], dtype=np.uint16)
    d16 = ok(decode(encode(wide)))
    assert d16.frames[0][0, :, 0].tolist() == [0, 128, 255]
    gray = ok(decode(encode(MNIST)))
    np.testing.assert_array_equal(gray.frames[0][..., 1], MNIST)
    pal = Image.fromarray(HWC).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    buf = io.BytesIO()
    pal.save(buf, "PNG")
    np.testing.assert_array_equal(ok(decode(buf.getvalue())).frames[0], HWC)
    for fmt, kw in (("BMP", {}), ("WEBP", {"lossless": True})):
        np.testing.assert_array_equal(ok(decode(encode(HWC, fmt, **kw))).frames[0], HWC)
    jpeg = encode(HWC, "JPEG", quality=90)
    dj = ok(decode(jpeg))
    assert dj.format == "JPEG"
    np.testing.assert_array_equal(dj.frames[0], pillow_rgb(jpeg))
    cmyk = io.BytesIO()
    Image.fromarray(HWC).convert("CMYK").save(cmyk, "JPEG")
    assert ok(decode(cmyk.getvalue())).frames[0].shape == (10, 20, 3)
    assert not d.frames[0].flags.writeable


def test_gif_frame_caps() -> None:
    frames = [np.full((2, 2, 3), (i % 256, i // 256, 7), dtype=np.uint8) for i in range(505)]
    d = ok(decode(gif_bytes(frames, duration=20)))
    assert len(d.frames) == MAX_FRAMES == 500
    assert tuple(d.frames[499][0, 0]) == (243, 1, 7)
    # Fewer frames when all of them together would pass max_pixels.
    assert len(ok(decode(gif_bytes(frames[:5]), max_pixels=9)).frames) == 2


# -- bad data ------------------------------------------------------------------------------------


def test_bad_bytes_give_reasons_fast() -> None:
    good = encode(BIG[:256, :256])
    cases = {
        "truncated": good[: len(good) // 2],
        "header only": good[:40],
        "random": np.random.default_rng(1).bytes(5000),
        "empty": b"",
        "bomb": png_claiming(100_000, 100_000),
        "bomb under Pillow's own limit": png_claiming(8000, 8000),
        "zero size": png_claiming(0, 10),
    }
    for name, data in cases.items():
        # CPU time of this thread, not wall time: other processes on a loaded machine (the
        # suite's own parallel workers) slow the clock, not the work a bomb would cost
        t = time.thread_time()
        got = decode(data)
        assert time.thread_time() - t < 0.5, name
        assert isinstance(got, str) and got, name
    assert decode(cases["truncated"]) == "truncated image data"
    assert "over the 50,000,000-pixel limit" in str(decode(cases["bomb"]))
    assert decode(cases["bomb under Pillow's own limit"]) == (
        "8000x8000 is over the 50,000,000-pixel limit"
    )
    assert decode(encode(MNIST), max_pixels=28 * 28 - 1) == ("28x28 is over the 783-pixel limit")
    v = ImageValue(1, T0, 100_000, 100_000, "image/png", (cases["bomb"], cases["random"]))
    for i in range(2):
        for theme in (THEME, PLAIN):
            card = image_card(v, i, 50, 10, theme)
            assert "\n" not in card.plain and cell_len(card.plain) == 50
            assert card.plain.startswith("⚠ cannot decode: ")
    assert image_info(v, 1).endswith(" · 5.0 kB")


def test_image_info_ends_with_the_caption_shown_literally() -> None:
    """A caption is log content: its first line, escapes and controls removed, markup kept as
    text; an image without one (or a value without captions) ends with its size."""
    png = encode(MNIST)
    v = ImageValue(0, T0, 28, 28, "image/png", (png, png), ("\x1b[31mred[/] cat\nline 2", ""))
    first, second = image_info(v, 0), image_info(v, 1)
    assert first.endswith(" · red[/] cat") and "\x1b" not in first
    plain = image_info(ImageValue(0, T0, 28, 28, "image/png", (png,)), 0)
    assert second == plain and plain.startswith("28x28 PNG · ") and plain.count(" · ") == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(st.data())
def test_mutated_images_never_raise(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(["PNG", "GIF", "JPEG", "BMP", "WEBP"]))
    raw = bytearray(encode(HWC, fmt))
    for _ in range(data.draw(st.integers(0, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    got = decode(bytes(raw[:cut]))
    assert isinstance(got, (Decoded, str))
    if isinstance(got, Decoded):
        assert all(f.dtype == np.uint8 and f.shape == (10, 20, 3) for f in got.frames)


# -- pixels, sizes, colours ----------------------------------------------------------------------


def test_adjust_is_tensorboards_css_filter() -> None:
    rgb = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    assert adjust(rgb) is rgb
    assert int(adjust(rgb, brightness=0.0).max()) == 0
    assert adjust(rgb, contrast=0.0).min() == adjust(rgb, contrast=0.0).max() == 128
    for b, c in ((1.5, 1.0), (1.0, 2.5), (0.5, 3.0), (2.0, 0.4)):
        x = rgb.astype(np.float64) / 255.0
        ref = np.clip(np.clip((x - 0.5) * c + 0.5, 0, 1) * b, 0, 1) * 255.0
        assert np.abs(adjust(rgb, b, c).astype(np.float64) - ref).max() <= 0.5 + 1e-9
    # Clamped to TensorBoard's slider ranges.
    np.testing.assert_array_equal(adjust(rgb, brightness=9.0), adjust(rgb, brightness=2.0))
    np.testing.assert_array_equal(adjust(rgb, contrast=-1.0), adjust(rgb, contrast=0.0))


def test_fit_cells() -> None:
    assert fit_cells(28, 28, 40, 20) == (40, 20)  # scaled up: 40x40 pixels
    assert fit_cells(1024, 512, 80, 24) == (80, 20)
    assert fit_cells(1024, 1024, 160, 45) == (90, 45)
    assert fit_cells(28, 28, 40, 20, actual=True) == (28, 14)
    assert fit_cells(1024, 512, 80, 24, actual=True) == (80, 24)
    assert fit_cells(9, 7, 80, 24, actual=True) == (9, 4)
    assert fit_cells(1, 5000, 80, 24) == (1, 24)
    assert fit_cells(0, 10, 80, 24) == fit_cells(10, 10, 0, 5) == (0, 0)


def test_scale_nearest() -> None:
    a = HWC[::5, ::10]  # 2x2: red green / blue white
    up = scale_nearest(a, 4, 4)
    np.testing.assert_array_equal(up, np.repeat(np.repeat(a, 2, axis=0), 2, axis=1))
    big = scale_nearest(MNIST, 40, 40)
    ref = np.asarray(Image.fromarray(MNIST).resize((40, 40), Image.Resampling.NEAREST))
    np.testing.assert_array_equal(big, ref)
    np.testing.assert_array_equal(scale_nearest(BIG, 256, 256), BIG[2::4, 2::4])


def test_halfblocks_colours() -> None:
    one = np.array([[[255, 0, 0]], [[0, 0, 255]]], dtype=np.uint8)  # 1 wide, 2 tall
    t = halfblocks(one, truecolor=True)
    assert t.plain == "▀" and len(t.spans) == 1
    style = t.spans[0].style
    assert not isinstance(style, str) and style.color and style.bgcolor
    assert style.color.triplet == (255, 0, 0) and style.bgcolor.triplet == (0, 0, 255)
    t256 = halfblocks(one, truecolor=False)
    s256 = t256.spans[0].style
    assert not isinstance(s256, str) and s256.color and s256.bgcolor
    assert (s256.color.number, s256.bgcolor.number) == (196, 21)
    # 2x2: red green over blue white, one span per cell; an odd height gets a black bottom.
    t22 = halfblocks(HWC[::5, ::10], truecolor=True)
    assert t22.plain == "▀▀" and [(s.start, s.end) for s in t22.spans] == [(0, 1), (1, 2)]
    odd = halfblocks(np.full((3, 2, 3), 255, dtype=np.uint8), truecolor=True)
    assert odd.plain == "▀▀\n▀▀" and len(odd.spans) == 2  # equal cells of a line: one span
    last = odd.spans[1].style
    assert not isinstance(last, str) and last.bgcolor and last.bgcolor.triplet == (0, 0, 0)
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=10).print(t)
    assert "38;2;255;0;0" in out.getvalue() and "48;2;0;0;255" in out.getvalue()


def test_xterm256_nearest() -> None:
    named = {
        (255, 0, 0): 196,
        (0, 255, 0): 46,
        (0, 0, 255): 21,
        (255, 255, 255): 231,
        (0, 0, 0): 16,
        (128, 128, 128): 244,
        (95, 135, 175): 67,
    }
    px = np.array(list(named), dtype=np.uint8)
    assert xterm256(px).tolist() == list(named.values())
    # Against Rich's own palette: never farther than the best of colours 16-255.
    rng = np.random.default_rng(5)
    sample = rng.integers(0, 256, (3000, 3)).astype(np.uint8)
    palette = np.array([EIGHT_BIT_PALETTE[i] for i in range(16, 256)], dtype=np.int64)
    d = ((sample[:, None, :].astype(np.int64) - palette[None]) ** 2).sum(axis=-1)
    got = palette[xterm256(sample) - 16]
    np.testing.assert_array_equal(((sample - got) ** 2).sum(axis=-1), d.min(axis=1))


def test_luminance() -> None:
    black = np.zeros((2, 1, 3), dtype=np.uint8)
    white = np.full((2, 1, 3), 255, dtype=np.uint8)
    assert luminance(black).plain == " " and luminance(white).plain == "█"
    assert luminance(HWC).spans == [] and not luminance(HWC).style
    # Rec. 601 luma, 5 levels of 51.2: red 76 -> ░, green 150 -> ▒, blue 29 -> " ", white █.
    cells = luminance(np.repeat(HWC[::5, ::10], 2, axis=0)).plain
    assert cells == "░▒\n █"


# -- cards and plot ------------------------------------------------------------------------------


def test_image_card_sizes(tbx_logdir: Path) -> None:
    ours = images_of(tbx_logdir, "tbx")
    mnist, big = ours["mnist"][0], ours["big"][0]
    card = image_card(mnist, 0, 40, 20, THEME, truecolor=True)
    assert len(lines_of(card)) == 20
    assert_exact_width(card, 40)
    wide = image_card(big, 0, 160, 45, THEME)
    assert len(lines_of(wide)) == 45
    assert_exact_width(wide, 160)
    assert lines_of(wide)[0].startswith(" " * 35 + "▀")  # 90 columns, centred
    actual = image_card(mnist, 0, 60, 30, PLAIN, actual=True)
    assert len(lines_of(actual)) == 14
    assert_exact_width(actual, 60)
    assert actual.spans == []
    assert image_info(mnist, 0).startswith("28x28 PNG · ")
    assert image_info(big, 0).endswith(" MB") or image_info(big, 0).endswith(" kB")
    missing = image_card(mnist, 3, 30, 5, THEME)
    assert missing.plain.startswith("⚠ no sample 4") and cell_len(missing.plain) == 30
    assert image_card(mnist, 0, 0, 5, THEME).plain == ""


def test_image_card_brightness(tbx_logdir: Path) -> None:
    v = images_of(tbx_logdir, "tbx")["grad/hwc_uint8"][0]
    dark = image_card(v, 0, 20, 5, THEME, truecolor=True, brightness=0.0)
    styles = {str(s.style) for s in dark.spans}
    assert styles == {"#000000 on #000000"}
    assert image_card(v, 0, 20, 5, PLAIN, contrast=0.0).plain.strip("\n") == "\n".join(
        ["▒" * 20] * 5
    )


def test_image_card_timing(tbx_logdir: Path) -> None:
    big = images_of(tbx_logdir, "tbx")["big"][0]
    t = time.perf_counter()
    for brightness in (1.0, 1.2, 0.8):
        image_card(big, 0, 160, 45, THEME, truecolor=True, brightness=brightness)
    assert time.perf_counter() - t < 1.5


def _request(root: Path, **kw: Any) -> PlotRequest:
    logdir = tuiboard.open(str(root))
    theme = kw.pop("theme", THEME)
    colours = {r.name: run_color(theme, i) for i, r in enumerate(logdir.runs)}
    args: dict[str, Any] = {
        "runs": logdir.runs,
        "tag_re": None,
        "step": None,
        "width": 50,
        "height": 8,
        "theme": theme,
        "colours": colours,
    }
    args.update(kw)
    return PlotRequest(**args)


def test_plot_blocks(tbx_logdir: Path, tf2_logdir: Path) -> None:
    req = _request(tbx_logdir, tag_re=re.compile("grad/"), width=70)
    blocks = plot_blocks(req)
    assert len(blocks) == 2
    for block in blocks:
        assert 2 <= len(lines_of(block)) <= 1 + 8
        assert_exact_width(block, 70)
    heads = [lines_of(b)[0] for b in blocks]
    assert heads[0].startswith("grad/chw_float · tbx · step 5 · sample 1/1 · 24x16 PNG")
    assert heads[1].startswith("grad/hwc_uint8 · tbx · step 0 · sample 1/1 · 20x10 PNG")
    run_span = [s for s in blocks[0].spans if s.start == len("grad/chw_float · ")]
    assert run_span and str(run_span[0].style) == run_color(THEME, 0)
    # --step: the last value at or before it; a tag with none there is left out.
    at = plot_blocks(_request(tbx_logdir, tag_re=re.compile("chw"), step=4))
    assert [lines_of(b)[0].split(" · ")[2] for b in at] == ["step 0"]
    assert plot_blocks(_request(tbx_logdir, step=-1)) == []
    tf2 = plot_blocks(_request(tf2_logdir, step=2, width=60))
    assert [lines_of(b)[0].split(" · ")[3] for b in tf2] == ["sample 1/2", "sample 2/2"]
    assert all(" · step 0 · " in lines_of(b)[0] for b in tf2)


def test_plot_blocks_plain_has_no_escapes(tbx_logdir: Path) -> None:
    blocks = plot_blocks(_request(tbx_logdir, theme=PLAIN, width=40, height=6))
    assert len(blocks) == 7
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=40)
    for b in blocks:
        assert b.spans == [] and not b.style
        assert_exact_width(b, 40)
        console.print(b)
    assert "\x1b" not in out.getvalue()
    assert set("".join(lines_of(blocks[0])[1:])) <= set(" ░▒▓█")


def test_hostile_tag_and_run_are_cleaned(tmp_path: Path) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path / "run\x1b[31m"))
    img = summary_pb2.Summary.Image(height=10, width=20, colorspace=3)
    img.encoded_image_string = encode(HWC)
    ev = event_pb2.Event(step=1, wall_time=T0)
    ev.summary.value.add(tag="t\x1b]0;pwned\x07ag\x1b[2J", image=img)
    w.add_event(ev)
    w.close()
    blocks = plot_blocks(_request(tmp_path, width=40))
    assert len(blocks) == 1
    head = lines_of(blocks[0])[0]
    assert "\x1b" not in blocks[0].plain and "\x07" not in blocks[0].plain
    assert head.startswith("tag · run · step 1 · ")


def test_import_is_light() -> None:
    """render/images.py never imports textual, and loads Pillow only when it decodes."""
    import subprocess
    import sys

    code = (
        "import sys, tuiboard.render.images\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'PIL')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
