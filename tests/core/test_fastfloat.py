"""fastfloat.parse_numbers against Python's float(), bit for bit, on JSON numbers: random doubles'
repr and json.dumps, random digit strings with random exponents (19 and 20+ digits, leading
zeros), exact halfway cases (round half to even), neighbours of halfway points, tiny and huge
exponents (subnormals, overflow, underflow to zero), negative zeros, the edges of Clinger's fast
path (2**53, 10**+-22); tokens between runs of
spaces as jsonl_uniform blanks them. Text that is not `count` JSON numbers gives None or an
array, never an exception."""

from __future__ import annotations

import json
import math
import struct
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tuiboard.core.fastfloat import parse_numbers


def _bits(values: Any) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", v))[0] for v in values]


def _check(tokens: list[str], gaps: list[int] | None = None) -> None:
    seps = [" " * (gaps[i % len(gaps)] if gaps else 1) for i in range(len(tokens) + 1)]
    text = seps[0] + "".join(t + s for t, s in zip(tokens, seps[1:], strict=True))
    got = parse_numbers(text.encode(), len(tokens))
    assert got is not None
    assert got.dtype == np.float64 and got.shape == (len(tokens),)
    want = [float(t) for t in tokens]
    assert _bits(got.tolist()) == _bits(want), [
        (t, g, w)
        for t, g, w in zip(tokens, got.tolist(), want, strict=True)
        if _bits([g]) != _bits([w])
    ]


DOUBLES = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(DOUBLES, min_size=1, max_size=60), st.lists(st.integers(1, 5), min_size=1))
def test_repr_and_json_of_doubles(values: list[float], gaps: list[int]) -> None:
    tokens = [repr(v) for v in values] + [json.dumps(v) for v in values]
    tokens += [f"{v:.17e}" for v in values] + [f"{v:.{len(repr(v))}g}" for v in values]
    _check([t.replace("inf", "1e999") for t in tokens], gaps)


@st.composite
def json_numbers(draw: Any) -> str:
    """A JSON number: sign, integer part (no leading zeros), fraction, exponent."""
    neg = draw(st.booleans())
    int_part = draw(st.sampled_from(["0", "digits"]))
    if int_part == "digits":
        int_part = str(draw(st.integers(1, 9))) + draw(st.text("0123456789", max_size=24))
    frac = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=28)))
    exp = draw(
        st.one_of(
            st.just(""),
            st.integers(-30, 30).map(str),
            st.integers(-420, 420).map(str),
            st.integers(-(10**12), 10**12).map(str),
        )
    )
    text = ("-" if neg else "") + int_part
    if frac:
        text += "." + frac
    if exp:
        e = draw(st.sampled_from(["e", "E"]))
        sign = "" if exp.startswith("-") else draw(st.sampled_from(["", "+"]))
        zeros = draw(st.sampled_from(["", "", "0", "000"]))
        exp = ("-" + zeros + exp[1:]) if exp.startswith("-") else (sign + zeros + exp)
        text += e + exp
    return text


@settings(max_examples=500, deadline=None)
@given(st.lists(json_numbers(), min_size=1, max_size=40))
@example(["-0", "0", "-0.0", "0.0", "-0e5", "0e-999", "-0.000", "0E+0"])
@example(["1e400", "-1e400", "1e-400", "-1e-400", "4.9e-324", "2.4e-324", "2.5e-324"])
@example(["2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308"])
@example(["1.7976931348623158e308", "1.7976931348623159e308", "9007199254740993"])
@example(["18446744073709551615", "18446744073709551616", "9999999999999999999", "1e-342"])
@example(["0.0001234567890123456", "0.000000000000000000000001", "1000000000000000000000000.0"])
@example(["9007199254740992e-22", "9007199254740993e-22", "9007199254740992e22", "1e22", "1e23"])
@example(["1e-22", "1e-23", "-123456789e-22", "900719925474099.2", "9007199254740992.5"])
def test_digit_strings_with_exponents(tokens: list[str]) -> None:
    _check(tokens)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(10**18, 10**20), st.integers(-340, 300), st.integers(0, 20)),
        min_size=1,
        max_size=30,
    )
)
def test_19_and_20_digit_mantissas(items: list[tuple[int, int, int]]) -> None:
    tokens = []
    for mantissa, exp, dot in items:
        digits = str(mantissa)
        dot = min(dot, len(digits) - 1)
        tokens.append(f"{digits[: dot + 1]}.{digits[dot + 1 :]}e{exp}")
        tokens.append(f"{digits}e{exp}")
    _check(tokens)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(2**53, 2**54 - 1), st.integers(-4, 9)), min_size=1))
def test_exact_halfway_cases(items: list[tuple[int, int]]) -> None:
    """Odd 54-bit integers times small powers of two: exactly between two doubles, at most 19
    significant digits (the round-half-to-even branch)."""
    tokens = []
    for m, e in items:
        m |= 1
        value = Decimal(m) * (Decimal(2) ** e)
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        tokens.append(text)
        tokens.append(format(value.normalize(), "E").replace("E+", "e"))
    _check(tokens)


@settings(max_examples=200, deadline=None)
@given(st.lists(DOUBLES.filter(lambda v: v != 0 and math.isfinite(v)), min_size=1, max_size=20))
def test_near_halfway_points(values: list[float]) -> None:
    """The decimal midpoint of a double and its neighbour, cut to 17-19 digits, and one unit in
    the last digit either side of the cut."""
    tokens = []
    for v in values:
        other = math.nextafter(v, math.inf)
        if math.isinf(other):
            other = math.nextafter(v, 0.0)
        with localcontext() as exact:
            exact.prec = 1200
            mid = (Decimal(v) + Decimal(other)) / 2
        for digits in (17, 18, 19):
            text = format(mid, f".{digits - 1}e")
            tokens.append(text)
            mantissa, exp = text.split("e")
            last = int(mantissa.replace(".", "").replace("-", ""))
            for step in (-1, 1):
                m = str(last + step)
                sign = "-" if v < 0 else ""
                tokens.append(f"{sign}{m[0]}.{m[1:]}e{int(exp) - (len(m) - len(str(last)))}")
        tokens.append(format(mid, "e"))
    _check(tokens)


def test_many_numbers_of_every_kind() -> None:
    rng = np.random.default_rng(7)
    raw = rng.integers(0, 2**64, size=20000, dtype=np.uint64).view(np.float64)
    raw = raw[np.isfinite(raw)]
    scaled = rng.uniform(-1, 1, 20000) * 10.0 ** rng.integers(-30, 30, 20000)
    tokens = [repr(v) for v in raw.tolist()] + [json.dumps(v) for v in scaled.tolist()]
    tokens += [str(i) for i in rng.integers(-(10**15), 10**15, 5000).tolist()]
    _check(tokens, [1, 2, 3, 4])


def test_counts_and_bad_text() -> None:
    assert parse_numbers(b"  1 2  3 ", 3) is not None
    assert parse_numbers(b"  1 2  3 ", 2) is None
    assert parse_numbers(b"  1 2  3 ", 4) is None
    assert parse_numbers(b"", 0) is not None
    assert parse_numbers(b"   ", 0) is not None
    assert parse_numbers(b"1", 0) is None
    assert parse_numbers(b"", 1) is None
    for bad in [b".5", b"1e", b"+5", b"1.2.3", b"1e5e5", b"1e5.5", b"-", b".", b"1..2", b"1e+"]:
        assert parse_numbers(bad, 1) is None, bad
    # an "e" that follows no digit or dot is no token's (as a key's letters): "e5" is 5
    assert parse_numbers(b"e5 step 2", 2) is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60).map(lambda b: b.translate(bytes(range(256)))), st.integers(0, 9))
def test_any_text_never_raises(data: bytes, count: int) -> None:
    text = bytes(c if chr(c) in "0123456789.eE+-" else 32 for c in data)
    got = parse_numbers(text, count)
    assert got is None or got.shape == (count,)


@settings(max_examples=300, deadline=None)
@given(st.text("0123456789.eE+- ", max_size=60), st.integers(0, 9))
def test_number_alphabet_never_raises(text: str, count: int) -> None:
    got = parse_numbers(text.encode(), count)
    assert got is None or got.shape == (count,)
