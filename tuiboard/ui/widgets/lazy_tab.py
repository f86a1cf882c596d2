"""LazyTab: a tab's content that rebuilds only while its tab is shown.

Owns: the stale flag of the Histograms and Overview tabs. A store change or a view change that
arrives while the tab is hidden only marks it stale; `shown()` (called when the tab is
activated) catches up. Must not import: tuiboard.core readers (it only sees Changes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from textual.app import App

    from tuiboard.core.logdir import Changes


class LazyTab:
    """Mixin for a Textual widget inside the `#tabs` TabbedContent: set TAB, define rebuild()."""

    TAB: ClassVar[str]
    """The id of the tab pane this widget fills."""
    _stale: bool = True
    """Something changed while hidden: rebuild before drawing again."""
    _lazy_tabs: object | None = None
    """The `#tabs` TabbedContent above this widget, once found."""

    if TYPE_CHECKING:
        app: App[object]

    def rebuild(self) -> None:
        raise NotImplementedError

    def _showing(self) -> bool:
        # The tabs are an ancestor: found once by walking up (a query of "#tabs" walked the
        # whole DOM, ~9 ms a call with every dashboard mounted, eleven calls per store change).
        tabs = self._lazy_tabs
        if tabs is None:
            ancestors = getattr(self, "ancestors", [])
            tabs = next((a for a in ancestors if getattr(a, "id", None) == "tabs"), None)
            if tabs is None:
                return False
            self._lazy_tabs = tabs
        return bool(getattr(tabs, "active", "") == self.TAB)

    def settle(self, changes: Changes) -> bool:
        """The part of a store change every lazy tab handles alike: hidden, it only goes stale;
        stale or with runs added or removed, it rebuilds. True when nothing is left to do."""
        if not self._showing():
            self._stale = True
            return True
        if self._stale or changes.new_runs or changes.removed_runs:
            self.rebuild()
            return True
        return False

    def view_changed(self) -> None:
        if self._showing():
            self.rebuild()
        else:
            self._stale = True

    def shown(self) -> None:
        """The tab became visible: catch up if anything moved meanwhile."""
        if self._stale:
            self.rebuild()
