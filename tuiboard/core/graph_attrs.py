"""NodeDef attributes decoded from the wire: the AttrValue oneof (strings, numbers, types,
shapes, small tensors, functions, lists of them) and TensorFlow's DataType names.

Owns: `AttrValue`, `TensorSummary`, `Shape`, `DTYPE_NAMES` / `dtype_name`, `decode_node_attrs`,
`decode_attr_value`, `decode_shape`, `decode_tensor_summary`. A graph decodes a node's
attributes only when its detail is shown (core/graph.py keeps each NodeDef's byte range).
Must not import: textual, rich, protobuf, or tuiboard modules other than core.wire and
core.tfevents_proto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuiboard.core import tfevents_proto as proto
from tuiboard.core import wire
from tuiboard.core.wire import LEN, VARINT, DecodeError

DTYPE_NAMES: dict[int, str] = {
    0: "invalid",
    1: "float32",
    2: "float64",
    3: "int32",
    4: "uint8",
    5: "int16",
    6: "int8",
    7: "string",
    8: "complex64",
    9: "int64",
    10: "bool",
    11: "qint8",
    12: "quint8",
    13: "qint32",
    14: "bfloat16",
    15: "qint16",
    16: "quint16",
    17: "uint16",
    18: "complex128",
    19: "float16",
    20: "resource",
    21: "variant",
    22: "uint32",
    23: "uint64",
    24: "float8_e5m2",
    25: "float8_e4m3fn",
    26: "float8_e4m3fnuz",
    27: "float8_e4m3b11fnuz",
    28: "float8_e5m2fnuz",
    29: "int4",
    30: "uint4",
    31: "int2",
    32: "uint2",
    33: "float4_e2m1fn",
}
"""TensorFlow's DataType enum as numpy-style names (DT_FLOAT is float32, DT_HALF float16)."""


def dtype_name(code: int) -> str:
    """A DataType's name; reference types (code + 100) end in `_ref`."""
    if code > 100 and code - 100 in DTYPE_NAMES:
        return DTYPE_NAMES[code - 100] + "_ref"
    return DTYPE_NAMES.get(code, f"dtype{code}")


Shape = tuple[int, ...] | None
"""A TensorShapeProto: dimension sizes (-1 unknown), or None for an unknown rank."""


@dataclass(frozen=True, slots=True)
class TensorSummary:
    """A TensorProto attribute (a Const's value), with at most PREVIEW values kept."""

    dtype: str
    shape: tuple[int, ...]
    values: tuple[Any, ...]
    """The first values in row-major order (floats, ints, bools or bytes); () if unreadable."""
    size: int
    """How many values the shape holds."""


PREVIEW = 16


@dataclass(frozen=True, slots=True)
class AttrValue:
    """One decoded AttrValue. `kind` names the oneof field that was set."""

    kind: str
    """"s", "i", "f", "b", "type", "shape", "tensor", "placeholder", "func", "list" or "" (none)."""
    value: Any
    """bytes | int | float | bool | dtype name | Shape | TensorSummary | str | (name, attrs);
    for "list": (item kind, tuple of items) with item kind "" for an empty list."""
    size: int = 0
    """Bytes of the encoded AttrValue (TensorBoard hides attributes over 1024 bytes)."""


def decode_node_attrs(b: bytes, a: int, c: int) -> dict[str, AttrValue]:
    """The attr map (field 5) of the NodeDef at b[a:c], decoded."""
    out: dict[str, AttrValue] = {}
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if fno == 5 and wt == LEN:
            key, value = _attr_entry(b, a2, c2, 0)
            out[key] = value
    return out


def _attr_entry(b: bytes, a: int, c: int, depth: int) -> tuple[str, AttrValue]:
    """One map<string, AttrValue> entry at b[a:c] (NodeDef.attr, NameAttrList.attr)."""
    key = ""
    value = AttrValue("", None)
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if fno == 1 and wt == LEN:
            key = wire.text_at(b, a2, c2)
        elif fno == 2 and wt == LEN:
            value = decode_attr_value(b, a2, c2, depth)
    return key, value


def decode_attr_value(b: bytes, a: int, c: int, depth: int = 0) -> AttrValue:
    if depth > 8:
        raise DecodeError("attribute nested too deep")
    kind: str = ""
    value: Any = None
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if fno == 2 and wt == LEN:
            kind, value = "s", b[a2:c2]
        elif fno == 3 and wt == VARINT:
            kind, value = "i", wire.signed64(a2)
        elif fno == 4:
            kind, value = "f", wire.float_at(b, wt, a2)
        elif fno == 5 and wt == VARINT:
            kind, value = "b", bool(a2)
        elif fno == 6 and wt == VARINT:
            kind, value = "type", dtype_name(a2)
        elif fno == 7 and wt == LEN:
            kind, value = "shape", decode_shape(b, a2, c2)
        elif fno == 8 and wt == LEN:
            kind, value = "tensor", decode_tensor_summary(b[a2:c2])
        elif fno == 9 and wt == LEN:
            kind, value = "placeholder", wire.text_at(b, a2, c2)
        elif fno == 10 and wt == LEN:
            kind, value = "func", _name_attr_list(b, a2, c2, depth)
        elif fno == 1 and wt == LEN:
            kind, value = "list", _list_value(b, a2, c2, depth)
    return AttrValue(kind, value, c - a)


def _list_value(b: bytes, a: int, c: int, depth: int) -> tuple[str, tuple[Any, ...]]:
    """ListValue: the first kind that holds items, and its items."""
    items: dict[int, list[Any]] = {}
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        got = items.setdefault(fno, [])
        if fno == 2 and wt == LEN:
            got.append(b[a2:c2])
        elif fno in (3, 5, 6):
            vals: list[Any] = []
            proto._packed(b, wt, a2, c2, "v", vals)
            if fno == 3:
                got.extend(wire.signed64(v) for v in vals)
            elif fno == 5:
                got.extend(bool(v) for v in vals)
            else:
                got.extend(dtype_name(v) for v in vals)
        elif fno == 4:
            proto._packed(b, wt, a2, c2, "f", got)
        elif fno == 7 and wt == LEN:
            got.append(decode_shape(b, a2, c2))
        elif fno == 8 and wt == LEN:
            got.append(decode_tensor_summary(b[a2:c2]))
        elif fno == 9 and wt == LEN:
            got.append(_name_attr_list(b, a2, c2, depth))
    names = {2: "s", 3: "i", 4: "f", 5: "b", 6: "type", 7: "shape", 8: "tensor", 9: "func"}
    for fno in (2, 3, 4, 5, 6, 7, 8, 9):
        if items.get(fno):
            return names[fno], tuple(items[fno])
    return "", ()


def _name_attr_list(b: bytes, a: int, c: int, depth: int) -> tuple[str, dict[str, AttrValue]]:
    name = ""
    attrs: dict[str, AttrValue] = {}
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if fno == 1 and wt == LEN:
            name = wire.text_at(b, a2, c2)
        elif fno == 2 and wt == LEN:
            key, value = _attr_entry(b, a2, c2, depth + 1)
            attrs[key] = value
    return name, attrs


def decode_shape(b: bytes, a: int, c: int) -> Shape:
    dims: list[int] = []
    for fno, wt, a2, c2 in wire.fields(b, a, c):
        if fno == 2 and wt == LEN:
            size = 0
            for f3, w3, a3, _ in wire.fields(b, a2, c2):
                if f3 == 1 and w3 == VARINT:
                    size = wire.signed64(a3)
            dims.append(size)
        elif fno == 3 and wt == VARINT and a2:
            return None
    return tuple(dims)


def decode_tensor_summary(b: bytes) -> TensorSummary:
    t = proto.decode_tensor(b)
    name = dtype_name(t.dtype)
    size = t.size()
    values: tuple[Any, ...] = ()
    try:
        if t.is_string:
            values = tuple(t.strings[:PREVIEW])
        elif t.dtype in proto.DTYPES:
            values = tuple(proto.tensor_array(t).reshape(-1)[:PREVIEW].tolist())
    except (DecodeError, ValueError):
        values = ()
    return TensorSummary(name, t.shape, values, size)
