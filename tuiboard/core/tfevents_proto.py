"""Decoders of the tfevents messages into small raw structures: Event, Summary.Value,
SummaryMetadata, SessionLog, TensorProto, HistogramProto, Image and Audio.

Owns: the field numbers of docs/tfevents-format.md. Malformed input raises ``wire.DecodeError``.
Must not import textual, rich, or tuiboard modules other than core.{types,wire}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuiboard.core.types import TagMeta
from tuiboard.core.wire import (
    LEN,
    VARINT,
    DecodeError,
    double_at,
    expect_wire,
    fields,
    float_at,
    signed64,
    text_at,
    varint,
)

# --- Event -------------------------------------------------------------------------------------


@dataclass(slots=True)
class RawValue:
    """A Summary.Value with its payload still encoded."""

    tag: str
    """Summary.Value.tag (node_name in very old files), as written."""
    meta: TagMeta | None = None
    """The value's own SummaryMetadata, if it has one."""
    form: str = ""
    """"simple", "histo", "image", "audio", "tensor", or "" when it carries no payload."""
    simple: float = 0.0
    """simple_value (form "simple")."""
    payload: bytes = b""
    """The encoded sub-message (histo, image, audio, tensor)."""


@dataclass(slots=True)
class RawEvent:
    """An Event with its summary values split out; absent fields keep proto3 defaults."""

    wall_time: float = 0.0
    step: int = 0
    file_version: str | None = None
    values: list[RawValue] = field(default_factory=list)
    """Summary values in their order."""
    session: tuple[int, str, str] | None = None
    """SessionLog (status, checkpoint_path, msg)."""
    graph: list[tuple[str, str, bytes]] = field(default_factory=list)
    """(source, tag, bytes) for graph_def, meta_graph_def and tagged_run_metadata."""


def decode_event(b: bytes) -> RawEvent:
    ev = RawEvent()
    end = len(b)
    for fno, wt, a, c in fields(b, 0, end):
        if fno == 1:
            ev.wall_time = double_at(b, wt, a)
        elif fno == 2:
            expect_wire(wt, VARINT)
            ev.step = signed64(a)
        elif fno == 3:
            expect_wire(wt, LEN)
            ev.file_version = text_at(b, a, c)
        elif fno == 4:
            expect_wire(wt, LEN)
            ev.graph.append(("graph_def", "graph_def", b[a:c]))
        elif fno == 5:
            expect_wire(wt, LEN)
            ev.values.extend(decode_summary(b, a, c))
        elif fno == 7:
            expect_wire(wt, LEN)
            ev.session = decode_session_log(b, a, c)
        elif fno == 8:
            expect_wire(wt, LEN)
            tag = ""
            run_metadata = b""
            for f2, w2, a2, c2 in fields(b, a, c):
                if f2 == 1 and w2 == LEN:
                    tag = text_at(b, a2, c2)
                elif f2 == 2 and w2 == LEN:
                    run_metadata = b[a2:c2]
            ev.graph.append(("tagged_run_metadata", tag, run_metadata))
        elif fno == 9:
            expect_wire(wt, LEN)
            ev.graph.append(("meta_graph_def", "meta_graph_def", b[a:c]))
    return ev


def event_step(b: bytes) -> int | None:
    """The step of a (possibly damaged) Event, if its fields up to the step can be read."""
    try:
        for fno, wt, a, _ in fields(b, 0, len(b)):
            if fno == 2 and wt == VARINT:
                return signed64(a)
    except DecodeError:
        return None
    return 0


def decode_session_log(b: bytes, start: int, end: int) -> tuple[int, str, str]:
    status = 0
    path = msg = ""
    for fno, wt, a, c in fields(b, start, end):
        if fno == 1 and wt == VARINT:
            status = a
        elif fno == 2 and wt == LEN:
            path = text_at(b, a, c)
        elif fno == 3 and wt == LEN:
            msg = text_at(b, a, c)
    return status, path, msg


def decode_summary(b: bytes, start: int, end: int) -> list[RawValue]:
    out: list[RawValue] = []
    for fno, wt, a, c in fields(b, start, end):
        if fno == 1:
            expect_wire(wt, LEN)
            out.append(decode_value(b, a, c))
    return out


def decode_value(b: bytes, start: int, end: int) -> RawValue:
    v = RawValue("")
    for fno, wt, a, c in fields(b, start, end):
        if fno == 1:
            expect_wire(wt, LEN)
            v.tag = text_at(b, a, c)
        elif fno == 7 and not v.tag:
            expect_wire(wt, LEN)
            v.tag = text_at(b, a, c)  # node_name: the tag of very old files
        elif fno == 2:
            v.form = "simple"
            v.simple = float_at(b, wt, a)
        elif fno in (4, 5, 6, 8):
            expect_wire(wt, LEN)
            v.form = {4: "image", 5: "histo", 6: "audio", 8: "tensor"}[fno]
            v.payload = b[a:c]
        elif fno == 9:
            expect_wire(wt, LEN)
            v.meta = decode_metadata(b, a, c)
    return v


def decode_metadata(b: bytes, start: int, end: int) -> TagMeta:
    plugin = display = description = ""
    content = b""
    data_class = 0
    for fno, wt, a, c in fields(b, start, end):
        if fno == 1 and wt == LEN:
            for f2, w2, a2, c2 in fields(b, a, c):
                if f2 == 1 and w2 == LEN:
                    plugin = text_at(b, a2, c2)
                elif f2 == 2 and w2 == LEN:
                    content = b[a2:c2]
        elif fno == 2 and wt == LEN:
            display = text_at(b, a, c)
        elif fno == 3 and wt == LEN:
            description = text_at(b, a, c)
        elif fno == 4 and wt == VARINT:
            data_class = a & 0x7FFFFFFF
    return TagMeta(plugin, display, description, content, data_class)


# --- TensorProto -------------------------------------------------------------------------------

DTYPES: dict[int, tuple[str, str]] = {
    1: ("float32", "<f4"),
    2: ("float64", "<f8"),
    3: ("int32", "<i4"),
    4: ("uint8", "u1"),
    5: ("int16", "<i2"),
    6: ("int8", "i1"),
    7: ("string", ""),
    9: ("int64", "<i8"),
    10: ("bool", "?"),
    14: ("bfloat16", "<u2"),
    17: ("uint16", "<u2"),
    19: ("float16", "<f2"),
    22: ("uint32", "<u4"),
    23: ("uint64", "<u8"),
}
MAX_FILL = 1 << 16
"""A typed field with one value may stand for a whole tensor (TF fills it); at most this big."""


@dataclass(slots=True)
class RawTensor:
    """A TensorProto's fields as read; ``tensor_array``/``tensor_strings`` check them."""

    dtype: int = 0
    """The DataType enum (DTYPES)."""
    shape: tuple[int, ...] = ()
    """Dimension sizes, all >= 0 (() for rank 0 and for an absent shape)."""
    content: bytes | None = None
    """tensor_content, when present (then the typed fields are ignored)."""
    floats: list[float] = field(default_factory=list)
    """float_val or double_val."""
    ints: list[int] = field(default_factory=list)
    """The varint fields (int_val, int64_val, bool_val, half_val, uint32/64_val), unsigned."""
    strings: list[bytes] = field(default_factory=list)
    """string_val."""

    @property
    def dtype_name(self) -> str:
        return DTYPES.get(self.dtype, (f"dtype{self.dtype}", ""))[0]

    @property
    def is_string(self) -> bool:
        return self.dtype == 7

    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _packed(b: bytes, wt: int, a: int, c: int, kind: str, out: list[Any]) -> None:
    """Append the values of a repeated numeric field (packed or not)."""
    if kind == "f":
        if wt == LEN:
            if (c - a) % 4:
                raise DecodeError("packed floats")
            out.extend(np.frombuffer(b, "<f4", (c - a) // 4, a).tolist())
        else:
            out.append(float_at(b, wt, a))
    elif kind == "d":
        if wt == LEN:
            if (c - a) % 8:
                raise DecodeError("packed doubles")
            out.extend(np.frombuffer(b, "<f8", (c - a) // 8, a).tolist())
        else:
            out.append(double_at(b, wt, a))
    elif wt == LEN:
        p = a
        while p < c:
            v, p = varint(b, p, c)
            out.append(v)
    elif wt == VARINT:
        out.append(a)
    else:
        raise DecodeError("expected varints")


def decode_tensor(b: bytes) -> RawTensor:
    t = RawTensor()
    end = len(b)
    for fno, wt, a, c in fields(b, 0, end):
        if fno == 1 and wt == VARINT:
            t.dtype = a
        elif fno == 2 and wt == LEN:
            dims: list[int] = []
            for f2, w2, a2, c2 in fields(b, a, c):
                if f2 == 2 and w2 == LEN:
                    size = 0
                    for f3, w3, a3, _ in fields(b, a2, c2):
                        if f3 == 1 and w3 == VARINT:
                            size = signed64(a3)
                    dims.append(size)
            t.shape = tuple(dims)
        elif fno == 4 and wt == LEN:
            t.content = b[a:c]
        elif fno == 5:
            _packed(b, wt, a, c, "f", t.floats)
        elif fno == 6:
            _packed(b, wt, a, c, "d", t.floats)
        elif fno in (7, 10, 11, 13, 16, 17):
            _packed(b, wt, a, c, "v", t.ints)
        elif fno == 8 and wt == LEN:
            t.strings.append(b[a:c])
    if any(d < 0 for d in t.shape):
        raise DecodeError("negative tensor dimension")
    return t


def tensor_array(t: RawTensor) -> np.ndarray:
    """Numeric tensor as a numpy array of its shape (float64 for bfloat16). Raises DecodeError
    when the values do not fill the shape."""
    info = DTYPES.get(t.dtype)
    if info is None or t.is_string:
        raise DecodeError(f"not a numeric tensor (dtype {t.dtype})")
    code = info[1]
    if t.content is not None:
        size = np.dtype(code).itemsize
        if len(t.content) % size:
            raise DecodeError("tensor_content is not a whole number of values")
        flat = np.frombuffer(t.content, dtype=code)
        if t.dtype == 14:
            flat = (flat.astype(np.uint32) << np.uint32(16)).view(np.float32)
    elif t.floats:
        flat = np.array(t.floats, dtype=np.float32 if t.dtype == 1 else np.float64)
    elif t.dtype in (19, 14):
        bits = np.array(t.ints, dtype=np.uint64).astype(np.uint16)
        flat = (
            bits.view(np.float16)
            if t.dtype == 19
            else ((bits.astype(np.uint32) << np.uint32(16)).view(np.float32))
        )
    else:
        vals = [signed64(v) for v in t.ints] if code[-2:] not in ("u8",) else t.ints
        flat = np.array(vals, dtype=np.float64 if code == "?" else np.int64)
        if code == "?":
            flat = flat != 0
        elif code == "<u8":
            flat = np.array(t.ints, dtype=np.uint64)
        else:
            flat = flat.astype(code)
    size = t.size()
    if flat.shape[0] == size:
        return flat.reshape(t.shape)
    if flat.shape[0] == 1 and size <= MAX_FILL and t.content is None:
        return np.full(t.shape, flat[0], dtype=flat.dtype)
    raise DecodeError(f"tensor holds {flat.shape[0]} values for shape {list(t.shape)}")


def tensor_strings(t: RawTensor) -> tuple[bytes, ...]:
    size = t.size()
    if len(t.strings) != size:
        raise DecodeError(f"string tensor holds {len(t.strings)} values for shape {list(t.shape)}")
    return tuple(t.strings)


# --- other payloads ----------------------------------------------------------------------------


def packed_doubles(b: bytes, wt: int, a: int, c: int, copy: bool = True) -> np.ndarray:
    """A repeated double field occurrence (packed or one fixed64) as float64 (with ``copy``
    False, a packed one is a read-only view of ``b``)."""
    if wt == LEN:
        if (c - a) % 8:
            raise DecodeError("packed doubles")
        view = np.frombuffer(b, "<f8", (c - a) // 8, a)
        return view.astype(np.float64) if copy else view
    return np.array([double_at(b, wt, a)], dtype=np.float64)


def decode_histo(b: bytes, copy: bool = True) -> tuple[list[float], np.ndarray, np.ndarray]:
    """HistogramProto -> ([min, max, num, sum, sum_squares], bucket_limit, bucket); with
    ``copy`` False the arrays may be read-only views of ``b``."""
    stats = [0.0, 0.0, 0.0, 0.0, 0.0]
    limits: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for fno, wt, a, c in fields(b, 0, len(b)):
        if 1 <= fno <= 5:
            stats[fno - 1] = double_at(b, wt, a)
        elif fno == 6:
            limits.append(packed_doubles(b, wt, a, c, copy))
        elif fno == 7:
            counts.append(packed_doubles(b, wt, a, c, copy))
    empty = np.zeros(0, dtype=np.float64)
    lim = limits[0] if len(limits) == 1 else (np.concatenate(limits) if limits else empty)
    cnt = counts[0] if len(counts) == 1 else (np.concatenate(counts) if counts else empty)
    return stats, lim, cnt


def decode_image(b: bytes) -> tuple[int, int, int, bytes]:
    """Summary.Image -> (height, width, colorspace, encoded)."""
    h = w = cs = 0
    enc = b""
    for fno, wt, a, c in fields(b, 0, len(b)):
        if fno == 1 and wt == VARINT:
            h = signed64(a)
        elif fno == 2 and wt == VARINT:
            w = signed64(a)
        elif fno == 3 and wt == VARINT:
            cs = signed64(a)
        elif fno == 4 and wt == LEN:
            enc = b[a:c]
    return h, w, cs, enc


def decode_audio(b: bytes) -> tuple[float, int, int, bytes, str]:
    """Summary.Audio -> (sample_rate, num_channels, length_frames, encoded, content_type)."""
    rate = 0.0
    channels = frames = 0
    enc = b""
    ctype = ""
    for fno, wt, a, c in fields(b, 0, len(b)):
        if fno == 1:
            rate = float_at(b, wt, a)
        elif fno == 2 and wt == VARINT:
            channels = signed64(a)
        elif fno == 3 and wt == VARINT:
            frames = signed64(a)
        elif fno == 4 and wt == LEN:
            enc = b[a:c]
        elif fno == 5 and wt == LEN:
            ctype = text_at(b, a, c)
    return rate, channels, frames, enc, ctype
