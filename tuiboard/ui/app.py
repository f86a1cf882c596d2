"""The Textual app: composes the run panel, the three views and the status line; binds keys;
routes messages. The view state lives in `Board`; drawing lives in the widgets and render/.

Owns: `TuiboardApp`, `run_app` (the entry point cli.py calls). The watcher thread only posts
`StoreChanged`; every redraw happens here on the UI thread, pulling from the store by version.
Must not import: tuiboard.core internals beyond the public Logdir / Watcher API.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import TabbedContent, TabPane
from textual.worker import get_current_worker

from tuiboard.core.gc_pause import pause_gc
from tuiboard.core.logdir import Changes, Logdir, Run
from tuiboard.core.watch import Discovered, Watcher, discover_ahead
from tuiboard.dashboards import BY_NAME, DASHBOARDS
from tuiboard.render.group_series import describe_spec
from tuiboard.render.sanitize import clean
from tuiboard.ui.appearance import BINDINGS as APPEARANCE_BINDINGS
from tuiboard.ui.appearance import AppearanceMixin, Preferences
from tuiboard.ui.board import Board, run_filter_error
from tuiboard.ui.groups import BAND_LABELS, BANDS, CENTRES, GroupSpec
from tuiboard.ui.messages import (
    CursorMoved,
    GroupToggled,
    LoadProgress,
    OpenCard,
    OpenChart,
    RunFilterChanged,
    RunHighlighted,
    RunPinned,
    RunToggled,
    ShowWarnings,
    StatusFilterWorked,
    StoreChanged,
    WatcherFailed,
)
from tuiboard.ui.screens.card import CardScreen
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.screens.help import HelpScreen
from tuiboard.ui.screens.prompt import PromptScreen
from tuiboard.ui.screens.run_details import RunDetailsScreen
from tuiboard.ui.screens.warnings import WarningsScreen
from tuiboard.ui.view_state import METRIC, SMOOTHING_STEP, X_AXES
from tuiboard.ui.widgets.group_list import GroupList
from tuiboard.ui.widgets.histograms_view import HistogramsView
from tuiboard.ui.widgets.logs_pane import LogLines, LogsPane
from tuiboard.ui.widgets.overview import OverviewView
from tuiboard.ui.widgets.run_panel import RunPanel, RunTree
from tuiboard.ui.widgets.scalar_chart import ChartSource, ScalarChart
from tuiboard.ui.widgets.scalars_view import ScalarsView

if TYPE_CHECKING:
    from tuiboard.core.run_filter import RunFilter
    from tuiboard.ui.widgets.cards import DashboardView
from tuiboard.ui.widgets.status_bar import Status, StatusBar

START_GC_PAUSE = 10.0
"""At most this many seconds the cyclic garbage collector pauses while the app starts
(gc_pause: it ends when the first load does, freezing what it made)."""
FIRST_PAINT_WAIT = 1.0
"""At most this many seconds the first load waits, once the first runs are read, for the app to
draw them: the reading thread and this one share the interpreter, so at 10,000 runs reading on
meanwhile delays the first chart (bench/bench_scale.py)."""


class TuiboardApp(AppearanceMixin, App[int]):
    """TensorBoard in the terminal."""

    CSS_PATH = "tuiboard.tcss"
    TITLE = "tuiboard"
    ENABLE_COMMAND_PALETTE = True
    AUTO_FOCUS = "#run-tree"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help: every key"),
        *(
            Binding(str(n), f"show_nth_tab({n})", f"Tab {n} (of the tabs shown)", show=False)
            for n in range(1, 10)
        ),
        Binding("slash", "tag_filter", "Filter tags (regex)"),
        Binding("f", "run_filter", "Filter runs (regex, or a query: tag:x cfg.lr>=1e-3 ...)"),
        Binding("a", "select_all", "Show all runs"),
        Binding("n", "select_none", "Hide all runs"),
        Binding("o", "only_run", "Only the highlighted run (toggle)"),
        Binding("s", "smoothing(1)", "Smoothing +0.05"),
        Binding("S", "smoothing(-1)", "Smoothing -0.05"),
        Binding("x", "cycle_x_axis", "X axis: step / relative / wall (/ a tag's step metric)"),
        Binding("l", "toggle('log_y')", "Log y scale"),
        Binding("i", "toggle('ignore_outliers')", "Ignore outliers (5-95th pct)"),
        Binding("R", "toggle('raw_points')", "Raw points (restart handling off)"),
        Binding("p", "pause", "Pause / resume live redraws"),
        Binding("b", "toggle_sidebar", "Show / hide the run panel"),
        Binding("L", "toggle_logs", "Logs pane: the highlighted run's console output"),
        Binding("I", "run_details", "Details of the highlighted run (id, tags, notes, summary)"),
        Binding("W", "warnings", "All warnings"),
        Binding("e", "export", "Export visible series to CSV"),
        Binding("g", "group", "Group runs (regex on names, or cfg:key,key); Enter expands"),
        *APPEARANCE_BINDINGS,
    ]

    def __init__(
        self,
        logdir: Logdir,
        *,
        poll: float | None = None,
        watch: bool = True,
        clock: Callable[[], float] = time.time,
        tab: str | None = None,
        prefs: Preferences | None = None,
        discovered: Discovered | None = None,
    ) -> None:
        """`discovered`: the first walk of `logdir`, begun before (watch.discover_ahead: the
        command line begins it before importing the UI); begun here when not given."""
        super().__init__()
        self.wanted_tab = tab
        """--tab: opened as soon as that tab is shown (None once reached or the user moved)."""
        self.board = Board(logdir)
        self.board.status_worker = self._work_status_filter
        self.logdir = logdir
        self.init_appearance(prefs, color=not os.environ.get("NO_COLOR"))  # settings + flags
        self.poll = poll
        self.follow_logdir = watch
        if watch and discovered is None:
            discovered = discover_ahead(logdir)
        self._discovered = discovered if watch else None
        """The first walk of the logdir, begun by now: it runs while Textual builds the screen
        (begun before the collector's pause below: a walk in a forked process needs this
        thread to be the only one, and the pause's timer is a thread)."""
        self._resume_gc = pause_gc(START_GC_PAUSE) if watch else None
        """Ends the collector's pause during the start (gc_pause): at the first paint."""
        self.clock = clock
        self._watcher: Watcher | None = None
        self._paused = False
        self.orphaned: Callable[[], bool] | None = None
        """Set before run(): asked every second; True makes the app exit (run_app's `served`)."""
        self._pending: Changes | None = None
        """Changes that arrived while paused, merged; applied on resume."""
        self._progress: tuple[int, int] | None = None
        self._last_update: float | None = None
        self._store_shown = ""
        """The failing store's state as last shown on the status line ("" none)."""
        self._highlighted_run: str | None = None
        self._logs_chosen = False
        """The Logs pane was opened or closed (by `L` or once by itself): never auto-open it."""
        self._run_panel: RunPanel | None = None
        self._panel_mark = 0
        """How far the run panel followed the Board's moved runs (Board.moved_since)."""
        self.applied = 0
        """How many StoreChanged were applied (tests wait on it)."""
        self._first_drawn = False
        """A change with data was applied (the watcher waits for its paint: FIRST_PAINT_WAIT)."""
        self._built: dict[str, Widget] = {}
        """The tabs' widgets built so far, by tab name (_build_view)."""
        self._mounting: dict[str, AwaitMount] = {}
        """Their mounts, for what must wait until a late-built widget has its children."""

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        board = self.board
        shown = set(self.shown_tabs())  # the tabs in the tab bar from the start (a store read
        # before the app started has its kinds already): built now, the others when they show
        with Horizontal(id="main"):
            self._run_panel = RunPanel(board.selection, board.colour_of, id="run-panel")
            yield self._run_panel
            with Vertical(id="content"):
                with TabbedContent(id="tabs", initial="scalars"):
                    for dash in DASHBOARDS:
                        with TabPane(dash.title, id=dash.name):
                            if dash.name in shown:
                                yield self._new_view(dash.name)
                yield LogsPane(id="logs")
        yield StatusBar(id="status")

    def _new_view(self, name: str) -> Widget:
        view: Widget = BY_NAME[name].load_view()(self.board, id=f"{name}-view")
        self._built[name] = view
        return view

    def views(self) -> list[DashboardView]:
        """The tabs' widgets built and mounted so far, in tab order (a tab's widget is built
        when the tab first shows in the tab bar: see _build_view)."""
        built = self._built
        return [
            built[d.name]  # type: ignore[misc]
            for d in DASHBOARDS
            if d.name in built and built[d.name].is_mounted
        ]

    def view(self, name: str) -> DashboardView:
        """The tab's widget, built now if it was not (it may still be mounting)."""
        self._build_view(name)
        return self._built[name]  # type: ignore[return-value]

    def _build_view(self, name: str) -> None:
        """Mount a tab's widget into its pane, once. Only the tabs in the tab bar are built
        (at 10,000 runs, composing and mounting the nine hidden dashboards and importing their
        modules cost ~0.25 s of the start); a tab whose kind appears is built as it appears.
        Built late, the widget is stale (LazyTab) and rebuilds from the store when shown; what
        must wait for its children (shown, focus) waits for the mount (_when_mounted)."""
        if name in self._built:
            return
        view = self._new_view(name)
        self._mounting[name] = self.query_one(TabbedContent).get_pane(name).mount(view)

    def _when_mounted(self, name: str, callback: Callable[[], object]) -> None:
        """Call `callback` once the tab's widget is mounted (now, if it is)."""
        mounting = self._mounting.get(name)
        if mounting is None or self._built[name].is_mounted:
            callback()
            return

        async def later() -> None:
            await mounting
            if not self._widgets_gone():
                callback()

        self.call_next(later)

    def shown_tabs(self) -> list[str]:
        """The tabs shown now: always-shown ones, and those whose data some run has."""
        kinds = self.board.kinds()
        return [d.name for d in DASHBOARDS if d.present(kinds)]

    def _sync_tabs(self) -> None:
        """Show the tabs whose kind appeared (live), hide those whose runs went away."""
        tabs = self.query_one(TabbedContent)
        shown = set(self.shown_tabs())
        for dash in DASHBOARDS:
            if dash.name in shown and dash.name in self._hidden_tabs:
                self._build_view(dash.name)
                tabs.show_tab(dash.name)
                self._hidden_tabs.discard(dash.name)
            elif dash.name not in shown and dash.name not in self._hidden_tabs:
                if tabs.active == dash.name:
                    tabs.active = "scalars"
                tabs.hide_tab(dash.name)
                self._hidden_tabs.add(dash.name)
        if self.wanted_tab is not None and self.wanted_tab in shown:
            tab, self.wanted_tab = self.wanted_tab, None
            self.action_show_tab(tab)

    def on_mount(self) -> None:
        self._mount_group_list()
        self._hidden_tabs: set[str] = set()
        self.query_one(LogsPane).display = False
        self.start_appearance()
        self._sync_tabs()
        self._update_status()
        if self.follow_logdir:
            self._watcher = Watcher(
                self.logdir,
                self._on_watcher_change,
                poll=self.poll,
                on_progress=self._on_watcher_progress,
                on_error=self._on_watcher_error,
                first_paint_wait=FIRST_PAINT_WAIT,
                discovered=self._discovered,
            )
            self._watcher.start()
        else:
            runs = frozenset(r.name for r in self.logdir.runs)
            self.post_message(StoreChanged(Changes(runs, runs, version=self.logdir.version)))
        self.set_interval(10.0, self._tick, name="ages")
        self.set_interval(1.0, self._store_tick, name="store-state")
        if self.orphaned is not None:
            self.set_interval(1.0, self._exit_if_orphaned, name="orphan-check")

    def on_resize(self, event: events.Resize) -> None:
        # At 80 columns the run panel gives room to the charts.
        self.query_one("#main").set_class(event.size.width < 110, "narrow")
        self.apply_panel_sizes()

    def on_unmount(self) -> None:
        self._end_gc_pause()
        self.flush_settings()
        if self._watcher is not None:
            self._watcher.stop()

    # -- the watcher thread's side: post only ---------------------------------------------------

    def _on_watcher_change(self, changes: Changes) -> None:
        self.post_message(StoreChanged(changes))

    def _on_watcher_progress(self, done: int, total: int) -> None:
        self.post_message(LoadProgress(done, total))

    def _on_watcher_error(self, error: BaseException) -> None:
        self.post_message(WatcherFailed(error))

    # -- applying store changes -------------------------------------------------------------------

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        changes = message.changes
        if self._paused:
            self._pending = changes if self._pending is None else self._pending.merge(changes)
            return
        if not self._widgets_gone():
            self.apply_changes(changes)

    def _widgets_gone(self) -> bool:
        """The app is closing (its widgets are gone or going) while the watcher still reports.
        Textual stops running before it removes the screens' widgets one by one, so a message
        handled meanwhile finds the run panel attached and the status bar gone (NoMatches at
        exit, seen twice under load): not running counts as gone."""
        panel = self._run_panel
        return not self.is_running or panel is None or not panel.is_attached

    def apply_changes(self, changes: Changes) -> None:
        """Redraw what the changes touched: run labels, the charts of moved series, the status."""
        board = self.board
        for name in changes.removed_runs:
            board.cache.forget_run(name)
        board.note_changes(changes)
        kept_moved = board.refresh_run_filter(self.clock(), changes.runs | changes.removed_runs)
        self._sync_run_panel(set(changes.runs))
        self._sync_tabs()
        self._sync_logs()
        self._sync_groups()
        for view in self.views():
            view.apply_changes(changes)
        for screen in self.screen_stack:
            if isinstance(screen, ChartScreen | CardScreen):
                screen.apply_changes(changes)
        if kept_moved:  # the filter keeps other runs now (a query on tags, config, data)
            self.view_changed(runs_changed=True)
        self._last_update = self.clock()
        self.applied += 1
        self._update_status()
        if changes.runs and not self._first_drawn:
            self._first_drawn = True
            self.call_after_refresh(self._first_paint_done, 0)

    def _first_paint_done(self, tries: int) -> None:
        """Once the first runs read are drawn, the watcher's first load reads on. A chart
        made by a change is drawn a few refreshes later (mounted, laid out, then rendered)."""
        if self._watcher is None or self._widgets_gone():
            self._end_gc_pause()
            return
        views = self.query(ScalarsView)
        if tries < 10 and views and self.active_tab == "scalars":
            charts = views.first().visible_charts()
            if charts and not any(c.renders for c in charts):
                self.call_after_refresh(self._first_paint_done, tries + 1)
                return
        self._watcher.drawn()

    def _end_gc_pause(self, freeze: bool = False) -> None:
        if self._resume_gc is not None:
            self._resume_gc(freeze)
            self._resume_gc = None

    @on(LoadProgress)
    def _load_progress(self, message: LoadProgress) -> None:
        done, total = message.done, message.total
        self._progress = None if done >= total else (done, total)
        if self._progress is None:
            self._end_gc_pause(freeze=True)  # what the first load made stays: frozen (gc_pause)
        if self._widgets_gone():
            return
        self.query_one(ScalarsView).show_progress(self._progress)
        self._update_status()

    @on(WatcherFailed)
    def _watcher_failed(self, message: WatcherFailed) -> None:
        self.notify(
            clean(f"reading stopped: {message.error!r}"), severity="error", timeout=30, markup=False
        )

    def _tick(self) -> None:
        """Ages in the run panel move with the clock; nothing else is redrawn, unless a
        `status:` filter keeps other runs now (a run stalled)."""
        if self._widgets_gone():
            return
        if self.board.filter_uses_clock and self.board.refresh_run_filter(self.clock()):
            self.view_changed(runs_changed=True)
            return
        self._sync_run_panel()

    def store_state(self) -> str:
        """The status line's word on a failing remote store: "s3: access denied, retrying in
        40 s" (no secret: core/remote.py's reasons); "" while every store answers."""
        errors = self.logdir.store_errors
        if not errors:
            return ""
        text = errors[0].describe()
        next_poll = self._watcher.next_poll if self._watcher is not None else None
        if next_poll is not None:
            left = round(next_poll - time.time())
            text += f", retrying in {left} s" if left > 0 else ", retrying now"
        return text

    def _exit_if_orphaned(self) -> None:
        """Under `tuiboard serve`: the server that started this app is gone, so is its page."""
        if self.orphaned is not None and self.orphaned():
            self.exit(0)

    def _store_tick(self) -> None:
        """Once a second while a store fails (or just came back): the countdown moves."""
        if self._store_shown or self.logdir.store_errors:
            self._update_status()

    def _store_counts(self) -> tuple[int, int, int]:
        """(runs, warnings, points) of the store as last applied: the board keeps the counts
        current from each change (a pass over 10,000 runs per store version cost ~40 ms on
        every batch of the first load)."""
        board = self.board
        runs = len(board.run_names())
        # the logdir's own warnings (discovery's) move without the store's version
        return runs, len(self.logdir.warnings) + board.warning_count, board.point_count

    def _update_status(self) -> None:
        board = self.board
        n_runs, warnings, points = self._store_counts()
        self._store_shown = self.store_state()
        visible = board.visible_runs()
        self.query_one(StatusBar).show(
            Status(
                runs=n_runs,
                shown=len(visible),
                points=points,
                progress=self._progress,
                last_update=self._last_update,
                paused=self._paused,
                warnings=warnings,
                groups=board.grouping.describe(visible),
                options=board.options.describe(),
                store=self._store_shown,
            )
        )

    # -- view changes ---------------------------------------------------------------------------

    def view_changed(self, runs_changed: bool = False) -> None:
        """Options, filters or run visibility moved: every view redraws from its caches."""
        if runs_changed:
            self._sync_run_panel()
        self._sync_groups()
        for view in self.views():
            view.view_changed()
        for screen in self.screen_stack:
            if isinstance(screen, ChartScreen | CardScreen):
                screen.view_changed()
        self._update_status()
        self.note_options()  # smoothing and x axis go to the settings file

    def _sync_run_panel(self, changed: set[str] | None = None) -> None:
        """The run panel's rows follow the runs that moved since it last looked (not every
        run: 10,000 runs cost ~5 ms a store change to compare), and its lines on screen whose
        label moved are drawn again."""
        board = self.board
        runs = board.runs()
        self._panel_mark, moved = board.moved_since(self._panel_mark)
        shown = len(board.visible_runs())
        self.query_one(RunPanel).sync(runs, self.clock(), changed, shown=shown, moved=moved)

    @on(RunToggled)
    def _run_toggled(self, message: RunToggled) -> None:
        selection = self.board.selection
        selection.only = None
        if message.visible:
            selection.hidden.difference_update(message.runs)
        else:
            selection.hidden.update(message.runs)
        self.view_changed(runs_changed=True)

    @on(RunHighlighted)
    def _run_highlighted(self, message: RunHighlighted) -> None:
        self._highlighted_run = message.run
        self._sync_logs()

    # -- run groups (ui/groups.py) ---------------------------------------------------------------

    def _mount_group_list(self) -> None:
        """The group list goes into the run panel, above its tree (hidden until `g`)."""
        panel = self.query_one(RunPanel)
        groups = GroupList(self.board.colour_of, id="group-list")
        groups.display = False
        trees = panel.query(RunTree)
        panel.mount(groups, before=trees.first() if trees else None)

    def _sync_groups(self) -> None:
        grouping = self.board.grouping
        widget = self.query_one(GroupList)
        widget.display = grouping.active
        if grouping.spec is not None:
            # The line and band first: the status line names the grouping, a narrow panel cuts
            # the end of this one.
            title = f"{describe_spec(grouping.spec)} · {grouping.spec.describe()}"
            groups = grouping.groups(self.board.visible_runs())
            widget.show_groups(title, groups, grouping.expanded)

    def set_grouping(self, spec: GroupSpec | None) -> None:
        self.board.grouping.set_spec(spec)
        self.view_changed()

    def action_group(self) -> None:
        """`g`: ask for the grouping: a regex cut out of run names, `cfg:key,key`, or
        nothing to stop grouping."""
        self._leave_chart_screens()
        current = self.board.grouping.spec

        def validate(text: str) -> str | None:
            if not text.strip():
                return None
            try:
                GroupSpec.parse(text)
            except ValueError as e:
                return str(e)
            return None

        def done(answer: str | None) -> None:
            if answer is None:
                return
            if not answer.strip():
                self.set_grouping(None)
                return
            centre = current.centre if current else "mean"
            band = current.band if current else "minmax"
            self.set_grouping(GroupSpec.parse(answer, centre, band))

        self.push_screen(
            PromptScreen(
                "Group runs: a regex cut out of run names (seed=\\d+), or cfg:lr,optimizer; "
                "empty: no groups",
                current.describe() if current else "",
                validate,
            ),
            done,
        )

    def set_group_style(self, centre: str | None = None, band: str | None = None) -> None:
        """A group's line (mean / median) or band (minmax / std / iqr)."""
        from dataclasses import replace

        spec = self.board.grouping.spec
        if spec is None:
            self.notify("no groups: press g to group runs", severity="warning", markup=False)
            return
        expanded = self.board.grouping.expanded
        self.board.grouping.set_spec(
            replace(spec, centre=centre or spec.centre, band=band or spec.band)
        )
        self.board.grouping.expanded = expanded
        self.view_changed()

    @on(GroupToggled)
    def _group_toggled(self, message: GroupToggled) -> None:
        self.board.grouping.toggle(message.name)
        self.view_changed()

    # -- the Logs pane -----------------------------------------------------------------------------

    def logs_run(self) -> Run | None:
        """The run the Logs pane shows: the highlighted one, else (a folder or nothing is
        highlighted) the first run with console output."""
        if self._highlighted_run is not None:
            run = self.logdir.run(self._highlighted_run)
            if run is not None:
                return run
        return self.board.console_run()

    def _sync_logs(self) -> None:
        pane = self.query_one(LogsPane)
        if pane.display:  # hidden, it follows nothing (every key in the run panel lands here)
            pane.follow_run(self.logs_run())
        if not self._logs_chosen and self.board.console_run() is not None:
            self._logs_chosen = True  # the first console output seen: open the pane, once
            self._show_logs(True, focus=False)

    def _show_logs(self, show: bool, focus: bool) -> None:
        pane = self.query_one(LogsPane)
        if show == pane.display:
            if show and focus:
                pane.log_lines.focus()
            return
        pane.display = show
        if show:
            pane.follow_run(self.logs_run())
            pane.start()
            if focus:
                pane.log_lines.focus()
        else:
            focused = self.focused
            pane.stop()
            if focused is not None and pane in focused.ancestors:
                self.query_one(RunTree).focus()

    def action_run_details(self) -> None:
        """`I`: the highlighted run's details (a folder or nothing highlighted: say so)."""
        from tuiboard.headless.health import assess, run_facts
        from tuiboard.render.run_details import run_details

        name = self._highlighted_run
        run = None if name is None else self.logdir.run(name)
        if run is None:
            self.notify("highlight a run in the run panel first", severity="warning", markup=False)
            return
        health = assess(run_facts(run), self.clock())
        statuses = list(zip(health.statuses, health.reasons, strict=True))
        body = run_details(run.name, run.path, run.meta, run.config, statuses)
        self.push_screen(RunDetailsScreen(f"Run {run.name}", body))

    def action_toggle_logs(self) -> None:
        self._logs_chosen = True
        self._show_logs(not self.query_one(LogsPane).display, focus=True)

    @on(RunFilterChanged)
    def _run_filter(self, message: RunFilterChanged) -> None:
        """A bad query keeps the previous filter and says why under the filter box."""
        error = self.board.set_run_filter(message.pattern, self.clock())
        self.query_one(RunPanel).show_filter_error(error)
        if error is None:
            self.view_changed(runs_changed=True)

    @work(thread=True, exclusive=True, group="status-filter")
    def _work_status_filter(
        self, rf: RunFilter, now: float, ticket: int, runs: Sequence[Run]
    ) -> None:
        """A `status:` filter over many runs, worked out off the UI thread (the health facts
        of 10,000 runs: ~1 s); a newer question cancels this one, whose answer is dropped."""
        worker = get_current_worker()
        kept = self.board.status_matches(rf, now, runs, lambda: worker.is_cancelled)
        if kept is not None and not worker.is_cancelled:
            self.post_message(StatusFilterWorked(rf, ticket, kept))

    @on(StatusFilterWorked)
    def _status_filter_worked(self, message: StatusFilterWorked) -> None:
        if self._widgets_gone():
            return
        if self.board.status_result(message.filter, message.ticket, message.kept):
            self.view_changed(runs_changed=True)

    @on(RunPinned)
    def _run_pinned(self, message: RunPinned) -> None:
        self.board.toggle_pins(message.runs)
        self.view_changed(runs_changed=True)

    @on(CursorMoved)
    def _cursor_moved(self, message: CursorMoved) -> None:
        """The linked cursor moved: every chart of the grids draws it (charts off screen
        draw when shown)."""
        for chart in self.screen_stack[0].query(ScalarChart):
            chart.refresh()

    @on(OpenChart)
    def _open_chart(self, message: OpenChart) -> None:
        target = message.source if isinstance(message.source, ChartSource) else message.tag
        self.push_screen(ChartScreen(self.board, target, clock=self.clock))

    @on(OpenCard)
    def _open_card(self, message: OpenCard) -> None:
        view = self.view(message.kind)
        self.push_screen(view.full_screen(message.key, message.index))  # type: ignore[attr-defined]

    @on(ShowWarnings)
    def _show_warnings(self, message: ShowWarnings) -> None:
        if message.run is None:
            self.action_warnings()
            return
        run = self.logdir.run(message.run)
        if run is None:
            return
        self.push_screen(WarningsScreen(f"Warnings of {run.name}", [(run.name, run.warnings)]))

    # -- actions ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        sections: list[tuple[str, list[BindingType]]] = [
            ("Everywhere", self.BINDINGS),
            ("Run panel", RunTree.HELP_BINDINGS),
            ("Scalars", ScalarsView.BINDINGS + ScalarChart.BINDINGS),
            ("Full-screen chart", ChartScreen.BINDINGS),
            ("Histograms", HistogramsView.BINDINGS),
            ("Overview", OverviewView.BINDINGS),
            ("Logs pane", LogLines.BINDINGS),
        ]
        for dash in DASHBOARDS[3:]:
            sections.append((dash.title, dash.load_view().help_bindings()))
        self.push_screen(HelpScreen(sections))

    def action_show_tab(self, tab: str) -> None:
        """Show a tab and put the focus in it (TabbedContent shows the pane holding the focus,
        and the tab's keys act on what is focused)."""
        self._leave_chart_screens()
        if tab not in self.shown_tabs():
            self.notify(f"no run has {tab} data yet", severity="warning", markup=False)
            return
        self.wanted_tab = None
        self._build_view(tab)
        self.query_one(TabbedContent).active = tab
        self._when_mounted(tab, self.view(tab).focus_first)

    def action_show_nth_tab(self, n: int) -> None:
        """`1`..`9`: the n-th of the tabs shown now."""
        shown = self.shown_tabs()
        if 1 <= n <= len(shown):
            self.action_show_tab(shown[n - 1])

    def _leave_chart_screens(self) -> None:
        while len(self.screen_stack) > 1 and isinstance(self.screen, ChartScreen | CardScreen):
            self.pop_screen()

    def action_tag_filter(self) -> None:
        """`/`: the tag filter every dashboard shares; typed in place on Scalars, in a prompt on
        the other tabs (so the tab you are on stays open)."""
        self._leave_chart_screens()
        if self.active_tab != "scalars":
            self.action_prompt_tag_filter()
            return
        self.query_one(ScalarsView).open_filter()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        name = event.pane.id
        if name:
            self._build_view(name)
            self._when_mounted(name, self.view(name).shown)

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def set_tag_filter(self, pattern: str) -> None:
        self.board.tag_pattern = pattern
        self.view_changed()

    def action_run_filter(self) -> None:
        self.screen.set_focus(self.query_one("#run-filter"))

    def action_pin_run(self) -> None:
        """Pin / unpin the highlighted run (a folder: the runs under it)."""
        self.query_one(RunTree).action_pin_run()

    def action_clear_cursor(self) -> None:
        self.board.set_cursor(None)
        self.post_message(CursorMoved())

    def action_select_all(self) -> None:
        self.board.selection.hidden.clear()
        self.board.selection.only = None
        self.view_changed(runs_changed=True)

    def action_select_none(self) -> None:
        self.board.selection.hidden.update(self.board.run_names())
        self.board.selection.only = None
        self.view_changed(runs_changed=True)

    def action_only_run(self, name: str | None = None) -> None:
        selection = self.board.selection
        target = name if name is not None else self._highlighted_run
        if selection.only is not None and (target is None or target == selection.only):
            selection.only = None
        elif target is not None:
            selection.only = target
        self.view_changed(runs_changed=True)

    def action_smoothing(self, direction: int) -> None:
        self.set_smoothing(self.board.options.smoothing + direction * SMOOTHING_STEP)

    def set_smoothing(self, value: float) -> None:
        self.board.options = self.board.options.with_smoothing(value)
        self.view_changed()

    def action_cycle_x_axis(self) -> None:
        """`x`: step, relative, wall, and (while a run defines step metrics) metric."""
        self.board.options = self.board.options.next_x_axis(self.board.has_step_metrics())
        self.view_changed()

    def set_x_axis(self, mode: str) -> None:
        from dataclasses import replace

        self.board.options = replace(self.board.options, x_axis=mode)
        self.view_changed()

    def action_toggle(self, name: str) -> None:
        self.board.options = self.board.options.toggled(name)
        self.view_changed()

    def action_pause(self) -> None:
        self._paused = not self._paused
        if not self._paused and self._pending is not None:
            pending, self._pending = self._pending, None
            self.apply_changes(pending)
        self._update_status()

    def action_toggle_sidebar(self) -> None:
        panel = self.query_one(RunPanel)
        panel.display = not panel.display

    def action_warnings(self) -> None:
        groups = [("logdir", self.logdir.warnings)]
        groups += [(r.name, r.warnings) for r in self.board.runs() if r.warnings]
        self.push_screen(WarningsScreen("Warnings", groups))

    def action_prompt_smoothing(self) -> None:
        def validate(text: str) -> str | None:
            try:
                v = float(text)
            except ValueError:
                return "a number between 0 and 0.999"
            return None if 0.0 <= v < 1.0 else "a number between 0 and 0.999"

        def done(answer: str | None) -> None:
            if answer is not None:
                self.set_smoothing(float(answer))

        self.push_screen(
            PromptScreen("Smoothing (0 - 0.999)", f"{self.board.options.smoothing:.2f}", validate),
            done,
        )

    def action_prompt_tag_filter(self) -> None:
        def done(answer: str | None) -> None:
            if answer is not None:
                self.query_one(ScalarsView).set_filter_text(answer)

        self.push_screen(PromptScreen("Tag filter (regex)", self.board.tag_pattern), done)

    def action_prompt_run_filter(self) -> None:
        def done(answer: str | None) -> None:
            if answer is not None:
                self.query_one("#run-filter").value = answer  # type: ignore[attr-defined]

        self.push_screen(
            PromptScreen(
                "Run filter (regex, or a query: tag:x cfg.lr>=1e-3 has:val/acc status:diverged)",
                self.board.selection.pattern,
                run_filter_error,
            ),
            done,
        )

    # -- export ----------------------------------------------------------------------------------

    def export_problem(self, path: str) -> str | None:
        """Why `path` is not acceptable for an export (None: fine). Never into the logdir."""
        if not path.strip():
            return "give a file path"
        from tuiboard.export import inside_logdir

        if inside_logdir(self.logdir, path):
            return "refusing to write inside the logdir"
        target = Path(path).expanduser().resolve()
        if target.is_dir():
            return "that is a directory"
        if not target.parent.is_dir():
            return "no such directory"
        return None

    def action_export(self) -> None:
        default = os.path.join(os.getcwd(), "tuiboard-export.csv")

        def done(answer: str | None) -> None:
            if answer is not None:
                self.export_csv(answer)

        self.push_screen(
            PromptScreen("Export the visible series to CSV: path", default, self.export_problem),
            done,
        )

    def export_csv(self, path: str) -> None:
        problem = self.export_problem(path)
        if problem is not None:
            self.notify(problem, severity="error", markup=False)
            return
        runs = self.board.visible_runs()
        tags = self.board.visible_tags()
        self._write_export(str(Path(path).expanduser()), runs, tags, self.board.options.raw_points)

    @work(thread=True, exclusive=True, group="export")
    def _write_export(self, path: str, runs: list[str], tags: list[str], raw: bool) -> int:
        from tuiboard.export import export_scalars

        if not runs or not tags:
            self.call_from_thread(
                self.notify, "nothing visible to export", severity="warning", markup=False
            )
            return 0
        runs_query = "re:^(?:" + "|".join(re.escape(r) for r in runs) + ")$"
        tags_re = "^(?:" + "|".join(re.escape(t) for t in tags) + ")$"
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                n = export_scalars(
                    self.logdir, out, runs_query=runs_query, tags_re=tags_re, raw=raw
                )
        except OSError as e:  # the user can act on it: say so, keep running
            self.call_from_thread(
                self.notify, clean(f"export failed: {e}"), severity="error", markup=False
            )
            return 0
        self.call_from_thread(self.notify, clean(f"exported {n} points to {path}"), markup=False)
        return n

    def prompt_write(self, title: str, default: str, write: Callable[[str], str]) -> None:
        """Ask for a path (never one in the logdir: export_problem), then `write_out` there."""

        def done(answer: str | None) -> None:
            if answer is not None and self.export_problem(answer) is None:
                self.write_out(str(Path(answer).expanduser()), write)

        self.push_screen(PromptScreen(title, default, self.export_problem), done)

    @work(thread=True, group="write-out")
    def write_out(self, path: str, write: Callable[[str], str]) -> None:
        """Run `write(path)` on a worker thread (a save or an export the user asked for) and say
        how it went: its message, or the OSError."""
        try:
            message = write(path)
        except OSError as e:  # the user can act on it: say so, keep running
            self.call_from_thread(
                self.notify, clean(f"writing failed: {e}"), severity="error", markup=False
            )
            return
        self.call_from_thread(self.notify, clean(message), markup=False)

    # -- the command palette --------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        options = self.board.options
        yield SystemCommand(
            "Set smoothing…", "Type a value in [0, 0.999]", self.action_prompt_smoothing
        )
        for value in (0.0, 0.6, 0.9, 0.99):
            yield SystemCommand(
                f"Smoothing {value}", "Set the EMA weight", lambda v=value: self.set_smoothing(v)
            )
        yield SystemCommand("Smoothing +0.05", "More smoothing", lambda: self.action_smoothing(1))
        yield SystemCommand("Smoothing -0.05", "Less smoothing", lambda: self.action_smoothing(-1))
        for mode in (*X_AXES, METRIC) if self.board.has_step_metrics() else X_AXES:
            yield SystemCommand(
                f"X axis: {mode}",
                "Horizontal axis of every chart",
                lambda m=mode: self.set_x_axis(m),
            )
        yield SystemCommand(
            f"Log y scale: {'off' if options.log_y else 'on'}",
            "Toggle a logarithmic y axis",
            lambda: self.action_toggle("log_y"),
        )
        yield SystemCommand(
            f"Ignore outliers: {'off' if options.ignore_outliers else 'on'}",
            "y range from the 5th-95th percentiles",
            lambda: self.action_toggle("ignore_outliers"),
        )
        yield SystemCommand(
            f"Raw points: {'off' if options.raw_points else 'on'}",
            "Every point as written (restart handling off)",
            lambda: self.action_toggle("raw_points"),
        )
        yield SystemCommand(
            "Group runs…",
            "A regex cut out of run names (seed=\\d+), or cfg:lr,optimizer",
            self.action_group,
        )
        if self.board.grouping.active:
            yield SystemCommand("Ungroup runs", "Draw every run", lambda: self.set_grouping(None))
            for centre in CENTRES:
                yield SystemCommand(
                    f"Group line: {centre}",
                    "What a group's line is",
                    lambda c=centre: self.set_group_style(centre=c),
                )
            for band in BANDS:
                yield SystemCommand(
                    f"Group band: {BAND_LABELS[band]}",
                    "What a group's band spans",
                    lambda b=band: self.set_group_style(band=b),
                )
        yield SystemCommand("Filter tags…", "Regex on tag names", self.action_prompt_tag_filter)
        yield SystemCommand(
            "Filter runs…",
            "Regex on run names, or a query (tag:x cfg.lr>=1e-3 has:val/acc status:diverged)",
            self.action_prompt_run_filter,
        )
        yield SystemCommand(
            "Pin / unpin the highlighted run", "Draw it on top of every chart", self.action_pin_run
        )
        yield SystemCommand(
            "Clear the linked cursor", "Charts without the cursor line", self.action_clear_cursor
        )
        yield SystemCommand("Show all runs", "Tick every run", self.action_select_all)
        yield SystemCommand("Hide all runs", "Untick every run", self.action_select_none)
        yield SystemCommand(
            "Only the highlighted run", "Toggle showing one run", self.action_only_run
        )
        yield SystemCommand(
            "Export visible series to CSV…",
            "run,tag,step,wall_time,value to a path you give (never into the logdir)",
            self.action_export,
        )
        yield SystemCommand(
            "Pause / resume live redraws", "Stop or restart drawing new data", self.action_pause
        )
        yield SystemCommand(
            "Show warnings", "Everything that went wrong reading", self.action_warnings
        )
        yield SystemCommand(
            "Show/hide run panel", "More room for charts", self.action_toggle_sidebar
        )
        yield SystemCommand(
            "Show/hide Logs pane", "The highlighted run's console output", self.action_toggle_logs
        )
        yield SystemCommand(
            "Run details", "Id, tags, notes, exit code, summary, config", self.action_run_details
        )
        shown = self.shown_tabs()
        for dash in DASHBOARDS:
            yield SystemCommand(
                f"Go to {dash.title}",
                "Switch tab" if dash.name in shown else "No run has this kind yet",
                lambda t=dash.name: self.action_show_tab(t),
            )
        yield from self.appearance_commands()
        yield SystemCommand("Keys (help)", "Every key binding", self.action_help)


def run_app(
    logdir: Logdir,
    *,
    poll: float | None = None,
    tab: str | None = None,
    prefs: Preferences | None = None,
    served: bool = False,
    discovered: Discovered | None = None,
) -> int:
    """Run the app on a logdir (opened with load=False: the watcher reads it, showing progress).
    `prefs`: the settings file and the command line's overrides (default: the user's file).
    `served`: under `tuiboard serve` (textual-serve's web driver): the app exits when the
    process that started it is gone (an app whose server died mid-start once kept drawing to a
    dead pipe at 95 % CPU for an hour). `discovered`: the first walk, begun before
    (watch.discover_ahead).

    Returns the process exit code.
    """
    # textual-image asks the terminal which image protocol it speaks (Kitty, Sixel, or none:
    # half-blocks) on import; that must happen before Textual takes the terminal over.
    import textual_image.widget  # noqa: F401

    if prefs is None:
        prefs = Preferences.from_environment()
    app = TuiboardApp(logdir, poll=poll, tab=tab, prefs=prefs, discovered=discovered)
    if served:
        parent = os.getppid()
        app.orphaned = lambda: os.getppid() != parent
    result = app.run()
    if app.prefs.error is not None:
        print(f"tuiboard: {app.prefs.error}", file=sys.stderr)
    return int(result or 0)
