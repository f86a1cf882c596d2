"""The run details screen (`I`): what the highlighted run says about itself, its health, its
summary and its config, as plain text.

Owns: `RunDetailsScreen`. The drawing is render/run_details.py; every string is untrusted.
Must not import: tuiboard.core internals (it is handed the renderable).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tuiboard.render.sanitize import clean


class RunDetailsScreen(ModalScreen[None]):
    """Escape, q or I closes it; arrows and page keys scroll."""

    AUTO_FOCUS = "#details-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,I", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-body"):
            yield Static(Text(clean(self._title), style="bold"), id="details-title")
            yield Static(self._body, id="details-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
