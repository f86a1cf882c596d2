"""One scalar tag as a chart overlaying every shown run in its colour.

Owns: `ScalarChart` (a focusable widget: Enter opens it full screen) and `chart_series`, which
turns the board's prepared series into render/ `ChartSeries`. The widget keeps the versions it
drew, so a live append redraws only charts whose series moved; the drawn frame is cached by
(size, options, versions, zoom) and a cursor move only repaints the cursor's column on it
(with 1,000 runs a full draw takes ~0.3 s, a cursor repaint ~ms).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.widget import Widget

from tuiboard.render.chart import ChartFrame, ChartOptions, ChartSeries, draw_chart
from tuiboard.ui.messages import OpenChart

if TYPE_CHECKING:
    from tuiboard.ui.board import Board
    from tuiboard.ui.series import PreparedSeries


def chart_series(board: Board, tag: str) -> tuple[list[PreparedSeries], list[ChartSeries]]:
    """Prepared series of the shown runs for `tag`, and the same as render/ ChartSeries."""
    options = board.options
    prepared: list[PreparedSeries] = []
    series: list[ChartSeries] = []
    smoothing = options.smoothing > 0
    for name in board.visible_runs():
        p = board.cache.get(name, tag, options)
        if p is None or not p.placeable:
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


class ScalarChart(Widget, can_focus=True):
    """A chart in the Scalars grid."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open the chart full screen", show=False),
    ]

    def __init__(self, board: Board, tag: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self.tag = tag
        """The scalar tag drawn (untrusted; render/ cleans it)."""
        self.cursor_x: float | None = None
        self.x_range: tuple[float, float] | None = None
        self._drawn: dict[str, int] = {}
        """series_version of each run as last drawn: data_changed compares against it."""
        self._key: tuple[object, ...] | None = None
        self.frame: ChartFrame | None = None
        """The chart last drawn, without its cursor: where the plot sits (mouse -> x)."""
        self._empty = False
        """The last frame had no series (its first plot line shows a hint)."""
        self._text: Text | None = None
        self._text_cursor: float | None = None
        """The cursor painted on `_text` (a cursor move repaints from `frame`)."""
        self.renders = 0
        """How many times the chart was actually drawn (cache misses); tests and bench read it."""

    def data_changed(self, runs: set[str]) -> bool:
        """Refresh when a shown run among `runs` has a new version of this tag. True if so."""
        cache = self.board.cache
        for name in runs:
            if not self.board.selection.is_visible(name):
                continue
            if cache.version_key(name, self.tag) != self._drawn.get(name, -1):
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
            x_range=self.x_range,
            cursor_x=self.cursor_x,
        )

    def draw(self, width: int, height: int) -> Text:
        """The chart at this size: the frame is cached by everything that changes the picture
        but the cursor; the cursor is painted on it (cached too, by cursor position)."""
        board = self.board
        prepared, series = chart_series(board, self.tag)
        versions = tuple((p.run, board.cache.version_key(p.run, self.tag)) for p in prepared)
        key = (width, height, board.options, versions, self.x_range, board.theme)
        if key != self._key or self.frame is None:
            self.frame = draw_chart(series, self.chart_options(), width, height, board.theme)
            self._empty = not series
            self._drawn = dict(versions)
            self._key = key
            self._text = None
            self.renders += 1
        if self._text is not None and self._text_cursor == self.cursor_x:
            return self._text
        text = self.frame.text(self.cursor_x)
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
        self.post_message(OpenChart(self.tag))

    def on_click(self, event: Click) -> None:
        if event.chain >= 2:
            self.post_message(OpenChart(self.tag))
