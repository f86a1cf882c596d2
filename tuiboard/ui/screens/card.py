"""One dashboard card full screen: the same card, as large as the terminal, with the kind's
extra controls (the card's own bindings) and a hint line naming them.

Owns: `CardScreen`. Live data redraws the card when its series moved; Escape or q goes back.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tuiboard.ui.screens.help import key_rows

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.widgets.cards import Card, CardKey, CardsView


class CardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back to the cards"),
    ]

    def __init__(self, view: CardsView, key: CardKey, index: int | None) -> None:
        super().__init__()
        self.view = view
        self.card: Card = view.CARD(view, key, full=True, id="full-card")
        self.card.index = index
        source = view._cards.get(key)
        if source is not None:
            self.card.options = dict(source.options)

    def compose(self) -> ComposeResult:
        keys = [
            f"{k} {what.lower()}"
            for k, what in key_rows(self.card.BINDINGS)
            if "full screen" not in what.lower()
        ]
        hint = Text(" · ".join(["esc back", *keys]), style="dim", no_wrap=True, overflow="crop")
        yield Static(hint, id="card-hint")
        yield self.card

    def on_mount(self) -> None:
        self.card.focus()

    def apply_changes(self, changes: Changes) -> None:
        card = self.card
        if card.key.run in changes.runs and card.version() != card.drawn_version:
            card.refresh()

    def view_changed(self) -> None:
        self.card.refresh()
