"""Theme: distinct run colours, exact in the 256-colour palette, NO_COLOR respected; palettes
that stay distinct under simulated colour blindness and readable on their background."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pytest
from rich.color import Color, ColorSystem

from tuiboard.render.theme import (
    DEFAULT_PALETTE,
    PALETTES,
    color_wanted,
    default_theme,
    make_theme,
    next_palette,
    run_color,
)

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


# -- palettes: colour-blind safety, contrast on their background -------------------------------

DARK_BG = "#121212"
"""textual-dark's background (the app's default theme)."""
LIGHT_BG = "#e0e0e0"
"""textual-light's background: the darkest of Textual's light themes, so the hardest for dark
run colours (solarized-light, catppuccin-latte and atom-one-light are all lighter)."""

# Machado, Oliveira & Fernandes, "A Physiologically-based Model for Simulation of Color Vision
# Deficiency", IEEE TVCG 15(6), 2009: the severity-1.0 matrices (dichromacy), applied to linear
# sRGB as DaltonLens' review of the simulations recommends.
MACHADO_2009 = {
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
}
SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
MIN_DELTA_E = 10.0
"""The least CIE76 ΔE between two run colours as a dichromat sees them. 2.3 is the just-noticeable
difference for large patches (Sharma, Digital Color Imaging Handbook, 2003); it grows as marks
shrink (Stone, Szafir & Setlur, "An Engineering Model for Color Difference as a Function of
Size", 2014), and a braille dot is about as small as a mark gets: we ask for about four JNDs.
The published palettes clear it with room on a dark background (closest pairs 13.5-20.7); the
light variants' closest pair is Okabe-Ito's under deuteranopia, 13.2 (orange and vermillion). The
default palette does not clear it (its sky blue and lavender are 0.4 apart under deuteranopia)."""


def linear_rgb(colors: Sequence[str]) -> np.ndarray:
    srgb = np.array([Color.parse(c).get_truecolor() for c in colors], dtype=float) / 255.0
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def cielab(linear: np.ndarray) -> np.ndarray:
    xyz = linear @ SRGB_TO_XYZ.T / SRGB_TO_XYZ.sum(axis=1)  # relative to D65 white
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=-1
    )


def min_delta_e(colors: Sequence[str], deficiency: str | None) -> float:
    linear = linear_rgb(colors)
    if deficiency is not None:
        linear = np.clip(linear @ MACHADO_2009[deficiency].T, 0.0, 1.0)
    lab = cielab(linear)
    d = np.linalg.norm(lab[:, None, :] - lab[None, :, :], axis=-1)
    return float(d[np.triu_indices(len(colors), k=1)].min())


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio."""
    lum = linear_rgb([a, b]) @ np.array([0.2126, 0.7152, 0.0722])
    hi, lo = max(lum), min(lum)
    return float((hi + 0.05) / (lo + 0.05))


def test_simulation_sees_what_dichromats_see() -> None:
    # Red against a dark green (protanopes see red darker) or against a green of its lightness
    # (deuteranopes): far apart for normal vision, merged for the dichromat; blue and yellow, the
    # axis both keep, stay far apart.
    confused = {"protanopia": ("#d62728", "#226633"), "deuteranopia": ("#d62728", "#149400")}
    for deficiency, pair in confused.items():
        assert min_delta_e(pair, None) > 50
        assert min_delta_e(pair, deficiency) < 5
        assert min_delta_e(("#0072b2", "#f0e442"), deficiency) > 60
    # The default palette is not colour-blind safe, and the check says so.
    assert min_delta_e(default_theme().run_colors, "deuteranopia") < MIN_DELTA_E


@pytest.mark.parametrize("name", [n for n, p in PALETTES.items() if p.colour_blind_safe])
@pytest.mark.parametrize("light", [False, True])
def test_colour_blind_palettes_stay_distinct(name: str, light: bool) -> None:
    colors = make_theme(name, light=light).run_colors
    assert len(colors) >= 5
    assert len(set(colors)) == len(colors)
    for deficiency in (None, *MACHADO_2009):
        assert min_delta_e(colors, deficiency) >= MIN_DELTA_E, deficiency


@pytest.mark.parametrize("name", list(PALETTES))
@pytest.mark.parametrize("light", [False, True])
def test_palettes_readable_on_their_background(name: str, light: bool) -> None:
    """Run colours 3:1 against the background (WCAG 2.1 SC 1.4.11, graphical objects), text
    4.5:1 (SC 1.4.3), axes 3:1, the grid visible but quieter than the axes."""
    theme = make_theme(name, light=light)
    bg = LIGHT_BG if light else DARK_BG
    assert theme.dark is not light and theme.palette == name
    for c in theme.run_colors:
        assert contrast(c, bg) >= 3.0, c
    assert contrast(theme.text, bg) >= 4.5
    assert contrast(theme.faint, bg) >= 3.0
    assert contrast(theme.axis, bg) >= 3.0
    assert contrast(theme.highlight, bg) >= 3.0
    assert contrast(theme.bar, bg) >= 3.0
    assert contrast(theme.cursor, bg) >= 4.5
    assert 1.2 <= contrast(theme.grid, bg) < contrast(theme.axis, bg)


def test_default_palette_stays() -> None:
    """The default dark palette is the one users (and every screenshot) know: unchanged."""
    assert default_theme().run_colors == (
        "#ff8700",
        "#00afff",
        "#ff5f87",
        "#87d700",
        "#af87ff",
        "#00d7af",
        "#ffd700",
        "#ff5f5f",
        "#5f87ff",
        "#d787d7",
        "#afaf5f",
        "#5fd7ff",
    )
    assert default_theme() == make_theme(DEFAULT_PALETTE)
    light = make_theme(light=True)
    assert len(set(light.run_colors)) == len(light.run_colors) >= 10
    for c in (*light.run_colors, light.axis, light.text, light.faint, light.grid, light.cursor):
        assert exact_in_256(c), c
    assert min_delta_e(light.run_colors, None) > 1.5 * MIN_DELTA_E  # the dark one: 20.7


def test_light_variants_keep_the_hue_of_each_run() -> None:
    """Run i has the same colour family in both themes: its CIELAB hue angle moves little."""
    for palette in PALETTES.values():
        assert len(palette.light) == len(palette.dark)
        dark, light = cielab(linear_rgb(palette.dark)), cielab(linear_rgb(palette.light))
        for c, d, li in zip(palette.dark, dark, light, strict=True):
            if np.hypot(d[1], d[2]) < 5:  # a grey has no hue to keep
                continue
            turn = np.degrees(np.arctan2(li[2], li[1]) - np.arctan2(d[2], d[1]))
            assert abs((turn + 180) % 360 - 180) < 25, (palette.name, c)


def test_palette_names() -> None:
    names = list(PALETTES)
    assert names[0] == DEFAULT_PALETTE
    assert [next_palette(n) for n in names] == [*names[1:], names[0]]
    assert next_palette(names[0], -1) == names[-1]
    assert next_palette("no-such") == DEFAULT_PALETTE
    with pytest.raises(ValueError, match="unknown palette"):
        make_theme("no-such")


def test_colour_blind_palettes_need_24_bit() -> None:
    """Why `plot` prints the colour-blind-safe palettes with 24-bit escapes: their nearest
    256-colour neighbours (Rich's downgrade, what a 256-colour console prints) lose the safety."""

    def down(colors: Sequence[str]) -> list[str]:
        return [Color.parse(c).downgrade(ColorSystem.EIGHT_BIT).get_truecolor().hex for c in colors]

    lost = [
        (name, light)
        for name, p in PALETTES.items()
        if p.colour_blind_safe
        for light in (False, True)
        if min(min_delta_e(down(make_theme(name, light=light).run_colors), d) for d in MACHADO_2009)
        < MIN_DELTA_E
    ]
    assert ("okabe-ito", True) in lost and ("tol-muted", False) in lost
