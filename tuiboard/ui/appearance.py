"""The app's look and the choices kept between runs: run-colour palette, light or dark theme,
run panel width, Logs pane height, and the settings file that keeps them with smoothing and the
x axis (core/settings.py reads and writes it).

Owns: `Preferences` (the settings as loaded, command-line overrides, changes and their debounced
save) and `AppearanceMixin`, the part of TuiboardApp that applies them: at start (flags win over
the file), on `K` (next palette), `D` (light / dark), ctrl+arrows (panel sizes), on Textual's own
theme picker, and in the command palette. Saving runs on a worker thread, SAVE_DELAY after the
last change (a held key writes once), and at exit; a failed save or a damaged file is a warning
in the app, never an exception. The file is never written inside the logdir.
Must not import: tuiboard.core internals other than core.settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.timer import Timer

from tuiboard.core.settings import (
    LOGS_HEIGHT_RANGE,
    RUN_PANEL_WIDTH_RANGE,
    Settings,
    load_settings,
    save_settings,
    settings_path,
)
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import PALETTES, make_theme, next_palette
from tuiboard.ui.view_state import METRIC, X_AXES

if TYPE_CHECKING:
    from textual.theme import Theme as TextualTheme

    from tuiboard.core.logdir import Logdir
    from tuiboard.ui.board import Board

SAVE_DELAY = 1.0
"""Seconds after the last change before the settings file is written."""
DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
THEME_ALIASES = {"dark": DARK_THEME, "light": LIGHT_THEME}
"""`--theme dark` / `--theme light`: Textual's own pair."""
RUN_PANEL_STEP = 4
"""Cells per ctrl+left / ctrl+right."""
LOGS_STEP = 5
"""Percent per ctrl+up / ctrl+down."""
LOGS_DEFAULT = 35
"""tuiboard.tcss's #logs height, in percent."""

BINDINGS = [
    Binding("K", "cycle_palette", "Run colours: next palette (colour-blind-safe ones too)"),
    Binding("D", "toggle_dark", "Light / dark theme"),
    Binding("ctrl+left", f"resize_run_panel(-{RUN_PANEL_STEP})", "Run panel narrower"),
    Binding("ctrl+right", f"resize_run_panel({RUN_PANEL_STEP})", "Run panel wider"),
    Binding("ctrl+up", f"resize_logs({LOGS_STEP})", "Logs pane taller"),
    Binding("ctrl+down", f"resize_logs(-{LOGS_STEP})", "Logs pane shorter"),
]
"""TuiboardApp.BINDINGS includes these (Textual reads BINDINGS from Widget classes only)."""


class Preferences:
    """The settings file as loaded, the command line's overrides, and what changed since.

    Invariant: `kept` is what the file should hold: the file's settings with every change the
    user made in the app; command-line overrides are never written (they are for one run)."""

    def __init__(self, path: Path | None, overrides: Settings | None = None) -> None:
        self.path = path
        """The settings file; None: neither read nor written (--no-settings)."""
        self.kept = Settings()
        self.warnings: list[str] = []
        """What was wrong with the file (shown once the app is up)."""
        if path is not None:
            self.kept, self.warnings = load_settings(path)
        self.overrides = overrides or Settings()
        self.dirty = False
        """A change not yet written."""
        self._lock = threading.Lock()
        self.error: str | None = None
        """Why the save at exit failed (printed by run_app once the terminal is back)."""

    @classmethod
    def from_environment(cls, overrides: Settings | None = None) -> Preferences:
        """The user's settings file (XDG_CONFIG_HOME; TUIBOARD_NO_SETTINGS turns it off)."""
        return cls(settings_path(), overrides)

    def start(self) -> Settings:
        """What the app starts with: the file's settings, each flag given overriding its own."""
        given = {f.name: getattr(self.overrides, f.name) for f in fields(Settings)}
        return replace(self.kept, **{k: v for k, v in given.items() if v is not None})

    def change(self, **values: object) -> bool:
        """Record the user's changes; True when one differs from what the file holds."""
        new = replace(self.kept, **values)  # type: ignore[arg-type]
        if new == self.kept:
            return False
        self.kept = new
        self.dirty = self.path is not None
        return self.dirty

    def save(self) -> None:
        """Write `kept` now (OSError to the caller). From the save worker or, at exit, the UI
        thread: one at a time, each writing the newest `kept`, so the last write is the newest
        settings whatever order the two run in."""
        if self.path is None:
            return
        with self._lock:
            self.dirty = False
            save_settings(self.path, self.kept)


class AppearanceMixin:
    """TuiboardApp's palette, theme and panel-size actions and its settings file."""

    if TYPE_CHECKING:  # provided by TuiboardApp / textual.App
        board: Board
        logdir: Logdir
        theme: str

        def view_changed(self, runs_changed: bool = False) -> None: ...
        def notify(self, message: str, **kw: object) -> None: ...
        def query_one(self, selector: str) -> object: ...
        def get_theme(self, name: str) -> TextualTheme | None: ...
        def set_timer(self, delay: float, callback: object) -> Timer: ...
        def run_worker(self, work: object, **kw: object) -> object: ...
        def call_from_thread(self, callback: object, *args: object, **kw: object) -> object: ...
        @property
        def current_theme(self) -> TextualTheme: ...
        @property
        def theme_changed_signal(self) -> object: ...
        @property
        def size(self) -> object: ...

    def init_appearance(self, prefs: Preferences | None, color: bool) -> None:
        """In __init__, once `board` exists: the palette and chart options from the settings
        and flags (the Textual theme is set on mount, when the app can take it). No `prefs`: no
        settings file (an app built in code, a test, a benchmark, the screenshots: never the
        user's file); run_app and the command line pass the user's."""
        self.prefs = prefs if prefs is not None else Preferences(None)
        self._appearance_warnings = list(self.prefs.warnings)
        self._save_timer: Timer | None = None
        if self.prefs.path is not None:
            from tuiboard.export import inside_logdir

            if inside_logdir(self.logdir, str(self.prefs.path)):
                self._appearance_warnings.append(
                    f"settings file {self.prefs.path} is inside the logdir: not written"
                )
                self.prefs.path = None
        start = self.prefs.start()
        self._start = start
        palette = start.palette or "default"
        if palette not in PALETTES:
            self._appearance_warnings.append(
                f"unknown palette {palette!r} (one of {', '.join(PALETTES)}): default used"
            )
            palette = "default"
        theme = self._start_theme = self._theme_name(start.theme)
        textual_theme = self.get_theme(theme) if theme else None
        light = textual_theme is not None and not textual_theme.dark
        self.board.theme = make_theme(palette, light=light, color=color)
        options = self.board.options
        if start.smoothing is not None:
            options = options.with_smoothing(start.smoothing)
        if start.x_axis is not None:
            if start.x_axis in (*X_AXES, METRIC):
                options = replace(options, x_axis=start.x_axis)
            else:
                self._appearance_warnings.append(
                    f"unknown x axis {start.x_axis!r} (one of {', '.join((*X_AXES, METRIC))}): "
                    "step used"
                )
        self.board.options = options
        self._noted = (options.smoothing, options.x_axis)

    def _theme_name(self, name: str | None) -> str | None:
        """A known Textual theme name for `name` (aliases resolved), else None and a warning."""
        if name is None:
            return None
        name = THEME_ALIASES.get(name, name)
        if self.get_theme(name) is None:
            self._appearance_warnings.append(f"unknown theme {name!r}: textual-dark used")
            return None
        return name

    def start_appearance(self) -> None:
        """On mount: the Textual theme, the panel sizes, the warnings; then follow theme
        changes (ours and Textual's theme picker)."""
        if self._start_theme is not None:
            self.theme = self._start_theme
        self._noted_theme = self.theme
        """The theme last seen: a change to another is the user's (a flag's is not saved)."""
        self.apply_panel_sizes()
        for warning in self._appearance_warnings:
            self.notify(clean(warning), severity="warning", timeout=10, markup=False)
        self._appearance_warnings.clear()
        self.theme_changed_signal.subscribe(self, self._theme_changed)  # type: ignore[attr-defined]

    def _theme_changed(self, theme: TextualTheme) -> None:
        board = self.board
        if board.theme.dark != theme.dark:
            board.theme = make_theme(
                board.theme.palette, light=not theme.dark, color=board.theme.color
            )
            self.view_changed(runs_changed=True)
        if theme.name != self._noted_theme:
            self._noted_theme = theme.name
            self._settings_changed(theme=theme.name)

    # -- panel sizes ---------------------------------------------------------------------------

    def apply_panel_sizes(self) -> None:
        """The run panel width and Logs pane height from the settings; the width is capped to
        a third of the screen (a wide panel saved on a big terminal, opened on 80 columns)."""
        from tuiboard.ui.widgets.logs_pane import LogsPane
        from tuiboard.ui.widgets.run_panel import RunPanel

        width = self._start.run_panel_width
        panel = self.query_one(RunPanel)  # type: ignore[call-overload]
        if width is not None:
            cap = max(RUN_PANEL_WIDTH_RANGE[0], self.size.width // 3)  # type: ignore[attr-defined]
            panel.styles.width = min(width, cap)
        else:
            panel.styles.width = None  # tuiboard.tcss decides (32, 24 when narrow)
        height = self._start.logs_height
        if height is not None:
            self.query_one(LogsPane).styles.height = f"{height}%"  # type: ignore[call-overload]

    def action_resize_run_panel(self, delta: int) -> None:
        from tuiboard.ui.widgets.run_panel import RunPanel

        panel = self.query_one(RunPanel)  # type: ignore[call-overload]
        if not panel.display:
            panel.display = True
        low, high = RUN_PANEL_WIDTH_RANGE
        width = min(high, max(low, panel.outer_size.width + delta))
        self._start = replace(self._start, run_panel_width=width)
        self._settings_changed(run_panel_width=width)
        self.apply_panel_sizes()

    def action_resize_logs(self, delta: int) -> None:
        current = self._start.logs_height or LOGS_DEFAULT
        low, high = LOGS_HEIGHT_RANGE
        height = min(high, max(low, current + delta))
        self._start = replace(self._start, logs_height=height)
        self._settings_changed(logs_height=height)
        self.apply_panel_sizes()

    # -- palette and theme ---------------------------------------------------------------------

    def set_palette(self, name: str) -> None:
        board = self.board
        board.theme = make_theme(name, light=not board.theme.dark, color=board.theme.color)
        self.view_changed(runs_changed=True)
        self._settings_changed(palette=name)

    def action_cycle_palette(self) -> None:
        """`K`: the next palette; its name and what it is, in a notification."""
        name = next_palette(self.board.theme.palette)
        self.set_palette(name)
        self.notify(f"run colours: {name} ({PALETTES[name].title})", timeout=3, markup=False)

    def action_toggle_dark(self) -> None:
        """`D`: Textual's light theme, or back to its dark one (the run colours follow)."""
        self.theme = DARK_THEME if not self.current_theme.dark else LIGHT_THEME

    def appearance_commands(self) -> Iterable[SystemCommand]:
        """The command palette's entries for all of the above."""
        current = self.board.theme.palette
        for name, palette in PALETTES.items():
            mark = " (current)" if name == current else ""
            yield SystemCommand(
                f"Palette: {name}{mark}", palette.title, lambda n=name: self.set_palette(n)
            )
        yield SystemCommand(
            "Light theme" if self.current_theme.dark else "Dark theme",
            "Textual's light or dark theme; run colours follow (any theme: Change theme)",
            self.action_toggle_dark,
        )
        for title, action in (
            ("Run panel wider", lambda: self.action_resize_run_panel(RUN_PANEL_STEP)),
            ("Run panel narrower", lambda: self.action_resize_run_panel(-RUN_PANEL_STEP)),
            ("Logs pane taller", lambda: self.action_resize_logs(LOGS_STEP)),
            ("Logs pane shorter", lambda: self.action_resize_logs(-LOGS_STEP)),
        ):
            yield SystemCommand(title, "Kept for the next run (settings file)", action)

    # -- the settings file -----------------------------------------------------------------------

    def note_options(self) -> None:
        """After any view change: keep smoothing and x axis if the user moved them."""
        options = self.board.options
        smoothing, x_axis = self._noted
        self._noted = (options.smoothing, options.x_axis)
        if options.smoothing != smoothing:
            self._settings_changed(smoothing=options.smoothing)
        if options.x_axis != x_axis:
            self._settings_changed(x_axis=options.x_axis)

    def _settings_changed(self, **values: object) -> None:
        if not self.prefs.change(**values):
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save_soon)

    def _save_soon(self) -> None:
        self._save_timer = None
        self.run_worker(self._save_now, thread=True, group="settings", exit_on_error=False)

    def _save_now(self) -> None:
        """On a worker thread: write the file; a failure is a warning in the app."""
        try:
            self.prefs.save()
        except OSError as e:
            self.call_from_thread(
                self.notify,
                clean(f"settings not saved: {e}"),
                severity="warning",
                markup=False,
            )

    def flush_settings(self) -> None:
        """At exit: write a pending change now (the app is leaving; nothing waits on it)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self.prefs.dirty:
            try:
                self.prefs.save()
            except OSError as e:  # the app is leaving: run_app prints it after the terminal is back
                self.prefs.error = f"settings not saved: {e}"
