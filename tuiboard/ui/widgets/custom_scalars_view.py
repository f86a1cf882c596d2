"""The Custom scalars tab: the `custom_scalars__config__` layout of every run, merged by
category title, as collapsible groups of charts.

Owns: `CustomScalarsView`, `CustomChart` and the two chart sources, `MultilineSource` (every
tag of each shown run that a regex matches, one line per run x tag, smoothed as on Scalars)
and `MarginSource` (a value line over its lower-upper band, never smoothed: TensorBoard #903).
Groups, grid, keys and the full-screen chart are the Scalars tab's own (ChartGroup, ScalarChart,
ChartScreen); which series a chart shows and how it is paired are render/custom_scalars.py's.
The layout is rebuilt only when some run's layout tag moved; charts redraw when their series
did. Rebuilt lazily while the tab is shown.
Must not import: tuiboard.core readers (the store is read through the Board).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import Static

from tuiboard.core.custom_scalars import CONFIG_TAG, MARGIN, Category, Chart, Layout, layout_of
from tuiboard.core.types import CUSTOM_SCALARS, SCALARS
from tuiboard.render.chart import ChartSeries
from tuiboard.render.custom_scalars import (
    PlannedSeries,
    align_margin,
    chart_matches,
    chart_plan,
    chart_title,
    drawable_order,
    footer_lines,
    steps_warning,
    tag_regexes,
)
from tuiboard.ui.series import PreparedSeries
from tuiboard.ui.view_state import compile_filter
from tuiboard.ui.widgets.lazy_tab import LazyTab
from tuiboard.ui.widgets.scalar_chart import ChartLine, ChartSource, ScalarChart
from tuiboard.ui.widgets.scalars_view import (
    ChartGroup,
    ChartScroll,
    GroupHeader,
    grid_shape,
    move_focus,
)

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

EMPTY = "No custom scalars layout in the loaded runs."


class LayoutSource(ChartSource):
    """A chart of the layout: its lines are planned per run from the run's scalar tags."""

    name_column = "series"

    def __init__(self, category: Category, chart: Chart) -> None:
        super().__init__(chart_title(chart))
        self.category = category
        self.chart = chart
        self._plans: dict[str, tuple[list[str], list[PlannedSeries], list[str]]] = {}
        """Run -> (the tag list planned from, its series, its problems): board.run_tags hands
        out the same list until the run changes, so a plan is redone only then."""

    @property
    def title(self) -> str:
        return chart_title(self.chart)

    def run_plan(self, board: Board, run: str) -> tuple[list[PlannedSeries], list[str]]:
        tags = board.run_tags(run, SCALARS)
        hit = self._plans.get(run)
        if hit is None or hit[0] is not tags:
            planned, problems = chart_plan(self.chart, [(run, tags)])
            hit = (tags, planned, problems)
            self._plans[run] = hit
        return hit[1], hit[2]

    def version(self, board: Board, run: str) -> Hashable:
        planned, _ = self.run_plan(board, run)
        if not planned:
            return None
        cache = board.cache
        return tuple(cache.version_key(run, t) for p in planned for t in _tags_of(p))

    def problems(self, board: Board, lines: list[ChartLine]) -> list[str]:
        return [p for run in board.visible_runs() for p in self.run_plan(board, run)[1]]

    def footer(self, board: Board, lines: list[ChartLine], width: int, full: bool) -> list[Text]:
        problems = self.problems(board, lines)
        if not full and len(problems) > 1:
            problems = [f"{problems[0]} (+{len(problems) - 1} more: Enter)"]
        entries = [(line.series.mark, line.series.color, line.label) for line in lines]
        return footer_lines(problems, entries, width, board.theme, 4 if full else 1)


def _tags_of(p: PlannedSeries) -> tuple[str, ...]:
    m = p.margin
    return (p.tag,) if m is None else (m.value, m.lower, m.upper)


class MultilineSource(LayoutSource):
    """Every tag a regex matches, of every shown run, smoothed as on Scalars."""

    def lines(self, board: Board) -> list[ChartLine]:
        options = board.options
        smoothing = options.smoothing > 0
        out: list[ChartLine] = []
        for run in board.visible_runs():
            colour = board.colour_of(run)
            for p in self.run_plan(board, run)[0]:
                prep = board.cache.get(run, p.tag, options)
                if prep is None or not prep.placeable:
                    continue
                series = ChartSeries(
                    label=p.name,
                    color=colour,
                    x=prep.x,
                    y=prep.smoothed if smoothing else prep.value,
                    raw_y=prep.value if smoothing else None,
                    mark=p.symbol,
                    pinned=run in board.selection.pinned,
                )
                columns = (prep.value, prep.smoothed)
                out.append(ChartLine(p.name, run, p.name, prep, series, columns))
        return out

    def problems(self, board: Board, lines: list[ChartLine]) -> list[str]:
        return [f"invalid regex {r!r}: {why}" for r, why in tag_regexes(self.chart.tags).invalid]


class MarginSource(LayoutSource):
    """Each series' value line over its lower-upper band; never smoothed."""

    columns = ("value", "lower", "upper")
    note = "margin charts are never smoothed"

    def __init__(self, category: Category, chart: Chart) -> None:
        super().__init__(category, chart)
        self._lines: dict[tuple[str, str], tuple[tuple[object, ...], ChartLine, str]] = {}
        """(run, series name) -> (the three prepared series it was built from, the line, its
        step warning): rebuilt only when one of them changed."""
        self._notes: list[str] = []
        """The step warnings of the lines last listed."""

    def lines(self, board: Board) -> list[ChartLine]:
        self._notes: list[str] = []
        out: list[ChartLine] = []
        for run in board.visible_runs():
            colour = board.colour_of(run)
            for p in self.run_plan(board, run)[0]:
                found = self._line(board, run, colour, p)
                if found is not None:
                    line, note = found
                    if run in board.selection.pinned:  # drawn last, on top (the cache keeps
                        line = replace(line, series=replace(line.series, pinned=True))  # unpinned)
                    out.append(line)
                    if note:
                        self._notes.append(note)
        return out

    def _line(
        self, board: Board, run: str, colour: str, p: PlannedSeries
    ) -> tuple[ChartLine, str] | None:
        assert p.margin is not None
        preps = [board.cache.get(run, t, board.options) for t in _tags_of(p)]
        pv, pl, pu = preps
        if pv is None or pl is None or pu is None:
            return None
        key = (run, p.name)
        hit = self._lines.get(key)
        if (
            hit is not None
            and all(a is b for a, b in zip(hit[0], preps, strict=True))
            and hit[1].series.color == colour
        ):
            return hit[1], hit[2]
        iv, il, iu, mismatch = align_margin(pv.step, pl.step, pu.step)
        order = drawable_order(pv.x[iv])
        if order is not None:
            iv, il, iu = iv[order], il[order], iu[order]
        value = pv.value[iv]
        prep = PreparedSeries(run, p.tag, pv.x[iv], pv.step[iv], pv.wall_time[iv], value, value)
        lower, upper = pl.value[il], pu.value[iu]
        series = ChartSeries(p.name, colour, prep.x, value, None, lower, upper, p.symbol)
        line = ChartLine(p.name, run, p.name, prep, series, (value, lower, upper))
        note = steps_warning(run, p.margin, int(iv.shape[0])) if mismatch else ""
        self._lines[key] = (tuple(preps), line, note)
        return line, note

    def problems(self, board: Board, lines: list[ChartLine]) -> list[str]:
        return super().problems(board, lines) + self._notes


def chart_source(category: Category, chart: Chart) -> LayoutSource:
    return (MarginSource if chart.kind == MARGIN else MultilineSource)(category, chart)


class CustomChart(ScalarChart):
    """A layout chart in its category's grid (Enter: full screen with the cursor table)."""

    def __init__(self, board: Board, source: LayoutSource, position: int, **kw: Any) -> None:
        super().__init__(board, source, **kw)
        self.sort_key = f"{position:08d}"
        """The layout's order, not the title's."""
        self.layout_source = source


class CustomScalarsView(LazyTab, Vertical):
    """The merged layout's categories as collapsible groups of charts."""

    TAB = "custom_scalars"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "collapse_all", "Collapse / expand every category", show=False),
        Binding("up", "move(0, -1)", "Chart above", show=False),
        Binding("down", "move(0, 1)", "Chart below", show=False),
        Binding("left", "move(-1, 0)", "Chart to the left", show=False),
        Binding("right", "move(1, 0)", "Chart to the right", show=False),
    ]

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(**kw)
        self.board = board
        self.columns = 1
        self.merged = Layout()
        """The merged layout shown."""
        self._layout_key: tuple[tuple[str, int], ...] | None = None
        self._groups: list[ChartGroup] = []
        self._collapsed: dict[str, bool] = {}
        """Category title -> collapsed, as the user left it (a layout change keeps it)."""
        self.built = 0
        """How many times the groups were (re)built (tests wait on it)."""

    @classmethod
    def help_bindings(cls) -> list[BindingType]:
        return list(cls.BINDINGS) + list(ScalarChart.BINDINGS) + list(GroupHeader.BINDINGS)

    def compose(self) -> ComposeResult:
        yield Static(Text(EMPTY, style="dim"), id="cs-empty")
        yield ChartScroll(id="cs-scroll")

    # -- data ------------------------------------------------------------------------------------

    def layout_key(self) -> tuple[tuple[str, int], ...]:
        return tuple(
            (r.name, r.series_version(CUSTOM_SCALARS, CONFIG_TAG)) for r in self.board.logdir.runs
        )

    def rebuild(self) -> None:
        self._stale = False
        key = self.layout_key()
        if key != self._layout_key:
            self._layout_key = key
            runs = self.board.logdir.runs
            merged = layout_of((r.name, r.values(CUSTOM_SCALARS, CONFIG_TAG)) for r in runs)
            self._build(merged.layout)
        self._apply_filter()
        for chart in self.charts():
            chart.refresh()

    def _build(self, layout: Layout) -> None:
        for group in self._groups:
            self._collapsed[group.group_name] = group.collapsed
            group.remove()
        self.merged = layout
        self._groups = []
        position = 0
        for cat in layout.categories:
            charts: list[ScalarChart] = []
            for chart in cat.charts:
                source = chart_source(cat, chart)
                charts.append(CustomChart(self.board, source, position, classes="chart"))
                position += 1
            collapsed = self._collapsed.get(cat.title, cat.closed)
            self._groups.append(ChartGroup(cat.title, charts, collapsed, classes="chart-group"))
        scroll = self.query_one("#cs-scroll", ChartScroll)
        if self._groups:
            scroll.mount_all(self._groups)
        self.built += 1
        self.call_after_refresh(self._after_mount)

    def _after_mount(self) -> None:
        self._apply_columns()
        self._apply_filter()

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        if self.layout_key() != self._layout_key:
            self.rebuild()
            return
        touched = set(changes.runs)
        for chart in self.charts():
            chart.data_changed(touched)

    def charts(self) -> list[CustomChart]:
        return [c for g in self._groups for c in g.charts() if isinstance(c, CustomChart)]

    def _apply_filter(self) -> None:
        regex = compile_filter(self.board.tag_pattern)
        for group in self._groups:
            for chart in group.charts():
                if isinstance(chart, CustomChart):
                    src = chart.layout_source
                    chart.display = chart_matches(src.category, src.chart, regex)
            group.display = any(c.display for c in group.charts())
            group.update_header()
        empty = self.query_one("#cs-empty", Static)
        shown = any(g.display for g in self._groups)
        empty.display = not shown
        if not shown:
            why = Text(EMPTY, style="dim")
            if self._groups and self.board.tag_pattern:
                why = Text("No chart matches the tag filter (/ to change it)", style="dim")
            elif self._layout_key and not self.merged.categories:
                why = Text("The custom scalars layout has no category.", style="dim")
            empty.update(why)

    # -- layout ----------------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._apply_columns()

    def _apply_columns(self) -> None:
        columns, height = grid_shape(self.size.width, self.size.height)
        self.columns = columns
        for group in self._groups:
            group.grid.styles.grid_size_columns = columns
            group.grid.styles.grid_rows = str(height)

    # -- the app's DashboardView calls and keys --------------------------------------------------

    def focus_first(self) -> None:
        self.shown()
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        charts = self.visible_charts()
        if charts:
            charts[0].focus()
        elif self._groups:
            self._groups[0].header.focus()

    def visible_charts(self) -> list[ScalarChart]:
        out: list[ScalarChart] = []
        for group in self._groups:
            if group.display and not group.collapsed:
                out.extend(c for c in group.charts() if c.display)
        return out

    def action_collapse_all(self) -> None:
        collapse = not all(g.collapsed for g in self._groups)
        for group in self._groups:
            group.collapsed = collapse

    def action_move(self, dx: int, dy: int) -> None:
        move_focus(self.screen.focused, self.visible_charts(), self.columns, dx, dy)
