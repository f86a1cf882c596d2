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
from tuiboard.core.tfevents_proto import decode_metadata
from tuiboard.core.types import TagMeta
from tuiboard.core.wire import DecodeError, varint

MAX_TEMPLATES = 64
"""Templates tried per bucket of a length group before the rest goes to the general decoder."""
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
GROUP_SLICE = 32768
"""Rows of a length group handled at once."""


@dataclass(slots=True)
class ValueSlot:
    """One scalar value of a template: its tag and where its number sits."""

    tag: str
    """As written (UTF-8, undecodable bytes replaced)."""
    meta: TagMeta | None
    """The value's own SummaryMetadata, when the template carries one."""
    pos: int
    """Offset of the value's bytes in the payload."""
    code: str
    """numpy dtype of the value bytes: <f4, <f8, <i4 or <i8."""
    is_tensor: bool
    """A rank-0 tensor (its kind depends on the tag's plugin), not a simple_value."""


@dataclass(slots=True)
class Layout:
    """Where the varying fields of one scalar Event sit (offsets in the payload). An Event may
    hold several scalar values (TF1's merged summaries write every tag of a step in one)."""

    wall_pos: int
    """-1 when the Event has no wall_time field (0.0)."""
    step_pos: int
    """-1 when the Event has no step field (0)."""
    step_len: int
    """Bytes of the step varint (fixed within a template: its continuation bits are in the
    template)."""
    values: list[ValueSlot]
    """At least one, in the Summary's order."""

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
    shape_seen = False  # an absent tensor_shape is rank 0 too (torch's new_style scalars)
    pos = -1
    width = 0
    while p < end:
        key, q = varint(b, p, end)
        if key == 0x08 and not dtype:
            dtype, p = varint(b, q, end)
        elif key == 0x12 and not shape_seen:
            n, q = varint(b, q, end)
            if n != 0:
                return None  # a dimension: not rank 0
            shape_seen, p = True, q
        elif key in (0x22, 0x2A, 0x32) and pos < 0:  # tensor_content, float_val, double_val
            n, q = varint(b, q, end)
            pos, width, p = q, n, q + n
            if (key == 0x2A and dtype != 1) or (key == 0x32 and dtype != 2):
                return None
        else:
            return None
    code = _TENSOR_CODES.get(dtype)
    if p != end or code is None or pos < 0:
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
    """int64 record indices, increasing; each array owns its data (never a view)."""
    step: np.ndarray
    """int64."""
    wall_time: np.ndarray
    """float64."""
    value: np.ndarray
    """float32 from float32 sources, else float64."""


@dataclass(slots=True)
class Batch:
    """How the records of one buffer were read."""

    fast: list[FastScalars]
    """Scalars read by templates (their records need no further decoding)."""
    slow: np.ndarray
    """Record indices (file order) with a good CRC that the general decoder must read."""
    bad: np.ndarray
    """Record indices (file order) whose data CRC failed."""


def decode_batch(
    data: bytes | bytearray | memoryview, buf: np.ndarray, framing: tfr.Framing
) -> Batch:
    u32 = tfr.u32_view(buf)
    groups, others = tfr.length_groups(framing.lengths)
    fast: list[FastScalars] = []
    slow: list[np.ndarray] = []
    bad: list[np.ndarray] = []
    for length, group in groups:
        # bounded slices keep the transient matrices small (a few MB) whatever the file size
        for lo in range(0, group.shape[0], GROUP_SLICE):
            idx = group[lo : lo + GROUP_SLICE]
            starts = framing.starts[idx]
            rows = tfr.gather_rows(buf, starts + tfr.HEADER, length)
            words = tfr.word_columns(rows)
            crcs = crcmod.mask_array(tfr.group_crc(rows, length, words))
            ok = crcs == u32[starts + (tfr.HEADER + length)]
            if ok.all():
                leftover = _templates(rows, words, length, idx, fast)
            else:
                bad.append(idx[~ok])
                leftover = _templates(rows[ok], words[:, ok], length, idx[ok], fast)
            if leftover.size:
                slow.append(leftover)
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


def _templates(
    rows: np.ndarray, words: np.ndarray, length: int, idx: np.ndarray, fast: list[FastScalars]
) -> np.ndarray:
    """Read the rows of a length group (padded bytes ``rows``, their u64 ``words``, records
    ``idx``) that match scalar templates into ``fast``; return the record indices left for the
    general decoder."""
    slow: list[np.ndarray] = []
    everything = np.arange(idx.shape[0])
    done = 0
    while done < idx.shape[0]:
        # training loops write their tags in a fixed order, so a group's rows are usually
        # periodic: row i shares its template with row i - P
        got = _periodic(rows[done:], words[:, done:], length, idx[done:], fast)
        if not got:
            break
        done += got
    buckets = [everything[done:]] if done < idx.shape[0] else []
    hashed = False
    while buckets:
        rem = buckets.pop()
        if rem.shape[0] == idx.shape[0]:
            mat, cols = rows, words
        else:
            mat, cols = rows[rem], words[:, rem]
        tries = 0
        while rem.size:
            if tries >= MAX_TEMPLATES:
                slow.append(rem)
                break
            tries += 1
            layout = scalar_layout(mat[0, :length].tobytes())
            if layout is None:
                slow.append(rem[:1])
                rem, mat, cols = rem[1:], mat[1:], cols[:, 1:]
                continue
            masks = _word_masks(layout.byte_mask(length), cols.shape[0])
            acc: np.ndarray | None = None
            for j, m in enumerate(masks):
                if not m:
                    continue
                col = cols[j]
                x = (col ^ col[0]) & np.uint64(m)
                acc = x if acc is None else (acc | x)
            if acc is None or not acc.any():
                _extract(mat, layout, idx[rem], fast)
                break
            match = acc == 0
            if not hashed and rem.shape[0] > 64 and int(np.count_nonzero(match)) >= 8:
                # many templates of one length and no period (tags of equal length logged in
                # no fixed order): bucket the rows by a hash of this template's constant bytes,
                # so that each bucket holds about one template
                hashed = True
                h = np.zeros(rem.shape[0], dtype=np.uint64)
                for j, m in enumerate(masks):
                    if m:
                        h = (h ^ (cols[j] & np.uint64(m))) * _HASH_MUL
                key = (h >> np.uint64(48)).astype(np.uint16)
                order = np.argsort(key, kind="stable")
                cuts = np.flatnonzero(np.diff(key[order])) + 1
                buckets.extend(np.split(rem[order], cuts))
                break
            keep = ~match
            _extract(mat[match], layout, idx[rem[match]], fast)
            rem, mat, cols = rem[keep], mat[keep], cols[:, keep]
    return idx[np.concatenate(slow)] if slow else np.zeros(0, dtype=np.int64)


MAX_PERIOD = 1024


def _masked_diff(cols: np.ndarray, a: slice, b: slice | int, masks: list[int]) -> np.ndarray | None:
    """OR over words of ``(cols[:, a] ^ cols[:, b]) & mask``; None when every mask is empty."""
    acc: np.ndarray | None = None
    for j, m in enumerate(masks):
        if m:
            x = (cols[j, a] ^ cols[j, b]) & np.uint64(m)
            acc = x if acc is None else (acc | x)
    return acc


def _periodic(
    mat: np.ndarray, cols: np.ndarray, length: int, seqs: np.ndarray, fast: list[FastScalars]
) -> int:
    """Read the longest prefix of the rows that is periodic (row i matches row i - P in every
    template byte, rows 0..P-1 are scalar templates of one byte mask) into ``fast``; return its
    length, or 0 when that is not worth it (fewer than 4 periods)."""
    n = mat.shape[0]
    first = scalar_layout(mat[0, :length].tobytes())
    if first is None or n < 4:
        return 0
    mask = first.byte_mask(length)
    masks = _word_masks(mask, cols.shape[0])
    head = min(n, MAX_PERIOD + 1)
    acc = _masked_diff(cols, slice(1, head), 0, masks)
    if acc is None:
        return 0
    cand = np.flatnonzero(acc == 0)
    if not cand.size:
        return 0
    period = int(cand[0]) + 1
    if n < 4 * period:
        return 0
    layouts = [first]
    for c in range(1, period):
        layout = scalar_layout(mat[c, :length].tobytes())
        if layout is None or not np.array_equal(layout.byte_mask(length), mask):
            return 0
        layouts.append(layout)
    diff = _masked_diff(cols, slice(period, n), slice(0, n - period), masks)
    if diff is None:
        return 0
    bad = np.flatnonzero(diff)
    end = period + int(bad[0]) if bad.size else n
    if end < 4 * period:
        return 0
    for c, layout in enumerate(layouts):
        _extract(mat[c:end:period], layout, seqs[c:end:period], fast)
    return end


def _word_masks(mask: np.ndarray, nw: int) -> list[int]:
    padded = np.zeros(8 * nw, dtype=np.uint8)
    padded[: mask.shape[0]] = mask
    return [int(v) for v in padded.view("<u8")]


def _field(mat: np.ndarray, pos: int, code: str) -> np.ndarray:
    width = np.dtype(code).itemsize
    return np.ascontiguousarray(mat[:, pos : pos + width]).view(code).reshape(mat.shape[0])


def _extract(mat: np.ndarray, layout: Layout, seq: np.ndarray, fast: list[FastScalars]) -> None:
    n = mat.shape[0]
    seq = np.array(seq, dtype=np.int64)  # own, contiguous: never a view into the group's index
    if layout.wall_pos >= 0:
        wall = _field(mat, layout.wall_pos, "<f8")
    else:
        wall = np.zeros(n, dtype=np.float64)
    if layout.step_pos >= 0:
        step = np.zeros(n, dtype=np.uint64)
        for k in range(layout.step_len):
            byte = mat[:, layout.step_pos + k] & np.uint8(0x7F)
            step |= byte.astype(np.uint64) << np.uint64(7 * k)
        step = step.view(np.int64)
    else:
        step = np.zeros(n, dtype=np.int64)
    last = len(layout.values) - 1
    for i, slot in enumerate(layout.values):
        value = _field(mat, slot.pos, slot.code)
        value = value.astype(np.float32 if slot.code == "<f4" else np.float64)
        fast.append(FastScalars(slot.tag, slot.meta, slot.is_tensor, seq, step, wall, value))
        if i < last:
            seq, step, wall = seq.copy(), step.copy(), wall.copy()  # no arrays shared by tags


__all__ = ["Batch", "FastScalars", "Layout", "ValueSlot", "decode_batch", "scalar_layout"]
