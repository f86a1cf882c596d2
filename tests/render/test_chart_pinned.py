"""A pinned series (render/chart.py): drawn after every unpinned line whatever its place in the
list, in bold, with PIN_MARK on its last point; the same picture as the unpinned list put in
that order by hand, so what the flag does is exactly "last, bold, marked"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tuiboard.render.chart import PIN_MARK, ChartOptions, ChartSeries, render_chart
from tuiboard.render.theme import default_theme

THEME = default_theme()


def crossing() -> tuple[ChartSeries, ChartSeries]:
    x = np.arange(50, dtype=np.float64)
    a = ChartSeries("a", "#ff0000", x, np.sin(x / 8))
    b = ChartSeries("b", "#0000ff", x, np.sin(x / 8 + 0.3))  # shares many cells with a
    return a, b


def test_pinned_is_drawn_last_in_bold_with_its_mark() -> None:
    a, b = crossing()
    opts = ChartOptions(title="t")
    pinned = render_chart([replace(a, pinned=True), b], opts, 60, 14, THEME)
    by_hand = render_chart(
        [b, replace(a, color="bold #ff0000", mark=PIN_MARK)], opts, 60, 14, THEME
    )
    assert pinned.plain == by_hand.plain
    assert [(s.start, s.end, str(s.style)) for s in pinned.spans] == [
        (s.start, s.end, str(s.style)) for s in by_hand.spans
    ]
    # and it differs from the unpinned chart where the lines cross: a owns the shared cells
    plain = render_chart([a, b], opts, 60, 14, THEME)
    assert PIN_MARK in pinned.plain and PIN_MARK not in plain.plain
    red_cells = sum(s.end - s.start for s in pinned.spans if "#ff0000" in str(s.style))
    red_before = sum(s.end - s.start for s in plain.spans if "#ff0000" in str(s.style))
    assert red_cells >= red_before


def test_pinned_without_colour_is_still_on_top() -> None:
    a, b = crossing()
    mono = default_theme(color=False)
    opts = ChartOptions()
    out = render_chart(
        [replace(a, pinned=True, color=""), replace(b, color="")], opts, 40, 10, mono
    )
    assert PIN_MARK in out.plain
    assert not out.spans or all(not str(s.style).strip() for s in out.spans)
