"""The Overview tab: a tag x run table with a sparkline, last / min / max, sortable.

Owns: `OverviewView`, `OverviewRow`. For logdirs with hundreds of tags: one line per series.
Rows update in place on live data (the cursor row stays put); Enter opens the tag's chart.
Built lazily: only while the tab is shown (a hidden table is marked stale, rebuilt on show).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tuiboard.core.types import SCALARS
from tuiboard.render.numbers import fmt_value
from tuiboard.render.sanitize import clean
from tuiboard.render.sparkline import sparkline
from tuiboard.ui.messages import OpenChart
from tuiboard.ui.view_state import METRIC
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

SPARK_WIDTH = 16
COLUMNS = ("tag", "run", "last", "min", "max", "trend", "step")
NUMBER_WIDTH = 10
SORTABLE = ("tag", "run", "last", "min", "max", "step")


@dataclass(frozen=True, slots=True)
class OverviewRow:
    tag: str
    run: str
    version: int
    last: float
    min: float
    max: float
    step: int
    y: np.ndarray
    """The values in step order (the sparkline's input)."""


def _sort_value(row: OverviewRow, column: str) -> tuple[object, ...]:
    if column in ("tag", "run"):
        return (getattr(row, column).lower(), row.tag, row.run)
    v = float(getattr(row, column))
    # NaN sorts last whichever way round.
    return (math.isnan(v), 0.0 if math.isnan(v) else v, row.tag, row.run)


class OverviewView(LazyTab, Vertical):
    TAB = "overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "sort_next", "Sort by the next column", show=False),
        Binding("T", "sort_reverse", "Reverse the sort order", show=False),
    ]

    def __init__(self, board: Board, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self.sort_column = "tag"
        self.sort_reverse = False
        self.rows: dict[str, OverviewRow] = {}
        """Row key ("run\\x1ftag") -> the numbers shown."""
        self.spark_width = SPARK_WIDTH

    def compose(self) -> ComposeResult:
        yield Static(id="overview-hint")
        table: DataTable[Text] = DataTable(id="overview-table", cursor_type="row")
        yield table

    def on_mount(self) -> None:
        self._hint()

    def _layout_columns(self) -> None:
        """Column widths for the current width: numbers first, names share what is left."""
        table = self.table
        avail = max(40, self.size.width - 2)
        self.spark_width = 16 if avail >= 120 else 8
        fixed = 3 * NUMBER_WIDTH + 7 + self.spark_width + 2 * len(COLUMNS)
        rest = max(20, avail - fixed)
        longest_tag = max((len(r.tag) for r in self.rows.values()), default=8)
        longest_run = max((len(r.run) + 2 for r in self.rows.values()), default=8)
        tag_w = min(longest_tag, max(10, rest * 11 // 20))
        run_w = min(longest_run, max(8, rest - tag_w))
        widths = {
            "tag": tag_w,
            "run": run_w,
            "last": NUMBER_WIDTH,
            "min": NUMBER_WIDTH,
            "max": NUMBER_WIDTH,
            "trend": self.spark_width,
            "step": 7,
        }
        if getattr(self, "_widths", None) == widths:
            return
        self._widths = widths
        table.clear(columns=True)
        for name in COLUMNS:
            table.add_column(name, key=name, width=widths[name])

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    # -- data ------------------------------------------------------------------------------------

    def _row(self, run: str, tag: str) -> OverviewRow | None:
        options = self.board.options
        if options.x_axis == METRIC:  # the table is about every point, not those placed on x
            options = replace(options, x_axis="step")
        p = self.board.cache.get(run, tag, options)
        if p is None:
            return None
        v = p.value
        finite = v[np.isfinite(v)]
        order = np.argsort(p.step, kind="stable") if options.x_axis != "step" else None
        y = v if order is None else v[order]
        return OverviewRow(
            tag=tag,
            run=run,
            version=self.board.cache.version_key(run, tag),
            last=float(y[-1]),
            min=float(finite.min()) if finite.shape[0] else math.nan,
            max=float(finite.max()) if finite.shape[0] else math.nan,
            step=int(p.step.max()),
            y=y,
        )

    def _cells(self, row: OverviewRow) -> list[Text]:
        colour = self.board.colour_of(row.run)
        run = Text(no_wrap=True, overflow="ellipsis")
        run.append("■ ", style=colour)
        run.append(clean(row.run))
        return [
            Text(clean(row.tag), no_wrap=True, overflow="ellipsis"),
            run,
            Text(fmt_value(row.last), justify="right"),
            Text(fmt_value(row.min), justify="right"),
            Text(fmt_value(row.max), justify="right"),
            sparkline(row.y, self.spark_width, colour if self.board.theme.color else None),
            Text(str(row.step), justify="right"),
        ]

    def focus_first(self) -> None:
        self.table.focus()

    def rebuild(self) -> None:
        """Every row again, in sort order (filters, visibility or options changed)."""
        board = self.board
        rows: dict[str, OverviewRow] = {}
        runs = board.visible_runs()
        for tag in board.visible_tags(SCALARS):
            for run in runs:
                row = self._row(run, tag)
                if row is not None:
                    rows[f"{run}\x1f{tag}"] = row
        self.rows = rows
        table = self.table
        cursor_key = self._cursor_key()
        table.clear()
        self._layout_columns()
        ordered = sorted(
            rows.items(),
            key=lambda kv: _sort_value(kv[1], self.sort_column),
            reverse=self.sort_reverse,
        )
        for key, row in ordered:
            table.add_row(*self._cells(row), key=key)
        if cursor_key is not None and cursor_key in rows:
            table.move_cursor(row=table.get_row_index(cursor_key))
        self._stale = False
        self._hint()

    def _cursor_key(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        table = self.table
        board = self.board
        runs = set(board.visible_runs())
        added = False
        for run in changes.runs & runs:
            for tag in board.run_tags(run, SCALARS):
                if not board.tag_matches(tag):
                    continue
                key = f"{run}\x1f{tag}"
                old = self.rows.get(key)
                if old is not None and old.version == board.cache.version_key(run, tag):
                    continue
                row = self._row(run, tag)
                if row is None:
                    continue
                self.rows[key] = row
                if old is None:
                    added = True
                    continue
                for column, cell in zip(COLUMNS, self._cells(row), strict=True):
                    if column in ("tag", "run"):
                        continue
                    table.update_cell(key, column, cell)
        if added:
            self.rebuild()

    def on_resize(self) -> None:
        if self._showing() and not self._stale:
            self.rebuild()

    # -- sorting and opening ---------------------------------------------------------------------

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if column not in SORTABLE:
            return
        if reverse is None:
            reverse = (not self.sort_reverse) if column == self.sort_column else False
        self.sort_column = column
        self.sort_reverse = reverse
        self.rebuild()

    def action_sort_next(self) -> None:
        i = SORTABLE.index(self.sort_column)
        self.sort_by(SORTABLE[(i + 1) % len(SORTABLE)], reverse=self.sort_reverse)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value
        if key is not None:
            self.sort_by(key)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        row = self.rows.get(key) if key is not None else None
        if row is not None:
            self.post_message(OpenChart(row.tag))

    def _hint(self) -> None:
        arrow = "↓" if self.sort_reverse else "↑"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{len(self.rows)} series · sorted by {self.sort_column} {arrow}", style="dim")
        text.append(" · t: next column · T: reverse · enter: open chart", style="dim")
        self.query_one("#overview-hint", Static).update(text)
