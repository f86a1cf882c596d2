"""Tick and value formatting tables, nice ticks, time labels."""

from __future__ import annotations

import math
import time

import pytest

from tuiboard.render.numbers import (
    fmt_duration,
    fmt_tick,
    fmt_value,
    fmt_wall,
    nice_ticks,
    time_ticks,
)


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.25, "0.25"),
        (0.1, "0.1"),
        (0.015, "0.015"),
        (12.0, "12"),
        (999.0, "999"),
        (999.96, "1k"),
        (1000.0, "1k"),
        (1200.0, "1.2k"),
        (1234.0, "1.23k"),
        (25_000.0, "25k"),
        (3_400_000.0, "3.4M"),
        (-3_400_000.0, "-3.4M"),
        (2.5e9, "2.5G"),
        (1e12, "1T"),
        (3e-4, "3e-4"),
        (2.5e-5, "2.5e-5"),
        (-1e-3, "-1e-3"),
        (1e20, "1e20"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_fmt_tick(v: float, want: str) -> None:
    assert fmt_tick(v) == want


def test_fmt_tick_precision() -> None:
    assert fmt_tick(1002.0) == "1k"
    assert fmt_tick(1002.0, 4) == "1.002k"
    assert fmt_tick(0.12345, 5) == "0.12345"


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (0.0, "0"),
        (3.0, "3"),
        (0.1234567, "0.123457"),
        (12345.67, "12345.7"),
        (1234567.0, "1.23457e+06"),
        (-2.5e-7, "-2.5e-07"),
        (math.nan, "nan"),
        (-math.inf, "-inf"),
    ],
)
def test_fmt_value(v: float, want: str) -> None:
    assert fmt_value(v) == want


@pytest.mark.parametrize(
    ("lo", "hi", "n", "want"),
    [
        (0.0, 1.0, 5, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.0, 10.0, 2, [0.0, 5.0, 10.0]),
        (-1.0, 1.0, 4, [-1.0, -0.5, 0.0, 0.5, 1.0]),
        (0.13, 0.47, 3, [0.2, 0.3, 0.4]),
        (1.0, 1.0, 4, [1.0]),
        (0.0, 9999.0, 4, [0.0, 2000.0, 4000.0, 6000.0, 8000.0]),
        (math.nan, 1.0, 4, []),
    ],
)
def test_nice_ticks(lo: float, hi: float, n: int, want: list[float]) -> None:
    assert nice_ticks(lo, hi, n) == pytest.approx(want)


def test_nice_ticks_no_float_noise() -> None:
    for t in nice_ticks(0.0, 1.0, 10):
        assert len(repr(t)) <= 4


@pytest.mark.parametrize(
    ("s", "want"),
    [
        (0, "0"),
        (45, "45s"),
        (90, "1m30s"),
        (120, "2m"),
        (7200, "2h"),
        (3900, "1h05m"),
        (86400 * 3, "3d"),
    ],
)
def test_fmt_duration(s: float, want: str) -> None:
    assert fmt_duration(s) == want


def test_time_ticks_are_round() -> None:
    assert time_ticks(0, 600, 2) == [0, 300, 600]
    assert time_ticks(0, 600, 4) == [0, 120, 240, 360, 480, 600]
    assert time_ticks(10, 7300, 2) == [3600.0, 7200.0]


def test_fmt_wall_local_time() -> None:
    t = 1_700_000_000.0
    assert fmt_wall(t, 3600) == time.strftime("%H:%M", time.localtime(t))
    assert fmt_wall(t, 60) == time.strftime("%H:%M:%S", time.localtime(t))


def test_nice_ticks_near_float_max_do_not_overflow() -> None:
    """Found by hypothesis: a span near the largest float rounds its step up to infinity."""
    from tuiboard.render.numbers import nice_ticks

    for lo, hi, n in ((0.0, 1.4142135623730951e308, 1), (-1.7e308, 1.7e308, 4)):
        ticks = nice_ticks(lo, hi, n)
        assert ticks and all(lo <= t <= hi for t in ticks)


def test_fmt_tick_of_a_value_that_rounds_past_float_max() -> None:
    """Found by hypothesis: -1.795e308 to 3 digits is -1.8e308, past the largest float."""
    from tuiboard.render.numbers import fmt_tick

    assert fmt_tick(-1.7950000000000001e308) == "-1.8e308"
    assert fmt_tick(1.7950000000000001e308) == "1.8e308"
