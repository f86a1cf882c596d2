"""Colours for every renderer, as Rich colour strings.

Owns: the Theme record, the run-colour palettes (the default one and colour-blind-safe ones,
each with a variant for dark and one for light backgrounds) and how a run index maps to a colour.
Must not import: textual, tuiboard.ui.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace

# Distinct, readable on dark backgrounds, and exact in the xterm 256-colour palette
# (every entry is one of its 6x6x6 cube colours), so 256-colour terminals show the same hues.
_RUN_COLORS: tuple[str, ...] = (
    "#ff8700",  # orange (TensorBoard's first run colour family)
    "#00afff",  # sky blue
    "#ff5f87",  # pink
    "#87d700",  # lime
    "#af87ff",  # lavender
    "#00d7af",  # teal
    "#ffd700",  # gold
    "#ff5f5f",  # salmon
    "#5f87ff",  # blue
    "#d787d7",  # orchid
    "#afaf5f",  # olive
    "#5fd7ff",  # cyan
)
# The same families, index for index, for light backgrounds (textual-light's #E0E0E0 and
# lighter): cube colours again, each at least 3:1 against #E0E0E0 (WCAG 2.1 SC 1.4.11, non-text
# contrast), so a run keeps its hue when the theme flips.
_RUN_COLORS_LIGHT: tuple[str, ...] = (
    "#af5f00",  # orange
    "#005faf",  # blue
    "#d7005f",  # pink
    "#5f8700",  # green
    "#875fd7",  # lavender
    "#00875f",  # teal
    "#875f00",  # ochre
    "#d70000",  # red
    "#5f5f87",  # slate blue
    "#af00af",  # orchid
    "#5f5f00",  # olive
    "#0087af",  # cyan
)

# Colour-blind-safe palettes. The dark variants are the published colours, in the published
# order, less those under 3:1 against a dark background (#121212, textual-dark's): a line that
# faint is not read at all. The published colours are made for white paper, and most of them are
# under 3:1 against a light terminal background too (Okabe-Ito's yellow is 1.0:1 on #E0E0E0); the
# light variants keep each colour's CIELAB a* and b* (its hue and chroma) and map the palette's L*
# range linearly onto [20, 52], so every colour reaches 3:1 on #E0E0E0 and the lightness steps
# between colours, which is what a colour-blind reader tells them apart by, keep their order.
# Light variants are index for index the dark ones: a run keeps its hue when the theme flips.
# tests/render/test_theme.py checks both variants under simulated protanopia and deuteranopia.
_OKABE_ITO = (
    # Okabe & Ito, "Color Universal Design (CUD): how to make figures and presentations that are
    # friendly to colorblind people" (2008), https://jfly.uni-koeln.de/color/ ; black left out
    # (it is the light theme's text colour and invisible on a dark background).
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#009e73",  # bluish green
    "#f0e442",  # yellow
    "#0072b2",  # blue
    "#d55e00",  # vermillion
    "#cc79a7",  # reddish purple
)
_OKABE_ITO_LIGHT = ("#844e00", "#006191", "#00532f", "#828000", "#00356e", "#7f1100", "#792d5b")
_TOL_BRIGHT = (
    # Paul Tol, "Colour Schemes" (SRON technical note SRON/EPS/TN/09-002, 2021), the "bright"
    # qualitative scheme, https://personal.sron.nl/~pault/#sec:qualitative
    "#4477aa",  # blue
    "#66ccee",  # cyan
    "#228833",  # green
    "#ccbb44",  # yellow
    "#ee6677",  # red
    "#aa3377",  # purple
    "#bbbbbb",  # grey
)
_TOL_BRIGHT_LIGHT = ("#004270", "#0088a7", "#004f00", "#847900", "#a6223f", "#6d0043", "#797979")
_TOL_MUTED = (
    # Paul Tol's "muted" qualitative scheme (same note); indigo #332288 and wine #882255 are left
    # out (1.5:1 and 2.2:1 against #121212; the light variant keeps the same seven).
    "#88ccee",  # cyan
    "#44aa99",  # teal
    "#117733",  # green
    "#999933",  # olive
    "#ddcc77",  # sand
    "#cc6677",  # rose
    "#aa4499",  # purple
)
_TOL_MUTED_LIGHT = ("#337e9d", "#006456", "#003c00", "#525700", "#897d2c", "#83233a", "#68005c")
_IBM = (
    # The "IBM Design Library" colour-blind-safe palette (ultramarine, indigo, magenta, orange,
    # gold), as collected with Okabe-Ito and Tol's in David Nichols' "Coloring for Colorblindness",
    # https://davidmathlogic.com/colorblind/
    "#648fff",
    "#785ef0",
    "#dc267f",
    "#fe6100",
    "#ffb000",
)
_IBM_LIGHT = ("#004baf", "#01179c", "#820038", "#a40000", "#af6e00")


@dataclass(frozen=True, slots=True)
class Palette:
    """A named set of run colours, one variant per background."""

    name: str
    """What `--palette`, the settings file and the command palette call it."""
    title: str
    """One line for the command palette and help."""
    dark: tuple[str, ...]
    """Colours for a dark background; runs cycle through them."""
    light: tuple[str, ...]
    """Colours for a light background."""
    colour_blind_safe: bool
    """Checked by the tests under simulated protanopia and deuteranopia."""


DEFAULT_PALETTE = "default"
PALETTES: dict[str, Palette] = {
    p.name: p
    for p in (
        Palette(
            DEFAULT_PALETTE,
            "12 bright colours (not colour-blind safe)",
            _RUN_COLORS,
            _RUN_COLORS_LIGHT,
            False,
        ),
        Palette(
            "okabe-ito", "Okabe-Ito, colour-blind safe (7)", _OKABE_ITO, _OKABE_ITO_LIGHT, True
        ),
        Palette(
            "tol-bright",
            "Paul Tol bright, colour-blind safe (7)",
            _TOL_BRIGHT,
            _TOL_BRIGHT_LIGHT,
            True,
        ),
        Palette(
            "tol-muted",
            "Paul Tol muted, colour-blind safe (7)",
            _TOL_MUTED,
            _TOL_MUTED_LIGHT,
            True,
        ),
        Palette("ibm", "IBM design library, colour-blind safe (5)", _IBM, _IBM_LIGHT, True),
    )
}
"""Every palette by name, in the order `next_palette` cycles them."""


@dataclass(frozen=True, slots=True)
class Theme:
    """Colours used by the renderers; Rich colour strings."""

    run_colors: tuple[str, ...]
    """At least 5 distinct colours (the default palette: 12); runs cycle through them by index."""
    axis: str
    """Axis lines and tick marks."""
    text: str
    """Titles and labels."""
    faint: str
    """Secondary text (units, hints)."""
    grid: str
    """Grid lines and empty-area dots."""
    cursor: str
    """The vertical cursor line of a zoomed chart."""
    nan: str
    """NaN / inf markers."""
    color: bool = True
    """False (NO_COLOR, or output piped): renderers emit no style at all, characters only."""
    highlight: str = "#ffd700"
    """Marks that must stand out from every run colour (the graph's traced nodes)."""
    bar: str = "#5f87ff"
    """Bars of counts (the graph's op histogram)."""
    background: str = "#000000"
    """What far things fade toward (the mesh's depth cue): about the background's colour."""
    palette: str = DEFAULT_PALETTE
    """The name of the palette `run_colors` came from (a key of PALETTES)."""
    dark: bool = True
    """Drawn for a dark background (False: a light one)."""


def make_theme(palette: str = DEFAULT_PALETTE, *, light: bool = False, color: bool = True) -> Theme:
    """The theme for `palette` (a key of PALETTES; ValueError otherwise) on a dark background,
    or a light one with `light`; `color=False` gives a theme that draws with no style."""
    chosen = PALETTES.get(palette)
    if chosen is None:
        raise ValueError(f"unknown palette {palette!r}: one of {', '.join(PALETTES)}")
    if light:
        return Theme(
            run_colors=chosen.light,
            axis="#585858",
            text="#262626",
            faint="#626262",
            grid="#bcbcbc",
            cursor="#000000",
            nan="#ff0000",
            color=color,
            highlight="#af5f00",
            bar="#005fd7",
            background="#e0e0e0",
            palette=chosen.name,
            dark=False,
        )
    return Theme(
        run_colors=chosen.dark,
        axis="#808080",
        text="#d7d7d7",
        faint="#6c6c6c",
        grid="#3a3a3a",
        cursor="#ffffff",
        nan="#ff0000",
        color=color,
        palette=chosen.name,
    )


def default_theme(color: bool = True) -> Theme:
    """The built-in dark-terminal theme; `color=False` gives a theme that draws with no style."""
    return make_theme(color=color)


def palette_names() -> list[str]:
    """Every palette's name, the default first."""
    return list(PALETTES)


def next_palette(name: str, step: int = 1) -> str:
    """The palette after `name` in PALETTES (`step=-1`: before it); an unknown name: the first."""
    names = list(PALETTES)
    if name not in PALETTES:
        return names[0]
    return names[(names.index(name) + step) % len(names)]


def run_color(theme: Theme, index: int) -> str:
    """The colour of the run at `index` (cycles through the palette; negative indexes wrap)."""
    colors = theme.run_colors
    return colors[index % len(colors)]


def color_wanted(stream: object = None, force: bool | None = None) -> bool:
    """Whether output to `stream` (default stdout) should be coloured: `force` wins, then
    NO_COLOR (any non-empty value disables), then whether the stream is a terminal."""
    if force is not None:
        return force
    if os.environ.get("NO_COLOR"):
        return False
    target = sys.stdout if stream is None else stream
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


def without_color(theme: Theme) -> Theme:
    """The same theme with styles turned off."""
    return replace(theme, color=False)
