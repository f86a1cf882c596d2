"""Colours for every renderer, as Rich colour strings.

Owns: the Theme record, the default palette and how a run index maps to a colour.
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


@dataclass(frozen=True, slots=True)
class Theme:
    """Colours used by the renderers; Rich colour strings."""

    run_colors: tuple[str, ...]
    """At least 10 distinct colours; runs cycle through them by index."""
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


def default_theme(color: bool = True) -> Theme:
    """The built-in dark-terminal theme; `color=False` gives a theme that draws with no style."""
    return Theme(
        run_colors=_RUN_COLORS,
        axis="#808080",
        text="#d7d7d7",
        faint="#6c6c6c",
        grid="#3a3a3a",
        cursor="#ffffff",
        nan="#ff0000",
        color=color,
    )


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
