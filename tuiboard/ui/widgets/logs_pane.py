"""The Logs pane: the console output of the run highlighted in the run panel (W&B's
`files/output.log`, ...), under the charts, tailed live. A run without console files whose run
file holds its console (W&B's output records: RunMeta.console_records) shows those lines,
updated as the reader reads more; the files win when there are both (they hold everything,
the records only what wandb has flushed so far).

Owns: `LogsPane` (a title line, the lines, a search box) and `LogLines` (a line-API scroll view
of the last 5,000 lines). A worker thread owns the `ConsoleTail` (or `RecordsTail`) of the run
followed and polls it every POLL seconds (a stat; bytes only when the file changed; records
rendered again only when the reader read more); it posts `ConsoleUpdate`
with an immutable snapshot, and the UI thread only draws. Console text is made safe in core/
(no escape sequence, no control character) and drawn as plain `Text`, never markup.
Keys: End/G follow the tail, scrolling up stops following (back at the bottom follows again),
`/` searches (regex), `n`/`N` the older/newer match.
Must not import: tuiboard.render beyond clean; the store is read through the `Run` it is given.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from tuiboard.core.console_tail import ConsoleSnapshot, ConsoleTail, RecordsTail
from tuiboard.render.sanitize import clean
from tuiboard.ui.view_state import compile_filter

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

_Target = tuple[int, str, tuple[str, ...], tuple[str, ...], int]
"""(generation, run, console paths, console records, records dropped): see LogsPane._target."""

POLL = 0.25
"""Seconds between two looks at the followed run's logs (one stat each)."""
MATCH_STYLE = Style(reverse=True)
HEADER_STYLE = Style(dim=True, bold=True)


class ConsoleUpdate(Message):
    """Posted by the tail worker: the followed run's console lines changed."""

    def __init__(self, run: str, snapshot: ConsoleSnapshot) -> None:
        super().__init__()
        self.run = run
        self.snapshot = snapshot


class LogLines(ScrollView, can_focus=True):
    """The lines, drawn one at a time (the line API): 5,000 lines cost what a screenful does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end,G", "follow", "Follow the tail (newest line)", show=False),
        Binding("home,g", "top", "Oldest line kept (stops following)", show=False),
        Binding("slash", "search", "Search the log (regex)", show=False),
        Binding("n", "next_match(-1)", "Older match", show=False),
        Binding("N", "next_match(1)", "Newer match", show=False),
    ]

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.lines: tuple[str, ...] = ()
        self.headers: frozenset[int] = frozenset()
        self.following = True
        """Scrolled to the newest line, staying there as lines arrive. Scrolling up clears it;
        End/G (or scrolling back to the bottom) sets it."""
        self.pattern = ""
        """The search as typed ("" = none); matches are drawn reversed."""
        self._dropped = 0

    def show(self, lines: tuple[str, ...], headers: frozenset[int], dropped: int) -> None:
        """New lines. Following: stay at the bottom; else keep the same lines in view (when
        old lines fell off the front, the view moves up with them)."""
        shift = max(0, dropped - self._dropped) if lines else 0
        self._dropped = dropped
        self.lines, self.headers = lines, headers
        width = max((len(s) for s in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        if self.following:
            self._stick()
            self.call_after_refresh(self._stick)  # again once the scrollbars are laid out
        elif shift:
            self.scroll_to(
                y=max(0, self.scroll_y - shift), animate=False, immediate=True, force=True
            )
        self.refresh()

    def _stick(self) -> None:
        """Following: scroll to the newest line (the layout may have moved the bottom)."""
        if self.following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._stick)

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # A line wider than the pane brings the horizontal scrollbar, which takes the last row:
        # the bottom moved, and a following view follows it.
        self.call_after_refresh(self._stick)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._set_following(round(new_value) >= self.max_scroll_y)

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            pane = self.parent
            if isinstance(pane, LogsPane):
                pane.show_title()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, style)
        text = Text(self.lines[index], no_wrap=True, end="")
        if index in self.headers:
            text.stylize(HEADER_STYLE)
        regex = compile_filter(self.pattern)
        if regex is not None:
            for m in regex.finditer(text.plain):
                if m.end() > m.start():
                    text.stylize(MATCH_STYLE, m.start(), m.end())
        strip = Strip(text.render(self.app.console))
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def action_follow(self) -> None:
        self._set_following(True)
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def action_search(self) -> None:
        self.query_ancestor(LogsPane).open_search()

    def matches(self) -> list[int]:
        regex = compile_filter(self.pattern)
        if regex is None:
            return []
        return [i for i, line in enumerate(self.lines) if regex.search(line)]

    def action_next_match(self, direction: int) -> None:
        """The closest match above (older, -1) or below (newer, 1) the view's middle line."""
        found = self.matches()
        if not found:
            return
        middle = round(self.scroll_y) + self.size.height // 2
        if direction < 0:
            before = [i for i in found if i < middle]
            target = before[-1] if before else found[-1]
        else:
            after = [i for i in found if i > middle]
            target = after[0] if after else found[0]
        self.scroll_to(
            y=max(0, target - self.size.height // 2), animate=False, immediate=True, force=True
        )

    def jump_to_last_match(self) -> bool:
        """Show the newest match (searching a log goes from its end). False: none."""
        found = self.matches()
        if not found:
            return False
        target = found[-1]
        self.scroll_to(
            y=max(0, target - self.size.height // 2), animate=False, immediate=True, force=True
        )
        return True


class LogsPane(Vertical):
    """The console pane: which run, what file, following or not; the lines; a search box."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.run_name: str | None = None
        """The run whose logs are shown (None: no run has console output)."""
        self.paths: tuple[str, ...] = ()
        self.records: tuple[str, ...] = ()
        """The run file's console lines, shown when the run has no console files."""
        self._records_dropped = 0
        self._run_path = ""
        self._run_id = ""
        self._display_name = ""
        self._target: _Target | None = None
        """What the worker follows: (generation, run, its console paths, the records and how
        many fell off their front). Replaced whole (atomic). The generation counts follow_run's
        switches: a switch away and back before the worker wakes still makes it start afresh
        (the pane cleared its lines meanwhile); new records of the same run do not."""
        self._generation = 0
        self._wake = threading.Event()
        self.snapshot = ConsoleSnapshot()
        self.updates = 0
        """ConsoleUpdate messages applied (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Static(id="logs-title")
        yield LogLines(id="logs-lines")
        yield Input(placeholder="search the log (regex), Enter: newest match", id="logs-search")

    def on_mount(self) -> None:
        self.query_one("#logs-search").display = False
        self.show_title()

    @property
    def log_lines(self) -> LogLines:
        return self.query_one(LogLines)

    # -- which run ---------------------------------------------------------------------------

    def follow_run(self, run: Run | None) -> None:
        """Show `run`'s console logs (None or a run without any: say so)."""
        name = None if run is None else run.name
        paths = () if run is None else tuple(run.meta.console)
        records = () if run is None or paths else run.meta.console_records
        dropped = 0 if run is None or paths else run.meta.console_dropped
        if (name, paths) == (self.run_name, self.paths):
            if records == self.records and dropped == self._records_dropped:
                return
        else:
            if name != self.run_name:
                self.snapshot = ConsoleSnapshot()
                lines = self.log_lines
                lines.following = True
                lines.show((), frozenset(), 0)
            self._generation += 1
        self.run_name, self.paths = name, paths
        self.records, self._records_dropped = records, dropped
        self._run_path = "" if run is None else run.path
        self._run_id = "" if run is None else run.meta.run_id
        self._display_name = "" if run is None else run.meta.display_name
        has_lines = bool(paths or records)
        self._target = (
            (self._generation, name, paths, records, dropped)
            if name is not None and has_lines
            else None
        )
        self._wake.set()
        self.show_title()

    # -- the worker ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start tailing (the pane is shown)."""
        self._tail()

    def stop(self) -> None:
        """Stop tailing (the pane is hidden or gone)."""
        self.workers.cancel_group(self, "console-tail")
        self._wake.set()

    def on_unmount(self) -> None:
        self.stop()

    @work(thread=True, exclusive=True, group="console-tail")
    def _tail(self) -> None:
        worker = get_current_worker()
        following: _Target | None = None
        tail: ConsoleTail | RecordsTail | None = None
        while not worker.is_cancelled:
            target = self._target
            fresh = False
            if target != following:
                if (
                    target is not None
                    and following is not None
                    and target[:3] == following[:3]
                    and isinstance(tail, RecordsTail)
                ):
                    tail.update(target[3], target[4])  # the reader read more of the run file
                else:
                    fresh = True
                    if target is None:
                        tail = None
                    elif target[2]:
                        tail = ConsoleTail(target[2])
                    else:
                        tail = RecordsTail(target[3], target[4])
                following = target
            if tail is not None and following is not None and (tail.poll() or fresh):
                self.post_message(ConsoleUpdate(following[1], tail.snapshot()))
            self._wake.wait(POLL)
            self._wake.clear()

    @on(ConsoleUpdate)
    def _update(self, message: ConsoleUpdate) -> None:
        message.stop()
        if message.run != self.run_name:
            return  # the user moved on meanwhile
        snap = message.snapshot
        self.snapshot = snap
        self.log_lines.show(snap.lines, snap.headers, snap.dropped_lines)
        self.updates += 1
        self.show_title()

    # -- title and search ------------------------------------------------------------------------

    def show_title(self) -> None:
        """Logs  following  <run>  files/output.log · 9 lines: what matters first, for narrow
        terminals (the run is named by the name the user gave it when it has one)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Logs ", style="bold reverse")
        if self.run_name is None:
            text.append("  no run with console output", style="dim")
            self.query_one("#logs-title", Static).update(text)
            return
        lines = self.log_lines
        if self.paths or self.records:
            if lines.following:
                text.append(" following", style="green")
            else:
                text.append(" paused: End/G follows", style="yellow")
        text.append("  ")
        text.append(clean(self._display_name or self.run_name), style="bold")
        if not self.paths and not self.records:
            text.append("  no console output", style="dim")
        else:
            snap = self.snapshot
            text.append(f"  {self._where()} · {len(snap.lines):,} lines", style="dim")
            if snap.dropped_lines or snap.skipped_bytes:
                text.append(" (the last 5,000 kept)", style="dim")
            if lines.pattern:
                text.append(f" · /{clean(lines.pattern)} {len(lines.matches())} matches")
            for problem in snap.problems[:1]:
                text.append(f" · ⚠ {clean(problem)}", style="yellow")
        self.query_one("#logs-title", Static).update(text)

    def _where(self) -> str:
        if not self.paths:
            name = f"run-{self._run_id}.wandb" if self._run_id else "the run file"
            return f"{clean(name)} · output records"
        if len(self.paths) > 1:
            return f"{len(self.paths)} files"
        path = self.paths[0]
        if self._run_path:
            rel = os.path.relpath(path, self._run_path)
            if not rel.startswith(".."):
                return clean(rel)
        return clean(path)

    def open_search(self) -> None:
        box = self.query_one("#logs-search", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#logs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.log_lines.pattern = event.value
        self.log_lines.refresh()
        self.show_title()

    @on(Input.Submitted, "#logs-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#logs-search", Input)
        box.display = bool(box.value)
        lines = self.log_lines
        lines.focus()
        if not lines.jump_to_last_match() and box.value:
            self.notify("no match in the log", severity="warning", markup=False)
        self.show_title()

    def key_escape(self) -> None:
        box = self.query_one("#logs-search", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.log_lines.focus()
