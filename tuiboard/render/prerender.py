"""Rendering a renderable to segments ahead of time, on whatever thread draws it.

Owns: `Prerendered` and `prerender`. A card body drawn on a worker thread (a half-block image:
hundreds of styled runs) is turned into lines of Segments there, so that painting it on the UI
thread only yields them: no span splitting or style resolution on the event loop.
Must not import: textual.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.segment import Segment

_local = threading.local()


class Prerendered:
    """Lines of segments, each at most `width` cells."""

    __slots__ = ("lines", "width")

    def __init__(self, lines: list[list[Segment]], width: int) -> None:
        self.lines = lines
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        new_line = Segment.line()
        for line in self.lines:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)


def _console() -> Console:
    console: Console | None = getattr(_local, "console", None)
    if console is None:  # one per thread: a Console is not meant to be shared between threads
        console = Console(
            color_system="truecolor",
            force_terminal=True,
            legacy_windows=False,
            highlight=False,
            markup=False,
            emoji=False,
        )
        _local.console = console
    return console


def prerender(renderable: RenderableType, width: int) -> Prerendered:
    """`renderable` laid out at `width` cells, as segments (colours kept as given: the app maps
    them to what the terminal has when it paints)."""
    console = _console()
    options = console.options.update(width=width, height=None, no_wrap=True)
    lines = console.render_lines(renderable, options, pad=False, new_lines=False)
    return Prerendered(lines, width)
