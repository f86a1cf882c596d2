"""Turning one decoded Summary.Value into tuiboard's record types, by kind.

Owns: the kind of a value (from its form and its tag's plugin) and the conversion of histogram,
image, audio, text, pr_curves, hparams, mesh, custom_scalars and unknown-plugin payloads, in both
the old proto form and the TF2 tensor form. Must not import textual, rich, or tuiboard modules
other than core.{types,wire,tfevents_proto}.
"""

from __future__ import annotations

import dataclasses
import mmap
import struct
import weakref
from typing import Any

import numpy as np

from tuiboard.core import tfevents_proto as proto
from tuiboard.core import types as t
from tuiboard.core import wire
from tuiboard.core.tfevents_proto import RawTensor, RawValue
from tuiboard.core.wire import DecodeError

PLUGIN_KINDS = {
    "scalars": t.SCALARS,
    "histograms": t.HISTOGRAMS,
    "images": t.IMAGES,
    "audio": t.AUDIO,
    "text": t.TEXT,
    "pr_curves": t.PR_CURVES,
    "hparams": t.HPARAMS,
    "mesh": t.MESH,
    "custom_scalars": t.CUSTOM_SCALARS,
}
UNKNOWN_TENSOR = "tensor"
"""Kind of a non-scalar tensor whose tag has no plugin name at all."""
_MESH_COMPONENTS = {1: "vertices", 2: "faces", 3: "colors"}


def sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


MAX_IMAGE_PIXELS = 50_000_000
"""Larger images are kept as bytes but never decoded (render/images.py uses the same limit)."""


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF or BMP header without decoding; None if not one of those
    (JPEG's size sits in a frame marker after any number of segments: the decoder checks it)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"BM") and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    return None


def image_problems(record: t.ImageValue) -> list[str]:
    """What is wrong with a step's images that a look at their headers can tell: bytes that
    are no image format we know, or a size over MAX_IMAGE_PIXELS (a decompression bomb)."""
    out: list[str] = []
    for i, data in enumerate(record.images):
        which = f"image {i + 1} of {len(record.images)}" if len(record.images) > 1 else "it"
        if sniff_image(data) == "application/octet-stream":
            out.append(f"{which} is not a PNG, JPEG, GIF, BMP or WebP image ({len(data)} bytes)")
            continue
        size = image_size(data)
        if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
            out.append(f"{which} is {size[0]}x{size[1]}: too large to decode, kept as bytes")
    return out


def wav_info(data: bytes) -> tuple[float, int, int]:
    """(sample_rate, channels, frames) from a WAV header, zeros when it is not one."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return 0.0, 0, 0
    p = 12
    rate = 0
    channels = 0
    block = 0
    while p + 8 <= len(data):
        cid = data[p : p + 4]
        (size,) = struct.unpack_from("<I", data, p + 4)
        body = p + 8
        if cid == b"fmt " and body + 16 <= len(data):
            channels, rate = struct.unpack_from("<HI", data, body + 2)
            (block,) = struct.unpack_from("<H", data, body + 12)
        elif cid == b"data":
            frames = min(size, len(data) - body) // block if block else 0
            return float(rate), int(channels), int(frames)
        p = body + size + (size & 1)
    return float(rate), int(channels), 0


def tensor_kind(plugin: str, tensor: RawTensor) -> str:
    """The kind of a tensor value: its plugin's, or scalars for a rank-0 number with no plugin."""
    if plugin:
        return PLUGIN_KINDS.get(plugin, plugin)
    if not tensor.is_string and tensor.shape == () and tensor.dtype in proto.DTYPES:
        return t.SCALARS
    return UNKNOWN_TENSOR


def scalar_of(tensor: RawTensor) -> tuple[float, bool]:
    """(value, is_float32) of a one-element numeric tensor."""
    arr = proto.tensor_array(tensor)
    if arr.size != 1:
        raise DecodeError(f"scalar tensor of shape {list(arr.shape)}")
    v = arr.reshape(-1)[0]
    return float(v), arr.dtype == np.float32


def convert(
    kind: str, value: RawValue, meta: t.TagMeta | None, step: int, wall: float
) -> t.ValueRecord | None:
    """A record for a non-scalar value; None when the value carries nothing to show."""
    form = value.form
    if kind == t.HISTOGRAMS and form == "histo":
        return _histo_proto(value.payload, step, wall)
    if kind == t.IMAGES and form == "image":
        h, w, _, enc = proto.decode_image(value.payload)
        return t.ImageValue(step, wall, w, h, sniff_image(enc), (enc,))
    if kind == t.AUDIO and form == "audio":
        rate, ch, frames, enc, ctype = proto.decode_audio(value.payload)
        return t.AudioValue(step, wall, rate, ch, frames, ctype or "audio/wav", (enc,))
    if kind == t.HPARAMS:
        return _hparams(meta.content if meta is not None else b"", step, wall)
    if form != "tensor":
        return None
    tensor = proto.decode_tensor(value.payload)
    if kind == t.HISTOGRAMS:
        return _histo_tensor(tensor, step, wall)
    if kind == t.IMAGES:
        cells = proto.tensor_strings(tensor)
        if len(cells) < 2:
            raise DecodeError("image tensor without width and height")
        images = cells[2:]
        ctype = sniff_image(images[0]) if images else ""
        return t.ImageValue(step, wall, _int(cells[0]), _int(cells[1]), ctype, images)
    if kind == t.AUDIO:
        return _audio_tensor(tensor, step, wall)
    if kind == t.TEXT:
        cells = proto.tensor_strings(tensor)
        return t.TextValue(step, wall, tensor.shape, tuple(_utf8(c) for c in cells))
    if kind == t.PR_CURVES:
        arr = proto.tensor_array(tensor).astype(np.float64)
        if arr.ndim != 2 or arr.shape[0] != 6:
            raise DecodeError(f"pr_curves tensor of shape {list(arr.shape)}")
        return t.PrCurveValue(step, wall, int(arr.shape[1]), *arr)
    if kind == t.MESH:
        fs = wire.message_fields(meta.content if meta is not None else b"")
        component = _MESH_COMPONENTS.get(wire.int_field(fs, 3), "")
        arr = proto.tensor_array(tensor)
        return t.MeshValue(step, wall, component, tuple(arr.shape), arr)
    if kind == t.CUSTOM_SCALARS:
        if tensor.is_string and tensor.strings:
            layout = tensor.strings[0]
        else:
            layout = meta.content if meta is not None else b""
        return t.TensorValue(step, wall, kind, tensor.dtype_name, tensor.shape, layout)
    data: Any = proto.tensor_strings(tensor) if tensor.is_string else proto.tensor_array(tensor)
    return t.TensorValue(step, wall, kind, tensor.dtype_name, tensor.shape, data)


def _utf8(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


def _int(b: bytes) -> int:
    try:
        return int(b.decode("ascii", errors="replace").strip() or 0)
    except ValueError:
        return 0


_F32_EXACT_TOTAL = float(1 << 24)
"""Integral counts whose total is at most this are exact in float32, and so is every partial sum
of them (float32 holds every integer up to 2**24)."""


def compact_counts(counts: np.ndarray) -> np.ndarray:
    """``counts`` as float32 when that changes no value and no sum of them (non-negative
    integers totalling at most 2**24: half the bytes, every element reads back identical), else
    as given."""
    if counts.dtype != np.float64 or counts.size == 0:
        return counts
    total = float(counts.sum())
    if not 0.0 <= total <= _F32_EXACT_TOTAL:  # also False for nan
        return counts
    small = counts.astype(np.float32)
    if not np.array_equal(small, counts) or bool((small < 0).any()):
        return counts
    if not bool((np.floor(small) == small).all()):
        return counts
    return small


def edges_views(lo: float, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(left, right)`` as two views of one ``[lo, *right]`` array: left = [lo] + right[:-1]
    (a third less memory than two arrays)."""
    k = right.shape[0]
    edges = np.empty(k + 1, dtype=np.float64)
    edges[0] = lo
    edges[1:] = right
    return edges[:-1], edges[1:]


PACK_MAPPED = 256 << 10
"""Packed histogram blocks from this size up are anonymous mappings of their own (a mapping
is whole pages: a ~70 KB block of a 512 KiB read wasted ~2 KB; 0.13 B a point on medium)."""


MAX_MAPPED = 16384
"""Live histogram mappings at most (Linux allows 65,530 mappings a process); beyond, the heap."""
_mapped_live = 0


def _unmapped() -> None:
    global _mapped_live
    _mapped_live -= 1


def block(nbytes: int) -> np.ndarray:
    """``nbytes`` uninitialised bytes: a private anonymous mapping when large (returned whole
    to the system when its last view dies, never a hole in the allocator's heap; at most
    MAX_MAPPED live, the heap beyond). Histogram blocks, and where a worker's arrays land
    (loader._receive)."""
    global _mapped_live
    flags = getattr(mmap, "MAP_PRIVATE", None)
    if nbytes >= PACK_MAPPED and flags is not None and _mapped_live < MAX_MAPPED:
        try:
            mapping = mmap.mmap(-1, nbytes, flags=flags)
        except OSError:  # out of mappings or address space: the heap then
            return np.empty(nbytes, dtype=np.uint8)
        _mapped_live += 1
        weakref.finalize(mapping, _unmapped)
        return np.frombuffer(mapping, dtype=np.uint8)
    return np.empty(nbytes, dtype=np.uint8)


@dataclasses.dataclass(slots=True)
class ProtoHisto:
    """A HistogramProto decoded but not stored yet: its bucket arrays are still views of the
    payload. ``pack_histograms`` turns it into the HistogramValue ``_histo_proto`` gives, its
    arrays written once, straight into the read's block."""

    step: int
    wall_time: float
    stats: list[float]
    """min, max, num, sum, sum_squares."""
    limits: np.ndarray
    """bucket_limit, cut to the buckets kept (float64, a view)."""
    counts: np.ndarray
    """bucket, cut likewise (float64, a view)."""


def histo_proto_parts(payload: bytes, step: int, wall: float) -> ProtoHisto:
    """``_histo_proto`` without building the arrays (``pack_histograms`` does): raises as it
    does on a malformed payload."""
    stats, limits, counts = proto.decode_histo(payload, copy=False)
    k = min(limits.shape[0], counts.shape[0])
    return ProtoHisto(step, wall, stats, limits[:k], counts[:k])


def _f32_exact(counts: np.ndarray) -> bool:
    """What ``compact_counts`` decides for float64 ``counts``: non-negative integers totalling
    at most 2**24 (so every one, and every partial sum, is exact in float32), in fewer passes."""
    if counts.shape[0] == 0:
        return False
    total = float(counts.sum())
    if not 0.0 <= total <= _F32_EXACT_TOTAL:  # also False for nan (and so for any nan count)
        return False
    if float(counts.min()) < 0.0:
        return False
    # each count lies in [0, 2**24]: exact in float32 exactly when integral
    return bool((np.floor(counts) == counts).all())


def pack_histograms(records: list[t.HistogramValue | ProtoHisto]) -> list[t.HistogramValue]:
    """The same histograms with their arrays moved into one block: one allocation for a whole
    read instead of three small ones per histogram, which otherwise end up scattered through
    the heap between the reader's temporaries (and keep ~20 % more resident than they hold).
    Values, dtypes and the left/right views of one edges array are kept. A ``ProtoHisto`` is
    built here, its edges and (compacted) counts written once, into the block."""
    edges: list[np.ndarray | None] = []
    small: list[bool] = []
    size = 0
    for r in records:
        if isinstance(r, ProtoHisto):
            k = r.limits.shape[0]
            f32 = _f32_exact(r.counts)
            small.append(f32)
            edges.append(None)
            size += 8 * (k + 1) if k else 0
            size += -(-k * (4 if f32 else 8) // 8) * 8
            continue
        small.append(False)
        base = r.left.base
        shared = (
            base is not None
            and base is r.right.base
            and isinstance(base, np.ndarray)
            and base.ndim == 1
            and base.dtype == np.float64
            and base.shape[0] == r.left.shape[0] + 1
        )
        e = base if shared else None
        edges.append(e)
        size += 8 * (e.shape[0] if e is not None else r.left.shape[0] + r.right.shape[0])
        size += -(-r.counts.nbytes // 8) * 8
    area = block(size)
    out: list[t.HistogramValue] = []
    at = 0

    def put(a: np.ndarray) -> np.ndarray:
        nonlocal at
        view = area[at : at + a.nbytes].view(a.dtype)
        view[:] = a
        at += -(-a.nbytes // 8) * 8
        return view

    for r, e, f32 in zip(records, edges, small, strict=True):
        if isinstance(r, ProtoHisto):
            lo, hi, num, total, squares = r.stats
            k = r.limits.shape[0]
            if k:
                packed = area[at : at + 8 * (k + 1)].view(np.float64)
                packed[0] = lo
                packed[1:] = r.limits
                at += 8 * (k + 1)
                left, right = packed[:-1], packed[1:]
            else:
                left = right = _EMPTY
            width = 4 if f32 else 8
            counts = area[at : at + width * k].view(np.float32 if f32 else np.float64)
            counts[:] = r.counts
            at += -(-k * width // 8) * 8
            out.append(
                t.HistogramValue(
                    r.step, r.wall_time, left, right, counts, num, lo, hi, total, squares
                )
            )
            continue
        if e is not None:
            packed = put(e)
            left, right = packed[:-1], packed[1:]
        else:
            left, right = put(np.ascontiguousarray(r.left)), put(np.ascontiguousarray(r.right))
        counts = put(np.ascontiguousarray(r.counts))
        out.append(dataclasses.replace(r, left=left, right=right, counts=counts))
    return out


_EMPTY = np.zeros(0, dtype=np.float64)
_EMPTY.flags.writeable = False


def _histo_proto(payload: bytes, step: int, wall: float) -> t.HistogramValue:
    (lo, hi, num, total, squares), limits, counts = proto.decode_histo(payload)
    k = min(limits.shape[0], counts.shape[0])
    if k:
        left, right = edges_views(lo, limits[:k])
    else:
        left = right = np.zeros(0, dtype=np.float64)
    count_arr = compact_counts(np.ascontiguousarray(counts[:k], dtype=np.float64))
    return t.HistogramValue(step, wall, left, right, count_arr, num, lo, hi, total, squares)


def _histo_tensor(tensor: RawTensor, step: int, wall: float) -> t.HistogramValue:
    arr = proto.tensor_array(tensor).astype(np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        if arr.size == 0:
            arr = arr.reshape(0, 3)
        else:
            raise DecodeError(f"histogram tensor of shape {list(arr.shape)}")
    col_left, col_right = arr[:, 0], arr[:, 1]
    bits = arr.view(np.uint64)  # bitwise: nan and -0.0 edges stay exactly as written
    if arr.shape[0] and np.array_equal(bits[1:, 0], bits[:-1, 1]):
        left, right = edges_views(float(col_left[0]), col_right)
    else:
        left, right = col_left.copy(), col_right.copy()
    counts = arr[:, 2].copy()
    lo = float(left[0]) if left.size else 0.0
    hi = float(right[-1]) if right.size else 0.0
    return t.HistogramValue(
        step, wall, left, right, compact_counts(counts), float(counts.sum()), lo, hi
    )


def _audio_tensor(tensor: RawTensor, step: int, wall: float) -> t.AudioValue:
    cells = proto.tensor_strings(tensor)
    if len(tensor.shape) == 2 and tensor.shape[1] == 2:
        clips = cells[0::2]
        labels = tuple(_utf8(c) for c in cells[1::2])
    else:
        clips = cells
        labels = ()
    rate, channels, frames = wav_info(clips[0]) if clips else (0.0, 0, 0)
    return t.AudioValue(step, wall, rate, channels, frames, "audio/wav", tuple(clips), labels)


def _hparams(content: bytes, step: int, wall: float) -> t.HParamsValue | None:
    fs = wire.message_fields(content)
    if 2 in fs:
        exp = wire.message_fields(wire.sub(fs, 2))
        metrics: list[str] = []
        for info in wire.subs(exp, 5):
            mi = wire.message_fields(info)
            name = wire.message_fields(wire.sub(mi, 1)) if 1 in mi else {}
            group, tag = wire.text_field(name, 1), wire.text_field(name, 2)
            metrics.append(f"{group}/{tag}" if group else tag)
        hparam_names = [wire.text_field(wire.message_fields(h), 1) for h in wire.subs(exp, 4)]
        extra: dict[str, Any] = {
            "name": wire.text_field(exp, 6),
            "description": wire.text_field(exp, 1),
            "user": wire.text_field(exp, 2),
            "hparam_infos": hparam_names,
        }
        if exp.get(3):
            extra["time_created_secs"] = wire.as_double(exp[3][-1])
        return t.HParamsValue(step, wall, "experiment", metrics=tuple(metrics), extra=extra)
    if 3 in fs:
        raw = wire.sub(fs, 3)
        start = wire.message_fields(raw)
        hparams = wire.proto_map(raw, 1)
        extra = {
            "model_uri": wire.text_field(start, 2),
            "monitor_url": wire.text_field(start, 3),
            "group_name": wire.text_field(start, 4),
        }
        if start.get(5):
            extra["start_time_secs"] = wire.as_double(start[5][-1])
        return t.HParamsValue(step, wall, "session_start", hparams=hparams, extra=extra)
    if 4 in fs:
        end = wire.message_fields(wire.sub(fs, 4))
        extra = {}
        if end.get(2):
            extra["end_time_secs"] = wire.as_double(end[2][-1])
        return t.HParamsValue(step, wall, "session_end", status=wire.int_field(end, 1), extra=extra)
    return None
