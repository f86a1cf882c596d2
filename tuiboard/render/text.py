"""Text summaries as TensorBoard's text plugin shows them, in the terminal.

Owns: `text_renderable` (one TextValue as Markdown or literal text, laid out by rank),
`text_lines` (the same as lines of exactly `width` cells, for scrolling and printing),
`plot_blocks` (what `tuiboard plot --kind text` prints).
Must not import: textual, tuiboard.ui.

Layout by rank, as TensorBoard's `text_plugin.text_array_to_html`: rank 0 is one block; rank 1
is one block per element, separated by a rule (TensorBoard draws a one-column table; a rule
keeps the full width for the text and costs one line instead of three); rank 2 is a table with
no header; rank > 2 is the slice [0, ..., 0, :, :] as a table, under a warning line.

Every cell is untrusted. It goes through `clean` before Markdown parses it, and every segment
Rich renders from it goes through `clean` again, because Markdown turns entities such as
`&#x202e;` into characters that were not in the source. Cells become `Text` or `Markdown`,
never markup strings, so "[red]x[/red]" shows as written. Markdown links show as
"text (url)", never as OSC 8 hyperlinks: the URL is untrusted and a clickable link hides where
it goes. Raw HTML in Markdown is dropped (TensorBoard sanitizes it away too).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.constrain import Constrain
from rich.measure import Measurement
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from tuiboard.core.types import TEXT, TextValue
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.plot_request import PlotRequest, block_head
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme, default_theme, run_color

WARNING_MARK = "⚠"


class _Cleaned:
    """A cell's renderable whose every segment is cleaned of controls, escapes and links.

    `measure` stands in for the renderable when a table sizes its columns (Markdown has no
    measure of its own, so every Markdown column would get an equal share)."""

    def __init__(self, inner: RenderableType, measure: Text) -> None:
        self.inner = inner
        self.measure = measure

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for seg in console.render(self.inner, options):
            if seg.control:
                continue  # cursor moves; Markdown and Text never make them
            text, style = seg.text, seg.style
            if not text.isprintable():
                safe = clean(text, keep_newlines=True)
                # Removing zero-width characters must not shift a table's borders.
                text = safe + " " * (cell_len(text) - cell_len(safe))
            if style is not None and style.link:
                style = style.update_link(None)
            yield Segment(text, style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.measure)


def _cell(s: str, markdown: bool) -> RenderableType:
    s = clean(s, keep_newlines=True)
    if not markdown:
        return _Cleaned(Text(s), Text(s))
    from rich.markdown import Markdown  # markdown-it and pygments: only when drawing Markdown

    return _Cleaned(Markdown(s, hyperlinks=False), Text(s))


def _table(cells: Sequence[str], rows: int, cols: int, markdown: bool, theme: Theme) -> Table:
    table = Table(
        show_header=False,
        show_lines=True,
        box=box.SQUARE,
        border_style=theme.grid if theme.color else "",
        padding=(0, 1),
    )
    for _ in range(cols):
        table.add_column(overflow="fold")
    for r in range(rows):
        table.add_row(*(_cell(c, markdown) for c in cells[r * cols : (r + 1) * cols]))
    return table


def text_renderable(
    value: TextValue, width: int, *, markdown: bool = True, theme: Theme | None = None
) -> RenderableType:
    """`value` laid out by rank (see the module docstring), at most `width` cells wide.

    `markdown`: render each cell as Markdown (headings, lists, code, tables) as TensorBoard's
    "Enable Markdown" does; False shows the literal text with its line breaks."""
    theme = theme or default_theme()
    shape = tuple(value.shape)
    cells = value.cells
    if math.prod(shape) != len(cells):
        shape = (len(cells),)  # a malformed value: show every cell rather than guess
    parts: list[RenderableType] = []
    if len(shape) > 2:
        rows, cols = shape[-2], shape[-1]
        cells = cells[: rows * cols]  # [0, ..., 0, i, j] is cell i * cols + j, row-major
        at = ", ".join(["0"] * (len(shape) - 2) + [":", ":"])
        dims = "x".join(map(str, shape))
        parts.append(
            Text(
                f"{WARNING_MARK} rank-{len(shape)} text ({dims}): only 2-D tables are shown,"
                f" this is the slice [{at}]",
                style=f"bold {theme.nan}" if theme.color else "",
            )
        )
        shape = (rows, cols)
    if not cells:
        parts.append(Text("(empty)", style=theme.faint if theme.color else ""))
    elif len(shape) == 0:
        parts.append(_cell(cells[0], markdown))
    elif len(shape) == 1:
        rule = Rule(characters="─", style=theme.grid if theme.color else "")
        for i, c in enumerate(cells):
            if i:
                parts.append(rule)
            parts.append(_cell(c, markdown))
    else:
        parts.append(_table(cells, shape[0], shape[1], markdown, theme))
    return Constrain(Group(*parts), max(width, 1))


def _console(width: int) -> Console:
    """A console that only lays out: no terminal, no environment, no markup or emoji."""
    return Console(
        file=io.StringIO(),
        width=width,
        color_system="truecolor",
        force_terminal=False,
        force_jupyter=False,
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
        _environ={},
    )


def text_lines(value: TextValue, width: int, *, markdown: bool = True, theme: Theme) -> list[Text]:
    """`text_renderable(value)` as lines of exactly `width` cells; unstyled when not
    `theme.color`."""
    if width <= 0:
        return []
    console = _console(width)
    renderable = text_renderable(value, width, markdown=markdown, theme=theme)
    out = []
    for segs in console.render_lines(renderable, console.options.update_width(width), pad=True):
        line = Text(no_wrap=True, overflow="crop")
        for seg in segs:
            if not seg.control:
                line.append(seg.text, style=seg.style if theme.color and seg.style else "")
        out.append(fit_text(line, width))
    return out


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per (tag, run), tags sorted, runs in `req.runs` order: a head line
    `tag · run · step N`, then the text at `req.step` (Markdown), every line `req.width` cells.
    The whole text is printed: `req.height` is for charts and does not cut it."""
    theme = req.theme
    tags = sorted({t for r in req.runs for t in r.tags(TEXT) if req.tag_ok(t)})
    blocks: list[Text] = []
    for tag in tags:
        for i, run in enumerate(req.runs):
            if tag not in run.tags(TEXT):
                continue
            value = req.value(run, TEXT, tag, TextValue)
            if value is None:
                continue
            colour = req.colours.get(run.name) or run_color(theme, i)
            head = block_head(theme, tag, run.name, colour, value.step)
            lines = [fit_text(head, req.width)]
            lines += text_lines(value, req.width, markdown=True, theme=theme)
            blocks.append(join_lines(lines))
    return blocks
