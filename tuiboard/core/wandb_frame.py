"""The framing of W&B's `.wandb` files: LevelDB-log blocks with a W&B header and plain CRC-32.

Owns: the 7-byte file header check, cutting a buffer into chunks (32 KiB blocks counted from
file offset 0, 7-byte chunk headers, FULL/FIRST/MIDDLE/LAST, the zero-length FIRST where exactly
7 bytes are left), the CRC check (zlib's CRC-32 over the type byte and the payload, unmasked),
and joining chunks into records. It knows nothing of what a record holds.
Must not import: textual, rich, or tuiboard modules other than tuiboard.core.types.

How it is fast: a chunk never crosses a block boundary, so every block starts with a chunk header
at a known offset, and the blocks of a buffer are cut in lockstep with numpy (one pass per
chunk index within a block: about 200 passes over every block at once, instead of one Python
iteration per chunk). Damage stays in its block: a bad CRC or an impossible length drops the
rest of that block with a ReadWarning (LevelDB's rule, and wandb's), the next block is read.

Resumable: `frame` consumes only whole records. A record whose last chunk is not in the buffer
yet (a live file grows in whole 32 KiB blocks; a killed run leaves a FIRST without its LAST) is
left for the next call, which starts at that record's first chunk.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from tuiboard.core.types import ReadWarning

HEADER = b":W&B\xe1\xbe\x00"
"""ident ":W&B", magic 0xBEE1 little-endian, version 0."""
BLOCK = 32768
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
PAD = 16
"""Zero bytes appended to the work buffer, so vectorised readers may look a few bytes past a
field without bounds checks."""


@dataclass(slots=True)
class Framed:
    """The records of one buffer, in file order."""

    data: np.ndarray
    """uint8 work buffer: the input bytes, then records that were split over chunks (joined),
    then PAD zero bytes. Records are ranges of it."""
    start: np.ndarray
    """int64 start of each record's payload in `data`."""
    end: np.ndarray
    """int64 end (exclusive)."""
    where: np.ndarray
    """int64 absolute file offset of each record's first chunk header (for warnings)."""
    consumed: int
    """Bytes of the input that are done with (whole records, padding, skipped damage)."""
    warnings: list[ReadWarning] = field(default_factory=list)
    skip_to: int = 0
    """Absolute offset the next read must skip to: the end of a damaged block that the buffer
    does not reach yet (0: nothing to skip)."""


def frame(buf: bytes, offset: int, file: str, skip_to: int = 0) -> Framed:
    """Cut `buf` (the file's bytes from absolute `offset`, which is the start of a record's
    first chunk, or 0) into records. Bytes before absolute `skip_to` are skipped (the rest of a
    damaged block). The header check at offset 0 is the caller's (see `check_header`)."""
    n = len(buf)
    u8 = np.frombuffer(buf, dtype=np.uint8)
    warnings: list[ReadWarning] = []
    begin = max(0, min(n, skip_to - offset))
    # Every block's first header position and its end, relative to buf.
    first_block = (offset + begin) // BLOCK
    last_block = (offset + n - 1) // BLOCK if n else first_block - 1
    blocks = np.arange(first_block, last_block + 1, dtype=np.int64)
    pos = blocks * BLOCK - offset
    if blocks.size:
        pos[0] = begin
        if offset + begin < CHUNK_HEADER:
            pos[0] = CHUNK_HEADER - offset  # the W&B header takes block 0's first 7 bytes
    bend = np.minimum((blocks + 1) * BLOCK - offset, n)
    cut = (blocks + 1) * BLOCK - offset > n
    """The block goes on past the buffer: a chunk that does not fit is "later", not damage."""
    starts: list[np.ndarray] = []
    stop = np.full(blocks.size, -1, dtype=np.int64)
    """Per block: where an incomplete chunk starts (-1: the block was read to its end)."""
    # unaligned little-endian views: the length field of a header at p is w16[p + 4]
    w16 = np.ndarray(shape=(max(0, n - 1),), dtype="<u2", buffer=buf, strides=(1,))
    active = np.flatnonzero(pos < bend)
    while active.size:
        p = pos[active]
        e = bend[active]
        fits = p + CHUNK_HEADER <= e
        if not fits.all():
            # Fewer than 7 bytes: the zero trailer at a block's end, or a header still to come.
            later = ~fits & cut[active]
            stop[active[later]] = p[later]
            active, p, e = active[fits], p[fits], e[fits]
            if not active.size:
                break
        nxt = p + CHUNK_HEADER + w16[p + 4]
        over = nxt > e
        if over.any():
            later = over & cut[active]
            stop[active[later]] = p[later]
            broken = over & ~cut[active]
            for q in p[broken].tolist():
                warnings.append(
                    ReadWarning(file, "chunk length runs past its block; block skipped", q + offset)
                )
            keep = ~over
            active, p, nxt, e = active[keep], p[keep], nxt[keep], e[keep]
            if not active.size:
                break
        starts.append(p)
        pos[active] = nxt
        active = active[nxt < e]
    if starts:
        hp = np.concatenate(starts)
        hp.sort()
        ln = w16[hp + 4].astype(np.int64)
        kd = u8[hp + 6]
        cr = np.ndarray(shape=(max(0, n - 3),), dtype="<u4", buffer=buf, strides=(1,))[hp]
    else:
        hp = ln = np.empty(0, dtype=np.int64)
        kd = np.empty(0, dtype=np.uint8)
        cr = np.empty(0, dtype=np.uint32)
    # CRC of every chunk: one C call each (the type byte sits right before the payload).
    view = memoryview(buf)
    crc32 = zlib.crc32
    got = np.fromiter(
        (crc32(view[a:b]) for a, b in zip((hp + 6).tolist(), (hp + 7 + ln).tolist(), strict=True)),
        dtype=np.uint32,
        count=hp.size,
    )
    bad = (got != cr) | (kd < FULL) | (kd > LAST)
    block_of = (hp + offset) // BLOCK
    skip_to = 0
    if bad.any():
        # A bad chunk drops itself and the rest of its block.
        dead_from: dict[int, int] = {}
        for q, b in zip(hp[bad].tolist(), block_of[bad].tolist(), strict=True):
            if b not in dead_from:
                dead_from[b] = q
                warnings.append(
                    ReadWarning(file, "bad chunk CRC; rest of its block skipped", q + offset)
                )
        first_dead = np.full(hp.size, np.iinfo(np.int64).max, dtype=np.int64)
        for b, q in dead_from.items():
            first_dead[block_of == b] = q
        good = hp < first_dead
        for b in dead_from:
            i = int(b - first_block)
            if stop[i] >= 0:
                stop[i] = -1  # nothing of a damaged block is waited for
            if cut[i]:
                skip_to = (b + 1) * BLOCK
        hp, ln, kd, block_of = hp[good], ln[good], kd[good], block_of[good]
    incomplete = stop[stop >= 0]
    limit = int(incomplete.min()) if incomplete.size else n
    """Nothing at or after `limit` is done with yet."""
    inside = hp < limit
    hp, ln, kd = hp[inside], ln[inside], kd[inside]
    out = _records(buf, u8, hp, ln, kd, offset, file, limit, warnings, n)
    if skip_to and out.consumed == n:
        out.skip_to = skip_to
    return out


def _records(
    buf: bytes,
    u8: np.ndarray,
    hp: np.ndarray,
    ln: np.ndarray,
    kd: np.ndarray,
    offset: int,
    file: str,
    limit: int,
    warnings: list[ReadWarning],
    n: int,
) -> Framed:
    """Join chunks into records. FULL chunks are records as they are; the others are joined
    in Python (about one per block)."""
    full = kd == FULL
    pad = np.zeros(PAD, np.uint8)
    if bool(full.all()):
        start, end, where = hp + CHUNK_HEADER, hp + CHUNK_HEADER + ln, hp + offset
        return Framed(np.concatenate([u8, pad]), start, end, where, limit, warnings)
    split = np.flatnonzero(~full)
    # FULL chunks that fall inside a FIRST..LAST sequence cut it short (the sequential rule):
    # the Python loop below sees only the other chunks, so it is told where FULL ones are.
    full_at = hp[full]
    extra: list[bytes] = []
    extra_at = n
    rec_start: list[int] = []
    rec_end: list[int] = []
    rec_where: list[int] = []
    parts: list[bytes] = []
    open_at = -1
    consumed = limit
    fulls_before = (np.cumsum(full) - full)[split].tolist()
    """Per chunk of the loop: how many FULL chunks come before it."""
    open_fulls = 0
    for q, length, kind, before in zip(
        hp[split].tolist(), ln[split].tolist(), kd[split].tolist(), fulls_before, strict=True
    ):
        a = q + CHUNK_HEADER
        if open_at >= 0 and kind != FIRST and before != open_fulls:
            # a FULL chunk came between its FIRST and this one
            warnings.append(ReadWarning(file, "record cut short; dropped", open_at + offset))
            open_at = -1
        if kind == FIRST:
            if open_at >= 0:
                warnings.append(ReadWarning(file, "record cut short; dropped", open_at + offset))
            open_at = q
            open_fulls = before
            parts = [buf[a : a + length]]
        elif open_at < 0:
            warnings.append(
                ReadWarning(file, "record continuation without its start; dropped", q + offset)
            )
        else:
            parts.append(buf[a : a + length])
            if kind == LAST:
                joined = b"".join(parts)
                extra.append(joined)
                rec_start.append(extra_at)
                rec_end.append(extra_at + len(joined))
                rec_where.append(open_at + offset)
                extra_at += len(joined)
                open_at = -1
    if open_at >= 0 and open_fulls < full_at.size:
        warnings.append(ReadWarning(file, "record cut short; dropped", open_at + offset))
        open_at = -1
    if open_at >= 0:
        consumed = open_at  # its LAST chunk is not in the buffer yet: read it again later
    start = np.concatenate([full_at + CHUNK_HEADER, np.array(rec_start, dtype=np.int64)])
    end = np.concatenate([full_at + CHUNK_HEADER + ln[full], np.array(rec_end, dtype=np.int64)])
    where = np.concatenate([full_at + offset, np.array(rec_where, dtype=np.int64)])
    if open_at >= 0:
        keep = where < open_at + offset
        start, end, where = start[keep], end[keep], where[keep]
    order = np.argsort(where, kind="stable")
    start, end, where = start[order], end[order], where[order]
    tail = np.frombuffer(b"".join(extra), dtype=np.uint8) if extra else np.empty(0, np.uint8)
    data = np.concatenate([u8, tail, pad])
    return Framed(data, start, end, where, consumed, warnings)


def check_header(buf: bytes) -> bool | None:
    """Whether a file starting with `buf` is a W&B file: None while fewer than 7 bytes."""
    if len(buf) < len(HEADER):
        return None if HEADER.startswith(buf) else False
    return buf[: len(HEADER)] == HEADER
