"""The HParams tab: one row per session (the `_hparams_` plugin) or configured run, sortable by
any column, filterable, with a parallel-coordinates view and a scatter of one hparam against one
metric, and TensorBoard's "show in scalars" for the selected rows.

Owns: `HParamsView` (table, filter line, plot panel, its keys) and `parse_filter`. The table is
built by core/hparams.py (numpy columns: sort and filter are array operations) and drawn by
render/hparams.py. Rebuilt lazily while the tab is shown.
Must not import: tuiboard.core readers.

Filter syntax (one line, terms separated by spaces; every term must hold):
`lr>=0.01`, `lr<0.1`, `lr=0.001..0.1` (ranges on numbers), `arch~cnn|mlp` (a regex searched in a
column's text), and a bare word is a regex searched in the run name.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from tuiboard.core.hparams import STATUSES, HParamsTable, build_table, to_csv
from tuiboard.render.canvas import fit_text
from tuiboard.render.hparams import cell_text, parallel_coordinates, scatter
from tuiboard.render.sanitize import clean
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

VIEWS = ("table", "parallel", "scatter")
_TERM = re.compile(r"^(?P<col>[^<>=~]+?)(?P<op><=|>=|<|>|=|~)(?P<arg>.*)$")


class FilterError(ValueError):
    """A filter line that cannot be applied; its message is shown under the table."""


def parse_filter(
    line: str, table: HParamsTable
) -> tuple[dict[str, str], dict[str, tuple[float | None, float | None]]]:
    """(regex filters by column, ranges by column) from the filter line (module docstring)."""
    texts: dict[str, str] = {}
    ranges: dict[str, tuple[float | None, float | None]] = {}
    for term in line.split():
        m = _TERM.match(term)
        if m is None:
            col, op, arg = "run", "~", term
        else:
            col, op, arg = m["col"], m["op"], m["arg"]
        if col not in table.by_name:
            raise FilterError(f"no column {col!r}")
        if op == "~":
            try:
                re.compile(arg)
            except re.error as e:
                raise FilterError(f"bad regex {arg!r}: {e}") from None
            texts[col] = arg
            continue
        if not table.by_name[col].numeric:
            raise FilterError(f"{col} holds text: use {col}~REGEX")
        lo, hi = ranges.get(col, (None, None))
        try:
            if op == "=" and ".." in arg:
                a, b = arg.split("..", 1)
                lo, hi = (float(a) if a else None), (float(b) if b else None)
            elif op == "=":
                lo = hi = float(arg)
            elif op in (">", ">="):
                lo = float(arg)
            else:
                hi = float(arg)
        except ValueError:
            raise FilterError(f"not a number in {term!r}") from None
        ranges[col] = (lo, hi)
    return texts, ranges


class HParamsView(LazyTab, Vertical):
    TAB = "hparams"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "sort", "Sort by the cursor's column (again: reverse)"),
        Binding("slash", "filter", "Filter rows (lr>=0.01 arch~cnn word)"),
        Binding("t", "cycle_status", "Status filter: all / running / success / failure / unknown"),
        Binding("space", "select", "Select / unselect the row"),
        Binding("enter", "show_in_scalars", "Show the selected runs (else the row's) in Scalars"),
        Binding("v", "cycle_view", "View: table / parallel coordinates / scatter"),
        Binding("X", "scatter_axis('x')", "Scatter x: the cursor's column", show=False),
        Binding("Y", "scatter_axis('y')", "Scatter y: the cursor's column", show=False),
        Binding("e", "export", "Export the shown rows to CSV"),
    ]

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(**kw)
        self.board = board
        self.table_data: HParamsTable | None = None
        self.sort_by: tuple[str, bool] | None = None
        """(column, descending); None = the table's own row order."""
        self.filter_line = ""
        self.status: str | None = None
        """Only rows with this status (None: all)."""
        self.selected: set[str] = set()
        """Run names of the selected rows."""
        self.mode = "table"
        self.scatter_x: str | None = None
        self.scatter_y: str | None = None
        self.shown_rows: np.ndarray = np.zeros(0, dtype=np.int64)
        """Row indices in the order the table shows them (after filter and sort)."""
        self.problem = ""
        self.built = 0
        """How many tables were built (tests wait on it)."""

    @classmethod
    def help_bindings(cls) -> list[BindingType]:
        return list(cls.BINDINGS)

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter: lr>=0.01 arch~cnn word · Enter keeps, Esc clears", id="hp-filter"
        )
        yield Static(id="hp-hint")
        yield DataTable(id="hp-table", cursor_type="cell", zebra_stripes=True)
        yield Static(id="hp-plot")

    def on_mount(self) -> None:
        self.query_one("#hp-filter").display = False
        self.query_one("#hp-plot").display = False

    @property
    def grid(self) -> DataTable[Text]:
        return self.query_one("#hp-table", DataTable)

    def focus_first(self) -> None:
        self.shown()
        self.grid.focus()

    # -- data -----------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Build the table on a worker thread (1,000 runs: ~80 ms), then refill on this one."""
        self._stale = False
        clock = getattr(self.app, "clock", None)
        self._build(None if clock is None else clock())

    @work(thread=True, exclusive=True, group="hp-build")
    def _build(self, now: float | None) -> None:
        table = build_table(self.board.logdir, now=now)
        self.app.call_from_thread(self._built, table)

    def _built(self, table: HParamsTable) -> None:
        self.table_data = table
        self.built += 1
        self.refill()

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        self.rebuild()

    def view_changed(self) -> None:
        """Run visibility moved: rows follow the run panel, like every dashboard."""
        if self._showing():
            self.refill()
        else:
            self._stale = True

    def rows_now(self) -> np.ndarray:
        """Row indices passing the run panel, the filter line and the status filter, sorted."""
        table = self.table_data
        if table is None or not len(table):
            return np.zeros(0, dtype=np.int64)
        visible = set(self.board.visible_runs())
        mask = np.fromiter((r.run in visible for r in table.rows), dtype=bool, count=len(table))
        self.problem = ""
        try:
            texts, ranges = parse_filter(self.filter_line, table)
            mask &= table.filter(texts, ranges, None if self.status is None else [self.status])
        except FilterError as e:
            self.problem = str(e)
        order = (
            np.arange(len(table))
            if self.sort_by is None
            else table.order(self.sort_by[0], self.sort_by[1])
        )
        return order[mask[order]]

    def columns(self) -> list[str]:
        table = self.table_data
        return [] if table is None else ["run", "status", *(c.name for c in table.columns)]

    def refill(self) -> None:
        """Redraw the table from the current rows, keeping the cursor where it was."""
        table = self.table_data
        grid = self.grid
        cursor = grid.cursor_coordinate
        grid.clear(columns=True)
        rows = self.rows_now()
        self.shown_rows = rows
        if table is not None:
            cells = [self._cells(table, int(i)) for i in rows]
            for c, name in enumerate(self.columns()):
                label = Text(clean(name), style="bold")
                if self.sort_by is not None and self.sort_by[0] == name:
                    label.append(" ↓" if self.sort_by[1] else " ↑")
                # Widths given, not left to DataTable's auto width, which Textual measures on the
                # table's next idle: in some starts under load (tmux e2e, twice in CI) that never
                # happened for a refill, and every column stayed as wide as its header ("succes",
                # "0."); cause in Textual not found.
                width = max([label.cell_len, *(row[c].cell_len for row in cells)])
                grid.add_column(label, key=name, width=width)
            for i, row in zip(rows, cells, strict=True):
                grid.add_row(*row, key=str(int(i)))
        if grid.row_count:
            grid.cursor_coordinate = grid.validate_cursor_coordinate(cursor)
        self._hint()
        self._plot()

    def _cells(self, table: HParamsTable, i: int) -> list[Text]:
        row = table.rows[i]
        name = Text("✓ " if row.run in self.selected else "  ", style="bold")
        name.append("■ ", style=self.board.colour_of(row.run))
        name.append(clean(row.run))
        cells = [name, Text(row.status, style="red" if row.status == "failure" else "")]
        for col in table.columns:
            cells.append(Text(cell_text(col, i), justify="right" if col.numeric else "left"))
        return cells

    def _hint(self) -> None:
        table = self.table_data
        total = 0 if table is None else len(table)
        hint = Text(no_wrap=True, overflow="crop")
        hint.append(f"{len(self.shown_rows)}/{total} rows", style="bold")
        hint.append(f" · status {self.status or 'all'}", style="dim")
        if self.sort_by is not None:
            hint.append(f" · sorted by {clean(self.sort_by[0])}", style="dim")
        if self.filter_line:
            hint.append(" · filter ", style="dim")
            hint.append(clean(self.filter_line))
        if self.selected:
            hint.append(f" · {len(self.selected)} selected (Enter: show in Scalars)", style="dim")
        if self.problem:
            hint.append(f"  ⚠ {clean(self.problem)}", style="red")
        hint.append("  o sort · / filter · t status · v view · space select", style="dim")
        width = self.size.width or 80
        self.query_one("#hp-hint", Static).update(fit_text(hint, width))

    def _plot(self) -> None:
        panel = self.query_one("#hp-plot", Static)
        table = self.table_data
        panel.display = self.mode != "table"
        if self.mode == "table" or table is None:
            return
        width = max(20, (self.size.width or 80) - 2)
        height = max(8, (self.size.height or 24) // 2 - 1)
        colours = {r.run: self.board.colour_of(r.run) for r in table.rows}
        theme = self.board.theme
        hps = [c.name for c in table.hparam_columns]
        metrics = [c.name for c in table.metric_columns]
        if not hps and not metrics:
            panel.update(Text("no hparams or metrics to plot", style="dim"))
            return
        if self.mode == "parallel":
            # About 12 cells an axis: its name and min/max labels stay readable.
            cols = hps[: max(1, min(8, width // 12 - 1))] + metrics[:1]
            panel.update(
                parallel_coordinates(table, self.shown_rows, cols, width, height, theme, colours)
            )
            return
        x = self.scatter_x or (hps[0] if hps else metrics[0])
        y = self.scatter_y or (metrics[0] if metrics else hps[-1])
        panel.update(scatter(table, self.shown_rows, x, y, width, height, theme, colours))

    # -- keys -----------------------------------------------------------------------------------

    def _cursor_column(self) -> str | None:
        cols = self.columns()
        c = self.grid.cursor_coordinate.column
        return cols[c] if 0 <= c < len(cols) else None

    def action_sort(self, column: str | None = None) -> None:
        column = column or self._cursor_column()
        if column is None:
            return
        desc = self.sort_by is not None and self.sort_by == (column, False)
        self.sort_by = (column, desc)
        self.refill()

    @on(DataTable.HeaderSelected, "#hp-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.action_sort(str(event.column_key.value))

    def action_filter(self) -> None:
        box = self.query_one("#hp-filter", Input)
        box.display = True
        box.value = self.filter_line
        box.focus()

    @on(Input.Changed, "#hp-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_line = event.value.strip()
        self.refill()

    @on(Input.Submitted, "#hp-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#hp-filter", Input)
        box.display = bool(box.value)
        self.grid.focus()

    def key_escape(self) -> None:
        box = self.query_one("#hp-filter", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.grid.focus()

    def action_cycle_status(self) -> None:
        order: list[str | None] = [None, *STATUSES]
        self.status = order[(order.index(self.status) + 1) % len(order)]
        self.refill()

    def action_select(self) -> None:
        grid = self.grid
        if not grid.row_count or self.table_data is None:
            return
        i = int(self.shown_rows[grid.cursor_coordinate.row])
        run = self.table_data.rows[i].run
        self.selected.symmetric_difference_update({run})
        self.refill()

    def action_show_in_scalars(self) -> None:
        """TensorBoard's "show in scalars": only the chosen runs, with their parent and sub-runs
        (add_hparams writes the session as a sub-run of the training run)."""
        table = self.table_data
        grid = self.grid
        if table is None or not grid.row_count:
            return
        chosen = set(self.selected) or {
            table.rows[int(self.shown_rows[grid.cursor_coordinate.row])].run
        }
        names = [r.name for r in self.board.runs()]
        keep = {
            n
            for n in names
            for c in chosen
            if n == c or c.startswith(n + "/") or n.startswith(c + "/")
        }
        selection = self.board.selection
        selection.only = None
        selection.hidden = set(names) - keep
        app: Any = self.app
        app.view_changed(runs_changed=True)
        app.action_show_tab("scalars")

    @on(DataTable.CellSelected, "#hp-table")
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        """Enter on the table (DataTable's own Enter binding wins over the view's)."""
        event.stop()
        self.action_show_in_scalars()

    def action_cycle_view(self) -> None:
        self.mode = VIEWS[(VIEWS.index(self.mode) + 1) % len(VIEWS)]
        self._plot()

    def action_scatter_axis(self, axis: str) -> None:
        column = self._cursor_column()
        if column in (None, "run", "status"):
            return
        if axis == "x":
            self.scatter_x = column
        else:
            self.scatter_y = column
        self.mode = "scatter"
        self._plot()

    def action_export(self) -> None:
        app: Any = self.app
        table, rows = self.table_data, self.shown_rows.copy()
        if table is None:
            return

        def write(path: str) -> str:
            with open(path, "w", encoding="utf-8", newline="") as out:
                to_csv(table, rows, out)
            return f"exported {len(rows)} rows to {path}"

        default = os.path.join(os.getcwd(), "tuiboard-hparams.csv")
        app.prompt_write("Export the shown rows to CSV: path", default, write)
