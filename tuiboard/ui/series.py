"""Scalar series made ready to draw: x values for the chosen axis, smoothing on the full series.

Owns: `PreparedSeries`, `SeriesCache` (one per app, keyed by run, tag and the store's
series_version, so a chart recomputes only the series that moved), `value_at` (the cursor lookup).
Must not import: textual. Uses tuiboard.render for the EMA only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core.types import SCALARS
from tuiboard.render.scalar_series import metric_x, step_metric
from tuiboard.render.smoothing import ema_debiased
from tuiboard.ui.view_state import METRIC

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir
    from tuiboard.ui.view_state import ViewOptions


@dataclass(frozen=True, slots=True)
class PreparedSeries:
    """One run's series of one tag, sorted by step, with x for the current axis."""

    run: str
    tag: str
    x: np.ndarray
    """float64, non-decreasing: step, seconds since the run's first point, or unix time."""
    step: np.ndarray
    """int64, same order as x."""
    wall_time: np.ndarray
    value: np.ndarray
    """float64 raw values (NaN / inf kept: the chart marks them)."""
    smoothed: np.ndarray
    """Debiased EMA of `value`, computed on the full series before any downsampling."""

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def placeable(self) -> bool:
        """Whether any point has an x on the current axis (see x_values)."""
        return len(self) > 0 and bool(np.isfinite(self.x[0]))


def x_values(step: np.ndarray, wall_time: np.ndarray, x_axis: str) -> np.ndarray:
    """x of each point for the axis mode. On a time axis a point without a time (JSONL lines
    without one) has x = NaN: it cannot be placed, so it is not drawn (steps would mix units)."""
    if x_axis == "step":
        return step.astype(np.float64)
    wall = np.asarray(wall_time, dtype=np.float64)
    if wall.shape[0] == 0 or not np.isfinite(wall).any():
        return np.full(wall.shape[0], np.nan)
    if x_axis == "relative":
        return wall - float(np.nanmin(wall))
    return wall


def prepare(
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    options: ViewOptions,
    *,
    run: str = "",
    tag: str = "",
    metric: tuple[np.ndarray, np.ndarray] | None = None,
) -> PreparedSeries:
    """Sort by step (JSONL lines may go backwards), smooth, and compute x. `metric`: the step
    metric's (steps, values) when the x axis is METRIC and the tag has one; points at a step
    without a metric value are dropped (smoothing is computed before, on every point)."""
    step = np.asarray(step, dtype=np.int64)
    if step.shape[0] > 1 and bool(np.any(step[1:] < step[:-1])):
        order = np.argsort(step, kind="stable")
        step, wall_time, value = step[order], wall_time[order], value[order]
    value64 = np.asarray(value, dtype=np.float64)
    wall64 = np.asarray(wall_time, dtype=np.float64)
    smoothed = np.asarray(ema_debiased(value64, options.smoothing), dtype=np.float64)
    if metric is not None:
        x, hit = metric_x(step, metric[0], metric[1])
        if not bool(hit.all()):
            x, step, wall64, value64, smoothed = (
                x[hit],
                step[hit],
                wall64[hit],
                value64[hit],
                smoothed[hit],
            )
    else:
        x = x_values(step, wall64, "step" if options.x_axis == METRIC else options.x_axis)
    if options.x_axis != "step" and x.shape[0] > 1 and not bool(np.all(x[1:] >= x[:-1])):
        # Time can go backwards (clock changes, restarts), a step metric need not grow: draw
        # in x order, as TensorBoard; points without a time (NaN) go last, left out.
        order = np.argsort(x, kind="stable")
        x, step, wall64, value64, smoothed = (
            x[order],
            step[order],
            wall64[order],
            value64[order],
            smoothed[order],
        )
    return PreparedSeries(run, tag, x, step, wall64, value64, smoothed)


class SeriesCache:
    """Prepared series by (run, tag), recomputed only when the store's series_version or the
    options that shape the series (smoothing, x axis, raw points) change."""

    def __init__(self, logdir: Logdir) -> None:
        self._logdir = logdir
        self._entries: dict[tuple[str, str], tuple[tuple[object, ...], PreparedSeries]] = {}
        self.computed = 0
        """How many series were (re)prepared: tests and the bench read it."""

    def get(self, run_name: str, tag: str, options: ViewOptions) -> PreparedSeries | None:
        run = self._logdir.run(run_name)
        if run is None:
            return None
        version = run.series_version(SCALARS, tag)
        if version < 0:  # this run has no such tag
            return None
        metric_tag = step_metric(run, tag) if options.x_axis == METRIC else None
        metric_version = -1 if metric_tag is None else run.series_version(SCALARS, metric_tag)
        axis = "step" if options.x_axis == METRIC and metric_tag is None else options.x_axis
        key = (  # a tag without a step metric is drawn on steps: one entry serves both modes
            version,
            options.smoothing,
            axis,
            options.raw_points,
            metric_tag,
            metric_version,
        )
        hit = self._entries.get((run_name, tag))
        if hit is not None and hit[0] == key:
            return hit[1]
        data = run.scalars(tag, raw=options.raw_points)
        if len(data) == 0:
            self._entries.pop((run_name, tag), None)
            return None
        metric = None
        if metric_tag is not None:
            if metric_version < 0:  # the metric is not logged (yet): nothing to place
                m_step, m_value = np.empty(0, np.int64), np.empty(0)
            else:
                m = run.scalars(metric_tag, raw=options.raw_points)
                m_step, m_value = m.step, m.value
            metric = (m_step, m_value)
        prepared = prepare(
            data.step, data.wall_time, data.value, options, run=run_name, tag=tag, metric=metric
        )
        self._entries[(run_name, tag)] = (key, prepared)
        self.computed += 1
        return prepared

    def version_key(self, run_name: str, tag: str) -> int | tuple[int, int]:
        """Changes whenever the run's series of `tag` does (and, for a tag with a step metric,
        whenever the metric's series does: its values are the x axis)."""
        run = self._logdir.run(run_name)
        if run is None:
            return -1
        version = run.series_version(SCALARS, tag)
        metric_tag = step_metric(run, tag)
        if version < 0 or metric_tag is None:
            return version
        return (version, run.series_version(SCALARS, metric_tag))

    def forget_run(self, run_name: str) -> None:
        for key in [k for k in self._entries if k[0] == run_name]:
            del self._entries[key]


def index_at(series: PreparedSeries, x: float) -> int | None:
    """Index of the point nearest to x (TensorBoard's tooltip picks the closest point)."""
    n = len(series)
    if n == 0 or not np.isfinite(x):
        return None
    i = int(np.searchsorted(series.x, x, side="left"))
    if i >= n:
        return n - 1
    if i > 0 and abs(series.x[i - 1] - x) <= abs(series.x[i] - x):
        return i - 1
    return i


def visible_slice(series: PreparedSeries, lo: float | None, hi: float | None) -> slice:
    """The index range of points with lo <= x <= hi (both ends optional)."""
    start = 0 if lo is None else int(np.searchsorted(series.x, lo, side="left"))
    stop = len(series) if hi is None else int(np.searchsorted(series.x, hi, side="right"))
    return slice(start, stop)
