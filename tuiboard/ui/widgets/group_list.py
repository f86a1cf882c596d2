"""The run groups under the run panel's summary line: one row per group, Enter expands it.

Owns: `GroupList`, shown only while runs are grouped (`g`). A row is the group's colour (its
first run's), ▸ (drawn as one line) or ▾ (expanded: drawn as its runs), its name and how many
shown runs it holds. Enter (or a click) posts `GroupToggled`; the app decides. The app mounts it
into the run panel above the run tree, so the run panel's own module is left alone.
Must not import: tuiboard.core internals, tuiboard.render beyond clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tuiboard.render.sanitize import clean
from tuiboard.ui.messages import GroupToggled

if TYPE_CHECKING:
    from tuiboard.core.grouping import Group


class GroupList(OptionList):
    """One option per group; the option's id is the group's index in `names`."""

    DEFAULT_CSS = """
    GroupList {
        height: auto;
        max-height: 12;
        border: none;
        padding: 0;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        scrollbar-size-vertical: 1;
    }
    GroupList:focus {
        border: none;
    }
    """

    def __init__(self, colour_of: Callable[[str], str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._colour_of = colour_of
        self.names: list[str] = []
        """The groups' names, in row order (untrusted)."""
        self._shown: tuple[object, ...] | None = None

    def show_groups(self, title: str, groups: Sequence[Group], expanded: frozenset[str]) -> None:
        """Rebuild the rows when the groups or their state changed (keeps the highlight)."""
        key = (title, tuple(groups), expanded)
        if key == self._shown:
            return
        self._shown = key
        highlighted = self.highlighted
        self.clear_options()
        self.names = [g.name for g in groups]
        options: list[Option | None] = []
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("groups ", style="bold")
        head.append(clean(title), style="dim")
        options.append(Option(head, disabled=True))
        for i, g in enumerate(groups):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("▾ " if g.name in expanded else "▸ ", style="dim")
            line.append("■ ", style=self._colour_of(g.runs[0]))
            line.append(clean(g.name))
            line.append(f" ({len(g.runs)})", style="dim")
            options.append(Option(line, id=str(i)))
        self.add_options(options)
        if groups:
            row = highlighted if highlighted is not None and highlighted > 0 else 1
            self.highlighted = min(row, len(groups))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(GroupToggled(self.names[int(event.option.id)]))
