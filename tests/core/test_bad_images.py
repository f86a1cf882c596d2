"""Bad images among good ones: bytes that are no image, a truncated PNG and a header claiming
a decompression bomb are kept, warned about on the run, and marked on their cards, while every
good image and scalar still shows. Written with TensorBoard's own protos and writer."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.types import IMAGES, ImageValue
from tuiboard.render.images import image_card
from tuiboard.render.theme import default_theme


def png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 200, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def bomb_header(w: int, h: int) -> bytes:
    """A PNG signature and IHDR claiming w x h (no pixel data): what a bomb looks like first."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def write(root: Path) -> dict[int, bytes]:
    blobs = {
        0: png(8, 6),
        1: b"this is not an image at all",
        2: png(8, 6)[:40],  # truncated: a PNG signature, no pixels
        3: bomb_header(100_000, 100_000),
        4: png(8, 6),
    }
    writer = EventFileWriter(str(root / "run"))
    for step, data in blobs.items():
        img = summary_pb2.Summary.Image(height=6, width=8, colorspace=3, encoded_image_string=data)
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="x", image=img)])
        writer.add_event(event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summary))
        loss = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=step)])
        writer.add_event(event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=loss))
    writer.close()
    return blobs


def test_bad_images_warn_and_keep_everything(tmp_path: Path) -> None:
    blobs = write(tmp_path)
    run = tuiboard.open(str(tmp_path)).run("run")
    assert run is not None
    values = run.values(IMAGES, "x")
    # Every step is kept, byte for byte as TensorBoard reads it.
    reference = accumulate(next((tmp_path / "run").iterdir()).parent).Images("x")
    assert [v.step for v in values] == [e.step for e in reference] == list(blobs)
    for v, ref in zip(values, reference, strict=True):
        assert isinstance(v, ImageValue) and v.images[0] == ref.encoded_image_string
    assert list(run.scalars("loss").value) == [0, 1, 2, 3, 4]
    messages = [w.message for w in run.warnings]
    assert any("step 1" in m and "not a PNG" in m for m in messages)
    assert any("step 3" in m and "100000x100000" in m for m in messages)
    assert not any("step 0" in m or "step 4" in m for m in messages)
    theme = default_theme(False)
    marks = {}
    for v in values:
        assert isinstance(v, ImageValue)
        marks[v.step] = image_card(v, 0, 30, 8, theme).plain
    assert "⚠" not in marks[0] and "⚠" not in marks[4]
    for step in (1, 2, 3):
        assert "⚠" in marks[step], marks[step]
