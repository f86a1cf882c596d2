"""The Textual app: composes the run panel, the three views and the status line; binds keys;
routes messages. The view state lives in `Board`; drawing lives in the widgets and render/.

Owns: `TuiboardApp`, `run_app` (the entry point cli.py calls). The watcher thread only posts
`StoreChanged`; every redraw happens here on the UI thread, pulling from the store by version.
Must not import: tuiboard.core internals beyond the public Logdir / Watcher API.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane

from tuiboard.core.logdir import Changes, Logdir, Run
from tuiboard.core.watch import Watcher
from tuiboard.dashboards import DASHBOARDS
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import default_theme
from tuiboard.ui.board import Board
from tuiboard.ui.messages import (
    LoadProgress,
    OpenCard,
    OpenChart,
    RunFilterChanged,
    RunHighlighted,
    RunToggled,
    ShowWarnings,
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
from tuiboard.ui.widgets.histograms_view import HistogramsView
from tuiboard.ui.widgets.logs_pane import LogLines, LogsPane
from tuiboard.ui.widgets.overview import OverviewView
from tuiboard.ui.widgets.run_panel import RunPanel, RunTree
from tuiboard.ui.widgets.scalar_chart import ChartSource, ScalarChart
from tuiboard.ui.widgets.scalars_view import ScalarsView

if TYPE_CHECKING:
    from tuiboard.ui.widgets.cards import DashboardView
from tuiboard.ui.widgets.status_bar import Status, StatusBar


class TuiboardApp(App[int]):
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
        Binding("f", "run_filter", "Filter runs (regex)"),
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
    ]

    def __init__(
        self,
        logdir: Logdir,
        *,
        poll: float | None = None,
        watch: bool = True,
        clock: Callable[[], float] = time.time,
        tab: str | None = None,
    ) -> None:
        super().__init__()
        self.wanted_tab = tab
        """--tab: opened as soon as that tab is shown (None once reached or the user moved)."""
        self.board = Board(logdir, default_theme(color=not os.environ.get("NO_COLOR")))
        self.logdir = logdir
        self.poll = poll
        self.follow_logdir = watch
        self.clock = clock
        self._watcher: Watcher | None = None
        self._paused = False
        self._pending: Changes | None = None
        """Changes that arrived while paused, merged; applied on resume."""
        self._progress: tuple[int, int] | None = None
        self._last_update: float | None = None
        self._highlighted_run: str | None = None
        self._logs_chosen = False
        """The Logs pane was opened or closed (by `L` or once by itself): never auto-open it."""
        self._run_panel: RunPanel | None = None
        self.applied = 0
        """How many StoreChanged were applied (tests wait on it)."""

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        board = self.board
        with Horizontal(id="main"):
            self._run_panel = RunPanel(board.selection, board.colour_of, id="run-panel")
            yield self._run_panel
            with Vertical(id="content"):
                with TabbedContent(id="tabs", initial="scalars"):
                    for dash in DASHBOARDS:
                        with TabPane(dash.title, id=dash.name):
                            yield dash.load_view()(board, id=f"{dash.name}-view")
                yield LogsPane(id="logs")
        yield StatusBar(id="status")

    def views(self) -> list[DashboardView]:
        """Every tab's widget, in tab order."""
        return [self.view(d.name) for d in DASHBOARDS]

    def view(self, name: str) -> DashboardView:
        return self.query_one(f"#{name}-view")  # type: ignore[return-value]

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
        self._hidden_tabs: set[str] = set()
        self.query_one(LogsPane).display = False
        self._sync_tabs()
        self._update_status()
        if self.follow_logdir:
            self._watcher = Watcher(
                self.logdir,
                self._on_watcher_change,
                poll=self.poll,
                on_progress=self._on_watcher_progress,
                on_error=self._on_watcher_error,
            )
            self._watcher.start()
        else:
            runs = frozenset(r.name for r in self.logdir.runs)
            self.post_message(StoreChanged(Changes(runs, runs, version=self.logdir.version)))
        self.set_interval(10.0, self._tick, name="ages")

    def on_resize(self, event: events.Resize) -> None:
        # At 80 columns the run panel gives room to the charts.
        self.query_one("#main").set_class(event.size.width < 110, "narrow")

    def on_unmount(self) -> None:
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
        """The app is closing (its widgets are gone) while the watcher still reports."""
        panel = self._run_panel
        return panel is None or not panel.is_attached

    def apply_changes(self, changes: Changes) -> None:
        """Redraw what the changes touched: run labels, the charts of moved series, the status."""
        board = self.board
        for name in changes.removed_runs:
            board.cache.forget_run(name)
        board.note_changes(changes)
        runs = board.runs()
        self.query_one(RunPanel).sync(runs, self.clock(), set(changes.runs))
        self._sync_tabs()
        self._sync_logs()
        for view in self.views():
            view.apply_changes(changes)
        for screen in self.screen_stack:
            if isinstance(screen, ChartScreen | CardScreen):
                screen.apply_changes(changes)
        self._last_update = self.clock()
        self.applied += 1
        self._update_status()

    @on(LoadProgress)
    def _load_progress(self, message: LoadProgress) -> None:
        done, total = message.done, message.total
        self._progress = None if done >= total else (done, total)
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
        """Ages in the run panel move with the clock; nothing else is redrawn."""
        self.query_one(RunPanel).sync(self.board.runs(), self.clock(), None)

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
        self.query_one(StatusBar).show(
            Status(
                runs=n_runs,
                shown=len(board.visible_runs()),
                points=points,
                progress=self._progress,
                last_update=self._last_update,
                paused=self._paused,
                warnings=warnings,
                options=board.options.describe(),
            )
        )

    # -- view changes ---------------------------------------------------------------------------

    def view_changed(self, runs_changed: bool = False) -> None:
        """Options, filters or run visibility moved: every view redraws from its caches."""
        if runs_changed:
            self.query_one(RunPanel).sync(self.board.runs(), self.clock(), None)
        for view in self.views():
            view.view_changed()
        for screen in self.screen_stack:
            if isinstance(screen, ChartScreen | CardScreen):
                screen.view_changed()
        self._update_status()

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
        self.board.selection.pattern = message.pattern
        self.view_changed(runs_changed=True)

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
        self.query_one(TabbedContent).active = tab
        self.view(tab).focus_first()

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
        if event.pane.id:
            self.view(event.pane.id).shown()

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def set_tag_filter(self, pattern: str) -> None:
        self.board.tag_pattern = pattern
        self.view_changed()

    def action_run_filter(self) -> None:
        self.screen.set_focus(self.query_one("#run-filter"))

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

        self.push_screen(PromptScreen("Run filter (regex)", self.board.selection.pattern), done)

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
        runs_re = "^(?:" + "|".join(re.escape(r) for r in runs) + ")$"
        tags_re = "^(?:" + "|".join(re.escape(t) for t in tags) + ")$"
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                n = export_scalars(self.logdir, out, runs_re=runs_re, tags_re=tags_re, raw=raw)
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
        yield SystemCommand("Filter tags…", "Regex on tag names", self.action_prompt_tag_filter)
        yield SystemCommand("Filter runs…", "Regex on run names", self.action_prompt_run_filter)
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
        yield SystemCommand("Keys (help)", "Every key binding", self.action_help)


def run_app(logdir: Logdir, *, poll: float | None = None, tab: str | None = None) -> int:
    """Run the app on a logdir (opened with load=False: the watcher reads it, showing progress).

    Returns the process exit code.
    """
    # textual-image asks the terminal which image protocol it speaks (Kitty, Sixel, or none:
    # half-blocks) on import; that must happen before Textual takes the terminal over.
    import textual_image.widget  # noqa: F401

    result = TuiboardApp(logdir, poll=poll, tab=tab).run()
    return int(result or 0)
