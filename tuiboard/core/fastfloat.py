"""JSON numbers in bulk -> float64, correctly rounded, with numpy over the whole buffer.

Owns: `parse_numbers(text, count, every, picks)`: the JSON numbers among the tokens of `text`
(a chunk of JSONL lines of one layout, as jsonl_uniform's regex checked it: the numbers are the
tokens at `picks` of every `every`, the others runs of a key's bytes) as float64, each bit for
bit what Python's float() gives for it; and `token_class`, how it finds tokens. np.fromstring
(David Gay's strtod) costs ~0.35 us a 17-digit number, the digits as Python's repr writes them;
here no number is parsed alone:
- the tokens: runs of digits, '.', '+', '-', and 'e'/'E' after a digit or dot (so a key of
  letters holds none), found by byte comparisons and one flatnonzero of their edges and of the
  dots and exponents; with every token picked, a token's marks come as S [D] [X] E and a mark's
  token follows from its rank; with skipped ones, a binary search finds it;
- the digits: the text without its dots (one bytes.replace), the 24 bytes before each
  mantissa's end as three words (aligned words gathered and shifted), the bytes before its first
  digit masked off, then the SWAR conversion of 8 ASCII digits at once (fast_float's
  parse_eight_digits) on every word;
- the value w * 10**q: Clinger's exact fast path where w <= 2**53 and |q| <= 22 (one IEEE
  multiplication and division), else Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per
  Second", 2021: the 128-bit product of w and a truncated 5**q from fast_float's table, emulated
  with 32-bit halves in uint64; the second product where the first cannot decide; Mushtak and
  Lemire proved it then always decides when w is exact), round half to even as fast_float has it.
Handed to float() one by one (rare): more than 19 significant digits (w would not be exact),
exponents outside 10**-342..10**308 or of more than 8 digits, subnormals and overflow. Zeros keep
their sign ("-0.0" is -0.0, as float() gives). Picked tokens must be JSON numbers (the caller's
regex checked them); text whose tokens do not come as `count` numbers of that shape gives None
(the caller then uses np.fromstring), never an exception. Temporaries: a few times the text's
size (padded copy, its copy without dots, byte masks) and ~30 arrays of one word a number.
Measured in bench/README.md ("The JSONL runs of a first load in bulk", session 6).
Must not import: textual, rich, other tuiboard modules.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

_U = np.uint64
_M32 = _U(0xFFFFFFFF)
_PAD = b" " * 32
"""Spaces around the text: every word gathered (24 bytes before a mantissa's end, 8 before an
exponent's) stays inside the buffer, and the first and last tokens have a space on each side."""


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 128-bit truncated powers of five for 10**-342..10**308 (fast_float's
    script/table_generation.py): high words as 32-bit halves and whole, low words; and
    floor(log2(10**q)) + 63 for each (fast_float's power(q))."""
    hi: list[int] = []
    lo: list[int] = []
    for q in range(-342, 309):
        if q < 0:
            power5 = 5**-q
            z = power5.bit_length() if power5 & (power5 - 1) else power5.bit_length() - 1
            # z: the least z with 2**z >= 5**-q (5**-q is never a power of two but for q = 0)
            if q >= -27:
                c = 2 ** (z + 127) // power5 + 1
            else:
                c = 2 ** (2 * z + 128) // power5 + 1
                c >>= max(0, c.bit_length() - 128)
        else:
            c = 5**q
            c = c << (128 - c.bit_length()) if c.bit_length() < 128 else c >> (c.bit_length() - 128)
        hi.append(c >> 64)
        lo.append(c & ((1 << 64) - 1))
    hi_a = np.array(hi, dtype=np.uint64)
    qs = np.arange(-342, 309, dtype=np.int64)
    power = (((152170 + 65536) * qs) >> 16) + 63
    return hi_a >> _U(32), hi_a & _M32, hi_a, np.array(lo, dtype=np.uint64), power


_T_HI32, _T_LO32, _T_HI, _T_LO, _POWER = _tables()
_P10 = np.array([float(10**i) for i in range(23)])
"""The powers of ten that are exact doubles (Clinger's fast path)."""


def _digit_masks() -> np.ndarray:
    """For n = 0..24 digits ending a 24-byte window (three little-endian words, the first
    holding the window's first 8 bytes): the low nibbles of the window's last n bytes."""
    out = np.zeros((3, 25), dtype=np.uint64)
    for n in range(25):
        for k in range(3):
            word = 0
            for b in range(8):
                if 8 * k + b >= 24 - n:
                    word |= 0x0F << (8 * b)
            out[k, n] = word
    return out


_MASKS = _digit_masks()
_C1, _C2, _C3 = _U(2561), _U(6553601), _U(42949672960001)
_B8, _B16, _B32 = _U(0x00FF00FF00FF00FF), _U(0x0000FFFF0000FFFF), _U(0xFFFFFFFF)


def _eight_digits(v: np.ndarray) -> np.ndarray:
    """fast_float's parse_eight_digits_unrolled on words of digit values (0..9 a byte, the
    first digit in the lowest byte): the 8-digit number each word spells."""
    v = (v * _C1) >> _U(8)
    v = ((v & _B8) * _C2) >> _U(16)
    return ((v & _B16) * _C3) >> _U(32)


def _windows(buf: bytes | np.ndarray, ends: np.ndarray, count: int) -> np.ndarray:
    """The `count` 8-byte little-endian words before each of `ends` (a (count, n) array, row 0
    the earliest): aligned words gathered and shifted together (a gather of unaligned words
    costs twice as much)."""
    words = np.frombuffer(buf, dtype=np.uint64, count=len(buf) // 8)
    begin = ends - 8 * count
    k = begin >> 3
    shift = (begin & 7).view(np.uint64) << _U(3)
    back = _U(64) - shift  # (a shift by 64 gives 0 in numpy: an aligned window)
    out = np.empty((count, len(ends)), dtype=np.uint64)
    low = words.take(k)
    for i in range(count):
        high = words.take(k + (i + 1))
        np.bitwise_or(low >> shift, high << back, out=out[i])
        low = high
    return out


def token_class(data: bytes) -> list[bytes]:
    """The runs of `data` that parse_numbers takes for tokens, in order: digits, '.', '+', '-',
    and 'e' or 'E' after a digit or a dot (every byte of a JSON number, no byte JSON puts
    around one, and no byte of a key without digits, dots or signs)."""
    return _TOKEN.findall(data)


_TOKEN = re.compile(rb"(?:[0-9.+\-]|(?<=[0-9.])[eE])+")


class _Tokens(NamedTuple):
    """Where parse_numbers' picked tokens are: start, end, mantissa end (the exponent's 'e',
    else the end), the tokens with a dot and where it is, the tokens with an exponent and where
    its 'e' is, and the dots of the text before each mantissa's end."""

    starts: np.ndarray
    ends: np.ndarray
    mant_end: np.ndarray
    dtok: np.ndarray
    dot_at: np.ndarray
    xtok: np.ndarray
    x_at: np.ndarray
    dots_before: np.ndarray


def parse_numbers(
    text: bytes, count: int, every: int = 1, picks: tuple[int, ...] = (0,)
) -> np.ndarray | None:
    """The `count` numbers of `text` as float64, each bit for bit float(its token).

    The tokens of `text` are its runs as token_class finds them; they come in groups of
    `every` (a line of a JSONL layout: its keys' runs and its numbers), and the tokens at
    `picks` in each group are JSON numbers, the ones parsed (by default every token). Other
    tokens (runs in keys) are skipped, whatever they hold. None when the tokens are not
    `count` / len(picks) groups or a picked token is not shaped as a JSON number is."""
    if count == 0:
        return np.empty(0) if not token_class(text) else None
    buf = _PAD + text + _PAD
    a = np.frombuffer(buf, dtype=np.uint8)
    # digits, '.', '+', '-': 43..57 but ',' and '/'; 'e' and 'E' after a digit or a dot
    inside = (a - np.uint8(43)) < 15
    inside &= a != 44
    inside &= a != 47
    ex = np.zeros(len(a), dtype=bool)
    np.equal(a[1:] | 32, 101, out=ex[1:])
    ex[1:] &= inside[:-1]
    ex[1:] &= a[:-1] >= 46
    inside |= ex
    if every == len(picks):
        tokens = _all_tokens(a, inside, ex, count)
    else:
        tokens = _picked_tokens(a, inside, ex, count, every, picks)
    if tokens is None:
        return None
    starts, ends, mant_end, dtok, dot_at, xtok, x_at, dots_before = tokens
    n = count
    first = a.take(starts)
    neg = first == 45
    if (((first - np.uint8(48)) > 9) & ~neg).any():
        return None  # a token that does not start as a JSON number does
    exp = None
    slow = np.zeros(n, dtype=bool)
    if len(xtok):
        value, bad = _exponents(a, x_at, ends.take(xtok))
        exp = np.zeros(n, dtype=np.int64)
        exp[xtok] = value
        slow[xtok] = bad
    last = mant_end - 1  # the dot, or the last digit: the digits after the dot are last - it
    has_dot = np.zeros(n, dtype=bool)
    if len(dtok):
        if len(xtok) and (dot_at >= mant_end.take(dtok)).any():
            return None  # a dot in an exponent
        has_dot[dtok] = True
        dot = last.copy()
        dot[dtok] = dot_at
        frac = last - dot
    else:
        frac = np.zeros(n, dtype=np.int64)
    n_digits = mant_end - starts - neg - has_dot
    if (n_digits < 1).any():
        return None
    # The mantissa's digits, the text's dots taken out: its end moves back by the dots before it.
    if b"." in buf:
        digits = _windows(buf.replace(b".", b""), mant_end - dots_before, 3)
    else:
        digits = _windows(buf, mant_end, 3)
    kept = np.minimum(n_digits, 24)
    for i in range(3):
        digits[i] &= _MASKS[i].take(kept)
    groups8 = _eight_digits(digits.reshape(-1)).reshape(3, n)
    long = (n_digits > 24) | (groups8[0] > 1843)  # > 19 digits: w may not fit in 64 bits
    slow |= long
    w = groups8[0] * _U(10**16)
    w += groups8[1] * _U(10**8)
    w += groups8[2]
    q = -frac if exp is None else exp - frac
    slow |= (q < -342) | (q > 308)
    bits = _decimal_bits(w, q, slow)
    bits |= neg.view(np.uint8).astype(np.uint64) << _U(63)
    zero = np.flatnonzero((w == 0) & ~long)
    if len(zero):
        bits[zero] = neg.take(zero).astype(np.uint64) << _U(63)
        slow[zero] = False
    values = bits.view(np.float64)
    for i in np.flatnonzero(slow).tolist():
        try:
            values[i] = float(buf[starts[i] : ends[i]])
        except ValueError:
            return None  # (no JSON number: the caller's check let something else through)
    return values


def _all_tokens(a: np.ndarray, inside: np.ndarray, ex: np.ndarray, n: int) -> _Tokens | None:
    """_Tokens when every token is picked: one flatnonzero of the token edges, dots and
    exponents gives them in order, a token's marks S [D] [X] E (its start, dot, 'e', end), so
    a mark's token follows from how many dots and exponents come before it."""
    marks = np.empty(len(a), dtype=bool)
    marks[0] = False
    np.not_equal(inside[1:], inside[:-1], out=marks[1:])
    marks |= a == 46
    marks |= ex
    at = np.flatnonzero(marks)
    kind = a.take(at)
    j_end = np.flatnonzero(~inside.take(at))
    if len(j_end) != n:
        return None
    ends = at.take(j_end)
    j_start = np.empty(n, dtype=np.int64)
    j_start[0] = 0
    np.add(j_end[:-1], 1, out=j_start[1:])
    starts = at.take(j_start)
    if (kind.take(j_start) == 46).any():
        return None  # a token that starts with a dot (one mark, not two)
    # the marks up to token i's end: 2 (i + 1), and its and the earlier tokens' dots and
    # exponents (without exponents: the dots up to token i, its own included)
    inner = j_end - 2 * np.arange(n) - 1
    is_dot = kind == 46
    n_dots = int(np.count_nonzero(is_dot))
    n_ex = len(at) - 2 * n - n_dots
    mant_end = ends
    xtok = x_at = _NONE
    if n_ex:
        j_ex = np.flatnonzero(ex.take(at))
        xtok = np.searchsorted(j_end, j_ex)  # a mark's token: the first end after it
        if len(xtok) != n_ex or (xtok[1:] == xtok[:-1]).any():
            return None  # two exponents in one token
        x_at = at.take(j_ex)
        mant_end = ends.copy()
        mant_end[xtok] = x_at
    dtok = dot_at = dots_before = _NONE
    if n_dots:
        j_dot = np.flatnonzero(is_dot)
        # a dot's token: without exponents, its rank among the dots says how many of the marks
        # before it are dots; with them, the first end after it
        dtok = np.searchsorted(j_end, j_dot) if n_ex else (j_dot - np.arange(n_dots) - 1) >> 1
        if (dtok[1:] == dtok[:-1]).any():
            return None  # two dots in one token
        dot_at = at.take(j_dot)
        if n_ex:
            has_dot = np.zeros(n, dtype=np.int64)
            has_dot[dtok] = 1
            dots_before = np.cumsum(has_dot)
        else:
            dots_before = inner
    return _Tokens(starts, ends, mant_end, dtok, dot_at, xtok, x_at, dots_before)


def _picked_tokens(
    a: np.ndarray, inside: np.ndarray, ex: np.ndarray, n: int, every: int, picks: tuple[int, ...]
) -> _Tokens | None:
    """_Tokens of the picked tokens among others (a key's runs): the token edges from one
    flatnonzero, the dots and exponents from another, each to its token by a binary search."""
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    edges += 1  # (the padding is outside: starts and ends alternate)
    groups, rest = divmod(len(edges) // 2, every)
    if rest or groups * len(picks) != n:
        return None
    picked = (np.arange(groups)[:, None] * (2 * every) + np.multiply(picks, 2)).ravel()
    starts = edges.take(picked)
    ends = edges.take(picked + 1)
    marks = a == 46
    marks |= ex
    at = np.flatnonzero(marks)
    is_dot = a.take(at) == 46
    dots = at[is_dot]  # every dot: those before a mantissa's end are gone from `nodot`
    tok = np.searchsorted(ends, at, side="right")
    mine = tok < n
    mine &= starts.take(np.minimum(tok, n - 1)) <= at
    hit = np.flatnonzero(mine)
    tok = tok.take(hit)
    at = at.take(hit)
    is_dot = is_dot.take(hit)
    mant_end = ends
    xtok = x_at = _NONE
    if len(hit) > np.count_nonzero(is_dot):
        x = np.flatnonzero(~is_dot)
        xtok = tok.take(x)
        if (xtok[1:] == xtok[:-1]).any():
            return None  # two exponents in one token
        x_at = at.take(x)
        mant_end = ends.copy()
        mant_end[xtok] = x_at
    d = np.flatnonzero(is_dot)
    dtok = tok.take(d)
    if (dtok[1:] == dtok[:-1]).any():
        return None  # two dots in one token
    dot_at = at.take(d)
    return _Tokens(
        starts, ends, mant_end, dtok, dot_at, xtok, x_at, np.searchsorted(dots, mant_end)
    )


_NONE = np.empty(0, dtype=np.int64)


def _exponents(a: np.ndarray, x_at: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the exponent marks at `x_at` of tokens ending at `ends` (in the padded text `a`):
    their values (signed), and whether they are too long to read here (more than 8 digits) or
    have no digits."""
    sign = a.take(x_at + 1)
    has_sign = (sign == 45) | (sign == 43)
    ndig = ends - x_at - 1 - has_sign
    words = _windows(a, ends, 1)[0]
    words &= _MASKS[2].take(ndig, mode="clip")
    value = _eight_digits(words).view(np.int64)
    value[sign == 45] *= -1
    return value, (ndig > 8) | (ndig < 1)


def _decimal_bits(w: np.ndarray, q: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """The float64 bits (sign clear) nearest w * 10**q: Clinger's fast path where w <= 2**53 and
    |q| <= 22 (w and 10**|q| exact doubles: one correctly rounded multiplication or division;
    for q = 0 the multiplication by 1), Eisel-Lemire for the others."""
    exact = w <= _U(1 << 53)
    exact &= q >= -22
    exact &= q <= 22
    values = w.astype(np.float64)
    values *= _P10.take(q, mode="clip")  # (indices clipped to 0..22: 1 where q <= 0)
    values /= _P10.take(-q, mode="clip")
    bits = values.view(np.uint64)
    rest = np.flatnonzero(~exact)
    if len(rest):
        unsure = slow.take(rest)
        bits[rest] = _eisel_lemire(w.take(rest), q.take(rest), unsure)
        slow[rest] = unsure
    return bits


def _eisel_lemire(w: np.ndarray, q: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """The float64 bits (sign clear) nearest w * 10**q, rounding half to even, for w > 0 of at
    most 19 digits; `slow` is set where the result is subnormal or overflows (float() decides
    those, and those of q outside -342..308: the tables' indices are clipped). Zeros of w give
    garbage, the caller replaces them."""
    qi = q + 342
    # leading zeros of w: from its float64 exponent, one less where the conversion rounded up
    # to the next power of two (w is then below it and the shifted top bit is clear)
    lz = _U(1086) - (w.astype(np.float64).view(np.uint64) >> _U(52))
    ws = w << lz
    fix = (ws >> _U(63)) ^ _U(1)
    ws <<= fix
    lz += fix
    # the high 64 bits of ws * T_HI[q] (and the low 64), with 32-bit halves
    a_hi = ws >> _U(32)
    a_lo = ws & _M32
    b_hi = _T_HI32.take(qi, mode="clip")
    b_lo = _T_LO32.take(qi, mode="clip")
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hi = a_hi * b_hi
    mid = (ll >> _U(32)) + (lh & _M32) + (hl & _M32)
    hi += lh >> _U(32)
    hi += hl >> _U(32)
    hi += mid >> _U(32)
    lo = ws * _T_HI.take(qi, mode="clip")
    unsure = np.flatnonzero((hi & _U(0x1FF)) == _U(0x1FF))
    if len(unsure):
        # the first product's lower bits cannot decide: add the high word of ws * T_LO[q]
        extra = _mulhi(ws.take(unsure), _T_LO.take(qi.take(unsure), mode="clip"))
        low = lo.take(unsure) + extra
        hi[unsure] += (low < extra).astype(np.uint64)
        lo[unsure] = low
    upper = hi >> _U(63)
    shift = upper + _U(9)
    mant = hi >> shift
    power2 = _POWER.take(qi, mode="clip") + upper.view(np.int64) - lz.view(np.int64) + 1023
    tie = np.flatnonzero(lo <= _U(1))
    if len(tie):
        # exactly between two floats when only zeros were shifted out: round to even
        qt = q.take(tie)
        mt = mant.take(tie)
        even = (
            (qt >= -4)
            & (qt <= 23)
            & ((mt & _U(3)) == _U(1))
            & ((mt << shift.take(tie)) == hi.take(tie))
        )
        mant[tie[even]] &= ~_U(1)
    mant += mant & _U(1)
    mant >>= _U(1)
    carry = mant >> _U(53)
    mant >>= carry
    power2 += carry.view(np.int64)
    slow |= (power2 <= 0) | (power2 >= 2047)  # (their bits are garbage, float() decides)
    return (mant & _U((1 << 52) - 1)) | (power2.view(np.uint64) << _U(52))


def _mulhi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The high 64 bits of the 128-bit products a * b (uint64)."""
    a_hi, a_lo = a >> _U(32), a & _M32
    b_hi, b_lo = b >> _U(32), b & _M32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    mid = (ll >> _U(32)) + (lh & _M32) + (hl & _M32)
    return a_hi * b_hi + (lh >> _U(32)) + (hl >> _U(32)) + (mid >> _U(32))
