"""The Scalars tab: tags grouped by prefix, collapsible groups, a grid of charts, a tag filter.

Owns: `ScalarsView`, `ChartGroup`, `GroupHeader`, `ChartScroll`, and the grid's shape and
arrow-key moves (`grid_shape`, `move_focus`), which the Custom scalars tab shares. New tags are
mounted in place (sorted), charts redraw only when one of their series moved; the grid's column
count follows the width.
Must not import: tuiboard.core internals (it reads through Board), tuiboard.render beyond clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.events import Click, Resize
from textual.widgets import Input, Static

from tuiboard.core.types import SCALARS
from tuiboard.render.sanitize import clean
from tuiboard.ui.board import group_order, tag_group
from tuiboard.ui.widgets.scalar_chart import ScalarChart

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

MIN_CHART_WIDTH = 44
"""Cells; the grid holds as many columns of charts as fit at this width."""
CHART_WIDTH = 56
"""Cells; the preferred chart width on wide terminals."""
MANY_TAGS = 48
"""With more scalar tags than this, groups after the first start collapsed (open with Enter)."""


def grid_shape(width: int, rows: int) -> tuple[int, int]:
    """(charts per grid row, chart height) for a view `width` x `rows` cells.

    As many columns as fit at MIN_CHART_WIDTH, but on wide terminals charts grow wider (about
    CHART_WIDTH cells) rather than shrink into many narrow ones."""
    columns = max(1, min((width - 1) // MIN_CHART_WIDTH, round(width / CHART_WIDTH)))
    height = max(8, min(20 if rows >= 60 else 16, (rows - 2) // 2)) if rows else 12
    return columns, height


def move_focus(focused: object, charts: list[ScalarChart], columns: int, dx: int, dy: int) -> None:
    """Arrow keys over a grid of groups: within the focused chart's grid by column and row,
    across groups in reading order; nothing focused: the first chart."""
    if not isinstance(focused, ScalarChart) or focused not in charts:
        if charts:
            charts[0].focus()
        return
    grid = focused.parent
    peers = [c for c in charts if c.parent is grid]
    i = peers.index(focused)
    j = i + dx if dx else i + dy * columns
    if 0 <= j < len(peers):
        target = peers[j]
    else:
        k = charts.index(focused) + (dx or dy)
        if not 0 <= k < len(charts):
            return
        target = charts[k]
    target.focus()
    target.scroll_visible()


class ChartScroll(VerticalScroll, inherit_bindings=False):
    """The scrolling column of groups. Without VerticalScroll's arrow keys, which scrolled the
    column whenever it could and so never let the view's arrows move between charts (moving
    the focus scrolls it into view)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]


class GroupHeader(Static, can_focus=True):
    """ "▼ train (4)": Enter, space or a click collapses or expands its group."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_group", "Collapse / expand group", show=False),
    ]

    def __init__(self, name: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.group_name = name

    def show(self, collapsed: bool, count: int) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("▶ " if collapsed else "▼ ", style="bold")
        text.append(clean(self.group_name), style="bold")
        text.append(f"  {count}", style="dim")
        self.update(text)

    def action_toggle_group(self) -> None:
        group = self.parent
        if isinstance(group, ChartGroup):
            group.collapsed = not group.collapsed

    def on_click(self, event: Click) -> None:
        self.action_toggle_group()


class ChartGrid(Grid):
    """The grid of a group. Charts added before it is mounted wait in `pending`."""

    def __init__(self, charts: list[ScalarChart], **kw: object) -> None:
        super().__init__(*charts, **kw)  # type: ignore[arg-type]
        self.pending: list[ScalarChart] = []

    def on_mount(self) -> None:
        for chart in self.pending:
            self.insert_sorted(chart)
        self.pending.clear()

    def add_chart(self, chart: ScalarChart) -> None:
        if self.is_mounted:
            self.insert_sorted(chart)
        else:
            self.pending.append(chart)

    def insert_sorted(self, chart: ScalarChart) -> None:
        later = [c for c in self.query_children(ScalarChart) if c.sort_key > chart.sort_key]
        if later:
            self.mount(chart, before=min(later, key=lambda c: c.sort_key))
        else:
            self.mount(chart)


class ChartGroup(Vertical):
    """A header and a grid of charts of tags sharing a prefix."""

    def __init__(
        self, name: str, charts: list[ScalarChart], collapsed: bool = False, **kw: object
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.group_name = name
        self._collapsed = collapsed
        self.header = GroupHeader(name, classes="group-header")
        self.grid = ChartGrid(charts, classes="chart-grid")
        self.grid.display = not collapsed
        self.members: list[ScalarChart] = list(charts)
        """Every chart of the group, mounted or waiting (sorted by sort_key)."""

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.grid

    def add_chart(self, chart: ScalarChart) -> None:
        self.members.append(chart)
        self.members.sort(key=lambda c: c.sort_key)
        self.grid.add_chart(chart)

    @property
    def collapsed(self) -> bool:
        return self._collapsed

    @collapsed.setter
    def collapsed(self, value: bool) -> None:
        self._collapsed = value
        self.grid.display = not value
        self.update_header()

    def charts(self) -> list[ScalarChart]:
        return self.members

    def update_header(self) -> None:
        shown = sum(1 for c in self.members if c.display)
        self.header.show(self._collapsed, shown)


class ScalarsView(Vertical):
    """Every scalar tag as a chart. `/` opens the regex tag filter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "collapse_all", "Collapse / expand every group", show=False),
        Binding("up", "move(0, -1)", "Chart above", show=False),
        Binding("down", "move(0, 1)", "Chart below", show=False),
        Binding("left", "move(-1, 0)", "Chart to the left", show=False),
        Binding("right", "move(1, 0)", "Chart to the right", show=False),
    ]

    def __init__(self, board: Board, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self.columns = 1
        """Charts per grid row; follows the width (MIN_CHART_WIDTH)."""
        self._charts: dict[str, ScalarChart] = {}
        self._groups: dict[str, ChartGroup] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter tags (regex), Enter to keep, Esc to clear", id="tag-filter")
        yield ChartScroll(id="chart-scroll")
        yield Static(Text("No scalar data yet.", style="dim"), id="scalars-empty")

    def on_mount(self) -> None:
        self.query_one("#tag-filter").display = False

    # -- filter ----------------------------------------------------------------------------------

    def show_progress(self, progress: tuple[int, int] | None) -> None:
        """While the first load runs and no chart exists yet, say how far it got."""
        empty = self.query_one("#scalars-empty", Static)
        if not empty.display:
            return  # charts are shown: the line is hidden (and an update lays the screen out)
        if progress is None:
            empty.update(Text("No scalar data yet.", style="dim"))
        else:
            done, total = progress
            empty.update(Text(f"Reading the logdir: {done}/{total} runs…", style="dim"))

    def open_filter(self) -> None:
        box = self.query_one("#tag-filter", Input)
        box.display = True
        box.focus()

    def set_filter_text(self, text: str) -> None:
        box = self.query_one("#tag-filter", Input)
        box.value = text
        box.display = bool(text)
        self.app.set_tag_filter(text)  # type: ignore[attr-defined]

    @on(Input.Changed, "#tag-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.app.set_tag_filter(event.value)  # type: ignore[attr-defined]

    @on(Input.Submitted, "#tag-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#tag-filter", Input)
        box.display = bool(box.value)
        first = next((c for c in self._charts.values() if c.display), None)
        if first is not None:
            first.focus()

    def key_escape(self) -> None:
        box = self.query_one("#tag-filter", Input)
        if box.has_focus:
            self.set_filter_text("")

    # -- layout ----------------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._apply_columns(event.size.width)

    def _apply_columns(self, width: int) -> None:
        columns, height = grid_shape(width, self.size.height)
        self.columns = columns
        for grid in (g.grid for g in self._groups.values()):
            grid.styles.grid_size_columns = columns
            grid.styles.grid_rows = str(height)

    # -- data ------------------------------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        self._sync_tags()
        touched = set(changes.runs)
        for chart in self._charts.values():
            chart.data_changed(touched)

    def view_changed(self) -> None:
        self._apply_filter()
        for chart in self._charts.values():
            chart.refresh()

    def _sync_tags(self) -> None:
        tags = self.board.tags(SCALARS)
        new = [t for t in tags if t not in self._charts]
        if not new:
            return
        scroll = self.query_one("#chart-scroll", ChartScroll)
        fresh: dict[str, list[ScalarChart]] = {}
        for tag in new:
            chart = ScalarChart(self.board, tag, classes="chart")
            self._charts[tag] = chart
            name = tag_group(tag)
            group = self._groups.get(name)
            if group is None:
                fresh.setdefault(name, []).append(chart)
            else:
                group.add_chart(chart)
        many = len(tags) > MANY_TAGS
        for name, charts in sorted(fresh.items(), key=lambda item: group_order(item[0])):
            collapsed = many and bool(self._groups)
            group = ChartGroup(name, charts, collapsed, classes="chart-group")
            key = group_order(name)
            later = sorted((g for g in self._groups if group_order(g) > key), key=group_order)
            self._groups[name] = group
            if later:
                scroll.mount(group, before=self._groups[later[0]])
            else:
                scroll.mount(group)
        self.query_one("#scalars-empty").display = not self._charts
        self.call_after_refresh(self._after_mount)

    def _after_mount(self) -> None:
        self._apply_columns(self.size.width)
        self._apply_filter()

    def _apply_filter(self) -> None:
        board = self.board
        for tag, chart in self._charts.items():
            chart.display = board.tag_matches(tag)
        for group in self._groups.values():
            charts = group.charts()
            group.display = any(c.display for c in charts)
            group.update_header()

    # -- the app's DashboardView calls ---------------------------------------------------------

    def shown(self) -> None:
        """Always up to date (Scalars is never lazy)."""

    def focus_first(self) -> None:
        charts = self.visible_charts()
        if charts:
            charts[0].focus()

    # -- keys ------------------------------------------------------------------------------------

    def visible_charts(self) -> list[ScalarChart]:
        out: list[ScalarChart] = []
        for name in sorted(self._groups, key=group_order):
            group = self._groups[name]
            if group.display and not group.collapsed:
                out.extend(c for c in group.charts() if c.display)
        return out

    def action_collapse_all(self) -> None:
        groups = list(self._groups.values())
        collapse = not all(g.collapsed for g in groups)
        for group in groups:
            group.collapsed = collapse

    def action_move(self, dx: int, dy: int) -> None:
        move_focus(self.screen.focused, self.visible_charts(), self.columns, dx, dy)
