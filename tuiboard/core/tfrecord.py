"""TFRecord framing and CRC checks over a whole buffer, batched.

Owns: finding the records of a TFRecord buffer (``frame_records``), verifying their data CRCs
in groups of one length (``gather_rows``, ``group_crc``, ``verify_data_crcs``), and the resumable
semantics of a cut-off tail
("truncated" means "call again with more bytes", as in TensorBoard's ``tf_record.rs``).
Must not import textual, rich, or tuiboard modules other than ``crc``.

Record layout: ``u64 length | u32 masked_crc(length bytes) | data | u32 masked_crc(data)``.

How the framing is batched: walking records one at a time costs ~0.5-1 us each in Python. Real
logs are periodic (a training loop writes the same tags in the same order each step, so the
sequence of record lengths repeats), so the walker looks for a period in the lengths it has
walked and, once the period holds for a few records, *predicts* the offsets of many records ahead
with numpy and verifies them all at once (the length field at every predicted offset must be the
predicted length, and its length CRC the one already verified for that length: equal 8 bytes have
equal CRCs). The first failed prediction is where the walk resumes, so a prediction can never
skip a record: record k+1 starts where record k's verified length says. Non-periodic files still
work, at walking speed (~0.6 us a record).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from tuiboard.core import crc as crcmod

HEADER = 12
"""Length (8) + length CRC (4)."""
FOOTER = 4
OVERHEAD = HEADER + FOOTER
SMALL_RECORD = 256
"""Payloads up to this length are CRC-checked in numpy groups; longer ones one C call each."""
SMALL_GROUP = 2048
"""Groups up to this many rows get their CRCs from one 2-D table gather (fewer numpy calls);
bigger ones column by column (smaller temporaries)."""
MIN_GROUP = 8
"""Groups smaller than this are checked by C calls (numpy's per-call overhead dominates)."""

_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")


@dataclass(slots=True)
class Framing:
    """Where the complete, length-checked records of a buffer are."""

    starts: np.ndarray
    """int64 offsets (relative to the buffer) of each record's length field, in file order."""
    lengths: np.ndarray
    """int64 payload lengths; record i's data starts at ``starts[i] + 12``."""
    end: int
    """Offset just after the last complete record (where the next read resumes)."""
    need: int
    """> 0 when the record at ``end`` is incomplete: the bytes needed from ``end`` to hold it."""
    fatal_offset: int | None
    """Offset of a record whose length CRC is wrong (framing lost there), else None."""


def u64_view(buf: np.ndarray) -> np.ndarray:
    """Little-endian u64 starting at every byte offset (unaligned, zero-copy)."""
    n = max(int(buf.shape[0]) - 7, 0)
    return np.ndarray((n,), dtype="<u8", buffer=buf, strides=(1,))


def u32_view(buf: np.ndarray) -> np.ndarray:
    n = max(int(buf.shape[0]) - 3, 0)
    return np.ndarray((n,), dtype="<u4", buffer=buf, strides=(1,))


class Walker:
    """State of the framing walk: the current length pattern and how far it has been trusted.
    One may be handed from a read of a file's bytes to the read of the bytes that follow
    (``frame_records(walker=...)``): the next read then predicts from its first record on
    instead of walking two periods again. It only ever guides predictions, each verified, so
    any walker gives the same framing."""

    __slots__ = (
        "confirmed",
        "hist",
        "last_idx",
        "lcrc",
        "match_run",
        "pattern",
        "phase",
        "plan",
        "predict_records",
        "span",
    )

    def __init__(self) -> None:
        self.lcrc: dict[int, int] = {}
        self.hist: list[int] = []
        self.last_idx: dict[int, int] = {}
        self.pattern: list[int] = []
        self.phase = 0
        self.match_run = 0
        self.confirmed = False
        self.predict_records = 256
        self.plan: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int] | None = None
        self.span = 0
        """Bytes of one period of the pattern."""

    def observe(self, length: int) -> bool:
        """Update the pattern with one walked record length; True when the pattern has held long
        enough to predict from it (twice in a row for one that predictions confirmed, else two
        periods and at least 8 records)."""
        hist = self.hist
        hist.append(length)
        i = len(hist) - 1
        prev = self.last_idx.get(length)
        self.last_idx[length] = i
        if i >= 4096:
            self.hist = hist[-1024:]
            self.last_idx = {v: k for k, v in enumerate(self.hist)}
        pattern = self.pattern
        if pattern and pattern[self.phase] == length:
            self.match_run += 1
            self.phase = (self.phase + 1) % len(pattern)
            return self.match_run >= (2 if self.confirmed else max(2 * len(pattern), 8))
        if pattern and length in pattern:
            self.phase = (pattern.index(length) + 1) % len(pattern)
            self.match_run = 1
        else:
            self.match_run = 0
        if prev is not None:
            period = i - prev
            if (
                2 * period <= len(hist)
                and (period == 1 or hist[-2] == hist[-2 - period])  # cheap test first
                and hist[-period:] == hist[-2 * period : -period]
            ):
                if hist[-period:] != pattern:
                    self.pattern = hist[-period:]
                    self.span = sum(self.pattern) + OVERHEAD * period
                    self.confirmed = False
                    self.plan = None
                self.phase = 0
                self.match_run = period
        pattern = self.pattern
        return bool(pattern) and self.match_run >= (
            2 if self.confirmed else max(2 * len(pattern), 8)
        )


def frame_records(
    data: bytes | bytearray | memoryview,
    buf: np.ndarray | None = None,
    walker: Walker | None = None,
) -> Framing:
    """Find every complete record of ``data`` whose length CRC holds, up to the first that is
    cut short (``need``) or whose length CRC fails (``fatal_offset``). ``walker``: the walk's
    state, carried from the read of the bytes before ``data`` (updated here). Never raises."""
    if buf is None:
        buf = np.frombuffer(data, dtype=np.uint8)
    n = len(buf)
    headers = np.ndarray(
        (max(n - HEADER + 1, 0),), dtype=np.dtype((np.void, HEADER)), buffer=buf, strides=(1,)
    )
    if walker is None:
        walker = Walker()
    lcrc_of = walker.lcrc
    parts_s: list[np.ndarray] = []
    parts_l: list[np.ndarray] = []
    walk_s: list[int] = []
    walk_l: list[int] = []
    p = 0
    need = 0
    fatal: int | None = None
    unpack = _HEADER.unpack_from
    while True:
        if p + HEADER > n:
            if p < n:
                need = OVERHEAD
            break
        length, lcrc = unpack(data, p)
        expected = lcrc_of.get(length)
        if expected is None:
            expected = crcmod.masked_crc32c(bytes(data[p : p + 8]))
            lcrc_of[length] = expected
        if lcrc != expected:
            fatal = p
            break
        end = p + OVERHEAD + length
        if end > n:
            need = OVERHEAD + length
            break
        walk_s.append(p)
        walk_l.append(length)
        p = end
        if walker.observe(length):
            if walk_s:
                parts_s.append(np.array(walk_s, dtype=np.int64))
                parts_l.append(np.array(walk_l, dtype=np.int64))
                walk_s = []
                walk_l = []
            p = _predict(walker, headers, p, n, parts_s, parts_l)
    if walk_s:
        parts_s.append(np.array(walk_s, dtype=np.int64))
        parts_l.append(np.array(walk_l, dtype=np.int64))
    if parts_s:
        starts = np.concatenate(parts_s) if len(parts_s) > 1 else parts_s[0]
        lengths = np.concatenate(parts_l) if len(parts_l) > 1 else parts_l[0]
    else:
        starts = np.zeros(0, dtype=np.int64)
        lengths = np.zeros(0, dtype=np.int64)
    return Framing(starts, lengths, p, need, fatal)


def frame_small(
    data: bytes | bytearray | memoryview, lcrc_of: dict[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(starts, lengths) of every record of ``data`` when they tile it exactly (each length CRC
    good, the last record ending at the end), else None. A plain walk, no period search: for
    small files, where frame_records' set-up costs more than walking. ``lcrc_of`` (length ->
    its masked CRC) may be shared between calls."""
    n = len(data)
    unpack = _HEADER.unpack_from
    walk_s: list[int] = []
    walk_l: list[int] = []
    p = 0
    while p + HEADER <= n:
        length, lcrc = unpack(data, p)
        expected = lcrc_of.get(length)
        if expected is None:
            expected = lcrc_of[length] = crcmod.masked_crc32c(bytes(data[p : p + 8]))
        if lcrc != expected:
            return None
        walk_s.append(p)
        walk_l.append(length)
        p += OVERHEAD + length
    if p != n:
        return None
    return np.array(walk_s, dtype=np.int64), np.array(walk_l, dtype=np.int64)


PREDICT_MAX = 2048
"""Records predicted per verification at most (the plan's arrays hold this many and a period
more, 28 bytes a record: ~57 KB; 4096 measured no faster on medium and ~0.1 B a point more
peak)."""


_HEADER_FIELDS = np.dtype([("length", "<u8"), ("crc", "<u4")])


def _plan(
    walker: Walker, periods: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """For the pattern repeated over at least ``periods`` periods and one more, from phase 0:
    payload lengths (int64, and as the header's uint64), offsets of the records from the
    first, each record's length CRC, and the period's byte span. Predictions from any phase
    are slices of it, so it is made once a pattern (again when a bigger buffer wants more, up
    to PREDICT_MAX records)."""
    plan = walker.plan
    period = len(walker.pattern)
    if plan is None or plan[0].shape[0] < (periods + 1) * period:
        pattern = walker.pattern
        reps = min(periods, PREDICT_MAX // period) + 1
        lens = np.tile(np.array(pattern, dtype=np.int64), reps)
        offs = np.zeros(lens.shape[0], dtype=np.int64)
        np.cumsum(lens[:-1] + OVERHEAD, out=offs[1:])
        crcs = np.tile(np.array([walker.lcrc[v] for v in pattern], "<u4"), reps)
        span = int(sum(pattern)) + OVERHEAD * period
        plan = walker.plan = (lens, lens.astype("<u8"), offs, crcs, span)
    return plan


def _predict(
    walker: Walker,
    headers: np.ndarray,
    p: int,
    n: int,
    parts_s: list[np.ndarray],
    parts_l: list[np.ndarray],
) -> int:
    """Predict records from ``p`` by repeating the pattern; keep the verified prefix; return the
    offset where walking resumes. ``headers`` is the buffer as 12-byte windows at every
    offset."""
    while True:
        period = len(walker.pattern)
        phase = walker.phase
        fit = min((n - p) // walker.span, PREDICT_MAX // period)
        periods = min(max(walker.predict_records // period, 1), fit)
        if periods <= 0:
            return p
        lens, lens_u8, offsets, crcs, span = _plan(walker, fit)  # what the buffer may take
        total = periods * period
        offs = offsets[phase : phase + total] + (p - int(offsets[phase]))
        got = headers[offs].view(_HEADER_FIELDS)
        ok = got["length"] == lens_u8[phase : phase + total]
        ok &= got["crc"] == crcs[phase : phase + total]
        good = total if ok.all() else int(ok.argmin())
        if good:
            parts_s.append(offs[:good])
            parts_l.append(lens[phase : phase + good])
        if good < total:
            nxt = int(offs[good])
            walker.phase = (phase + good) % period
            walker.match_run = 0
            walker.confirmed = good >= period
            walker.predict_records = max(256, 2 * good)
            return nxt
        walker.confirmed = True
        walker.phase = phase  # whole periods: same phase
        walker.predict_records = min(walker.predict_records * 2, 1 << 20)
        p += periods * span


def gather_rows(buf: np.ndarray, payload_starts: np.ndarray, length: int) -> np.ndarray:
    """``(n, W)`` uint8, C-contiguous, ``W = length`` rounded up to 8: the ``length`` bytes at
    each offset, zero-padded. One gather (a void dtype of that width viewed at every byte
    offset; ~4 ns a row)."""
    n = int(payload_starts.shape[0])
    width = (length + 7) // 8 * 8
    if length == 0 or n == 0:
        return np.zeros((n, width), dtype=np.uint8)
    reach = width if int(payload_starts[-1]) + width <= int(buf.shape[0]) else length
    windows = np.ndarray(
        (int(buf.shape[0]) - reach + 1,),
        dtype=np.dtype((np.void, reach)),
        buffer=buf,
        strides=(1,),
    )
    got = windows[payload_starts].view(np.uint8).reshape(n, reach)
    if reach == width:
        got[:, length:] = 0
        return got
    out = np.zeros((n, width), dtype=np.uint8)
    out[:, :length] = got
    return out


def word_columns(rows: np.ndarray) -> np.ndarray:
    """``(W/8, n)`` u64, C-contiguous: word j of every row (bytes ``[8j, 8j+8)``)."""
    return np.ascontiguousarray(rows.view("<u8").T)


def group_crc(rows: np.ndarray, length: int, words: np.ndarray | None = None) -> np.ndarray:
    """Plain CRC-32C of the first ``length`` bytes of every row of a zero-padded byte matrix
    (``gather_rows``), via the reference-row method: one table lookup per row for each byte
    position where some row differs from row 0. ``words`` (``word_columns(rows)``) finds those
    positions without a byte matrix of differences."""
    n = rows.shape[0]
    ref_crc = crcmod.crc32c(rows[0, :length].tobytes())
    if n == 1:
        return np.full(1, ref_crc, dtype=np.uint32)
    tables = crcmod.position_tables(length)
    if words is None:
        words = word_columns(rows)
    if n > SMALL_GROUP:
        acc = np.full(n, ref_crc, dtype=np.uint32)
        for j in range(words.shape[0]):
            col = words[j]
            diff = col ^ col[0]
            bits = int(np.bitwise_or.reduce(diff))
            if not bits:
                continue
            dbytes = diff.view(np.uint8)
            for b in range(8):
                if (bits >> (8 * b)) & 0xFF:
                    acc ^= tables[8 * j + b][dbytes[b::8]]
        return acc
    # a small group: a few numpy calls in all, whatever the number of varying bytes
    varying = np.bitwise_or.reduce(words ^ words[:, :1], axis=1).view(np.uint8)
    positions = np.flatnonzero(varying[:length])
    if positions.shape[0] == 0:
        return np.full(n, ref_crc, dtype=np.uint32)
    diff = rows[:, positions] ^ rows[0, positions]
    acc = np.bitwise_xor.reduce(tables[positions, diff], axis=1)
    acc ^= np.uint32(ref_crc)
    return acc


def length_groups(lengths: np.ndarray) -> tuple[list[tuple[int, np.ndarray]], np.ndarray]:
    """Split record indices by payload length: ``([(L, indices in file order)] for 8 <= L <=
    SMALL_RECORD with at least MIN_GROUP records, the other indices in file order)``. A count
    of each length, then one pass a group (a buffer holds few lengths): no sort."""
    if lengths.shape[0] == 0:
        return [], np.zeros(0, dtype=np.int64)
    small = (lengths >= 8) & (lengths <= SMALL_RECORD)
    keys = np.where(small, lengths, SMALL_RECORD + 1)
    counts = np.bincount(keys, minlength=SMALL_RECORD + 2)
    counts[SMALL_RECORD + 1] = 0
    big = np.flatnonzero(counts >= MIN_GROUP).tolist()
    groups = [(key, np.flatnonzero(keys == key)) for key in big]
    taken = sum(g.shape[0] for _, g in groups)
    if taken == lengths.shape[0]:
        others = np.zeros(0, dtype=np.int64)
    elif not groups:
        others = np.arange(lengths.shape[0], dtype=np.int64)
    else:
        others = np.flatnonzero(counts[keys] < MIN_GROUP)
    return groups, others


def stored_data_crcs(u32: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return u32[starts + HEADER + lengths]


def record_crc_ok(data: bytes | bytearray | memoryview, start: int, length: int) -> bool:
    """Data CRC check of one record with one C call."""
    payload = data[start + HEADER : start + HEADER + length]
    (stored,) = _U32.unpack_from(data, start + HEADER + length)
    return crcmod.masked_crc32c(payload) == stored


def verify_data_crcs(
    data: bytes | bytearray | memoryview, framing: Framing, buf: np.ndarray | None = None
) -> np.ndarray:
    """Bool per record of ``framing``: does its data CRC hold."""
    if buf is None:
        buf = np.frombuffer(data, dtype=np.uint8)
    ok = np.zeros(framing.starts.shape[0], dtype=bool)
    if not ok.size:
        return ok
    u32 = u32_view(buf)
    groups, others = length_groups(framing.lengths)
    for length, idx in groups:
        starts = framing.starts[idx]
        crcs = crcmod.mask_array(group_crc(gather_rows(buf, starts + HEADER, length), length))
        ok[idx] = crcs == stored_data_crcs(u32, starts, framing.lengths[idx])
    for i in others.tolist():
        ok[i] = record_crc_ok(data, int(framing.starts[i]), int(framing.lengths[i]))
    return ok
