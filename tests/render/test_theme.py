"""Theme: distinct run colours, exact in the 256-colour palette, NO_COLOR respected."""

from __future__ import annotations

import io

import pytest
from rich.color import Color, ColorSystem

from tuiboard.render.theme import color_wanted, default_theme, run_color

CUBE = {0x00, 0x5F, 0x87, 0xAF, 0xD7, 0xFF}


def exact_in_256(color: str) -> bool:
    r, g, b = Color.parse(color).get_truecolor()
    if {r, g, b} <= CUBE:
        return True
    return r == g == b and (r - 8) % 10 == 0 and 8 <= r <= 238  # the grey ramp


def test_palette() -> None:
    theme = default_theme()
    assert len(theme.run_colors) >= 10
    assert len(set(theme.run_colors)) == len(theme.run_colors)
    for c in (
        *theme.run_colors,
        theme.axis,
        theme.text,
        theme.faint,
        theme.grid,
        theme.cursor,
        theme.nan,
    ):
        assert exact_in_256(c), c
    for c in theme.run_colors:
        # Rich's own downgrade to 256 colours keeps run colours exactly (no hue shift); its
        # grey ramp differs from xterm's, so the greys are only checked against xterm's above.
        down = Color.parse(c).downgrade(ColorSystem.EIGHT_BIT)
        assert down.get_truecolor() == Color.parse(c).get_truecolor()


def test_run_color_cycles() -> None:
    theme = default_theme()
    n = len(theme.run_colors)
    assert [run_color(theme, i) for i in range(n)] == list(theme.run_colors)
    assert run_color(theme, n + 3) == run_color(theme, 3)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert color_wanted(Tty()) is True
    assert color_wanted(io.StringIO()) is False
    assert color_wanted(io.StringIO(), force=True) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_wanted(Tty()) is False
    assert color_wanted(Tty(), force=True) is True
    assert default_theme(color=False).color is False
