"""The status line: runs, points, loading progress, last update, live/paused, a failing remote
store, warnings, run groups, options.

Owns: `StatusBar`, a one-line Static the app feeds with plain values (no store access).
Must not import: tuiboard.core, tuiboard.render.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.events import Click
from textual.widgets import Static

from tuiboard.ui.messages import ShowWarnings


def same_text(a: Text, b: Text) -> bool:
    """The two lines draw the same (Text's own == leaves out the base style and wrapping)."""
    return (
        a.plain == b.plain
        and a.spans == b.spans
        and a.style == b.style
        and a.no_wrap == b.no_wrap
        and a.overflow == b.overflow
    )


def compact_count(n: int) -> str:
    if n < 10_000:
        return str(n)
    if n < 10_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


@dataclass(frozen=True, slots=True)
class Status:
    """Everything the status line shows; the app builds a new one on every change."""

    runs: int = 0
    shown: int = 0
    points: int = 0
    progress: tuple[int, int] | None = None
    """(runs read, runs found) while the first load runs; None once it is done."""
    last_update: float | None = None
    """Unix time of the last store change applied (None: nothing yet)."""
    paused: bool = False
    warnings: int = 0
    groups: str = ""
    """How the shown runs are grouped (`2 groups by seed=\\d+`); "" when they are not."""
    options: str = ""
    store: str = ""
    """A failing remote store: "s3: access denied, retrying in 40 s" ("" when all is well)."""


class StatusBar(Static):
    """One line at the bottom. Clicking the warnings count opens the warnings."""

    def show(self, status: Status) -> None:
        self.status = status
        text = Text(no_wrap=True, overflow="ellipsis")
        if status.progress is not None:
            done, total = status.progress
            text.append(f" loading {done}/{total} runs ", style="reverse")
            text.append(" ")
        if status.paused:
            text.append("⏸ paused", style="bold yellow")
        else:
            text.append("● live", style="green")
        if status.store:
            text.append(" · ")
            text.append(f"⚠ {status.store}", style="bold red")
        text.append(f" · {status.shown}/{status.runs} runs · {compact_count(status.points)} pts")
        if status.warnings:
            text.append(" · ")
            text.append(f"⚠ {status.warnings}", style="yellow")
        if status.groups:
            text.append(" · ")
            text.append(status.groups, style="bold")
        if status.options:
            text.append(f" · {status.options}", style="dim")
        text.append(" · ? help", style="dim")
        if status.last_update is not None:
            stamp = time.strftime("%H:%M:%S", time.localtime(status.last_update))
            text.append(f" · updated {stamp}", style="dim")
        shown = getattr(self, "_shown", None)
        if shown is not None and same_text(shown, text):
            return
        self._shown = text
        # one line high whatever it says (tuiboard.tcss): no layout of the screen (~20 ms
        # at 10,000 runs, on every store change)
        self.update(text, layout=False)

    def on_click(self, event: Click) -> None:
        status = getattr(self, "status", None)
        if status is not None and status.warnings:
            self.post_message(ShowWarnings(None))
