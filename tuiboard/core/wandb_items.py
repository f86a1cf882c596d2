"""Vectorised decoding of W&B history and summary records: every item of many records at once.

Owns: classifying records by their type field (history, summary, other), cutting HistoryRecord /
SummaryRecord payloads into items (HistoryItem and SummaryItem share fields 1 key, 2 nested_key,
16 value_json), numbering the distinct keys exactly, and parsing numeric value_json in bulk.
A record whose bytes fall outside the layout handled here (typed value fields, a summary
`remove`, lengths over 2 MiB, fields in another order) is flagged, and the caller decodes it in
Python (wandb.py): the two paths give the same result, this one is only faster.
Must not import: textual, rich, or tuiboard modules other than tuiboard.core.wire.

The cost model (docs/fast-reading.md): one Python-level step per record costs more than the
whole budget of a 1M-point history, so records are walked in lockstep: pass i reads the i-th
field of every record still going, as numpy gathers over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HISTORY_TAG = 0x12
"""Record field 2 (history), length-delimited."""
SUMMARY_TAG = 0x1A
"""Record field 3 (summary)."""
ITEM_TAG = 0x0A
"""HistoryRecord.item / SummaryRecord.update (field 1)."""
STEP_TAG = 0x12
"""HistoryRecord.step (field 2); in a SummaryRecord the same tag is `remove` (not handled here)."""
KEY_TAGS = (0x0A, 0x12)
"""Item fields 1 key and 2 nested_key."""
VALUE_TAG = (0x82, 0x01)
"""Item field 16 value_json (a two-byte tag)."""
INFO_TAG = (0xC2, 0x0C)
"""Field 200 `_info` (a two-byte tag), skipped."""
MAX_FLOAT_CHARS = 32
"""Numeric value_json longer than this is parsed by the Python path."""
_NUMERIC_FIRST = np.zeros(256, dtype=bool)
for _c in b"-0123456789NI":
    _NUMERIC_FIRST[_c] = True


def varint3(u8: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varints of up to 3 bytes at positions `p`: (values, byte lengths); length 0 where the
    varint is longer (the caller treats that as "not handled here")."""
    b0 = u8[p].astype(np.int64)
    one = b0 < 0x80
    if bool(one.all()):
        return b0, np.ones(p.shape[0], dtype=np.int64)  # the usual case: lengths under 128
    b1 = u8[p + 1].astype(np.int64)
    b2 = u8[p + 2].astype(np.int64)
    two = ~one & (b1 < 0x80)
    three = ~one & ~two & (b2 < 0x80)
    value = np.where(
        one,
        b0,
        np.where(two, (b0 & 0x7F) | (b1 << 7), (b0 & 0x7F) | ((b1 & 0x7F) << 7) | (b2 << 14)),
    )
    size = np.where(one, 1, np.where(two, 2, np.where(three, 3, 0)))
    return value, size


@dataclass(slots=True)
class Kinds:
    """Records classified by their type field."""

    history: np.ndarray
    """Indices of records that are a history record and nothing else (besides `num`)."""
    summary: np.ndarray
    other: np.ndarray
    """Everything else (run, config, stats, ..., and any record laid out differently)."""
    sub_start: np.ndarray
    """For every record: where its history/summary message starts (only valid for those)."""


def classify(u8: np.ndarray, start: np.ndarray, end: np.ndarray) -> Kinds:
    """Which records are plain history / summary records: `08 <num> 12|1a <len> <message>`
    with the message running exactly to the record's end."""
    n = start.shape[0]
    if n == 0:
        e = np.empty(0, dtype=np.int64)
        return Kinds(e, e, e, e)
    ok = (u8[start] == 0x08) & (end - start >= 4)
    # num: a varint of up to 5 bytes (records are numbered from 1; 5 bytes reach 34 billion).
    p = start + 1
    size = np.zeros(n, dtype=np.int64)
    for k in range(5):
        last = (size == 0) & (u8[p + k] < 0x80)
        size[last] = k + 1
    ok &= size > 0
    t = start + 1 + size
    tag = u8[t]
    length, lsize = varint3(u8, t + 1)
    sub = t + 1 + lsize
    ok &= (lsize > 0) & (sub + length == end)
    history = np.flatnonzero(ok & (tag == HISTORY_TAG))
    summary = np.flatnonzero(ok & (tag == SUMMARY_TAG))
    other = np.flatnonzero(~(ok & ((tag == HISTORY_TAG) | (tag == SUMMARY_TAG))))
    return Kinds(history, summary, other, sub)


@dataclass(slots=True)
class Items:
    """The items of a set of messages, in message order then item order."""

    msg: np.ndarray
    """int64 index (into the messages given) of each item's message."""
    key_start: np.ndarray
    key_end: np.ndarray
    """The item's key fields as they are encoded (`0a|12 <len> <bytes>` ...): equal byte
    ranges are equal keys."""
    val_start: np.ndarray
    val_end: np.ndarray
    bad: np.ndarray
    """bool per message: not handled here (its items are left out; decode it in Python)."""


def items(u8: np.ndarray, start: np.ndarray, end: np.ndarray) -> Items:
    """Cut HistoryRecord / SummaryRecord messages (byte ranges of `u8`) into items."""
    m = start.shape[0]
    bad = np.zeros(m, dtype=bool)
    pos = start.copy()
    rows_msg: list[np.ndarray] = []
    rows_start: list[np.ndarray] = []
    rows_end: list[np.ndarray] = []
    """Pass i: the messages whose i-th field is an item, and where that item is."""
    active = np.flatnonzero(pos < end)
    while active.size:
        p = pos[active]
        tag = u8[p]
        length = u8[p + 1].astype(np.int64)
        item = tag == ITEM_TAG
        simple = (length < 0x80) & (item | (tag == STEP_TAG))
        if bool(simple.all()):
            cs = p + 2  # the usual field: a one-byte tag and a one-byte length
            wrong = None
        else:
            tsize = np.ones(p.shape[0], dtype=np.int64)
            info = (tag == INFO_TAG[0]) & (u8[p + 1] == INFO_TAG[1])
            tsize[info] = 2
            length, lsize = varint3(u8, p + tsize)
            cs = p + tsize + lsize
            wrong = ~(item | (tag == STEP_TAG) | info) | (lsize == 0)
        ce = cs + length
        e = end[active]
        over = ce > e
        wrong = over if wrong is None else wrong | over
        if wrong.any():
            bad[active[wrong]] = True
            item &= ~wrong
            going = ~wrong & (ce < e)
        else:
            going = ce < e
        rows_msg.append(active[item])
        rows_start.append(cs[item])
        rows_end.append(ce[item])
        pos[active] = ce
        active = active[going]
    # message-major order without a sort: pass i fills row i of an (passes x messages) table,
    # read back column by column
    passes = len(rows_msg)
    k = sum(r.shape[0] for r in rows_msg)
    if k:
        present = np.zeros((passes, m), dtype=bool)
        table_start = np.zeros((passes, m), dtype=np.int64)
        table_end = np.zeros((passes, m), dtype=np.int64)
        for i in range(passes):
            took = rows_msg[i]
            present[i, took] = True
            table_start[i, took] = rows_start[i]
            table_end[i, took] = rows_end[i]
        order = present.T
        cs = table_start.T[order]
        ce = table_end.T[order]
        msg = np.broadcast_to(np.arange(m, dtype=np.int64)[:, None], (m, passes))[order]
    else:
        msg = cs = ce = np.empty(0, dtype=np.int64)
    # The fields of every item: key fields, then value_json last. The usual item has one key
    # field and short lengths: `0a|12 <kl> <key> 82 01 <vl> <value>`, checked for all at once.
    val_start = np.zeros(k, dtype=np.int64)
    val_end = np.zeros(k, dtype=np.int64)
    key_end = np.zeros(k, dtype=np.int64)
    item_bad = np.zeros(k, dtype=bool)
    if k:
        t0 = u8[cs]
        kl = u8[cs + 1].astype(np.int64)
        vt = cs + 2 + kl
        at = np.minimum(vt, ce)  # a damaged length must not read past the buffer
        vl = u8[at + 2].astype(np.int64)
        single = (
            ((t0 == KEY_TAGS[0]) | (t0 == KEY_TAGS[1]))
            & (kl < 0x80)
            & (vt < ce)
            & (u8[at] == VALUE_TAG[0])
            & (u8[at + 1] == VALUE_TAG[1])
            & (vl < 0x80)
            & (vt + 3 + vl == ce)
        )
        key_end[single] = vt[single]
        val_start[single] = vt[single] + 3
        val_end[single] = ce[single]
        rest = np.flatnonzero(~single)
    else:
        rest = np.empty(0, dtype=np.int64)
    q = cs.copy()
    empty = rest[q[rest] >= ce[rest]]
    item_bad[empty] = True
    active = rest[q[rest] < ce[rest]]
    while active.size:
        p = q[active]
        tag = u8[p]
        value = (tag == VALUE_TAG[0]) & (u8[p + 1] == VALUE_TAG[1])
        key = (tag == KEY_TAGS[0]) | (tag == KEY_TAGS[1])
        tsize = np.where(value, 2, 1)
        length, lsize = varint3(u8, p + tsize)
        fs = p + tsize + lsize
        fe = fs + length
        e = ce[active]
        wrong = ~(key | value) | (lsize == 0) | (fe > e) | (value & (fe != e))
        if wrong.any():
            item_bad[active[wrong]] = True
        done = value & ~wrong
        val_start[active[done]] = fs[done]
        val_end[active[done]] = fe[done]
        key_end[active[done]] = p[done]
        q[active] = fe
        going = key & ~wrong
        ended = going & (fe >= e)  # keys and no value_json: not handled here
        if ended.any():
            item_bad[active[ended]] = True
        active = active[going & (fe < e)]
    item_bad |= key_end <= cs  # no key
    if item_bad.any():
        bad[msg[item_bad]] = True
    if bad.any():
        keep = ~bad[msg]
        return Items(msg[keep], cs[keep], key_end[keep], val_start[keep], val_end[keep], bad)
    return Items(msg, cs, key_end, val_start, val_end, bad)


class KeyTable:
    """Exact numbering of encoded keys, kept across reads. A key is its encoded key fields
    (bytes): equal bytes are the same key, and different bytes never share a number."""

    __slots__ = ("by_bytes", "fps", "heads", "ids", "keys", "lengths", "tails")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        """Encoded key fields by number."""
        self.by_bytes: dict[bytes, int] = {}
        self.fps = np.empty(0, dtype=np.uint64)
        """Sorted fingerprints of keys seen (a fingerprint may stand for several keys)."""
        self.ids = np.empty(0, dtype=np.int64)
        """The key number of each fingerprint in `fps` (-1: several keys share it)."""
        self.heads = np.empty(0, dtype=np.uint64)
        self.tails = np.empty(0, dtype=np.uint64)
        self.lengths = np.empty(0, dtype=np.int64)
        """By key number: first and last 8 bytes and length (a key of up to 16 bytes is
        exactly these)."""

    def number(self, u8: np.ndarray, ks: np.ndarray, ke: np.ndarray) -> np.ndarray:
        """The key number of each range [ks, ke) of `u8`."""
        n = ks.shape[0]
        out = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return out
        fp, head, tail = fingerprint(u8, ks, ke)
        if self.fps.size:
            at = np.minimum(np.searchsorted(self.fps, fp), self.fps.size - 1)
            hit = self.fps[at] == fp
            out[hit] = self.ids[at[hit]]
        todo = np.flatnonzero(out < 0)
        if todo.size:
            # New fingerprints (or shared ones): one Python look-up per distinct one.
            ufp, first = np.unique(fp[todo], return_index=True)
            for j, f in enumerate(ufp.tolist()):
                i = int(todo[first[j]])
                self._add(int(f), bytes(u8[ks[i] : ke[i]]))
            at = np.searchsorted(self.fps, fp[todo])
            out[todo] = self.ids[at]
        self._verify(u8, ks, ke, out, head, tail)
        return out

    def _new(self, key: bytes) -> int:
        number = self.by_bytes[key] = len(self.keys)
        self.keys.append(key)
        ks = np.zeros(1, np.int64)
        ke = np.array([len(key)], np.int64)
        _, head, tail = fingerprint(np.frombuffer(key + bytes(16), np.uint8), ks, ke)
        self.heads = np.append(self.heads, head)
        self.tails = np.append(self.tails, tail)
        self.lengths = np.append(self.lengths, len(key))
        return number

    def _add(self, fp: int, key: bytes) -> None:
        number = self.by_bytes.get(key)
        if number is None:
            number = self._new(key)
        at = int(np.searchsorted(self.fps, np.uint64(fp)))
        if at < self.fps.size and int(self.fps[at]) == fp:
            if int(self.ids[at]) != number:
                self.ids[at] = -1  # two keys, one fingerprint: resolved byte by byte
            return
        self.fps = np.insert(self.fps, at, np.uint64(fp))
        self.ids = np.insert(self.ids, at, number)

    def _verify(
        self,
        u8: np.ndarray,
        ks: np.ndarray,
        ke: np.ndarray,
        out: np.ndarray,
        head: np.ndarray,
        tail: np.ndarray,
    ) -> None:
        """Check every numbered range against its key (the fingerprint mixes its bytes into
        64 bits); look up byte by byte what does not match or shares a fingerprint."""
        length = ke - ks
        wrong = out < 0
        num = np.where(wrong, 0, out)
        wrong |= (
            (self.lengths[num] != length) | (self.heads[num] != head) | (self.tails[num] != tail)
        )
        cand = np.flatnonzero(~wrong & (self.lengths[num] > FINGERPRINT_EXACT))
        if cand.size:
            order = cand[np.argsort(out[cand], kind="stable")]
            cuts = np.flatnonzero(np.diff(out[order])) + 1
            w = words(u8)
            for members in np.split(order, cuts):
                key = self.keys[int(out[members[0]])]
                ref = words(np.frombuffer(key + bytes(8), dtype=np.uint8))
                at = ks[members]
                differs = np.zeros(members.shape[0], dtype=bool)
                # the bytes between the first 8 and the last 8, a word at a time
                for o in range(8, len(key) - 8, 8):
                    o = min(o, len(key) - 16)
                    differs |= w[at + o] != ref[o]
                wrong[members[differs]] = True
        for i in np.flatnonzero(wrong).tolist():
            key = bytes(u8[ks[i] : ke[i]])
            number = self.by_bytes.get(key)
            if number is None:
                number = self._new(key)
            out[i] = number


FINGERPRINT_EXACT = 16
"""Keys of up to this many bytes are fingerprinted whole (first 8 and last 8 bytes)."""


def words(u8: np.ndarray) -> np.ndarray:
    """A view of `u8` as the little-endian uint64 starting at every byte offset (unaligned,
    overlapping): `words(u8)[i]` is bytes i..i+7. `u8` must end with at least 8 padding bytes."""
    return np.ndarray(shape=(max(0, u8.shape[0] - 7),), dtype="<u8", buffer=u8, strides=(1,))


def fingerprint(
    u8: np.ndarray, ks: np.ndarray, ke: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per range: (its length, first 8 and last 8 bytes mixed into a uint64; the first 8 bytes;
    the last 8 bytes). A range of up to 16 bytes is exactly (length, first 8, last 8); ranges
    shorter than 8 bytes have a zero "last 8"."""
    length = ke - ks
    w = words(u8)
    short = np.minimum(length, 8).astype(np.uint64)
    with np.errstate(over="ignore"):
        mask = np.where(short >= 8, ~np.uint64(0), (np.uint64(1) << (short * np.uint64(8))) - 1)
        h = w[ks] & mask
        t = np.where(length >= 8, w[np.maximum(ke - 8, 0)], np.uint64(0))
        mixed = (
            h * np.uint64(0x9E3779B97F4A7C15)
            ^ ((t ^ np.uint64(0xC2B2AE3D27D4EB4F)) * np.uint64(0x165667B19E3779F9))
            ^ length.astype(np.uint64) * np.uint64(0x27D4EB2F165667C5)
        )
    return mixed, h, t


def numeric(u8: np.ndarray, vs: np.ndarray, ve: np.ndarray) -> np.ndarray:
    """bool per value_json range: it looks like a number (first byte `-`, a digit, `N` or `I`)
    and is short enough for `parse_floats`."""
    length = ve - vs
    return _NUMERIC_FIRST[u8[vs]] & (length > 0) & (length <= MAX_FLOAT_CHARS)


def _texts(u8: np.ndarray, vs: np.ndarray, ve: np.ndarray) -> np.ndarray:
    """The ranges as a fixed-width bytes array (zero-filled past each range's end): one strided
    gather of whole strings, then the bytes past each end cleared."""
    length = ve - vs
    width = max(1, int(length.max()))
    reach = int(vs.max()) + width
    if reach > u8.shape[0]:  # a short value near the end, a long one elsewhere
        u8 = np.concatenate([u8, np.zeros(reach - u8.shape[0], np.uint8)])
    strings = np.ndarray(
        shape=(u8.shape[0] - width + 1,), dtype=f"S{width}", buffer=u8, strides=(1,)
    )[vs]
    rows = strings.view(np.uint8).reshape(-1, width)
    np.multiply(rows, np.arange(width) < length[:, None], out=rows)
    return strings


def parse_floats(u8: np.ndarray, vs: np.ndarray, ve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 of each numeric value_json (Go's JSON: `NaN`, `Infinity`, `-Infinity`, `-0`,
    exponents) and a bool mask of those that did not parse (NaN there)."""
    n = vs.shape[0]
    if n == 0:
        return np.empty(0, np.float64), np.zeros(0, bool)
    text = _texts(u8, vs, ve)
    try:
        return text.astype(np.float64), np.zeros(n, bool)
    except ValueError:
        pass
    out = np.empty(n, np.float64)
    failed = np.zeros(n, bool)
    for i, s in enumerate(text.tolist()):
        try:
            out[i] = float(s)
        except ValueError:
            out[i] = np.nan
            failed[i] = True
    return out, failed


def parse_ints(u8: np.ndarray, vs: np.ndarray, ve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int64 of each value_json that is an integer (`_step`), and a mask of those that are not
    (a float, or out of int64 range)."""
    n = vs.shape[0]
    if n == 0:
        return np.empty(0, np.int64), np.zeros(0, bool)
    length = ve - vs
    text = _texts(u8, vs, ve)
    first = u8[vs]
    if int(length.max()) <= 18 and bool(
        (((first >= 0x30) & (first <= 0x39)) | (first == 0x2D)).all()
    ):
        try:  # the usual case: every one is plain digits (numpy refuses "1.5", "1e3", "NaN")
            return text.astype(np.int64), np.zeros(n, bool)
        except ValueError:
            pass
    rows = text.view(np.uint8).reshape(n, -1)
    inside = np.arange(rows.shape[1]) < length[:, None]
    digit = (rows >= 0x30) & (rows <= 0x39)
    digit[:, 0] |= rows[:, 0] == 0x2D
    sign = (rows[:, 0] == 0x2D).astype(np.int64)
    plain = (digit | ~inside).all(axis=1) & (length - sign >= 1) & (length - sign <= 18)
    out = np.zeros(n, np.int64)
    if bool(plain.all()):
        return text.astype(np.int64), ~plain
    if plain.any():
        out[plain] = text[plain].astype(np.int64)
    return out, ~plain
