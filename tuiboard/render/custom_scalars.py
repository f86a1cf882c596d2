"""Custom scalars charts as TensorBoard's custom_scalars dashboard shows them, in braille.

Owns: which series a layout chart shows (`TagRegexes`, `multiline_plan`, `margin_plan`), how
margin series are paired and ordered (`align_margin`, `drawable_order`, `margin_series`), how
series are named and marked (`series_name`, `SYMBOLS`), the lines under a chart
(`footer_lines`), the tag filter on charts (`chart_matches`), `plot_chart` and `plot_blocks`
(`tuiboard plot --kind custom_scalars`). The layout itself is decoded and merged by
core/custom_scalars.py; charts are drawn by render/chart.py.
Must not import: textual, tuiboard.ui.

TensorBoard's rules (plugins/custom_scalar: custom_scalars_plugin.py and the dashboard's
multi-line and margin chart cards):
- Multiline: per run, every scalar tag that any of the chart's regexes matches with Python's
  `re.match` (anchored at the start only). TensorBoard joins the regexes as `(r1)|(r2)` and a
  chart whose joined regex does not compile shows nothing; here each compiles alone, so an
  invalid one is flagged on the chart and the others still draw. An empty regex matches nothing
  (TensorBoard: a chart with one empty regex is "invalid"). A line per run x tag, named
  "tag (run)" and coloured by its run; a symbol per series within a run (TensorBoard's
  per-series symbols) marks the line's last point and its entry in the matches list.
- Margin: the value, lower and upper tags are exact names. A run holding some but not all three
  is listed as lacking the others. The three are paired point by point when their steps are
  equal (TensorBoard's rule); otherwise TensorBoard shows an error instead of the chart, and
  here the points of the steps all three have are drawn, with a warning. The band is never
  smoothed, nor the value line (TensorBoard #903: margin charts ignore the smoothing slider).
  TensorBoard keys a series by run and value tag, so of two bands around one value tag it keeps
  the last; here both are drawn, named with their bounds (a triple listed twice is one line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from tuiboard.core.custom_scalars import (
    CONFIG_TAG,
    MARGIN,
    Category,
    Chart,
    MarginSeries,
    layout_of,
)
from tuiboard.core.types import CUSTOM_SCALARS, SCALARS
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.sanitize import clean
from tuiboard.render.scalar_series import prepare_series, x_values
from tuiboard.render.theme import Theme, run_color

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

SYMBOLS = "●■◆★○□"
"""Marks of a run's first, second, ... series in one chart (cycling), single-cell each."""
UNTITLED = "untitled"
"""TensorBoard's title of a chart without one."""
WARN = "⚠ "


def series_name(run: str, tag: str) -> str:
    """TensorBoard's name of a custom scalars series (generateDataSeriesName)."""
    return f"{tag} ({run})"


def chart_title(chart: Chart) -> str:
    return chart.title or UNTITLED


@dataclass(frozen=True, slots=True)
class TagRegexes:
    """A multiline chart's regexes, compiled one by one."""

    patterns: tuple[re.Pattern[str], ...]
    invalid: tuple[tuple[str, str], ...]
    """(regex, why it does not compile), in the layout's order."""

    def match(self, tag: str) -> bool:
        return any(p.match(tag) is not None for p in self.patterns)

    def select(self, tags: Iterable[str]) -> list[str]:
        """The tags any regex matches, sorted."""
        return sorted(t for t in tags if self.match(t))


@lru_cache(maxsize=1024)
def tag_regexes(regexes: tuple[str, ...]) -> TagRegexes:
    patterns: list[re.Pattern[str]] = []
    invalid: list[tuple[str, str]] = []
    for r in regexes:
        if not r:
            continue
        try:
            patterns.append(re.compile(r))
        except re.error as e:
            invalid.append((r, str(e)))
    return TagRegexes(tuple(patterns), tuple(invalid))


@dataclass(frozen=True, slots=True)
class PlannedSeries:
    """One line of a chart: a run's tag (a margin series' value tag) and its mark."""

    run: str
    tag: str
    symbol: str
    margin: MarginSeries | None = None
    """The margin series' three tags (None: a multiline line)."""
    detail: str = ""
    """Told after the tag in the name when the tag alone does not tell the line apart (a
    margin chart showing one value tag with two different bands)."""

    @property
    def name(self) -> str:
        return series_name(self.run, self.tag + self.detail)


RunTags = Sequence[tuple[str, Sequence[str]]]
"""(run name, its scalar tags) for the shown runs, in the run panel's order."""


def multiline_plan(chart: Chart, runs: RunTags) -> tuple[list[PlannedSeries], list[str]]:
    """The lines of a multiline chart (run order, then tag order) and its problems (invalid
    regexes; untrusted text)."""
    rx = tag_regexes(chart.tags)
    out: list[PlannedSeries] = []
    for run, tags in runs:
        for k, tag in enumerate(rx.select(tags)):
            out.append(PlannedSeries(run, tag, SYMBOLS[k % len(SYMBOLS)]))
    problems = [f"invalid regex {r!r}: {why}" for r, why in rx.invalid]
    return out, problems


def margin_plan(chart: Chart, runs: RunTags) -> tuple[list[PlannedSeries], list[str]]:
    """The series of a margin chart a run has all three tags of, and the runs lacking some."""
    out: list[PlannedSeries] = []
    problems: list[str] = []
    series = list(dict.fromkeys(chart.series))  # a triple listed twice is one line
    values = [s.value for s in series]
    for run, tags in runs:
        have = set(tags)
        k = 0
        for s in series:
            missing = [t for t in (s.value, s.lower, s.upper) if t not in have]
            if missing:
                if len(missing) < 3:
                    problems.append(f"run {run} lacks {', '.join(missing)}")
                continue
            detail = f" [{s.lower}, {s.upper}]" if values.count(s.value) > 1 else ""
            out.append(PlannedSeries(run, s.value, SYMBOLS[k % len(SYMBOLS)], s, detail))
            k += 1
    return out, problems


def chart_plan(chart: Chart, runs: RunTags) -> tuple[list[PlannedSeries], list[str]]:
    return margin_plan(chart, runs) if chart.kind == MARGIN else multiline_plan(chart, runs)


def _last_by_step(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique steps and, for each, the index of its last point."""
    order = np.argsort(step, kind="stable")
    s = step[order]
    last = np.ones(s.shape[0], dtype=bool)
    last[:-1] = s[1:] != s[:-1]
    return s[last], order[last]


def align_margin(
    value_step: np.ndarray, lower_step: np.ndarray, upper_step: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Indexes pairing the value, lower and upper points, and whether their steps differed.

    Equal step arrays pair point by point (TensorBoard's rule, duplicates included); otherwise
    the steps all three have, each at its last point, in step order."""
    n = value_step.shape[0]
    if np.array_equal(value_step, lower_step) and np.array_equal(value_step, upper_step):
        idx = np.arange(n)
        return idx, idx, idx, False
    uv, iv = _last_by_step(value_step)
    ul, il = _last_by_step(lower_step)
    uu, iu = _last_by_step(upper_step)
    common = np.intersect1d(np.intersect1d(uv, ul, assume_unique=True), uu, assume_unique=True)
    return (
        iv[np.searchsorted(uv, common)],
        il[np.searchsorted(ul, common)],
        iu[np.searchsorted(uu, common)],
        True,
    )


def drawable_order(x: np.ndarray) -> np.ndarray | None:
    """Indexes of the points with a finite x, sorted by x (stable); None when that is every
    point, already in order."""
    keep = np.isfinite(x)
    if keep.all() and (x.shape[0] < 2 or bool(np.all(x[1:] >= x[:-1]))):
        return None
    idx = np.flatnonzero(keep)
    return idx[np.argsort(x[idx], kind="stable")]


def margin_series(
    label: str,
    color: str,
    mark: str,
    x: np.ndarray,
    value: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> ChartSeries:
    """A margin line and its band as a ChartSeries: points without an x left out, sorted by x."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (x, value, lower, upper)]
    order = drawable_order(arrays[0])
    if order is not None:
        arrays = [a[order] for a in arrays]
    x, value, lower, upper = arrays
    return ChartSeries(label, color, x, value, None, lower, upper, mark)


def steps_warning(run: str, series: MarginSeries, common: int) -> str:
    return (
        f"run {run}: the steps of {series.value}, {series.lower} and {series.upper} differ; "
        f"drawn at the {common} steps all three have"
    )


def chart_matches(category: Category, chart: Chart, regex: re.Pattern[str] | None) -> bool:
    """The tag filter on a layout chart: it searches the category and chart titles and the
    chart's regexes or tags (a layout chart has no one tag of its own)."""
    if regex is None:
        return True
    names = [category.title, chart.title, *chart.tags]
    for s in chart.series:
        names.extend((s.value, s.lower, s.upper))
    return any(regex.search(n) is not None for n in names)


Entry = tuple[str, str, str]
"""(symbol, Rich colour, untrusted series name): one entry of the matches list."""


def footer_lines(
    problems: Sequence[str], entries: Sequence[Entry], width: int, theme: Theme, rows: int
) -> list[Text]:
    """The lines under a chart, each exactly `width` cells: a ⚠ line per problem, then the
    matches list ("Matches (N)" and each series' symbol and name in its run's colour) wrapped
    into at most `rows` lines, the last saying how many did not fit."""
    if width <= 0:
        return []
    color = theme.color
    out = [
        fit_text(Text(WARN + clean(p), style=f"bold {theme.nan}" if color else ""), width)
        for p in problems
    ]
    if rows <= 0:
        return out
    faint = theme.faint if color else ""
    line = Text(f"Matches ({len(entries)})", style=faint, no_wrap=True)
    lines: list[Text] = []
    shown = 0
    for sym, c, name in entries:
        label = clean(name)
        size = cell_len(sym) + 1 + cell_len(label)
        if line.cell_len and line.cell_len + 2 + size > width:
            if len(lines) + 1 >= rows:
                break
            lines.append(line)
            line = Text(no_wrap=True)
        if line.cell_len:
            line.append("  ")
        line.append(sym + " ", style=f"bold {c}" if color else "")
        line.append(label, style=c if color else "")
        shown += 1
    if shown < len(entries):
        more = f"  +{len(entries) - shown} more"
        if line.cell_len + len(more) > width:
            line.truncate(max(width - len(more), 0), overflow="ellipsis")
        line.append(more, style=faint)
    lines.append(line)
    return out + [fit_text(t, width) for t in lines]


def _sorted_by_step(
    step: np.ndarray, *arrays: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    step = np.asarray(step, dtype=np.int64)
    if step.shape[0] > 1 and bool(np.any(step[1:] < step[:-1])):
        order = np.argsort(step, kind="stable")
        return step[order], tuple(np.asarray(a)[order] for a in arrays)
    return step, tuple(np.asarray(a) for a in arrays)


@dataclass(frozen=True, slots=True)
class DrawnChart:
    """A layout chart's lines as `plot` draws them, with its matches list and problems."""

    series: list[ChartSeries]
    entries: list[Entry]
    problems: list[str]


def plot_chart(
    chart: Chart, runs: Sequence[Run], colours: Mapping[str, str], req: PlotRequest
) -> DrawnChart:
    """The lines of `chart` over `runs` (read from the store: multiline smoothed by
    `req.smoothing`, margin never), x as `req.x_mode`, every point as written with `req.raw`."""
    by_name = {r.name: r for r in runs}
    planned, problems = chart_plan(chart, [(r.name, r.tags(SCALARS)) for r in runs])
    series: list[ChartSeries] = []
    for p in planned:
        run = by_name[p.run]
        colour = colours[p.run]
        if p.margin is None:
            s = run.scalars(p.tag, raw=req.raw)
            line = prepare_series(
                p.name, colour, s.step, s.wall_time, s.value, req.smoothing, req.x_mode
            )
            series.append(replace(line, mark=p.symbol))
            continue
        v, lo, up = (run.scalars(t, raw=req.raw) for t in _tags(p.margin))
        vs, (vw, vv) = _sorted_by_step(v.step, v.wall_time, v.value)
        ls, (lv,) = _sorted_by_step(lo.step, lo.value)
        us, (uv,) = _sorted_by_step(up.step, up.value)
        iv, il, iu, mismatch = align_margin(vs, ls, us)
        if mismatch:
            problems.append(steps_warning(p.run, p.margin, int(iv.shape[0])))
        x = x_values(vs[iv], np.asarray(vw, dtype=np.float64)[iv], req.x_mode)
        series.append(margin_series(p.name, colour, p.symbol, x, vv[iv], lv[il], uv[iu]))
    entries = [(p.symbol, colours[p.run], p.name) for p in planned]
    return DrawnChart(series, entries, problems)


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per chart of the layouts of every run (merged as TensorBoard does), in layout
    order, titled "category · chart": the chart with the series of `req.runs` it selects
    (`plot_chart`), then its warnings and its matches list. Charts the tag filter leaves out,
    and charts with nothing to draw or say, are skipped. Every line is `req.width` cells."""
    theme = req.theme
    layout_runs = req.all_runs or req.runs
    layout = layout_of((r.name, r.values(CUSTOM_SCALARS, CONFIG_TAG)) for r in layout_runs).layout
    colours = {
        r.name: req.colours.get(r.name) or run_color(theme, i) for i, r in enumerate(req.runs)
    }
    blocks: list[Text] = []
    for category in layout.categories:
        for chart in category.charts:
            if not chart_matches(category, chart, req.tag_re):
                continue
            drawn = plot_chart(chart, req.runs, colours, req)
            if not drawn.series and not drawn.problems:
                continue
            rows = max(1, req.height // 4)
            foot = footer_lines(drawn.problems, drawn.entries, req.width, theme, rows)
            opts = ChartOptions(
                title=f"{category.title} · {chart_title(chart)}",
                log_y=req.log_y,
                ignore_outliers=req.ignore_outliers,
                x_mode=req.x_mode,
            )
            height = max(req.height - len(foot), 6)
            body = render_chart(drawn.series, opts, req.width, height, theme)
            blocks.append(join_lines([body, *foot]))
    return blocks


def _tags(s: MarginSeries) -> tuple[str, str, str]:
    return s.value, s.lower, s.upper
