"""The Overview tab: a tag x run table with a sparkline, last / min / max, sortable.

Owns: `OverviewView`, `OverviewRow`, `OverviewTable`. For logdirs with hundreds of tags: one line
per series. The table is virtual (Textual's Line API): it holds the (run, tag) keys in order, and
a row's numbers and cells are made when the row is drawn (10,000 runs x 3 tags: 30,000 keys, ~40
rows made). Sorting by a number column computes every row once (the order needs them). Rows
update in place on live data (the cursor row stays put); Enter or a click opens the tag's chart.
Built lazily: only while the tab is shown (a hidden table is marked stale, rebuilt on show).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size, clamp
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static
from textual.worker import get_current_worker

from tuiboard.core.types import SCALARS
from tuiboard.render.numbers import fmt_value
from tuiboard.render.sanitize import clean
from tuiboard.render.sparkline import sparkline
from tuiboard.ui.messages import OpenChart
from tuiboard.ui.view_state import METRIC
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import JustifyMethod

    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board
    from tuiboard.ui.view_state import ViewOptions

SPARK_WIDTH = 16
COLUMNS = ("tag", "run", "last", "min", "max", "trend", "step")
NUMBER_WIDTH = 10
SORTABLE = ("tag", "run", "last", "min", "max", "step")
NUMBER_COLUMNS = ("last", "min", "max", "step")


@dataclass(frozen=True, slots=True)
class OverviewRow:
    tag: str
    run: str
    version: int | tuple[int, int]
    last: float
    min: float
    max: float
    step: int
    y: np.ndarray
    """The values in step order (the sparkline's input)."""


def _longest(keys: list[Key]) -> tuple[int, int]:
    """The longest tag and run name (+ 2, its indent) among `keys`; -1 where there are none."""
    return (
        max((len(t) for t in {tag for _, tag in keys}), default=-1),
        max((len(r) + 2 for r in {run for run, _ in keys}), default=-1),
    )


_KEY = operator.itemgetter(3)
"""The key of a `_name_order` entry."""


def _name_order(column: str) -> Callable[[Key], tuple[str, str, str, Key]]:
    """The sort key of a series by tag or by run: (that name lowered, tag, run), then the key
    itself (never compared: the first three differ between two series)."""
    index = 1 if column == "tag" else 0

    def by_name(k: Key) -> tuple[str, str, str, Key]:
        return (k[index].lower(), k[1], k[0], k)

    return by_name


def _justify(column: str) -> JustifyMethod:
    """Numbers (and their column names) right-aligned, names left."""
    return "right" if column in NUMBER_COLUMNS else "left"


Key = tuple[str, str]
"""(run, tag): one series, one row."""

SORT_WORKER_KEYS = 2000
"""A sort by a number over more series than this is worked out on a worker thread."""
SORT_CHUNK = 512
"""Series a sort worker reads between two checks of whether it was cancelled."""


class OverviewSorted(Message):
    """A sort worker's order of the rows (OverviewView.rebuild's `ticket`)."""

    def __init__(self, ticket: int, keys: list[Key]) -> None:
        super().__init__()
        self.ticket = ticket
        self.keys = keys


class OverviewTable(ScrollView, can_focus=True):
    """The rows of the Overview on the Line API: a header line that stays put, then one line per
    key, built when drawn from `cells(key)` (the view's). The look of Textual's DataTable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open the chart", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--header",
        "datatable--cursor",
        "datatable--hover",
    }
    DEFAULT_CSS = """
    OverviewTable {
        background: $surface;
        color: $foreground;
        & > .datatable--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .datatable--header { background: ansi_bright_blue; color: ansi_default; }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .datatable--hover { background: $block-hover-background; }
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header { background-tint: $foreground 5%; }
        }
    }
    """

    cursor_row = var(0, always_update=True)
    hover_row = var(-1)

    def __init__(self, view: OverviewView, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.view = view
        self.keys: list[Key] = []
        self.key_set: set[Key] = set()
        """The same keys, to ask whether a series is listed (a store change asks for each
        series of the runs it names, not for every series)."""
        self.columns: list[tuple[str, int]] = []
        """(name, width) of each column, in order."""
        self.cells: Callable[[Key], list[Text]] | None = None
        self.drawn = 0
        """How many row lines were built (tests: only the rows on screen are)."""

    @property
    def row_count(self) -> int:
        return len(self.keys)

    def set_rows(
        self,
        keys: list[Key],
        columns: list[tuple[str, int]],
        cursor: int,
        added: list[Key] | None = None,
    ) -> None:
        """The keys in order (`added`: when `keys` are the keys before and these)."""
        if added is None:
            self.key_set = set(keys)
        else:
            self.key_set.update(added)
        self.keys = keys
        self.columns = columns
        width = sum(w + 2 for _, w in columns)
        self.virtual_size = Size(width, len(keys) + 1)
        self.set_reactive(OverviewTable.cursor_row, clamp(cursor, 0, max(0, len(keys) - 1)))
        self.refresh()

    def cursor_key(self) -> Key | None:
        return self.keys[self.cursor_row] if 0 <= self.cursor_row < len(self.keys) else None

    # -- drawing -------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("datatable--header")
            texts = [Text(name, justify=_justify(name)) for name, _ in self.columns]
            metas: list[dict[str, object]] = [{"column": name} for name, _ in self.columns]
            strip = self._line(texts, base + header, metas)
        else:
            index = y - 1 + scroll_y
            if not 0 <= index < len(self.keys) or self.cells is None:
                return Strip.blank(width, base)
            style = base
            if index == self.hover_row:
                style = style + self.get_component_rich_style("datatable--hover")
            if index == self.cursor_row:
                style = style + self.get_component_rich_style("datatable--cursor")
            self.drawn += 1
            texts = self.cells(self.keys[index])
            strip = self._line(texts, style + Style(meta={"row": index}), None)
        return strip.extend_cell_length(width + scroll_x, base).crop(scroll_x, scroll_x + width)

    def _line(
        self, texts: list[Text], style: Style, metas: list[dict[str, object]] | None
    ) -> Strip:
        """The cells side by side, each cut or padded to its column, one blank either side."""
        line = Text(style=style, no_wrap=True, end="")
        for i, (text, (_, width)) in enumerate(zip(texts, self.columns, strict=False)):
            cell = text.copy()
            if text.justify == "right" and text.cell_len < width:
                cell = Text(" " * (width - text.cell_len)) + cell
            cell.truncate(width, overflow="ellipsis", pad=True)
            start = len(line)
            line.append(" ")
            line.append_text(cell)
            line.append(" ")
            if metas is not None:
                line.stylize(Style(meta=metas[i]), start, len(line))
        segments = list(line.render(self.app.console))
        return Strip(segments, line.cell_len)

    # -- cursor, keys, mouse --------------------------------------------------------------------

    def validate_cursor_row(self, value: int) -> int:
        return clamp(value, 0, max(0, len(self.keys) - 1))

    def watch_cursor_row(self, previous: int, row: int) -> None:
        self.refresh()
        self.scroll_to_row(row)

    def watch_hover_row(self, previous: int, row: int) -> None:
        self.refresh()

    def scroll_to_row(self, row: int) -> None:
        """Scroll as little as puts `row` on screen below the header."""
        height = self.scrollable_content_region.height - 1
        top = round(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif height > 0 and row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        self.cursor_row = row

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= max(1, self.scrollable_content_region.height - 2)

    def action_page_down(self) -> None:
        self.cursor_row += max(1, self.scrollable_content_region.height - 2)

    def action_scroll_home(self) -> None:
        self.cursor_row = 0

    def action_scroll_end(self) -> None:
        self.cursor_row = len(self.keys) - 1

    def action_select_cursor(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.view.open_row(key)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        row = event.style.meta.get("row")
        self.hover_row = row if isinstance(row, int) else -1

    def _on_leave(self, event: events.Leave) -> None:
        self.hover_row = -1

    async def _on_click(self, event: events.Click) -> None:
        """A click on a column's name sorts by it; on a row, opens the row's chart."""
        meta = event.style.meta
        if "column" in meta:
            event.stop()
            self.view.sort_by(str(meta["column"]))
        elif isinstance(meta.get("row"), int):
            event.stop()
            self.cursor_row = meta["row"]
            self.action_select_cursor()


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
        """Row key ("run\\x1ftag") -> the numbers shown, for the rows made so far (those drawn,
        or every row when sorted by a number)."""
        self.spark_width = SPARK_WIDTH
        self._widths: dict[str, int] = {}
        self._sort_numbers: dict[str, tuple[object, tuple[float, float, float, float]]] = {}
        """Row key -> ((series version, raw points), (last, min, max, step)) for sorting."""
        self._sort_ticket = 0
        """Counts rebuilds: a sort worker's answer to an older one is dropped."""
        self.sorting = False
        """A sort worker is ordering the rows (tests and the bench wait on it)."""
        self._name_order: list[tuple[str, str, str, Key]] = []
        """The sort keys of the rows in table order, when sorted by a name (`_insert`)."""
        self._hinted = False
        """The hint line was shown once (laid out)."""
        self._longest = (-1, -1)
        """The longest tag and run name (+ 2) among the keys laid out (-1: none)."""

    def compose(self) -> ComposeResult:
        yield Static(id="overview-hint")
        yield OverviewTable(self, id="overview-table")

    def on_mount(self) -> None:
        self.table.cells = self._cells_of
        self._hint()

    def _layout_columns(
        self, keys: list[Key], longest: tuple[int, int] | None = None
    ) -> list[tuple[str, int]]:
        """Column widths for the current width: numbers first, names share what is left
        (`longest`: the longest tag and run name + 2 of `keys`, when known)."""
        avail = max(40, self.size.width - 2)
        self.spark_width = 16 if avail >= 120 else 8
        fixed = 3 * NUMBER_WIDTH + 7 + self.spark_width + 2 * len(COLUMNS)
        rest = max(20, avail - fixed)
        self._longest = _longest(keys) if longest is None else longest
        longest_tag, longest_run = (n if n >= 0 else 8 for n in self._longest)
        tag_w = min(longest_tag, max(10, rest * 11 // 20))
        run_w = min(longest_run, max(8, rest - tag_w))
        self._widths = {
            "tag": tag_w,
            "run": run_w,
            "last": NUMBER_WIDTH,
            "min": NUMBER_WIDTH,
            "max": NUMBER_WIDTH,
            "trend": self.spark_width,
            "step": 7,
        }
        return [(name, self._widths[name]) for name in COLUMNS]

    @property
    def table(self) -> OverviewTable:
        return self.query_one(OverviewTable)

    # -- data ------------------------------------------------------------------------------------

    def _row(self, run: str, tag: str, options: ViewOptions | None = None) -> OverviewRow | None:
        if options is None:
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

    def row(self, key: Key) -> OverviewRow | None:
        """The numbers of a row: made now if not yet, or if its series moved."""
        run, tag = key
        name = f"{run}\x1f{tag}"
        row = self.rows.get(name)
        if row is None or row.version != self.board.cache.version_key(run, tag):
            row = self._row(run, tag)
            if row is None:
                self.rows.pop(name, None)
                return None
            self.rows[name] = row
        return row

    def row_at(self, index: int) -> OverviewRow | None:
        """The row on line `index` of the table (0: the first under the header)."""
        keys = self.table.keys
        return self.row(keys[index]) if 0 <= index < len(keys) else None

    def cells_at(self, index: int) -> list[Text]:
        """The cells of line `index`, as drawn."""
        return self._cells_of(self.table.keys[index])

    def _cells_of(self, key: Key) -> list[Text]:
        row = self.row(key)
        if row is None:  # listed, no points yet
            run, tag = key
            return [self._tag_cell(tag), self._run_cell(run)]
        return self._cells(row)

    def _tag_cell(self, tag: str) -> Text:
        return Text(clean(tag), no_wrap=True, overflow="ellipsis")

    def _run_cell(self, run: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("■ ", style=self.board.colour_of(run))
        text.append(clean(run))
        return text

    def _cells(self, row: OverviewRow) -> list[Text]:
        colour = self.board.colour_of(row.run)
        return [
            self._tag_cell(row.tag),
            self._run_cell(row.run),
            Text(fmt_value(row.last), justify="right"),
            Text(fmt_value(row.min), justify="right"),
            Text(fmt_value(row.max), justify="right"),
            sparkline(row.y, self.spark_width, colour if self.board.theme.color else None),
            Text(str(row.step), justify="right"),
        ]

    def focus_first(self) -> None:
        self.table.focus()

    def _listed(self) -> list[Key]:
        """Every (run, tag) series the filters show, unordered."""
        board = self.board
        tags = board.visible_tags(SCALARS)
        wanted = set(tags)
        return [
            (run, tag)
            for run in board.visible_runs()
            for tag in board.run_tags(run, SCALARS)
            if tag in wanted
        ]

    def _ordered(
        self,
        keys: list[Key],
        options: ViewOptions,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[Key]:
        """`keys` in the sort order (a number column reads every series: safe on a worker
        thread, which passes `cancelled`; an empty list when it said stop)."""
        column = self.sort_column
        if column in ("tag", "run"):
            by_name = _name_order(column)
            order = sorted(map(by_name, keys), reverse=self.sort_reverse)
            self._name_order = order  # (unique per series: the same order as the keys')
            return list(map(_KEY, order))
        i = NUMBER_COLUMNS.index(column)
        valued: list[tuple[float, str, str]] = []
        nan: list[Key] = []
        for j, k in enumerate(keys):
            if cancelled is not None and j % SORT_CHUNK == 0 and cancelled():
                return []
            n = self._numbers(k, options)
            if n is None:
                continue
            if math.isnan(n[i]):
                nan.append(k)
            else:
                valued.append((n[i], k[1], k[0]))
        valued.sort(reverse=self.sort_reverse)
        nan.sort(key=lambda k: (k[1], k[0]))
        return [(run, tag) for _, tag, run in valued] + nan  # NaN last, whichever way round

    def _numbers(self, key: Key, options: ViewOptions) -> tuple[float, float, float, float] | None:
        """(last, min, max, step) of a series, for sorting: from the stored values, without
        the smoothing and sparkline a drawn row makes (30,000 series: ~20 µs each, not ~150);
        on a time axis (rows in time order) from a row made for it. Cached by series version.
        Safe on a sort worker: it reads the store's snapshots and sets single dict entries."""
        run, tag = key
        if options.x_axis not in ("step", METRIC):
            row = self._row(run, tag, options)
            return None if row is None else (row.last, row.min, row.max, row.step)
        name = f"{run}\x1f{tag}"
        version = self.board.cache.version_key(run, tag)
        row = self.rows.get(name)
        if row is not None and row.version == version:
            return (row.last, row.min, row.max, row.step)
        hit = self._sort_numbers.get(name)
        if hit is not None and hit[0] == (version, options.raw_points):
            return hit[1]
        found = self.board.logdir.run(run)
        if found is None or found.series_version(SCALARS, tag) < 0:
            return None
        data = found.scalars(tag, raw=options.raw_points)
        if len(data) == 0:
            return None
        v = np.asarray(data.value, dtype=np.float64)
        finite = v[np.isfinite(v)]
        numbers = (
            float(v[-1]),
            float(finite.min()) if finite.shape[0] else math.nan,
            float(finite.max()) if finite.shape[0] else math.nan,
            float(data.step.max()),
        )
        self._sort_numbers[name] = ((version, options.raw_points), numbers)
        return numbers

    def rebuild(self) -> None:
        """Every key again, in sort order (filters, visibility or options changed); rows are
        made when drawn. A sort by a number over more than SORT_WORKER_KEYS series is worked
        out on a worker thread (30,000 series: ~0.5 s the first time); the table keeps its
        rows meanwhile (an empty one shows the series by tag) and takes the order it sends,
        unless a later rebuild asked again."""
        table = self.table
        self.rows = {}  # options may have changed: every row is made again when drawn
        self._stale = False
        keys = self._listed()
        self._sort_ticket += 1
        if self.sort_column in NUMBER_COLUMNS and len(keys) > SORT_WORKER_KEYS:
            self.sorting = True
            if not table.keys:
                keys.sort(key=lambda k: (k[1].lower(), k[1], k[0]))
                self._show(keys)
            self._sort_worker(keys, self.board.options, self._sort_ticket)
            return
        self.sorting = False
        self._show(self._ordered(keys, self.board.options))

    def _show(self, keys: list[Key]) -> None:
        table = self.table
        cursor = table.cursor_key()
        where = {k: i for i, k in enumerate(keys)} if cursor is not None else {}
        table.set_rows(keys, self._layout_columns(keys), where.get(cursor, 0))  # type: ignore[arg-type]
        self._hint()

    @work(thread=True, exclusive=True, group="overview-sort")
    def _sort_worker(self, keys: list[Key], options: ViewOptions, ticket: int) -> None:
        worker = get_current_worker()
        ordered = self._ordered(keys, options, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(OverviewSorted(ticket, ordered))

    @on(OverviewSorted)
    def _sorted(self, message: OverviewSorted) -> None:
        message.stop()
        if message.ticket != self._sort_ticket:
            return  # a later rebuild asked again: its answer is coming
        self.sorting = False
        self._show(message.keys)

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        board = self.board
        table = self.table
        listed = table.key_set
        wanted = set(board.visible_tags(SCALARS))
        is_visible = board.selection.is_visible
        new = [
            (run, tag)
            for run in changes.runs
            if is_visible(run)
            for tag in board.run_tags(run, SCALARS)
            if tag in wanted and (run, tag) not in listed
        ]
        if not new:
            table.refresh()  # rows on screen are made again if their series moved
        elif self.sort_column in ("tag", "run") and not self.sorting:
            self._insert(new)  # (the first load: a rebuild a change was ~20-70 ms at 30,000)
        else:
            self.rebuild()  # new series: their place in an order by numbers (a worker's)

    def _insert(self, new: list[Key]) -> None:
        """New series put in their places of an order by name: the sort keys of the rows
        listed (kept from the rebuild) and theirs are merged (one pass: two sorted runs), which
        is the order a rebuild gives (the sort key is unique per series); the cursor stays on
        its series."""
        by_name = _name_order(self.sort_column)
        reverse = self.sort_reverse
        table = self.table
        cursor_key = table.cursor_key()
        order = sorted(self._name_order + [by_name(k) for k in new], reverse=reverse)
        self._name_order = order
        keys = list(map(_KEY, order))  # the keys themselves: no new objects a row
        cursor = 0
        if cursor_key is not None:
            want = by_name(cursor_key)
            lo, hi = 0, len(order)
            while lo < hi:  # its place in the order, either way round
                mid = (lo + hi) // 2
                if (order[mid] > want) if reverse else (order[mid] < want):
                    lo = mid + 1
                else:
                    hi = mid
            cursor = lo
        tags, runs = self._longest
        longest = _longest(new)
        columns = self._layout_columns(keys, (max(tags, longest[0]), max(runs, longest[1])))
        table.set_rows(keys, columns, cursor, added=new)
        self._hint()

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

    def open_row(self, key: Key) -> None:
        self.post_message(OpenChart(key[1]))

    def _hint(self) -> None:
        arrow = "↓" if self.sort_reverse else "↑"
        text = Text(no_wrap=True, overflow="ellipsis")
        n = len(self.table.keys)
        text.append(f"{n} series · sorted by {self.sort_column} {arrow}", style="dim")
        text.append(" · t: next column · T: reverse · enter: open chart", style="dim")
        # one line whatever it says: laid out the first time only (an update with a layout
        # lays the whole screen out again, on every store change that adds series)
        self.query_one("#overview-hint", Static).update(text, layout=not self._hinted)
        self._hinted = True
