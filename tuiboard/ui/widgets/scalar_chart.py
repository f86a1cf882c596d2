"""One scalar tag as a chart overlaying every shown run in its colour.

Owns: `ScalarChart` (a focusable widget: Enter opens it full screen), `ChartSource` (what a
chart draws: by default one scalar tag of every shown run; custom scalars charts subclass it),
`ChartLine` and `chart_series`, which turns the board's prepared series into render/
`ChartSeries`. The widget keeps the versions it drew, so a live append redraws only charts whose
series moved; the drawn frame is cached by (size, options, versions, zoom) and a cursor move
only repaints the cursor's column on it (with 1,000 runs a full draw takes ~0.3 s, a cursor
repaint ~ms). A chart draws at most MAX_RUNS_DRAWN runs (the first shown runs holding its tag, in
name order) and says so under itself: 10,000 lines in a terminal chart are one smear, and drawing
them took seconds per chart (bench/bench_scale.py). The run filter chooses which runs are drawn;
pinned runs come first among them (Board.chart_runs) and are drawn last, on top.
The linked cursor (Board.cursor, in the x axis' units: the same step, the same time since each
run's start, or the same wall time) is drawn on every grid chart with a line under it holding
each run's value there; `[`/`]` (`{`/`}`: 10 points) or a click move it, backspace removes it.
Under a step-metric x axis there is none (each chart's x is its own metric).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.widget import Widget

from tuiboard.render.chart import ChartFrame, ChartOptions, ChartSeries, draw_chart
from tuiboard.render.numbers import fmt_duration, fmt_value
from tuiboard.ui.groups import GROUP_COLUMNS, grouped_lines
from tuiboard.ui.messages import CursorMoved, OpenChart
from tuiboard.ui.series import index_at
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
    pinned = board.selection.pinned
    for name in board.chart_runs():
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
                pinned=name in pinned,
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
        Binding("left_square_bracket", "cursor(-1)", "Linked cursor: previous point", show=False),
        Binding("right_square_bracket", "cursor(1)", "Linked cursor: next point", show=False),
        Binding("left_curly_bracket", "cursor(-10)", "Linked cursor: 10 points back", show=False),
        Binding("right_curly_bracket", "cursor(10)", "Linked cursor: 10 points on", show=False),
        Binding("backspace", "clear_cursor", "Linked cursor off", show=False),
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
        for run in board.chart_runs():
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
        cursor = self.cursor_x if self.FULL else board.linked_cursor()
        readout = int(cursor is not None and not self.FULL and height > 6)
        foot = foot[: max(0, height - 4 - readout)]
        chart_h = height - len(foot) - readout
        key = (
            width,
            chart_h,
            board.options,
            versions,
            self.x_range,
            board.theme,
            board.grouping.key() if source.grouped(board) else None,
            tuple(sorted(board.selection.pinned)),
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
        if self._text is not None and self._text_cursor == cursor:
            return self._text
        text = self.frame.text(cursor)
        below = [*self._foot]
        if readout and cursor is not None:
            below.append(cursor_readout(lines, cursor, board.options.x_axis, width))
        if below:
            text = Text("\n", no_wrap=True, overflow="crop").join([text, *below])
        if self._empty and height > 1:
            lines = text.split("\n")
            if len(lines) > 1:
                hint = Text(" no data in the shown runs", style="dim")
                hint.truncate(width, pad=True)
                lines[1] = hint
                text = Text("\n", no_wrap=True, overflow="crop").join(lines)
        self._text = text
        self._text_cursor = cursor
        return text

    def render(self) -> Text:
        size = self.content_size
        return self.draw(size.width, size.height)

    def action_open(self) -> None:
        self.post_message(OpenChart(self.tag, self.source))

    def on_click(self, event: Click) -> None:
        """A click on the plot puts the linked cursor there; a double click opens the chart."""
        if event.chain >= 2:
            self.post_message(OpenChart(self.tag, self.source))
            return
        offset = event.get_content_offset(self)
        frame = self.frame
        if offset is None or frame is None or frame.canvas is None or self.FULL:
            return
        col = offset.x - frame.left
        if 0 <= col < frame.plot_cols and 1 <= offset.y <= frame.plot_rows:
            self._move_cursor_to(frame.x_at(col))

    # -- the linked cursor -------------------------------------------------------------------

    def cursor_xs(self) -> np.ndarray:
        """Sorted unique x of this chart's lines: the positions its cursor keys walk."""
        parts = [
            line.prepared.x[np.isfinite(line.prepared.x)]
            for line in self.source.lines(self.board)
            if len(line.prepared)
        ]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0)

    def _move_cursor_to(self, x: float) -> None:
        xs = self.cursor_xs()
        if xs.shape[0] == 0 or self.board.options.x_axis == METRIC:
            return
        i = min(int(np.searchsorted(xs, x, side="left")), xs.shape[0] - 1)
        if i > 0 and x - float(xs[i - 1]) <= float(xs[i]) - x:
            i -= 1
        self.board.set_cursor(float(xs[i]))
        self.post_message(CursorMoved())

    def action_cursor(self, delta: int) -> None:
        """Move the linked cursor over this chart's points (none yet: start at the last)."""
        xs = self.cursor_xs()
        if xs.shape[0] == 0 or self.board.options.x_axis == METRIC:
            return
        x = self.board.linked_cursor()
        if x is None:
            j = xs.shape[0] - 1
        else:
            i = int(np.searchsorted(xs, x, side="left"))
            if delta < 0:
                j = max(0, i + delta)
            else:
                at = i < xs.shape[0] and float(xs[i]) == x
                j = min(xs.shape[0] - 1, i + delta - (0 if at else 1))
        self.board.set_cursor(float(xs[j]))
        self.post_message(CursorMoved())

    def action_clear_cursor(self) -> None:
        self.board.set_cursor(None)
        self.post_message(CursorMoved())


def cursor_readout(lines: list[ChartLine], x: float, x_axis: str, width: int) -> Text:
    """The line under a grid chart while the linked cursor is on: where it is, then each
    line's drawn value at its point nearest the cursor (runs whose points do not reach the
    cursor are left out), pinned runs first, in the run's colour; cut to `width`."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(x_text(x, x_axis), style="bold")
    shown = sorted(lines, key=lambda line: not line.series.pinned)
    for line in shown:
        p = line.prepared
        if len(p) == 0 or not (float(p.x[0]) <= x <= float(p.x[-1])):
            continue
        i = index_at(p, x)
        if i is None:
            continue
        text.append("  ")
        text.append("■", style=line.series.color)
        text.append(f" {fmt_value(float(line.series.y[i]))}")
    text.truncate(width, pad=True)
    return text


def x_text(x: float, x_axis: str) -> str:
    """The cursor's x as the axis counts it: a step, a duration since start, or a clock time."""
    if x_axis == "relative":
        return f"+{fmt_duration(x)}"
    if x_axis == "wall":
        return time.strftime("%H:%M:%S", time.localtime(x))
    return f"step {int(x)}" if float(x).is_integer() else f"x {x:.6g}"


def _note(message: str, width: int) -> Text:
    """A dim one-line note under a chart, cut to `width` cells."""
    note = Text(message, style="dim", no_wrap=True, overflow="ellipsis")
    note.truncate(width, pad=True)
    return note
