"""The `?` screen: every key of every part of the app, read from their BINDINGS.

Owns: `HelpScreen` and `key_table`. Listing the bindings themselves (not a copy) keeps help true.
Must not import: tuiboard.core, tuiboard.render.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _key_name(key: str) -> str:
    names = {
        "question_mark": "?",
        "slash": "/",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "left_curly_bracket": "{",
        "right_curly_bracket": "}",
        "less_than_sign": "<",
        "greater_than_sign": ">",
        "plus": "+",
        "minus": "-",
        "equals_sign": "=",
        "comma": ",",
        "full_stop": ".",
    }
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def key_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for b in bindings:
        binding = b if isinstance(b, Binding) else Binding(*b)
        if binding.description:
            rows.append((_key_name(binding.key), binding.description))
    return rows


def key_table(sections: Sequence[tuple[str, Sequence[BindingType]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", width=16, no_wrap=True)
    table.add_column(ratio=1)
    for title, bindings in sections:
        rows = key_rows(bindings)
        if not rows:
            continue
        table.add_row(Text(title, style="bold underline"), "")
        for key, description in rows:
            table.add_row(key, description)
        table.add_row("", "")
    table.add_row("ctrl+p", "Command palette: every action by name")
    table.add_row(
        "mouse",
        "Click runs, tabs, charts (double click: full screen), a run's ⚠ for its warnings; "
        "the wheel scrolls. Full screen: a click puts the cursor there, the wheel zooms",
    )
    return table


class HelpScreen(ModalScreen[None]):
    """Keys, by where they work. Escape, q or ? closes it."""

    AUTO_FOCUS = "#help-body"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help", show=False),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[BindingType]]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("tuiboard keys", style="bold"), id="help-title")
            yield Static(key_table(self._sections), id="help-table")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
