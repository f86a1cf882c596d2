"""A chart's runs with their groups made into one line and a band each (W&B's grouped runs).

Owns: `GroupLine` (a group drawn: its aggregate and its ChartSeries) and `grouped_series`, which
`tuiboard plot --group` and the app's Scalars charts both use: the runs of a group that is not
expanded are replaced by one series, placed where the group's first run was; ungrouped and
expanded runs are drawn as themselves. The line is the aggregate of what each run draws (its
smoothed values when smoothing is on: smoothing per run, then aggregation, as W&B), the band
is drawn by chart.py in a dim shade of the line's colour (the group's first run's colour).
Must not import: textual, tuiboard.ui, tuiboard.headless.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from tuiboard.core.aggregate import BAND_LABELS, Aggregate, aggregate
from tuiboard.core.grouping import Group, GroupSpec, arrange
from tuiboard.render.chart import ChartSeries


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One group as drawn."""

    group: Group
    runs: tuple[str, ...]
    """The group's runs this chart has (those holding the tag), in order."""
    agg: Aggregate
    series: ChartSeries


def group_label(name: str, runs: int) -> str:
    """`name (3 runs)`: how a group is named in legends and tables (untrusted: clean it)."""
    return f"{name} ({runs} run{'s' if runs != 1 else ''})"


def group_chart_series(name: str, runs: int, color: str, agg: Aggregate) -> ChartSeries:
    """A group's line as a chart draws it: the aggregate's centre over its band, labelled
    `name (N runs)`, in `color` (its first run's)."""
    return ChartSeries(
        label=group_label(name, runs),
        color=color,
        x=agg.x,
        y=agg.centre,
        lower=agg.lo,
        upper=agg.hi,
    )


def describe_spec(spec: GroupSpec) -> str:
    """`mean, band min-max`: what a group's line and band are."""
    return f"{spec.centre}, band {BAND_LABELS[spec.band]}"


def grouped_series(
    series: Sequence[ChartSeries],
    groups: Sequence[Group],
    spec: GroupSpec,
    expanded: Collection[str] = (),
) -> list[ChartSeries | GroupLine]:
    """`series` (one per run, labelled by run name) with each group not in `expanded` replaced
    by a GroupLine at its first run's place. A group none of whose runs is in `series` is
    left out."""
    by_run = {s.label: s for s in series}
    out: list[ChartSeries | GroupLine] = []
    for g, names in arrange([s.label for s in series], groups, expanded):
        if g is None:
            out.append(by_run[names[0]])
            continue
        members = [by_run[r] for r in names]
        agg = aggregate([(m.x, m.y) for m in members], spec.centre, spec.band)
        line = group_chart_series(g.name, len(members), members[0].color, agg)
        out.append(GroupLine(g, names, agg, line))
    return out


def drawn(items: Sequence[ChartSeries | GroupLine]) -> list[ChartSeries]:
    """What to hand to the chart: every item's series."""
    return [i.series if isinstance(i, GroupLine) else i for i in items]
