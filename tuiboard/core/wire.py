"""Protobuf wire-format primitives (no protobuf package): varints, field iteration, small
messages as field dicts, and google.protobuf.Value / Struct / map fields.

Owns: the bytes-level rules every decoder relies on: malformed input raises ``DecodeError``, and
every length is checked against the bytes at hand before use, so nothing is allocated by a
length field. The tfevents messages themselves are in ``tfevents_proto``.
Must not import textual, rich, or other tuiboard modules.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

_D = struct.Struct("<d")
_F = struct.Struct("<f")
_MAX_DEPTH = 32


class DecodeError(ValueError):
    """The bytes are not the protobuf message they were decoded as."""


VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


def varint(b: bytes, p: int, end: int) -> tuple[int, int]:
    """Decode a varint at ``p``; return (value as unsigned 64-bit, next position)."""
    if p >= end:
        raise DecodeError("varint past end")
    x = b[p]
    p += 1
    if x < 0x80:
        return x, p
    result = x & 0x7F
    shift = 7
    while True:
        if p >= end:
            raise DecodeError("varint past end")
        x = b[p]
        p += 1
        result |= (x & 0x7F) << shift
        if x < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, p
        shift += 7
        if shift >= 70:
            raise DecodeError("varint too long")


def signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def fields(b: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field_number, wire_type, a, c)``: varint -> (value, 0); fixed64/fixed32 ->
    (position, 0); length-delimited -> (start, end)."""
    p = start
    while p < end:
        key, p = varint(b, p, end)
        fno = key >> 3
        wt = key & 7
        if fno == 0:
            raise DecodeError("field number 0")
        if wt == VARINT:
            v, p = varint(b, p, end)
            yield fno, wt, v, 0
        elif wt == FIXED64:
            if p + 8 > end:
                raise DecodeError("fixed64 past end")
            yield fno, wt, p, 0
            p += 8
        elif wt == LEN:
            n, p = varint(b, p, end)
            if n > end - p:
                raise DecodeError("length past end")
            yield fno, wt, p, p + n
            p += n
        elif wt == FIXED32:
            if p + 4 > end:
                raise DecodeError("fixed32 past end")
            yield fno, wt, p, 0
            p += 4
        else:
            raise DecodeError(f"wire type {wt}")
    if p != end:
        raise DecodeError("message overruns its end")


def text_at(b: bytes, a: int, c: int) -> str:
    return b[a:c].decode("utf-8", errors="replace")


def double_at(b: bytes, wt: int, a: int) -> float:
    if wt != FIXED64:
        raise DecodeError("expected a double")
    return float(_D.unpack_from(b, a)[0])


def float_at(b: bytes, wt: int, a: int) -> float:
    if wt != FIXED32:
        raise DecodeError("expected a float")
    return float(_F.unpack_from(b, a)[0])


def expect_wire(wt: int, expected: int) -> None:
    if wt != expected:
        raise DecodeError(f"wire type {wt}, expected {expected}")


def count_field(b: bytes, number: int) -> int:
    """How many times field ``number`` occurs at the top level of a message (GraphDef nodes)."""
    return sum(1 for fno, _, _, _ in fields(b, 0, len(b)) if fno == number)


def sub_messages(b: bytes, number: int) -> list[bytes]:
    return [b[a:c] for fno, wt, a, c in fields(b, 0, len(b)) if fno == number and wt == LEN]


def message_fields(b: bytes) -> dict[int, list[Any]]:
    """Top-level fields by number: varints as int, fixed as their position-free bytes, strings as
    bytes (enough for the small plugin messages: hparams, mesh, pr_curves)."""
    out: dict[int, list[Any]] = {}
    for fno, wt, a, c in fields(b, 0, len(b)):
        if wt == VARINT:
            val: Any = a
        elif wt == FIXED64:
            val = b[a : a + 8]
        elif wt == FIXED32:
            val = b[a : a + 4]
        else:
            val = b[a:c]
        out.setdefault(fno, []).append(val)
    return out


def as_double(raw: Any) -> float:
    if isinstance(raw, bytes) and len(raw) == 8:
        return float(_D.unpack(raw)[0])
    raise DecodeError("expected a double")


def proto_value(b: bytes, depth: int = 0) -> Any:
    """google.protobuf.Value -> None | float | str | bool | dict | list."""
    if depth > _MAX_DEPTH:
        raise DecodeError("Value nested too deep")
    out: Any = None
    for fno, wt, a, c in fields(b, 0, len(b)):
        if fno == 1:
            out = None
        elif fno == 2:
            out = double_at(b, wt, a)
        elif fno == 3 and wt == LEN:
            out = text_at(b, a, c)
        elif fno == 4 and wt == VARINT:
            out = bool(a)
        elif fno == 5 and wt == LEN:
            out = proto_struct(b[a:c], depth + 1)
        elif fno == 6 and wt == LEN:
            out = [proto_value(v, depth + 1) for v in sub_messages(b[a:c], 1)]
    return out


def proto_struct(b: bytes, depth: int = 0) -> dict[str, Any]:
    """google.protobuf.Struct (map<string, Value> as field 1), also hparams' map fields."""
    return proto_map(b, 1, depth)


def proto_map(b: bytes, number: int, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in sub_messages(b, number):
        key = ""
        value: Any = None
        for fno, wt, a, c in fields(entry, 0, len(entry)):
            if fno == 1 and wt == LEN:
                key = text_at(entry, a, c)
            elif fno == 2 and wt == LEN:
                value = proto_value(entry[a:c], depth + 1)
        out[key] = value
    return out


def sub(fs: dict[int, list[Any]], number: int) -> bytes:
    """The last occurrence of a message field (DecodeError when it is not length-delimited)."""
    vals = fs.get(number)
    if not vals or not isinstance(vals[-1], bytes):
        raise DecodeError(f"field {number} is not a message")
    return vals[-1]


def subs(fs: dict[int, list[Any]], number: int) -> list[bytes]:
    """Every occurrence of a repeated message field."""
    return [v for v in fs.get(number, []) if isinstance(v, bytes)]


def text_field(fs: dict[int, list[Any]], number: int) -> str:
    vals = fs.get(number)
    if not vals or not isinstance(vals[-1], bytes):
        return ""
    return vals[-1].decode("utf-8", errors="replace")


def int_field(fs: dict[int, list[Any]], number: int) -> int:
    vals = fs.get(number)
    if not vals or not isinstance(vals[-1], int):
        return 0
    return signed64(vals[-1])
