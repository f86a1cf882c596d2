"""sparkline(): exact width, spikes and dips survive bucketing, NaN-only buckets blank."""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len

from tuiboard.render.sparkline import sparkline


def test_width_exact() -> None:
    for n in (0, 1, 3, 10, 1000):
        for w in (1, 5, 20):
            s = sparkline(np.arange(n, dtype=float), w)
            assert cell_len(s.plain) == w


def test_ramp() -> None:
    assert sparkline(np.arange(8, dtype=float), 8).plain == "▁▂▃▄▅▆▇█"


def test_spike_and_dip_survive() -> None:
    y = np.zeros(10_000)
    y[1234] = 10.0
    y[7000] = -10.0
    s = sparkline(y, 20).plain
    assert s.count("█") == 1 and s.count("▁") == 1
    assert s.index("█") == 1234 * 20 // 10_000
    assert s.index("▁") == 7000 * 20 // 10_000


def test_nan_and_constant() -> None:
    assert sparkline(np.array([np.nan] * 5), 5).plain == "     "
    assert sparkline(np.array([2.0] * 5), 5).plain == "▄▄▄▄▄"
    y = np.array([1.0, np.nan, np.nan, np.nan, 2.0])
    assert sparkline(y, 5).plain == "▁   █"


def test_color_style() -> None:
    assert str(sparkline(np.arange(4.0), 4, "red").style) == "red"
    assert sparkline(np.arange(4.0), 4).style == ""
