"""The user's view choices: chart options and which runs are shown, in one place.

Owns: `ViewOptions` (smoothing, x axis, log y, outliers, raw points) and `RunSelection`
(hidden runs, run filter, "only this run", pinned runs, stable run colours).
Must not import: textual, tuiboard.render (this is plain state, testable without a terminal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

X_AXES = ("step", "relative", "wall")
"""The x-axis modes, in the order the key cycles them (TensorBoard's STEP / RELATIVE / WALL)."""
METRIC = "metric"
"""The fourth x mode, in the cycle only while some run defines a step metric (W&B's
define_metric(step_metric=...)): a tag with one is drawn against that metric's value at the
same step; a chart whose tag has none falls back to step (its axis says "step")."""

SMOOTHING_STEP = 0.05


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """How scalar charts are drawn. Frozen: a new object on every change, so it is a cache key."""

    smoothing: float = 0.6
    """EMA weight in [0, 0.999]; 0 draws the raw line only."""
    x_axis: str = "step"
    """One of X_AXES, or METRIC."""
    log_y: bool = False
    ignore_outliers: bool = False
    """y range from the 5th-95th percentiles (TensorBoard's "ignore outliers in chart scaling")."""
    raw_points: bool = False
    """Every point as written (restart handling off) instead of the clean line."""

    def with_smoothing(self, value: float) -> ViewOptions:
        return replace(self, smoothing=round(min(0.999, max(0.0, value)), 3))

    def next_x_axis(self, metric: bool = False) -> ViewOptions:
        """The next x mode; METRIC is one of them when `metric` (some run has step metrics)."""
        modes = (*X_AXES, METRIC) if metric else X_AXES
        i = modes.index(self.x_axis) if self.x_axis in modes else -1
        return replace(self, x_axis=modes[(i + 1) % len(modes)])

    def toggled(self, name: str) -> ViewOptions:
        return replace(self, **{name: not getattr(self, name)})

    def describe(self) -> str:
        parts = [f"smooth {self.smoothing:.2f}", f"x {self.x_axis}"]
        if self.log_y:
            parts.append("log y")
        if self.ignore_outliers:
            parts.append("no outliers")
        if self.raw_points:
            parts.append("raw points")
        return " · ".join(parts)


def compile_filter(pattern: str) -> re.Pattern[str] | None:
    """A case-insensitive search regex, or None when the pattern is empty or invalid.

    An invalid pattern falls back to a literal search, as TensorBoard does while you type.
    """
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(pattern), re.IGNORECASE)


@dataclass(slots=True)
class RunSelection:
    """Which runs are drawn, and the colour of each run.

    Invariant: `colour_index` gives every run ever seen a fixed index in order of first sight,
    so a run keeps its colour when others appear, vanish or are hidden.
    """

    hidden: set[str] = field(default_factory=set)
    """Runs the user unticked."""
    pattern: str = ""
    """The run filter as typed ("" = every run): a regex or a query (core/query.py)."""
    only: str | None = None
    """When set, only this run is drawn ("show only the selected run")."""
    colour_index: dict[str, int] = field(default_factory=dict)
    matched: frozenset[str] | None = None
    """When `pattern` is a query (core/query.py): the names of the runs it keeps, as last
    worked out by the Board (None: `pattern` is a regex searched in the name)."""
    pinned: set[str] = field(default_factory=set)
    """Runs drawn on top of every chart (`P`); a pinned run is drawn only while shown."""

    def note_runs(self, names: list[str]) -> None:
        for name in names:
            if name not in self.colour_index:
                self.colour_index[name] = len(self.colour_index)

    def matches(self, name: str) -> bool:
        if self.matched is not None:
            return name in self.matched
        regex = compile_filter(self.pattern)
        return regex is None or regex.search(name) is not None

    def is_visible(self, name: str) -> bool:
        if self.only is not None:
            return name == self.only
        return name not in self.hidden and self.matches(name)

    def visible(self, names: list[str]) -> list[str]:
        if self.only is not None:
            return [n for n in names if n == self.only]
        if self.matched is not None:
            matched = self.matched
            return [n for n in names if n not in self.hidden and n in matched]
        regex = compile_filter(self.pattern)
        return [
            n
            for n in names
            if n not in self.hidden and (regex is None or regex.search(n) is not None)
        ]
