"""The warnings screen: what went wrong reading a run (or the whole logdir), as plain text.

Owns: `WarningsScreen`. Paths and messages come from the logs: cleaned, never markup.
Must not import: tuiboard.render beyond clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tuiboard.render.sanitize import clean

if TYPE_CHECKING:
    from tuiboard.core.types import ReadWarning


def warnings_text(groups: Sequence[tuple[str, Sequence[ReadWarning]]]) -> Text:
    text = Text()
    total = 0
    for title, warnings in groups:
        if not warnings:
            continue
        text.append(clean(title), style="bold")
        text.append(f"  ({len(warnings)})\n", style="dim")
        for w in warnings:
            total += 1
            where = ""
            if w.offset is not None:
                where = f" @ byte {w.offset}"
            elif w.line is not None:
                where = f" line {w.line}"
            text.append("  ⚠ ", style="yellow")
            text.append(clean(w.message))
            text.append(f"\n    {clean(w.file)}{where}\n", style="dim")
    if total == 0:
        text.append("No warnings.", style="dim")
    return text


class WarningsScreen(ModalScreen[None]):
    AUTO_FOCUS = "#warnings-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, groups: Sequence[tuple[str, Sequence[ReadWarning]]]) -> None:
        super().__init__()
        self._title = title
        self._groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="warnings-body"):
            yield Static(Text(clean(self._title), style="bold"), id="warnings-title")
            yield Static(warnings_text(self._groups), id="warnings-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
