"""A run's scalar series made ready for a chart outside the app (`tuiboard plot`): sorted by
step, smoothed on the full series, x for the axis mode.

Owns: `x_values`, `step_metric`, `metric_axis_name` and `metric_x` (a tag's step metric, its
axis name and x on it: shared with the app) and `prepare_series` (the app keeps its own cached
form in ui/series.py).
Must not import: textual, tuiboard.ui, tuiboard.headless.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core.types import SCALARS
from tuiboard.render.chart import ChartSeries
from tuiboard.render.smoothing import ema_debiased

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run


def x_values(step: np.ndarray, wall: np.ndarray, x_mode: str) -> np.ndarray:
    """x for the axis mode; time axes fall back to steps when the times are unknown."""
    if x_mode == "step" or wall.shape[0] == 0 or not np.isfinite(wall).any():
        return step.astype(np.float64)
    if x_mode == "relative":
        return wall - float(np.nanmin(wall))
    return wall


def step_metric(run: Run, tag: str) -> str | None:
    """The tag whose values are `tag`'s x axis on a step-metric axis (W&B's
    define_metric(step_metric=), RunMeta.step_metrics); None: it has none."""
    metric = run.meta.step_metrics.get(tag)
    return metric if metric and metric != tag else None


def metric_axis_name(runs: Iterable[Run], tag: str) -> str:
    """The x axis name of `tag`'s chart on a step-metric axis: its step metric in the runs
    holding it (several, when runs disagree, joined by ", "), or "step" where it has none."""
    names = {
        step_metric(run, tag) or "step" for run in runs if run.series_version(SCALARS, tag) >= 0
    }
    return ", ".join(sorted(names)) if names else "step"


def metric_x(
    step: np.ndarray, metric_step: np.ndarray, metric_value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """x of each point on a step metric's axis: the metric's value at the point's step (the
    last one written at that step), and which points have one (a finite one). numpy joins on
    step: a sort of the metric's steps and one searchsorted, no loop over points."""
    ms = np.asarray(metric_step, dtype=np.int64)
    mv = np.asarray(metric_value, dtype=np.float64)
    if ms.shape[0] == 0:
        return np.full(step.shape[0], np.nan), np.zeros(step.shape[0], dtype=bool)
    order = np.argsort(ms, kind="stable")
    ms, mv = ms[order], mv[order]
    last = np.ones(ms.shape[0], dtype=bool)  # the last value written at each step wins
    last[:-1] = ms[1:] != ms[:-1]
    ms, mv = ms[last], mv[last]
    idx = np.minimum(np.searchsorted(ms, step), ms.shape[0] - 1)
    x = mv[idx]
    hit = (ms[idx] == step) & np.isfinite(x)
    return x, hit


def prepare_series(
    label: str,
    color: str,
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    smoothing: float,
    x_mode: str,
    metric: tuple[np.ndarray, np.ndarray] | None = None,
) -> ChartSeries:
    """Sort by step, smooth the full series, compute x and sort by it (time can go back).
    x_mode "metric": x is the step metric's value at each point's step (`metric`: its steps
    and values; points at a step without one are left out, as in the app); a series without
    a step metric (None) keeps its steps."""
    step = np.asarray(step, dtype=np.int64)
    wall = np.asarray(wall_time, dtype=np.float64)
    value64 = np.asarray(value, dtype=np.float64)
    if step.shape[0] > 1 and bool(np.any(step[1:] < step[:-1])):
        order = np.argsort(step, kind="stable")
        step, wall, value64 = step[order], wall[order], value64[order]
    smoothed = ema_debiased(value64, smoothing) if smoothing > 0 else value64
    if x_mode == "metric" and metric is not None:
        x, hit = metric_x(step, *metric)
        x = np.where(hit, x, np.nan)
    elif x_mode == "metric":
        x = step.astype(np.float64)
    else:
        x = x_values(step, wall, x_mode)
    keep = np.isfinite(x)
    if not keep.all():
        x, value64, smoothed = x[keep], value64[keep], smoothed[keep]
    if x.shape[0] > 1 and bool(np.any(x[1:] < x[:-1])):
        order = np.argsort(x, kind="stable")
        x, value64, smoothed = x[order], value64[order], smoothed[order]
    raw = value64 if smoothing > 0 else None
    return ChartSeries(label, color, x, smoothed, raw)
