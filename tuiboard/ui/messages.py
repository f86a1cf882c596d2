"""Messages that carry news between the watcher thread, the app and its widgets.

Owns: small immutable Textual messages. The watcher thread only ever posts `StoreChanged`;
widgets post the others upwards so the app (the single place holding view state) can act.
Must not import: tuiboard.core internals beyond the public `Changes` and `RunFilter` types,
tuiboard.render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.core.run_filter import RunFilter


class StoreChanged(Message):
    """The store has new data. Posted from the watcher thread (post_message is thread-safe)."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes
        """What the refresh reported; widgets pull the data itself from the store by version."""


class ViewChanged(Message):
    """View options or run visibility changed: every view redraws from its caches."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
        """A short word for logs and tests: "options", "runs", "tags"."""


class OpenChart(Message):
    """Open the full-screen chart of a scalar tag (or of a chart's own source)."""

    def __init__(self, tag: str, source: object | None = None) -> None:
        super().__init__()
        self.tag = tag
        self.source = source
        """The chart's ChartSource (ui/widgets/scalar_chart.py); None: the tag's Scalars chart."""


class ShowWarnings(Message):
    """Open the warnings of a run (None: the logdir's own warnings and every run's)."""

    def __init__(self, run: str | None) -> None:
        super().__init__()
        self.run = run


class RunToggled(Message):
    """The user toggled the visibility of these runs in the run panel."""

    def __init__(self, runs: tuple[str, ...], visible: bool) -> None:
        super().__init__()
        self.runs = runs
        self.visible = visible


class RunHighlighted(Message):
    """The run under the run panel's cursor changed (used by "only this run")."""

    def __init__(self, run: str | None) -> None:
        super().__init__()
        self.run = run


class RunFilterChanged(Message):
    """The run regex filter changed (already validated; "" shows every run)."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern


class LoadProgress(Message):
    """First-load progress from the watcher thread: runs read so far and runs found."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class WatcherFailed(Message):
    """The watcher thread stopped on an unexpected error (a bug): shown, never swallowed."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class OpenCard(Message):
    """Open one dashboard card full screen."""

    def __init__(self, kind: str, key: object, index: int | None) -> None:
        super().__init__()
        self.kind = kind
        """The dashboard (its data kind)."""
        self.key = key
        """The card's CardKey (run, tag, sample)."""
        self.index = index
        """The step position the card showed (None: the latest, following)."""


class GroupToggled(Message):
    """Expand a run group into its runs, or collapse it back (Enter on a group)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        """The group's name (untrusted)."""


class RunPinned(Message):
    """The user pinned (or unpinned) these runs in the run panel (`P`): drawn on top."""

    def __init__(self, runs: tuple[str, ...]) -> None:
        super().__init__()
        self.runs = runs


class CursorMoved(Message):
    """A chart moved the linked cursor (Board.cursor): every chart draws it again."""


class StatusFilterWorked(Message):
    """A worker's answer to a `status:` run filter: the runs it keeps (Board.status_result
    drops it when the filter or the store moved on since it was asked)."""

    def __init__(self, run_filter: RunFilter, ticket: int, kept: frozenset[str]) -> None:
        super().__init__()
        self.filter = run_filter
        self.ticket = ticket
        self.kept = kept
