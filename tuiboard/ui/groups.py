"""The app's run groups: how runs are grouped now, which groups are expanded, and a Scalars
chart's lines with each group aggregated (render/group_series.py does the drawing side).

Owns: `GroupState` (the grouping, expanded groups, the groups of the shown runs, and a cache of
each group's aggregate, so a cursor move or a redraw of an unchanged chart aggregates nothing),
`grouped_lines`, `GROUP_KEY` (a group row's key prefix in the cursor table) and `NO_STEP`.
Must not import: textual.

A group's line is the aggregate of what its runs draw (smoothed per run first when smoothing is
on); on the step axis its steps are the union's, on a time axis it has none (NO_STEP, shown
"-"). Its cursor-table columns: value (the centre of the runs' raw values, the drawn one when
smoothing is off), smoothed (the drawn centre), lo and hi (the band), runs (how many runs have
a value at that x). A run shown beside groups has lo = hi = its drawn value and runs = 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core.aggregate import BAND_LABELS, BANDS, CENTRES, aggregate
from tuiboard.core.grouping import (
    Group,
    GroupSpec,
    arrange,
    group_runs,
    key_function,
    settings_lookup,
)
from tuiboard.render.chart import ChartSeries
from tuiboard.render.group_series import group_chart_series
from tuiboard.ui.series import PreparedSeries

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir
    from tuiboard.ui.view_state import ViewOptions

__all__ = [
    "BANDS",
    "BAND_LABELS",
    "CENTRES",
    "GROUP_COLUMNS",
    "GROUP_KEY",
    "NO_STEP",
    "GroupSpec",
    "GroupState",
    "grouped_lines",
]
"""The app takes the grouping's names from here (it imports no core internals)."""

GROUP_KEY = "\x00group:"
"""A group's row key in the cursor table: this prefix + the group's name (no run name holds
a NUL)."""
NO_STEP = int(np.iinfo(np.int64).min)
"""The step of a group's point on a time axis (the runs' steps there differ)."""
GROUP_COLUMNS = ("value", "smoothed", "lo", "hi", "runs")

Line = tuple[str, str, str, PreparedSeries, ChartSeries, tuple[np.ndarray, ...]]
"""(key, run, label, prepared, series, columns): a ChartLine's fields."""


class GroupState:
    """Mutated only on the UI thread (the app's actions)."""

    def __init__(self, logdir: Logdir) -> None:
        self.logdir = logdir
        self.spec: GroupSpec | None = None
        """None: no grouping (every run is drawn as itself)."""
        self.expanded: frozenset[str] = frozenset()
        """Names of the groups drawn as their runs."""
        self._groups_key: tuple[object, ...] | None = None
        self._groups: list[Group] = []
        self._aggs: dict[tuple[str, str], tuple[tuple[object, ...], Line]] = {}
        self.aggregated = 0
        """How many group aggregates were computed (tests read it: a cursor move adds none)."""

    @property
    def active(self) -> bool:
        return self.spec is not None

    def key(self) -> Hashable:
        """Changes whenever what a grouped chart draws may change but for the data itself."""
        return (self.spec, self.expanded)

    def set_spec(self, spec: GroupSpec | None) -> None:
        if spec != self.spec:
            self.spec = spec
            self.expanded = frozenset()
            self._groups_key = None
            self._aggs.clear()

    def toggle(self, name: str) -> bool:
        """Expand the group `name`, or collapse it back; True when it is now expanded."""
        if name in self.expanded:
            self.expanded = self.expanded - {name}
            return False
        self.expanded = self.expanded | {name}
        return True

    def groups(self, visible: Sequence[str]) -> list[Group]:
        """The groups among the shown runs (cached by the runs and the store's version: a
        config may have arrived)."""
        spec = self.spec
        if spec is None:
            return []
        key = (spec, tuple(visible), self.logdir.version)
        if key != self._groups_key:
            runs = self.logdir.runs
            self._groups = group_runs(visible, key_function(spec, settings_lookup(runs)))
            self._groups_key = key
        return self._groups

    def describe(self, visible: Sequence[str]) -> str:
        """`2 groups by seed=\\d+` for the status line; "" when runs are not grouped."""
        if self.spec is None:
            return ""
        n = len(self.groups(visible))
        return f"{n} group{'s' if n != 1 else ''} by {self.spec.describe()}"

    def group_of(self, run: str, visible: Sequence[str]) -> Group | None:
        return next((g for g in self.groups(visible) if run in g.runs), None)

    def line(
        self,
        tag: str,
        group: Group,
        members: Sequence[tuple[PreparedSeries, ChartSeries]],
        options: ViewOptions,
    ) -> Line:
        """A group's line (its aggregate, and a PreparedSeries of it for the cursor), computed
        again only when one of its runs' prepared series was (SeriesCache replaces them)."""
        spec = self.spec
        assert spec is not None
        stamp = (spec, options, *(p for p, _ in members))
        hit = self._aggs.get((tag, group.name))
        if (
            hit is not None
            and len(hit[0]) == len(stamp)
            and hit[0][:2] == stamp[:2]
            and all(a is b for a, b in zip(hit[0][2:], stamp[2:], strict=True))
        ):
            return hit[1]
        agg = aggregate([(s.x, s.y) for _, s in members], spec.centre, spec.band)
        if options.smoothing > 0:
            raw = aggregate([(p.x, p.value) for p, _ in members], spec.centre, spec.band)
            # Both are on the union of the same x (raw values are finite where smoothed are).
            raw_centre = np.interp(agg.x, raw.x, raw.centre) if len(raw) else agg.centre
        else:
            raw_centre = agg.centre
        if options.x_axis == "step":
            step = agg.x.astype(np.int64)
        else:
            step = np.full(agg.x.shape[0], NO_STEP, dtype=np.int64)
        first, first_series = members[0]
        series = group_chart_series(group.name, len(members), first_series.color, agg)
        nan = np.full(agg.x.shape[0], np.nan)
        prepared = PreparedSeries(first.run, tag, agg.x, step, nan, raw_centre, agg.centre)
        columns = (raw_centre, agg.centre, agg.lo, agg.hi, agg.count.astype(np.float64))
        line: Line = (GROUP_KEY + group.name, first.run, series.label, prepared, series, columns)
        self._aggs[(tag, group.name)] = (stamp, line)
        self.aggregated += 1
        return line


def grouped_lines(
    state: GroupState,
    tag: str,
    visible: Sequence[str],
    prepared: Sequence[PreparedSeries],
    series: Sequence[ChartSeries],
    options: ViewOptions,
    cap: int | None = None,
) -> tuple[list[Line], int]:
    """A chart's lines with its groups aggregated (but expanded ones), each group at its
    first run's place, in run order; and how many runs drawn as themselves (ungrouped or
    expanded) were left out, past the first `cap` of them (None: none is)."""
    by_run = {p.run: (p, s) for p, s in zip(prepared, series, strict=True)}
    out: list[Line] = []
    alone = 0
    for g, names in arrange([p.run for p in prepared], state.groups(visible), state.expanded):
        if g is None:
            alone += 1
            if cap is not None and alone > cap:
                continue
            p, s = by_run[names[0]]
            ones = np.ones(s.y.shape[0])
            out.append((p.run, p.run, p.run, p, s, (p.value, p.smoothed, s.y, s.y, ones)))
            continue
        out.append(state.line(tag, g, [by_run[r] for r in names], options))
    return out, 0 if cap is None else max(0, alone - cap)
