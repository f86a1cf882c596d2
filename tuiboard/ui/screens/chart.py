"""One scalar chart full screen, with a cursor and TensorBoard's tooltip as a table.

Owns: `ChartScreen`. The cursor walks the x values of the chart's lines (left/right); the table
shows each line's nearest point (step, raw, smoothed, time; the chart's source names the number
columns: a margin chart shows value, lower and upper). Zoom narrows the x range around the
cursor; live data keeps the cursor and zoom where the user put them (a cursor on the last point
follows new points, like `tail -f`). The cursor is the linked one (Board.cursor): it opens
where the grid's cursor is, and where the user moves it every grid chart's cursor goes.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from tuiboard.render.numbers import fmt_duration
from tuiboard.render.sanitize import clean
from tuiboard.ui.groups import GROUP_KEY, NO_STEP
from tuiboard.ui.messages import CursorMoved, GroupToggled
from tuiboard.ui.series import index_at
from tuiboard.ui.view_state import METRIC
from tuiboard.ui.widgets.scalar_chart import ChartLine, ChartSource, ScalarChart

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

ZOOM_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class CursorRow:
    """One line's point nearest the cursor: the numbers the table shows."""

    run: str
    step: int
    value: float
    smoothed: float
    """The drawn value (the raw one where the chart is not smoothed: margin charts)."""
    wall_time: float
    relative: float
    """Seconds since the line's first point."""
    key: str = ""
    """The line's key (the run, on Scalars charts)."""
    columns: tuple[float, ...] = ()
    """The numbers of the source's columns (value, smoothed; or value, lower, upper)."""


def fmt_number(v: float) -> str:
    return f"{v:.6g}"


class CursorTable(DataTable[Text | str]):
    """The tooltip table: one row per shown run, keyed by run name."""

    def replace_cells(self, rows: list[tuple[str, tuple[str, ...]]]) -> None:
        """New values for the cells after the first (the run) of existing rows, one refresh.

        A cursor move changes every row; re-adding 1,000 rows costs ~0.2 s and `update_cell`
        refreshes the widget once per cell (~80 ms for 6,000 cells). So this writes DataTable's
        cell store (`_data`, `_update_count`: Textual 8.2 internals, which `update_cell` writes
        the same way) and goes through `update_cell` only for a cell wider than its column.
        """
        columns = list(self.columns.values())[1:]
        for run, cells in rows:
            key = RowKey(run)
            data = self._data[key]
            for column, cell in zip(columns, cells, strict=True):
                if cell_len(cell) > column.content_width:
                    self.update_cell(key, column.key, cell, update_width=True)
                else:
                    data[column.key] = cell
        self._update_count += 1
        self.refresh()


class FullChart(ScalarChart, can_focus=False):
    """The chart of a ChartScreen (no Enter: it is already full screen). The mouse: a click on
    the plot puts the cursor there, the wheel zooms; the screen decides what that means."""

    FULL = True

    class Clicked(Message):
        """A click on the plot, at data x (the centre of the clicked cell column)."""

        def __init__(self, x: float) -> None:
            super().__init__()
            self.x = x

    class Wheel(Message):
        """The mouse wheel over the chart: +1 zooms in (wheel up), -1 out."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    def on_click(self, event: events.Click) -> None:
        # Not ScalarChart's handler too (Textual calls each class's): its double click opens
        # another full-screen chart.
        event.prevent_default()
        event.stop()
        offset = event.get_content_offset(self)
        frame = self.frame
        if offset is None or frame is None or frame.canvas is None:
            return
        col = offset.x - frame.left
        if 0 <= col < frame.plot_cols:
            self.post_message(self.Clicked(frame.x_at(col)))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.post_message(self.Wheel(1))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.post_message(self.Wheel(-1))


class ChartScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back to the grid"),
        Binding("left", "cursor(-1)", "Cursor to the previous step"),
        Binding("right", "cursor(1)", "Cursor to the next step"),
        Binding("shift+left", "cursor(-10)", "Cursor 10 steps back", show=False),
        Binding("shift+right", "cursor(10)", "Cursor 10 steps on", show=False),
        Binding("home", "cursor_end(0)", "Cursor to the first step", show=False),
        Binding("end", "cursor_end(1)", "Cursor to the last step", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom x in around the cursor"),
        Binding("minus", "zoom(-1)", "Zoom x out"),
        Binding("0", "zoom_reset", "Reset zoom"),
        Binding("up", "row(-1)", "Grouped runs: highlight the table's previous row", show=False),
        Binding("down", "row(1)", "Grouped runs: highlight the table's next row", show=False),
        Binding("enter", "expand", "Grouped runs: expand the highlighted group / collapse it"),
    ]

    def __init__(
        self,
        board: Board,
        tag: str | ChartSource,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.board = board
        self.source = tag if isinstance(tag, ChartSource) else ChartSource(tag)
        self.tag = self.source.title
        """The chart's tag (Scalars) or title."""
        self.clock = clock
        self._xs = np.empty(0)
        """Sorted unique x of the shown runs' points: the positions the cursor walks."""
        self._at_end = True
        self._table_runs: list[str] = []
        """The keys of the table's rows, in order (a run name on Scalars charts)."""

    def compose(self) -> ComposeResult:
        yield Static(id="chart-hint")
        yield FullChart(self.board, self.source, id="full-chart")
        table = CursorTable(
            id="cursor-table", cursor_type="none", zebra_stripes=False, show_cursor=False
        )
        table.can_focus = False  # the arrows belong to the cursor, not the table
        yield table

    @property
    def chart(self) -> FullChart:
        return self.query_one(FullChart)

    def on_mount(self) -> None:
        self._set_columns()
        self._recompute_xs()
        linked = self.board.linked_cursor()
        if self._xs.shape[0]:
            x = self.nearest_x(linked) if linked is not None else None
            self.chart.cursor_x = float(self._xs[-1]) if x is None else x
            self._at_end = self.chart.cursor_x >= float(self._xs[-1])
        self._update()

    def _set_columns(self) -> None:
        """The table's columns for what the chart draws now (groups have their own)."""
        table = self.query_one(CursorTable)
        source = self.source
        columns = source.table_columns(self.board)
        table.clear(columns=True)
        table.add_columns(source.name_column, "step", *columns, "relative", "wall time")
        self._columns = columns
        self._table_runs = []
        grouped = source.grouped(self.board)
        table.cursor_type = "row" if grouped else "none"
        table.show_cursor = grouped

    # -- data ------------------------------------------------------------------------------------

    def _recompute_xs(self) -> None:
        parts = [
            line.prepared.x[np.isfinite(line.prepared.x)]
            for line in self.source.lines(self.board)
            if len(line.prepared)
        ]
        self._xs = np.unique(np.concatenate(parts)) if parts else np.empty(0)

    def apply_changes(self, changes: Changes) -> None:
        if self.chart.data_changed(set(changes.runs)):
            self._refit()

    def view_changed(self) -> None:
        old_axis = getattr(self, "_axis", self.board.options.x_axis)
        self._refit()
        if self.board.options.x_axis != old_axis:
            # Another x unit: the old cursor and zoom mean nothing there.
            self.chart.x_range = None
            self.chart.cursor_x = float(self._xs[-1]) if self._xs.shape[0] else None
            self._at_end = True
        self.chart.refresh()
        self._update()

    def _refit(self) -> None:
        self._recompute_xs()
        if self._xs.shape[0] and (self._at_end or self.chart.cursor_x is None):
            self.chart.cursor_x = float(self._xs[-1])
        self._update()

    # -- cursor and zoom -------------------------------------------------------------------------

    def cursor_index(self) -> int | None:
        x = self.chart.cursor_x
        if x is None or self._xs.shape[0] == 0:
            return None
        i = int(np.searchsorted(self._xs, x, side="left"))
        return min(i, self._xs.shape[0] - 1)

    def action_cursor(self, delta: int) -> None:
        i = self.cursor_index()
        if i is None:
            return
        j = max(0, min(self._xs.shape[0] - 1, i + delta))
        self._set_cursor(float(self._xs[j]))

    @on(FullChart.Clicked)
    def _clicked(self, message: FullChart.Clicked) -> None:
        x = self.nearest_x(message.x)
        if x is not None:
            self._set_cursor(x)

    @on(FullChart.Wheel)
    def _wheel(self, message: FullChart.Wheel) -> None:
        self.action_zoom(message.direction)

    def nearest_x(self, x: float) -> float | None:
        """The cursor position nearest to x: among the shown x range when zoomed (a click
        never pans), else among every x."""
        xs = self._xs
        x_range = self.chart.x_range
        if x_range is not None:
            inside = xs[(xs >= x_range[0]) & (xs <= x_range[1])]
            if inside.shape[0]:
                xs = inside
        if xs.shape[0] == 0:
            return None
        i = int(np.searchsorted(xs, x, side="left"))
        if i >= xs.shape[0]:
            return float(xs[-1])
        if i > 0 and x - float(xs[i - 1]) <= float(xs[i]) - x:
            return float(xs[i - 1])
        return float(xs[i])

    def action_cursor_end(self, end: int) -> None:
        if self._xs.shape[0]:
            self._set_cursor(float(self._xs[-1 if end else 0]))

    def _set_cursor(self, x: float) -> None:
        """Move the cursor (the user did): the linked cursor of every chart follows."""
        chart = self.chart
        chart.cursor_x = x
        if self.board.options.x_axis != METRIC:
            self.board.set_cursor(x)
            self.post_message(CursorMoved())
        self._at_end = bool(self._xs.shape[0]) and x >= float(self._xs[-1])
        if chart.x_range is not None:
            lo, hi = chart.x_range
            span = hi - lo
            if x < lo:
                chart.x_range = (x, x + span)
            elif x > hi:
                chart.x_range = (x - span, x)
        chart.refresh()
        self._update()

    def action_zoom(self, direction: int) -> None:
        chart = self.chart
        if self._xs.shape[0] < 2:
            return
        full_lo, full_hi = float(self._xs[0]), float(self._xs[-1])
        lo, hi = chart.x_range if chart.x_range is not None else (full_lo, full_hi)
        span = hi - lo
        new_span = span / ZOOM_FACTOR if direction > 0 else span * ZOOM_FACTOR
        if direction < 0 and new_span >= full_hi - full_lo:
            chart.x_range = None
        else:
            centre = chart.cursor_x if chart.cursor_x is not None else (lo + hi) / 2
            frac = (centre - lo) / span if span > 0 else 0.5
            new_lo = centre - frac * new_span
            chart.x_range = (new_lo, new_lo + new_span)
        chart.refresh()
        self._update()

    def action_zoom_reset(self) -> None:
        self.chart.x_range = None
        self.chart.refresh()
        self._update()

    def action_row(self, delta: int) -> None:
        table = self.query_one(CursorTable)
        if table.show_cursor and table.row_count:
            row = max(0, min(table.row_count - 1, table.cursor_row + delta))
            table.move_cursor(row=row)

    def action_expand(self) -> None:
        """Enter: a highlighted group is drawn as its runs; a highlighted run of an expanded
        group collapses that group back into one line."""
        table = self.query_one(CursorTable)
        if not table.show_cursor or not table.row_count:
            return
        key = self._table_runs[table.cursor_row] if table.cursor_row < len(self._table_runs) else ""
        if key.startswith(GROUP_KEY):
            self.post_message(GroupToggled(key[len(GROUP_KEY) :]))
            return
        group = self.board.grouping.group_of(key, self.board.visible_runs())
        if group is not None and group.name in self.board.grouping.expanded:
            self.post_message(GroupToggled(group.name))

    def action_close(self) -> None:
        self.dismiss()

    # -- the tooltip table -----------------------------------------------------------------------

    def _name_cell(self, line: ChartLine) -> Text:
        name = Text()
        name.append(f"{line.series.mark or '■'} ", style=self.board.colour_of(line.run))
        name.append(clean(line.label))
        return name

    def _cells(self, row: CursorRow) -> tuple[str, ...]:
        """Every cell of a row but the run's name (which a cursor move leaves alone)."""
        wall = (
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.wall_time))
            if np.isfinite(row.wall_time)
            else "-"
        )
        rel = fmt_duration(row.relative) if np.isfinite(row.relative) else "-"
        step = "-" if row.step == NO_STEP else str(row.step)
        return (step, *(fmt_number(v) for v in row.columns), rel, wall)

    def cursor_rows(self) -> list[CursorRow]:
        """Each line's point nearest the cursor (what the table shows, unformatted)."""
        return [row for _, row in self._cursor_lines()]

    def _cursor_lines(self) -> list[tuple[ChartLine, CursorRow]]:
        x = self.chart.cursor_x
        out: list[tuple[ChartLine, CursorRow]] = []
        if x is None:
            return out
        for line in self.source.lines(self.board):
            p = line.prepared
            i = index_at(p, x)
            if i is None:
                continue
            wall = p.wall_time
            first = float(np.nanmin(wall)) if np.isfinite(wall).any() else float("nan")
            row = CursorRow(
                run=line.run,
                step=int(p.step[i]),
                value=float(p.value[i]),
                smoothed=float(line.series.y[i]),
                wall_time=float(wall[i]),
                relative=float(wall[i]) - first,
                key=line.key,
                columns=tuple(float(c[i]) for c in line.columns),
            )
            out.append((line, row))
        return out

    def _update(self) -> None:
        self._axis = self.board.options.x_axis
        if self.source.table_columns(self.board) != self._columns:
            self._set_columns()
        table = self.query_one(CursorTable)
        found = self._cursor_lines()
        rows = [(row.key, self._cells(row)) for _, row in found]
        keys = [key for key, _ in rows]
        if keys != self._table_runs:
            table.clear()
            for (line, _), (key, cells) in zip(found, rows, strict=True):
                table.add_row(self._name_cell(line), *cells, key=key)
            self._table_runs = keys
        else:
            table.replace_cells(rows)
        chart = self.chart
        hint = Text(no_wrap=True, overflow="ellipsis")
        hint.append(clean(self.source.title), style="bold")
        hint.append("  ←/→ cursor · +/- zoom · 0 reset · esc back", style="dim")
        if self.source.grouped(self.board):
            hint.append(" · ↑/↓ enter: expand a group", style="dim")
        if chart.x_range is not None:
            hint.append("  [zoomed]", style="yellow")
        hint.append(f"  {self.board.options.describe()}", style="dim")
        if self.source.note:
            hint.append(f" · {self.source.note}", style="dim")
        self.query_one("#chart-hint", Static).update(hint)
