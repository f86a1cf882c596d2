"""The Text tab: a card per (tag, run) showing its text at one step, Markdown rendered as
TensorBoard does, or raw (`m`), which TensorBoard's users ask for (#830).

Owns: `TextView` and `TextCard` (markdown toggle, scrolling in full screen). Every text is
untrusted: render/text.py shows Rich markup literally and strips escape sequences.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tuiboard.core.types import TEXT, TextValue
from tuiboard.render.canvas import join_lines
from tuiboard.render.text import text_lines
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardsView

if TYPE_CHECKING:
    from tuiboard.core.types import ValueRecord


class TextCard(Card):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SLIDER_BINDINGS,
        Binding("m", "toggle_markdown", "Markdown / raw text"),
        Binding("down,j", "scroll_text(1)", "Scroll down", show=False),
        Binding("up,k", "scroll_text(-1)", "Scroll up", show=False),
        Binding("pagedown,space", "scroll_text(20)", "Page down", show=False),
        Binding("pageup", "scroll_text(-20)", "Page up", show=False),
    ]

    def action_toggle_markdown(self) -> None:
        self.options["raw"] = not self.options.get("raw", False)
        self.refresh()

    def action_scroll_text(self, delta: int) -> None:
        if not self.full:
            self.screen.focus_next() if delta > 0 else self.screen.focus_previous()
            return
        page = max(1, self.content_size.height - 3)
        step = delta if abs(delta) == 1 else (page if delta > 0 else -page)
        self.options["scroll"] = max(0, self.options.get("scroll", 0) + step)
        self.refresh()

    def action_step(self, delta: int) -> None:
        self.options.pop("scroll", None)
        super().action_step(delta)


class TextView(CardsView):
    KIND: ClassVar[str] = TEXT
    CARD: ClassVar[type[Card]] = TextCard
    CARD_WIDTH: ClassVar[int] = 50
    CARD_HEIGHT: ClassVar[int] = 14
    EMPTY: ClassVar[str] = "No text in the shown runs."

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> Text:
        assert isinstance(value, TextValue)
        markdown = not card.options.get("raw", False)
        lines = text_lines(value, width, markdown=markdown, theme=self.board.theme)
        top = min(card.options.get("scroll", 0), max(0, len(lines) - height))
        if card.full:
            card.options["scroll"] = top
        shown = lines[top : top + height]
        if len(lines) > top + height and shown:
            more = Text(f"… {len(lines) - top - height} more lines", style="dim")
            shown[-1] = more if card.full else Text("… Enter: full screen", style="dim")
        return join_lines(shown) if shown else Text("")
