"""One scalar tag as a chart overlaying every shown run in its colour.

Owns: `ScalarChart` (a focusable widget: Enter opens it full screen), `ChartSource` (what a
chart draws: by default one scalar tag of every shown run; custom scalars charts subclass it),
`ChartLine` and `chart_series`, which turns the board's prepared series into render/
`ChartSeries`. The widget keeps the versions it drew, so a live append redraws only charts whose
series moved; the drawn frame is cached by (size, options, versions, zoom) and a cursor move
only repaints the cursor's column on it (with 1,000 runs a full draw takes ~0.3 s, a cursor
repaint ~ms). A chart draws at most MAX_RUNS_DRAWN runs (the first shown runs holding its tag, in
name order) and says so under itself: 10,000 lines in a terminal chart are one smear, and drawing
them took seconds per chart (bench/bench_scale.py). The run filter chooses which runs are drawn.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.widget import Widget

from tuiboard.render.chart import ChartFrame, ChartOptions, ChartSeries, draw_chart
from tuiboard.ui.groups import GROUP_COLUMNS, grouped_lines
from tuiboard.ui.messages import OpenChart
from tuiboard.ui.view_state import METRIC

if TYPE_CHECKING:
    from tuiboard.ui.board import Board
    from tuiboard.ui.series import PreparedSeries


MAX_RUNS_DRAWN = 100
"""A Scalars chart draws the first this many shown runs holding its tag (a note says so)."""


def chart_series(
    board: Board, tag: str, every: bool = False
) -> tuple[list[PreparedSeries], list[ChartSeries]]:
    """Prepared series of the shown runs for `tag` (the first MAX_RUNS_DRAWN runs holding it;
    `every`: all of them), and the same as render/ ChartSeries."""
    cap = None if every else MAX_RUNS_DRAWN
    options = board.options
    prepared: list[PreparedSeries] = []
    series: list[ChartSeries] = []
    smoothing = options.smoothing > 0
    held = 0
    for name in board.visible_runs():
        if cap is not None and held >= cap:
            break
        p = board.cache.get(name, tag, options)
        if p is None:
            continue
        held += 1
        if not p.placeable:
            continue
        prepared.append(p)
        series.append(
            ChartSeries(
                label=name,
                color=board.colour_of(name),
                x=p.x,
                y=p.smoothed if smoothing else p.value,
                raw_y=p.value if smoothing else None,
            )
        )
    return prepared, series


@dataclass(frozen=True, slots=True)
class ChartLine:
    """One line of a chart with what the full screen's cursor table shows of it."""

    key: str
    """Unique among the chart's lines (the table row's key)."""
    run: str
    label: str
    """Untrusted: the run (Scalars) or "tag (run)" (custom scalars)."""
    prepared: PreparedSeries
    """x, step and wall time of each point (the cursor walks these x)."""
    series: ChartSeries
    """What is drawn: point for point the points of `prepared` (the same x)."""
    columns: tuple[np.ndarray, ...]
    """The table's numbers, one array per `ChartSource.columns`, aligned with `prepared`."""


class ChartSource:
    """What a chart draws. This base draws one scalar tag of every shown run (Scalars);
    a subclass may draw several tags per run, bands, and notes under the chart."""

    name_column = "run"
    columns: tuple[str, ...] = ("value", "smoothed")
    """The cursor table's number columns (after the name and the step)."""
    note = ""
    """Said on the full screen's hint line (how this chart departs from the options)."""
    left_out = 0
    """Grouped charts: runs drawn as themselves beyond the first MAX_RUNS_DRAWN, left out
    (as of the last `lines`)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        """The scalar tag drawn (untrusted; render/ cleans it)."""

    @property
    def title(self) -> str:
        return self.tag

    def grouped(self, board: Board) -> bool:
        """Whether this chart draws run groups (Scalars charts while `g` groups runs)."""
        return type(self) is ChartSource and board.grouping.active

    def table_columns(self, board: Board) -> tuple[str, ...]:
        """The cursor table's number columns now (a grouped chart has its own)."""
        return GROUP_COLUMNS if self.grouped(board) else self.columns

    def lines(self, board: Board) -> list[ChartLine]:
        if self.grouped(board):
            # Groups aggregate every shown run (not only the first MAX_RUNS_DRAWN).
            prepared, series = chart_series(board, self.tag, every=True)
            visible = board.visible_runs()
            found, self.left_out = grouped_lines(
                board.grouping, self.tag, visible, prepared, series, board.options, MAX_RUNS_DRAWN
            )
            return [ChartLine(*line) for line in found]
        prepared, series = chart_series(board, self.tag)
        return [
            ChartLine(p.run, p.run, p.run, p, s, (p.value, p.smoothed))
            for p, s in zip(prepared, series, strict=True)
        ]

    def version(self, board: Board, run: str) -> Hashable:
        """Changes whenever what this chart draws of `run` may have changed; None when the
        run has nothing for this chart."""
        v = board.cache.version_key(run, self.tag)
        return None if v == -1 else v

    def footer(self, board: Board, lines: list[ChartLine], width: int, full: bool) -> list[Text]:
        """Lines under the chart (warnings, a legend), each `width` cells; none here."""
        return []


class ScalarChart(Widget, can_focus=True):
    """A chart in the Scalars grid (or of any ChartSource)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open the chart full screen", show=False),
    ]
    FULL: ClassVar[bool] = False
    """The full-screen chart (its source may say more under it)."""

    def __init__(self, board: Board, tag: str | ChartSource, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self.source = tag if isinstance(tag, ChartSource) else ChartSource(tag)
        self.tag = self.source.title
        """The scalar tag drawn, or the chart's title (untrusted; render/ cleans it)."""
        self.sort_key = self.tag
        """Where the chart goes in its group's grid (Scalars: by tag)."""
        self.cursor_x: float | None = None
        self.x_range: tuple[float, float] | None = None
        self._drawn: dict[str, Hashable] = {}
        """The source's version of each shown run as last drawn: data_changed compares."""
        self._key: tuple[object, ...] | None = None
        self.frame: ChartFrame | None = None
        """The chart last drawn, without its cursor: where the plot sits (mouse -> x)."""
        self._empty = False
        """The last frame had no series (its first plot line shows a hint)."""
        self._foot: list[Text] = []
        """The source's lines under the chart, as last drawn."""
        self._text: Text | None = None
        self._text_cursor: float | None = None
        """The cursor painted on `_text` (a cursor move repaints from `frame`)."""
        self.renders = 0
        """How many times the chart was actually drawn (cache misses); tests and bench read it."""

    def data_changed(self, runs: set[str]) -> bool:
        """Refresh when a shown run among `runs` has a new version of this tag. True if so."""
        source = self.source
        capped = (
            len(self._drawn) >= MAX_RUNS_DRAWN
            and type(source) is ChartSource
            and not source.grouped(self.board)
        )
        last = max(self._drawn) if capped else ""
        for name in runs:
            if capped and name > last:
                continue  # after the runs drawn: not on this chart
            if not self.board.selection.is_visible(name):
                continue
            if source.version(self.board, name) != self._drawn.get(name):
                self.refresh()
                return True
        return False

    def chart_options(self) -> ChartOptions:
        options = self.board.options
        return ChartOptions(
            title=self.tag,
            log_y=options.log_y,
            ignore_outliers=options.ignore_outliers,
            x_mode=options.x_axis,
            x_label=self.board.x_label(self.source.tag) if options.x_axis == METRIC else "",
            x_range=self.x_range,
            cursor_x=self.cursor_x,
        )

    def draw(self, width: int, height: int) -> Text:
        """The chart at this size: the frame is cached by everything that changes the picture
        but the cursor; the cursor is painted on it (cached too, by cursor position)."""
        board = self.board
        source = self.source
        lines = source.lines(board)
        visible = board.visible_runs()
        held: list[tuple[str, Hashable]] = []
        capped = type(source) is ChartSource and not source.grouped(board)
        for run in visible:
            v = source.version(board, run)
            if v is not None:
                held.append((run, v))
                if len(held) >= MAX_RUNS_DRAWN and capped:
                    break
        versions = tuple(held)
        foot = source.footer(board, lines, width, self.FULL) if height > 3 else []
        if len(held) >= MAX_RUNS_DRAWN and capped and visible[-1] > held[-1][0]:
            foot = [
                *foot,
                _note(
                    f"first {MAX_RUNS_DRAWN} of {len(visible)} shown runs drawn"
                    " (filter runs to choose)",
                    width,
                ),
            ]
        if source.grouped(board) and source.left_out:
            foot = [
                *foot,
                _note(
                    f"first {MAX_RUNS_DRAWN} runs outside groups drawn,"
                    f" {source.left_out} left out (filter runs or group them)",
                    width,
                ),
            ]
        foot = foot[: max(0, height - 4)]
        chart_h = height - len(foot)
        key = (
            width,
            chart_h,
            board.options,
            versions,
            self.x_range,
            board.theme,
            board.grouping.key() if source.grouped(board) else None,
        )
        if key != self._key or self.frame is None:
            series = [line.series for line in lines]
            self.frame = draw_chart(series, self.chart_options(), width, chart_h, board.theme)
            self._empty = not series
            self._drawn = dict(versions)
            self._key = key
            self._foot = foot
            self._text = None
            self.renders += 1
        if self._text is not None and self._text_cursor == self.cursor_x:
            return self._text
        text = self.frame.text(self.cursor_x)
        if self._foot:
            text = Text("\n", no_wrap=True, overflow="crop").join([text, *self._foot])
        if self._empty and height > 1:
            lines = text.split("\n")
            if len(lines) > 1:
                hint = Text(" no data in the shown runs", style="dim")
                hint.truncate(width, pad=True)
                lines[1] = hint
                text = Text("\n", no_wrap=True, overflow="crop").join(lines)
        self._text = text
        self._text_cursor = self.cursor_x
        return text

    def render(self) -> Text:
        size = self.content_size
        return self.draw(size.width, size.height)

    def action_open(self) -> None:
        self.post_message(OpenChart(self.tag, self.source))

    def on_click(self, event: Click) -> None:
        if event.chain >= 2:
            self.post_message(OpenChart(self.tag, self.source))


def _note(message: str, width: int) -> Text:
    """A dim one-line note under a chart, cut to `width` cells."""
    note = Text(message, style="dim", no_wrap=True, overflow="ellipsis")
    note.truncate(width, pad=True)
    return note
