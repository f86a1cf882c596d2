"""The batched path of the tfevents reader: data CRCs by length group and scalar Events read as
numpy columns through fixed-layout templates.

Owns: ``decode_batch`` (which records are fast-path scalars, which need the general decoder,
which failed their data CRC), ``scalar_layout`` (the template of one scalar Event) and
``cached_layout`` (the templates seen before, across reads, files and runs).
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
GROUP_SLICE = 8192
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
    mask_cache: np.ndarray | None = None
    """byte_mask of the template's length, once computed (read-only)."""
    words_cache: list[int] | None = None
    """The same as little-endian u64 words (zero-padded), once computed."""
    geometry_cache: tuple[int, int, int, tuple[tuple[int, str], ...]] | None = None
    """Where the fields sit, once computed: templates of equal geometry read alike."""

    def byte_mask(self, length: int) -> np.ndarray:
        """0xFF where every record of the template has the template's byte, 0x80 over the step
        varint (continuation bits fix its length), 0 over wall time and values."""
        m = self.mask_cache
        if m is None or m.shape[0] != length:
            m = self.mask_cache = self._byte_mask(length)
            m.flags.writeable = False
            self.words_cache = None
        return m

    def word_masks(self, length: int, nw: int) -> list[int]:
        """byte_mask as ``nw`` little-endian u64 words, zero-padded."""
        mask = self.byte_mask(length)
        words = self.words_cache
        if words is None or len(words) != nw:
            words = self.words_cache = _word_masks(mask, nw)
        return words

    def _byte_mask(self, length: int) -> np.ndarray:
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


_LAYOUT_CACHE: dict[int, list[tuple[int, int, Layout]]] = {}
"""Payload length -> (mask, masked template, layout) of templates seen before, as integers.
Training loops write the same tags again and again, across chunks, files and runs."""
LAYOUTS_PER_LENGTH = 64
_cached = 0


def cached_layout(b: bytes) -> Layout | None:
    """``scalar_layout(b)``, from a cache of layouts seen before. A record that equals a cached
    template in every byte of the template's mask (all but wall time, value and the step
    varint's payload bits) parses to the same layout, so the cache cannot be wrong. Never
    raises."""
    global _cached
    length = len(b)
    entries = _LAYOUT_CACHE.get(length)
    x = int.from_bytes(b, "little")
    if entries is not None:
        for mask, tmpl, hit in entries:
            if x & mask == tmpl:
                return hit
    layout = scalar_layout(b)
    if layout is None:
        return None
    if _cached >= 4096:  # bounded: forget everything now and then
        _LAYOUT_CACHE.clear()
        _cached = 0
    mask = int.from_bytes(layout.byte_mask(length).tobytes(), "little")
    entries = _LAYOUT_CACHE.setdefault(length, [])
    if len(entries) >= LAYOUTS_PER_LENGTH:
        entries.pop()
    entries.insert(0, (mask, x & mask, layout))
    _cached += 1
    return layout


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
        # records of a length too rare for a group (a tag's first record, with its metadata;
        # a file with few records): one C call for the CRC each, and a template still reads
        # the scalar ones without the general decoder
        slow_one: list[int] = []
        bad_one: list[int] = []
        starts_l = framing.starts[others].tolist()
        lengths_l = framing.lengths[others].tolist()
        for i, start, length in zip(others.tolist(), starts_l, lengths_l, strict=True):
            if not tfr.record_crc_ok(data, start, length):
                bad_one.append(i)
                continue
            if 8 <= length <= tfr.SMALL_RECORD:
                payload = bytes(data[start + tfr.HEADER : start + tfr.HEADER + length])
                layout = cached_layout(payload)
                if layout is not None:
                    _extract_one(payload, layout, i, fast)
                    continue
            slow_one.append(i)
        if slow_one:
            slow.append(np.array(slow_one, dtype=np.int64))
        if bad_one:
            bad.append(np.array(bad_one, dtype=np.int64))
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
            layout = cached_layout(mat[0, :length].tobytes())
            if layout is None:
                slow.append(rem[:1])
                rem, mat, cols = rem[1:], mat[1:], cols[:, 1:]
                continue
            masks = layout.word_masks(length, cols.shape[0])
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
SMALL_DIFF = 1 << 15
"""Word matrices up to this many words are compared in one go (temporaries of 256 KiB at most);
bigger ones word by word."""


def _masked_diff(cols: np.ndarray, a: slice, b: slice | int, masks: list[int]) -> np.ndarray | None:
    """OR over words of ``(cols[:, a] ^ cols[:, b]) & mask``; None when every mask is empty."""
    if cols.shape[0] * cols.shape[1] <= SMALL_DIFF and all(masks):
        # a few numpy calls in all rather than a few per word
        other = cols[:, b : b + 1] if isinstance(b, int) else cols[:, b]
        x = cols[:, a] ^ other
        x &= np.array(masks, dtype=np.uint64)[:, None]
        return np.bitwise_or.reduce(x, axis=0)
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
    first = cached_layout(mat[0, :length].tobytes())
    if first is None or n < 4:
        return 0
    mask = first.byte_mask(length)
    masks = first.word_masks(length, cols.shape[0])
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
    geometry = _geometry(first)
    for c in range(1, period):
        layout = cached_layout(mat[c, :length].tobytes())
        if layout is None:
            return 0
        if layout is not first and _geometry(layout) != geometry:
            # a byte mask is a function of the geometry (and the length): the same geometry,
            # the same mask; another geometry may still have the same mask
            other = layout.byte_mask(length)
            if other is not mask and not np.array_equal(other, mask):
                return 0
        layouts.append(layout)
    diff = _masked_diff(cols, slice(period, n), slice(0, n - period), masks)
    if diff is None:
        return 0
    bad = np.flatnonzero(diff)
    end = period + int(bad[0]) if bad.size else n
    if end < 4 * period:
        return 0
    if period > 1 and all(_geometry(layout) == geometry for layout in layouts):
        # every template of the period has its fields at the same offsets: read each field
        # once for all rows, then deal the rows out to their templates
        _extract_period(mat[:end], layouts, seqs[:end], period, fast)
        return end
    for c, layout in enumerate(layouts):
        _extract(mat[c:end:period], layout, seqs[c:end:period], fast)
    return end


def _geometry(layout: Layout) -> tuple[int, int, int, tuple[tuple[int, str], ...]]:
    g = layout.geometry_cache
    if g is None:
        g = layout.geometry_cache = (
            layout.wall_pos,
            layout.step_pos,
            layout.step_len,
            tuple((v.pos, v.code) for v in layout.values),
        )
    return g


def _extract_period(
    mat: np.ndarray,
    layouts: list[Layout],
    seq: np.ndarray,
    period: int,
    fast: list[FastScalars],
) -> None:
    """``_extract`` for rows whose template is ``layouts[i % period]``, all of one geometry."""
    first = layouts[0]
    wall, step = _wall_step(mat, first)
    values = [_value(mat, slot) for slot in first.values]
    for c, layout in enumerate(layouts):
        # copies, not strided views: views would keep the period's whole columns (and the
        # group's index) alive until the last template's points are stored (peak memory
        # ~0.3 B a point higher on medium, for no measurable time)
        pick = slice(c, None, period)
        seq_c = np.array(seq[pick], dtype=np.int64)
        step_c, wall_c = step[pick].copy(), wall[pick].copy()
        for i, slot in enumerate(layout.values):
            if i:  # a multi-value template: no arrays shared by tags
                seq_c, step_c, wall_c = seq_c.copy(), step_c.copy(), wall_c.copy()
            fast.append(
                FastScalars(
                    slot.tag,
                    slot.meta,
                    slot.is_tensor,
                    seq_c,
                    step_c,
                    wall_c,
                    values[i][pick].copy(),
                )
            )


def _word_masks(mask: np.ndarray, nw: int) -> list[int]:
    padded = np.zeros(8 * nw, dtype=np.uint8)
    padded[: mask.shape[0]] = mask
    return [int(v) for v in padded.view("<u8")]


def _field(mat: np.ndarray, pos: int, code: str) -> np.ndarray:
    """The ``code`` number at byte ``pos`` of every row, as a fresh array (a view would keep
    the whole matrix alive: more peak memory)."""
    width = np.dtype(code).itemsize
    if mat.flags.c_contiguous and mat.shape[0] and pos + width <= mat.shape[1]:
        # one typed strided copy: cheaper than copying the byte columns
        view = np.ndarray(
            (mat.shape[0],), dtype=code, buffer=mat, offset=pos, strides=(mat.shape[1],)
        )
        return view.copy()
    return np.ascontiguousarray(mat[:, pos : pos + width]).view(code).reshape(mat.shape[0])


def _wall_step(mat: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    n = mat.shape[0]
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
    return wall, step


def _value(mat: np.ndarray, slot: ValueSlot) -> np.ndarray:
    value = _field(mat, slot.pos, slot.code)
    return value.astype(np.float32 if slot.code == "<f4" else np.float64, copy=False)


def _extract_one(b: bytes, layout: Layout, seq: int, fast: list[FastScalars]) -> None:
    """``_extract`` for one record (its payload ``b``), without the matrix."""
    if layout.wall_pos >= 0:
        wall = np.frombuffer(b, "<f8", 1, layout.wall_pos).astype(np.float64)
    else:
        wall = np.zeros(1, dtype=np.float64)
    step_value = 0
    for k in range(layout.step_len):
        step_value |= (b[layout.step_pos + k] & 0x7F) << (7 * k)
    step_value &= 0xFFFFFFFFFFFFFFFF
    if step_value >= 1 << 63:
        step_value -= 1 << 64
    for slot in layout.values:
        raw = np.frombuffer(b, slot.code, 1, slot.pos)
        value = raw.astype(np.float32 if slot.code == "<f4" else np.float64)
        fast.append(
            FastScalars(
                slot.tag,
                slot.meta,
                slot.is_tensor,
                np.array([seq], dtype=np.int64),
                np.array([step_value], dtype=np.int64),
                wall.copy(),
                value,
            )
        )


def _extract(mat: np.ndarray, layout: Layout, seq: np.ndarray, fast: list[FastScalars]) -> None:
    seq = np.array(seq, dtype=np.int64)  # own, contiguous: never a view into the group's index
    wall, step = _wall_step(mat, layout)
    last = len(layout.values) - 1
    for i, slot in enumerate(layout.values):
        value = _value(mat, slot)
        fast.append(FastScalars(slot.tag, slot.meta, slot.is_tensor, seq, step, wall, value))
        if i < last:
            seq, step, wall = seq.copy(), step.copy(), wall.copy()  # no arrays shared by tags


__all__ = [
    "Batch",
    "FastScalars",
    "Layout",
    "ValueSlot",
    "cached_layout",
    "decode_batch",
    "scalar_layout",
]
