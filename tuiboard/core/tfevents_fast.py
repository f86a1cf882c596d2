"""The batched path of the tfevents reader: data CRCs by length group and scalar Events read as
numpy columns through fixed-layout templates.

Owns: ``decode_batch`` (which records are fast-path scalars, which need the general decoder,
which failed their data CRC) and ``scalar_layout`` (the template of one scalar Event).
Must not import textual, rich, or tuiboard modules other than core.{crc,tfrecord,wire,types}.

A scalar Event of one tag has a fixed layout: ``09 <wall_time:8> 10 <step varint> 2a .. 0a <tag>
.. 15 <value:4>`` (or a rank-0 tensor holding the value). Within a group of records of one length,
the first record is decoded in full and becomes a template: every other record matching it in all
bytes but the wall-time, value and step bytes (and in the step bytes' continuation bits, so the
varint has the same length) has the same fields at the same offsets, and its fields are read as
numpy columns. Records matching no template go to the general decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuiboard.core import crc as crcmod
from tuiboard.core import tfrecord as tfr
from tuiboard.core.types import TagMeta
from tuiboard.core.wire import DecodeError, decode_metadata, varint

MAX_TEMPLATES = 64
"""Templates tried per bucket of a length group before the rest goes to the general decoder."""
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


@dataclass(slots=True)
class ValueSlot:
    """One scalar value of a template: its tag and where its number sits."""

    tag: str
    meta: TagMeta | None
    pos: int
    code: str
    """numpy dtype of the value bytes: <f4, <f8, <i4 or <i8."""
    is_tensor: bool


@dataclass(slots=True)
class Layout:
    """Where the varying fields of one scalar Event sit (offsets in the payload). An Event may
    hold several scalar values (TF1's merged summaries write every tag of a step in one)."""

    wall_pos: int
    """-1 when the Event has no wall_time field (0.0)."""
    step_pos: int
    """-1 when the Event has no step field (0)."""
    step_len: int
    values: list[ValueSlot]

    def byte_mask(self, length: int) -> np.ndarray:
        """0xFF where every record of the template has the template's byte, 0x80 over the step
        varint (continuation bits fix its length), 0 over wall time and values."""
        m = np.full(length, 0xFF, dtype=np.uint8)
        if self.wall_pos >= 0:
            m[self.wall_pos : self.wall_pos + 8] = 0
        if self.step_pos >= 0:
            m[self.step_pos : self.step_pos + self.step_len] = 0x80
        for v in self.values:
            m[v.pos : v.pos + np.dtype(v.code).itemsize] = 0
        return m


_TENSOR_CODES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8"}


def scalar_layout(b: bytes) -> Layout | None:
    """The layout of ``b`` if it is an Event whose summary holds only scalar values (simple_value
    or rank-0 float32/float64/int32/int64 tensors of fixed width), else None. Never raises."""
    try:
        return _scalar_layout(b)
    except (DecodeError, IndexError, UnicodeDecodeError):
        return None


def _scalar_layout(b: bytes) -> Layout | None:
    end = len(b)
    p = 0
    wall_pos = step_pos = -1
    step_len = 0
    summary: tuple[int, int] | None = None
    while p < end:
        key, q = varint(b, p, end)
        if key == 0x09 and wall_pos < 0:
            wall_pos, p = q, q + 8
        elif key == 0x10 and step_pos < 0:
            step_pos = q
            _, p = varint(b, q, end)
            step_len = p - q
        elif key == 0x2A and summary is None:
            n, q = varint(b, q, end)
            summary, p = (q, q + n), q + n
        else:
            return None
    if p != end or summary is None:
        return None
    values: list[ValueSlot] = []
    p, send = summary
    while p < send:
        key, q = varint(b, p, send)
        if key != 0x0A:
            return None
        n, va = varint(b, q, send)
        p = va + n
        slot = _value_slot(b, va, p)
        if slot is None:
            return None
        values.append(slot)
    if p != send or not values:
        return None
    return Layout(wall_pos, step_pos, step_len, values)


def _value_slot(b: bytes, va: int, vc: int) -> ValueSlot | None:
    tag: str | None = None
    meta: TagMeta | None = None
    value_pos = -1
    code = ""
    is_tensor = False
    p = va
    while p < vc:
        key, q = varint(b, p, vc)
        if key == 0x0A and tag is None:
            n, q = varint(b, q, vc)
            tag = b[q : q + n].decode("utf-8", errors="replace")
            p = q + n
        elif key == 0x4A and meta is None:
            n, q = varint(b, q, vc)
            meta = decode_metadata(b, q, q + n)
            p = q + n
        elif key == 0x15 and value_pos < 0:
            value_pos, code, p = q, "<f4", q + 4
        elif key == 0x42 and value_pos < 0:
            n, q = varint(b, q, vc)
            found = _tensor_scalar(b, q, q + n)
            if found is None:
                return None
            value_pos, code = found
            is_tensor = True
            p = q + n
        else:
            return None
    if p != vc or tag is None or value_pos < 0:
        return None
    return ValueSlot(tag, meta, value_pos, code, is_tensor)


def _tensor_scalar(b: bytes, start: int, end: int) -> tuple[int, str] | None:
    p = start
    dtype = 0
    rank0 = False
    pos = -1
    width = 0
    while p < end:
        key, q = varint(b, p, end)
        if key == 0x08 and not dtype:
            dtype, p = varint(b, q, end)
        elif key == 0x12 and not rank0:
            n, q = varint(b, q, end)
            if n != 0:
                return None  # a dimension: not rank 0
            rank0, p = True, q
        elif key in (0x22, 0x2A, 0x32) and pos < 0:  # tensor_content, float_val, double_val
            n, q = varint(b, q, end)
            pos, width, p = q, n, q + n
            if (key == 0x2A and dtype != 1) or (key == 0x32 and dtype != 2):
                return None
        else:
            return None
    code = _TENSOR_CODES.get(dtype)
    if p != end or not rank0 or code is None or pos < 0:
        return None
    if width != np.dtype(code).itemsize:
        return None
    return pos, code


@dataclass(slots=True)
class FastScalars:
    """Scalar points of one template, read in bulk."""

    tag: str
    meta: TagMeta | None
    is_tensor: bool
    seq: np.ndarray
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray


@dataclass(slots=True)
class Batch:
    fast: list[FastScalars]
    slow: np.ndarray
    """Record indices (file order) with a good CRC that the general decoder must read."""
    bad: np.ndarray
    """Record indices (file order) whose data CRC failed."""


def decode_batch(
    data: bytes | bytearray | memoryview, buf: np.ndarray, framing: tfr.Framing
) -> Batch:
    u64 = tfr.u64_view(buf)
    u32 = tfr.u32_view(buf)
    groups, others = tfr.length_groups(framing.lengths)
    fast: list[FastScalars] = []
    slow: list[np.ndarray] = []
    bad: list[np.ndarray] = []
    for length, idx in groups:
        starts = framing.starts[idx]
        words = tfr.gather_words(u64, starts + tfr.HEADER, length)
        crcs = crcmod.mask_array(tfr.group_crc(words, buf))
        stored = u32[starts + (tfr.HEADER + length)]
        ok = crcs == stored
        if ok.all():
            rows = np.arange(idx.shape[0])
        else:
            bad.append(idx[~ok])
            rows = np.flatnonzero(ok)
        leftover = _templates(buf, words, idx, rows, fast)
        if leftover.size:
            slow.append(idx[leftover])
    if others.size:
        good = np.array(
            [
                tfr.record_crc_ok(data, int(framing.starts[i]), int(framing.lengths[i]))
                for i in others.tolist()
            ],
            dtype=bool,
        )
        slow.append(others[good])
        bad.append(others[~good])
    slow_idx = np.sort(np.concatenate(slow)) if slow else np.zeros(0, dtype=np.int64)
    bad_idx = np.sort(np.concatenate(bad)) if bad else np.zeros(0, dtype=np.int64)
    return Batch(fast, slow_idx, bad_idx)


def _word_masks(mask: np.ndarray, length: int, nw: int) -> list[np.uint64]:
    out = []
    for j in range(nw):
        base = 8 * j if j < nw - 1 else length - 8
        out.append(mask[base : base + 8].view("<u8")[0])
    return out


def _templates(
    buf: np.ndarray,
    words: tfr.GroupWords,
    idx: np.ndarray,
    rows: np.ndarray,
    fast: list[FastScalars],
) -> np.ndarray:
    """Read the rows of a length group that match scalar templates into ``fast``; return the
    rows left for the general decoder."""
    length = words.length
    nw = len(words.cols)
    slow: list[np.ndarray] = []
    buckets = [rows]
    hashed = False
    while buckets:
        rem = buckets.pop()
        cols = [c[rem] for c in words.cols] if rem.shape[0] != idx.shape[0] else words.cols
        tries = 0
        while rem.size:
            if tries >= MAX_TEMPLATES:
                slow.append(rem)
                break
            tries += 1
            s0 = int(words.starts[rem[0]])
            layout = scalar_layout(buf[s0 : s0 + length].tobytes())
            if layout is None:
                slow.append(rem[:1])
                rem = rem[1:]
                cols = [c[1:] for c in cols]
                continue
            masks = _word_masks(layout.byte_mask(length), length, nw)
            acc: np.ndarray | None = None
            for col, m in zip(cols, masks, strict=True):
                if not m:
                    continue
                x = (col ^ col[0]) & m
                acc = x if acc is None else (acc | x)
            match = acc == 0 if acc is not None else np.ones(rem.shape[0], dtype=bool)
            if match.all():
                _extract(words, rem, cols, layout, idx, fast)
                break
            keep = ~match
            _extract(words, rem[match], [c[match] for c in cols], layout, idx, fast)
            rem = rem[keep]
            cols = [c[keep] for c in cols]
            if not hashed and rem.shape[0] > 64 and int(np.count_nonzero(match)) >= 8:
                # many templates of one length (tags of equal length): bucket the rest by a hash
                # of this template's constant bytes so each bucket holds about one template
                hashed = True
                h = np.zeros(rem.shape[0], dtype=np.uint64)
                for col, m in zip(cols, masks, strict=True):
                    h = (h ^ (col & m)) * _HASH_MUL
                order = np.argsort((h >> np.uint64(48)).astype(np.uint16), kind="stable")
                key = (h >> np.uint64(48)).astype(np.uint16)[order]
                cuts = np.flatnonzero(np.diff(key)) + 1
                parts = np.split(rem[order], cuts)
                buckets.extend(np.sort(part) for part in parts)
                rem = rem[:0]
    return np.concatenate(slow) if slow else np.zeros(0, dtype=np.intp)


def _bytes_at(cols: list[np.ndarray], words: tfr.GroupWords, pos: int, width: int) -> np.ndarray:
    """``(n, width)`` uint8: bytes ``[pos, pos+width)`` of each row whose word columns are
    ``cols``."""
    n = cols[0].shape[0]
    nw = len(cols)
    out = np.empty((n, width), dtype=np.uint8)
    for k in range(width):
        position = pos + k
        j = position // 8
        if j < nw - 1:
            out[:, k] = cols[j].view(np.uint8)[position - 8 * j :: 8]
        else:
            out[:, k] = cols[-1].view(np.uint8)[position - words.last_base :: 8]
    return out


def _extract(
    words: tfr.GroupWords,
    rows: np.ndarray,
    cols: list[np.ndarray],
    layout: Layout,
    idx: np.ndarray,
    fast: list[FastScalars],
) -> None:
    n = rows.shape[0]
    if layout.wall_pos >= 0:
        wall = _bytes_at(cols, words, layout.wall_pos, 8).view("<f8").reshape(n)
    else:
        wall = np.zeros(n, dtype=np.float64)
    if layout.step_pos >= 0:
        sb = _bytes_at(cols, words, layout.step_pos, layout.step_len)
        step = np.zeros(n, dtype=np.uint64)
        for k in range(layout.step_len):
            step |= (sb[:, k] & np.uint8(0x7F)).astype(np.uint64) << np.uint64(7 * k)
        step = step.view(np.int64)
    else:
        step = np.zeros(n, dtype=np.int64)
    seq = idx[rows]
    for slot in layout.values:
        width = np.dtype(slot.code).itemsize
        value = _bytes_at(cols, words, slot.pos, width).view(slot.code).reshape(n)
        if slot.code != "<f4":
            value = value.astype(np.float64)
        elif not value.dtype.isnative:
            value = value.astype(np.float32)
        fast.append(FastScalars(slot.tag, slot.meta, slot.is_tensor, seq, step, wall, value))


__all__ = ["Batch", "FastScalars", "Layout", "ValueSlot", "decode_batch", "scalar_layout"]
