"""A one-line question (a smoothing value, an export path, a filter) as a modal screen.

Owns: `PromptScreen`: returns the typed string, or None on escape. `validate` may reject it with
a message shown under the input.
Must not import: tuiboard.core, tuiboard.render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    AUTO_FOCUS = "#prompt-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(
        self,
        question: str,
        value: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._question = question
        self._value = value
        self._validate = validate
        """Returns an error message, or None when the answer is acceptable."""

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-body"):
            yield Static(Text(self._question, style="bold"))
            yield Input(value=self._value, id="prompt-input")
            yield Static(id="prompt-error")

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self._validate(event.value) if self._validate is not None else None
        if error:
            self.query_one("#prompt-error", Static).update(Text(error, style="red"))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
