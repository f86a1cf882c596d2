"""JSON lines that all share one layout: checked with one regex pass, numbers parsed in one call.

Owns: `uniform_numbers`, and `uniform_numbers_many` (the chunks of many files at once: those of one
layout, a sweep's runs, checked by one regex pass and parsed by one fastfloat call per join of up
to JOIN_BYTES, their values split back per chunk by line counts; the same answers). A training
loop writes the same flat dict of numbers every step, so a metric log's lines are usually the
first line's text with only the numbers changed. When every complete line of a chunk is (the first
line with a strict JSON-number pattern in place of each of its numbers, one regex over the chunk
that its lines must cover whole: a possessive `(?:line)*+` fullmatch, `sub` before Python 3.11),
the numbers are parsed by one `fastfloat.parse_numbers` call over the chunk as it is (the runs
of number bytes in its keys skipped by their place in a line): numpy over the whole buffer,
correctly rounded as json's float() is (bit for bit), with no Python object a number (should it
decline, np.fromstring, the C parser, over the chunk with its keys dropped and the rest blanked
out, as before it). What it returns is what
jsonl.read_jsonl takes from those lines: the keys in order, and per key float64 values and whether
they were JSON integers (steps need them exact: at most 15 digits, else the line is not uniform).
Anything else (a line that differs, NaN or Infinity, strings, nested values, escapes, a BOM,
duplicate keys, fewer than `min_lines` lines) gives None, and read_jsonl reads the chunk line by
line as before, with its damage rules. Measured on bench_scale's JSONL runs (50 lines of 5
numbers, CPU, a loaded machine): 0.32-0.39 ms a file line by line, 0.26-0.28 ms here with
np.fromstring (~0.3 us a 17-digit number, json's or numpy's). Many files at once (bench_scale's
5,000, loader.preread_small): ~0.2 ms a file with np.fromstring, ~0.1 of it its parsing and
~0.02 the blanking; fastfloat takes ~0.04 for both (bench/README.md, session 6); joins are
bounded because one pass over 36 MB cost more (page faults, cache misses) than 140 passes over
256 KiB.
Must not import: textual, rich, other tuiboard modules than core.fastfloat.
"""

from __future__ import annotations

import functools
import json
import re
import sys

import numpy as np

from tuiboard.core.fastfloat import parse_numbers, token_class

_INT = rb"-?(?:0|[1-9][0-9]{0,14})"
"""A JSON integer of at most 15 digits (exact in float64, and so as an int64 step)."""
_FLOAT = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)"
"""A JSON number with a fraction or an exponent (json gives a float)."""
_WS = rb"[ \t\r]*"
_PART = re.compile(
    rb"(" + _WS + rb":" + _WS + rb")(-?[0-9][0-9.eE+-]*)(" + _WS + rb"[,}]" + _WS + rb")\Z"
)
"""The text between two keys (or after the last): colon, the number, comma (or the brace)."""
_OPEN = re.compile(_WS + rb"\{" + _WS + rb"\Z")
_BLANK = bytes(c if c in b"0123456789.eE+-" else 32 for c in range(256))

MAX_LAYOUTS = 256
JOIN_BYTES = 256 << 10
"""uniform_numbers_many joins chunks of one layout up to about this many bytes per pass."""


POSSESSIVE = sys.version_info >= (3, 11)
"""Whether re has possessive repeats (Python 3.11+): a layout's check is then one fullmatch of
`(?:line)*+` over the chunk, ~15 % less than removing every line with `sub` (which 3.10 does)."""


Uniform = tuple[tuple[str, ...], tuple[bool, ...], np.ndarray]
"""What uniform_numbers gives: keys, is-integer per key, values (lines x keys float64)."""
_Known = tuple[re.Pattern[bytes], tuple[str, ...], tuple[bool, ...]]
_layouts: dict[bytes, _Known] = {}


def uniform_numbers(chunk: bytes, min_lines: int) -> Uniform | None:
    """(keys, is-integer per key, values as a lines x keys float64 array) when every line of
    `chunk` (complete lines, each ending with a newline) is a flat JSON object of numbers laid
    out as the first line is; None otherwise."""
    n = chunk.count(b"\n")
    if n < min_lines:
        return None
    known = _known(chunk)
    if known is None:
        return None
    pattern, keys, ints = known
    if not _covers(pattern, chunk):
        return None  # some line is laid out otherwise
    return _parse(chunk, n, keys, ints)


def uniform_numbers_many(chunks: list[bytes], min_lines: int) -> list[Uniform | None]:
    """uniform_numbers of each chunk, the same answers, with the chunks whose first lines share
    one layout (a sweep's runs log the same keys) checked by one regex pass and parsed by one
    np.fromstring over them joined, the values then split back per chunk by line counts. A
    group that fails the joined check is checked chunk by chunk (one damaged file costs the
    others nothing but that second pass)."""
    out: list[Uniform | None] = [None] * len(chunks)
    groups: dict[int, tuple[_Known, list[int], list[int]]] = {}
    for i, chunk in enumerate(chunks):
        n = chunk.count(b"\n")
        if n < min_lines:
            continue
        known = _known(chunk)
        if known is None:
            continue
        group = groups.get(id(known))
        if group is None:
            group = groups[id(known)] = (known, [], [])
        group[1].append(i)
        group[2].append(n)
    for known, members, counts in groups.values():
        # in joins of up to JOIN_BYTES: the passes stay in the cache, the buffers are reused
        start = size = 0
        for end, i in enumerate(members):
            size += len(chunks[i])
            if size >= JOIN_BYTES or end == len(members) - 1:
                _parse_many(chunks, members[start : end + 1], counts[start : end + 1], known, out)
                start, size = end + 1, 0
    return out


def _parse_many(
    chunks: list[bytes],
    members: list[int],
    counts: list[int],
    known: _Known,
    out: list[Uniform | None],
) -> None:
    """uniform_numbers_many for chunks of one layout, whose line counts are `counts`."""
    pattern, keys, ints = known
    if not _covers(pattern, b"".join([chunks[i] for i in members])):
        kept = [(i, n) for i, n in zip(members, counts, strict=True) if _covers(pattern, chunks[i])]
        members = [i for i, _ in kept]
        counts = [n for _, n in kept]
    if not members:
        return
    joined = _parse(b"".join([chunks[i] for i in members]), sum(counts), keys, ints)
    if joined is None:  # (cannot happen when the regex matched; each chunk alone, then)
        for i, n in zip(members, counts, strict=True):
            out[i] = _parse(chunks[i], n, keys, ints)
        return
    matrix = joined[2]
    at = 0
    for i, n in zip(members, counts, strict=True):
        out[i] = (keys, ints, matrix[at : at + n])
        at += n


def _covers(pattern: re.Pattern[bytes], chunk: bytes) -> bool:
    """Whether `chunk` is whole lines of the layout whose pattern _known compiled."""
    if POSSESSIVE:
        return pattern.fullmatch(chunk) is not None
    return not pattern.sub(b"", chunk)  # (every match is one whole line: none may be left)


def _known(chunk: bytes) -> _Known | None:
    """The checking pattern, keys and integer flags of the layout of the chunk's first line
    (cached by its text without digits); None when it is no flat object of plain numbers."""
    first = chunk[: chunk.find(b"\n")]
    if b"\\" in first:
        return None  # an escape: a key may hold a quote (splitting at quotes would cut it)
    # The layouts seen, by the first line without its digits: a file of the same layout as
    # an earlier one costs no parsing of its first line. (Two layouts that differ only in
    # digits of a key share an entry: the regex then fails on the other file, read line by
    # line. Never a wrong answer: the regex is what decides.)
    sketch = first.translate(None, b"0123456789")
    known = _layouts.get(sketch)
    if known is None:
        layout = _layout(first)
        if layout is None:
            return None
        pieces, ints, keys = layout
        numbers = [_INT if i else _FLOAT for i in ints]
        text = re.escape(pieces[0])
        for number, piece in zip(numbers, pieces[1:], strict=True):
            text += b"(?:" + number + b")" + re.escape(piece)
        line = text + b"\n"
        if POSSESSIVE:
            check = re.compile(b"(?:" + line + b")*+")
        else:
            check = re.compile(b"^" + line, re.MULTILINE)
        known = (check, keys, ints)
        if len(_layouts) >= MAX_LAYOUTS:
            _layouts.clear()
        _layouts[sketch] = known
    return known


@functools.lru_cache(maxsize=MAX_LAYOUTS)
def _tokens(keys: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
    """The tokens of a line of a layout with these keys, as fastfloat.parse_numbers counts them
    (fastfloat.token_class), and which of them are its numbers. Only the keys hold tokens
    besides the numbers: the rest of a line is blanks, quotes, colons, commas and braces; and
    a number touches none of a key's (a colon or blank before it, a blank, comma or brace
    after it). (A key's bytes that are not UTF-8 and json's U+FFFD for them both hold none.)"""
    picks: list[int] = []
    every = 0
    for key in keys:
        every += len(token_class(key.encode("utf-8", "surrogatepass")))
        picks.append(every)
        every += 1
    return every, tuple(picks)


def _numbers(chunk: bytes, n: int, keys: tuple[str, ...]) -> np.ndarray | None:
    """fastfloat.parse_numbers of the `n` lines of `chunk`, in slices of whole lines of about
    JOIN_BYTES: its temporaries (~10 bytes for each byte of text) stay that small (heap, not
    fresh mappings; a 21 MB chunk in one call took 3x as long as in slices)."""
    every, picks = _tokens(keys)
    k = len(keys)
    if len(chunk) <= JOIN_BYTES:
        return parse_numbers(chunk, n * k, every, picks)
    parts: list[np.ndarray] = []
    start = 0
    while start < len(chunk):
        end = chunk.rfind(b"\n", start, start + JOIN_BYTES) + 1
        if end <= start:
            end = chunk.find(b"\n", start + JOIN_BYTES) + 1 or len(chunk)
        piece = chunk[start:end]
        got = parse_numbers(piece, piece.count(b"\n") * k, every, picks)
        if got is None:
            return None
        parts.append(got)
        start = end
    return np.concatenate(parts)


def _parse(chunk: bytes, n: int, keys: tuple[str, ...], ints: tuple[bool, ...]) -> Uniform | None:
    """The numbers of `n` lines that matched their layout's pattern, as uniform_numbers gives."""
    values = _numbers(chunk, n, keys)
    if values is None:  # (cannot happen when the regex matched)
        # Every line is pieces[0] n1 pieces[1] n2 ... pieces[k] "\n": the keys (between
        # quotes) dropped, every byte but the numbers' is blanked out.
        out = b"".join(chunk.split(b'"')[::2]).translate(_BLANK)
        values = np.fromstring(out, dtype=np.float64, sep=" ")
    k = len(keys)
    if values.shape[0] != n * k:
        return None
    matrix = values.reshape(n, k)
    for j, is_int in enumerate(ints):
        if is_int:
            matrix[:, j] += 0.0  # "-0" is the integer 0 to json, not -0.0
    return keys, ints, matrix


def _layout(first: bytes) -> tuple[tuple[bytes, ...], tuple[bool, ...], tuple[str, ...]] | None:
    """The first line's pieces (the text around its numbers), whether each number is a JSON
    integer, and its keys; None unless it is a flat object of numbers with plain keys."""
    parts = first.split(b'"')
    k = len(parts) // 2
    if k == 0 or len(parts) % 2 == 0 or _OPEN.match(parts[0]) is None:
        return None
    raw_keys = parts[1::2]
    pieces: list[bytes] = []
    ints: list[bool] = []
    before = parts[0]
    for j in range(k):
        key = raw_keys[j]
        m = _PART.match(parts[2 * j + 2])
        if m is None:
            return None
        colon, number, after = m.groups()
        if (after.strip() == b"}") != (j == k - 1):
            return None
        pieces.append(before + b'"' + key + b'"' + colon)
        ints.append(not any(c in number for c in b".eE"))
        before = after
    pieces.append(before)
    try:
        obj = json.loads(first.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    if type(obj) is not dict or len(obj) != k:
        return None  # not an object, or a key twice
    for value in obj.values():
        if type(value) is not int and type(value) is not float:
            return None
    return tuple(pieces), tuple(ints), tuple(obj)
