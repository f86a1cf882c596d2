"""The board `%tuiboard` and `tuiboard.show()` display: a title, the summary table and the scalar
charts, as one Rich renderable, and its two outputs.

Owns: BoardOptions (what a board shows, validated), `board_renderable` (the summary table of
headless/summary.py and the charts of headless/plot.py, `columns` per row), `to_html` (Rich's
exporter, one <pre> of inline-styled spans on the dark background the palette is for), `to_text`
(ANSI or plain, for a terminal) and Board (the object IPython displays: HTML in notebooks, text
in a terminal).
Untrusted text (run names, tags, paths) reaches the output only as Rich Text, never markup,
cleaned of control characters; Rich's HTML exporter escapes it (`<script>` shows as text).
Must not import: IPython, textual.
"""

from __future__ import annotations

import io
import math
import re
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from tuiboard.core.logdir import Logdir
    from tuiboard.headless.summary import Summarizer

TABLE_ROWS = 30
"""Up to this many runs the summary is a Rich Table; above, the same columns as styled aligned
lines (a Table's layout costs ~1.5 ms a row, paid again at every live update)."""
MAX_CHARTS = 36
"""Charts on one board at most (a logdir with hundreds of tags: choose some with --tags)."""
_HTML_FORMAT = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:1.25;margin:0;padding:0.6em;'
    "background:#1c1c1c;color:#d7d7d7;font-family:Menlo,'DejaVu Sans Mono',consolas,"
    "'Courier New',monospace\">{code}</pre>"
)
"""Rich's export as one <pre> (no <html>/<style>), on the dark background the palette is for."""
_BRAILLE = re.compile("([\u2800-\u28ff])")
_CELL = r'<span style="display:inline-block;width:1ch">\1</span>'
"""A braille character boxed to one cell of the <pre>'s monospace font (`1ch`). Few monospace
fonts have braille (DejaVu Sans Mono, Menlo, Consolas, Courier New have none), so a browser
takes it from another font with its own width (DejaVu Sans: 1500 units where DejaVu Sans Mono's
cell is 1233; Apple Braille on macOS), and without the box every chart row would run past its
axis and the charts beside it. A terminal has a grid; the browser needs one per glyph."""


@dataclass(frozen=True, slots=True)
class BoardOptions:
    """What a board shows; validated by `check`."""

    logdirs: tuple[str, ...] = (".",)
    tags: str | None = None
    """Regex: the charts and the table's tag columns (default: every tag; loss/accuracy-like
    columns)."""
    runs: str | None = None
    """A regex on run names or a run query, as `summary --runs` takes."""
    smoothing: float = 0.6
    width: int = 100
    """Cells across the whole board; the charts share it, `columns` per row."""
    height: int = 12
    """Lines per chart."""
    columns: int = 2

    def check(self) -> None:
        """Raise ValueError on a bad regex, smoothing or size."""
        if self.tags:
            try:
                re.compile(self.tags)
            except re.error as e:
                raise ValueError(f"bad --tags regex {self.tags!r}: {e}") from None
        from tuiboard.headless.run_query import runs_problem

        problem = runs_problem(self.runs)
        if problem is not None:
            raise ValueError(problem)
        if not 0.0 <= self.smoothing < 1.0 or math.isnan(self.smoothing):
            raise ValueError(f"--smoothing must be in [0, 1), not {self.smoothing}")
        if self.columns < 1 or self.chart_width < 20 or self.height < 5:
            raise ValueError("each chart needs at least 20 cells (--width/--columns) and 5 lines")

    @property
    def chart_width(self) -> int:
        return (self.width - 2 * (self.columns - 1)) // self.columns


def _chart_tags(logdir: Logdir, opts: BoardOptions) -> tuple[str | None, int]:
    """(the tag regex plot_texts gets, how many matching tags it leaves out): at most
    MAX_CHARTS charts, the first tags by name."""
    from tuiboard.core.types import SCALARS

    run_re = re.compile(opts.runs) if opts.runs else None
    tag_re = re.compile(opts.tags) if opts.tags else None
    names = sorted(
        {
            t
            for r in logdir.runs
            if run_re is None or run_re.search(r.name)
            for t in r.tags(SCALARS)
            if tag_re is None or tag_re.search(t)
        }
    )
    if len(names) <= MAX_CHARTS:
        return opts.tags, 0
    kept = "|".join(re.escape(t) for t in names[:MAX_CHARTS])
    return f"^(?:{kept})$", len(names) - MAX_CHARTS


MAX_HTML_WIDTH = 1000
"""Cells: the widest the HTML board grows for its summary table."""


def _line(text: str, style: str) -> Text:
    """A line never wrapped nor cropped (a long path scrolls in the notebook's <pre>)."""
    from rich.text import Text

    return Text(text, style=style, no_wrap=True, overflow="ignore")


def board_renderable(
    logdir: Logdir, opts: BoardOptions, title: str, summarizer: Summarizer | None = None
) -> RenderableType:
    """The title, the summary table, then the scalar charts (`columns` per row). A summarizer
    kept between calls (a live view's) recomputes only the runs that changed."""
    from rich.console import Group
    from rich.text import Text

    from tuiboard.headless.plot import grid, plot_texts
    from tuiboard.headless.summary import Summarizer, rich_table, styled_lines
    from tuiboard.render.sanitize import clean
    from tuiboard.render.theme import default_theme

    summarizer = summarizer or Summarizer(tags_re=opts.tags, runs_query=opts.runs)
    rows, tags = summarizer.rows(logdir, time.time())
    parts: list[RenderableType] = [_line(clean(title), "bold")]
    for w in logdir.warnings:
        parts.append(_line(clean(f"warning: {w.file}: {w.message}"), "yellow"))
    if not rows:
        where = ", ".join(clean(p) for p in opts.logdirs)
        parts.append(_line(f"no runs found in {where} (yet)", "dim"))
        return Group(*parts)
    parts.append(rich_table(rows, tags) if len(rows) <= TABLE_ROWS else styled_lines(rows, tags))
    chart_re, left_out = _chart_tags(logdir, opts)
    blocks = plot_texts(
        logdir,
        tags=chart_re,
        runs=opts.runs,
        smoothing=opts.smoothing,
        width=opts.chart_width,
        height=opts.height,
        theme=default_theme(True),
    )
    for block in grid(blocks, opts.columns):
        parts.append(Text(""))
        parts.append(block)
    if left_out:
        note = f"... and {left_out} more tags: choose with --tags REGEX (tags= in show())"
        parts += [Text(""), Text(note, style="dim")]
    return Group(*parts)


def _console(width: int, color: bool, record: bool = False) -> Any:
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        record=record,
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color,
        force_jupyter=False,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )


def to_html(renderable: RenderableType, width: int) -> str:
    """The renderable as one <pre> of inline-styled spans (Rich escapes the text), each braille
    character boxed to one cell (_CELL), at least `width` cells wide and as wide as the summary
    table needs."""
    from rich.measure import Measurement

    # The page scrolls sideways: the summary table gets its natural width (at `width` Rich
    # squeezed a dozen tag columns to "…" and cut run names); the charts keep theirs.
    probe = _console(MAX_HTML_WIDTH, color=False)
    natural = min(Measurement.get(probe, probe.options, renderable).maximum, MAX_HTML_WIDTH)
    console = _console(max(width, natural), color=True, record=True)
    console.print(renderable, crop=False)
    # Rich's default export theme is for a white page (its "blue" is #000080, unreadable on
    # the board's dark background); its SVG export theme is a dark terminal's.
    from rich.terminal_theme import SVG_EXPORT_THEME

    page = str(
        console.export_html(theme=SVG_EXPORT_THEME, inline_styles=True, code_format=_HTML_FORMAT)
    )
    return _BRAILLE.sub(_CELL, page)


def to_text(renderable: RenderableType, width: int, color: bool) -> str:
    """The renderable as terminal text, ANSI-coloured or plain."""
    console = _console(width, color=color)
    console.print(renderable, crop=False)
    return str(console.file.getvalue())


class Board:
    """What `display()` shows: HTML for notebooks, text for a terminal (`__repr__`)."""

    def __init__(self, renderable: RenderableType, width: int, text: str | None) -> None:
        self.renderable = renderable
        self.width = width
        self._text = text
        """The text/plain form; None: the whole board as terminal text (computed when asked)."""

    def _repr_html_(self) -> str:
        return to_html(self.renderable, self.width)

    def __repr__(self) -> str:
        if self._text is not None:
            return self._text
        from tuiboard.render.theme import color_wanted

        return to_text(self.renderable, self.width, color_wanted(sys.stdout)).rstrip("\n")


def title_line(opts: BoardOptions, logdir: Logdir, live: float | None) -> str:
    where = " ".join(opts.logdirs)
    n = len(logdir.runs)
    head = f"tuiboard · {where} · {n} run{'' if n == 1 else 's'} · {time.strftime('%H:%M:%S')}"
    if live is not None:
        head += f" · updating every {live:g} s (%tuiboard --stop)"
    return head


def make_board(
    logdir: Logdir,
    opts: BoardOptions,
    *,
    live: float | None,
    kernel: bool,
    summarizer: Summarizer | None = None,
) -> Board:
    """The board as it is now; in a kernel its text/plain form is one line (notebooks show the
    HTML; a terminal gets the whole board as text)."""
    title = title_line(opts, logdir, live)
    renderable = board_renderable(logdir, opts, title, summarizer)
    return Board(renderable, opts.width, title if kernel else None)
