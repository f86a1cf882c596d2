"""The figures `summary` needs of many small runs, in a few numpy calls over all of them.

Owns: `reduce_runs`, which takes the scalar series of many runs, concatenates them into flat
columns (run by run, tag by tag) and reduces them per series and per run with segment
reductions (`ufunc.reduceat`, one 2-D sort a group of equal-length runs for the medians):
what `health.run_facts`, `summary.series_stats` and `summary.recent_rates` compute one run at
a time with ~10 numpy calls a tag (~0.1 ms a run of 3 tags, most of `summary`'s own time at
10,000 runs). The results are the same numbers those give (tests/headless/test_facts_batch.py
compares them on hypothesis-made series): every value is taken from the same float64/float32
cells and combined by the same IEEE operations.

Only series of at most `health.TAIL` points are batched (their TAIL-point tails, which health and
the rates look at, are then the whole series); a caller takes runs with longer series one by one.
Must not import: textual, rich.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core.types import HPARAMS
from tuiboard.headless.health import (
    ACCURACY,
    LOSS,
    TAIL,
    Divergence,
    RunFacts,
    session_end,
    tag_family,
)

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

BATCH_MAX_POINTS = TAIL
"""Series longer than this are not batched (the figures look at the last TAIL points only)."""


@dataclass(frozen=True, slots=True)
class SeriesFigures:
    """One nonempty series' figures (the clean line)."""

    points: int
    last_step: int
    last_value: float
    max_step: int
    best: float | None
    """min (loss-like tags) or max (accuracy-like) of the finite values; None for other tags or
    when no value is finite."""
    best_step: int | None


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run's figures: what run_facts and recent_rates take from its series."""

    series: dict[str, SeriesFigures]
    """Per nonempty series, in the order given."""
    last_data_time: float
    """Newest finite wall time of any point (NaN when none)."""
    median_interval: float | None
    divergence: Divergence | None
    steps_per_s: float | None
    points_per_s: float | None


CHUNK_POINTS = 1 << 16
"""Points reduced in one go: the temporaries (a few arrays of 8 bytes a point) then stay under
glibc's mmap threshold as loader.py sets it (1 MiB), so they come from the heap's kept pages.
Bigger ones are fresh mappings, whose page faults cost more than the work on them (one
reduction of 10,000 runs in one go: ~0.45 s of CPU; in chunks: ~0.1 s)."""


def reduce_runs(
    runs: Sequence[Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]]],
) -> list[RunFigures]:
    """The figures of each run, from its (tag, step, wall_time, value) series in tag order
    (empty ones are left out; every series at most BATCH_MAX_POINTS long)."""
    out: list[RunFigures] = []
    start = points = 0
    for i, series in enumerate(runs):
        points += sum(s[1].shape[0] for s in series)
        if points >= CHUNK_POINTS:
            out.extend(_reduce_chunk(runs[start : i + 1]))
            start, points = i + 1, 0
    if start < len(runs):
        out.extend(_reduce_chunk(runs[start:]))
    return out


def _reduce_chunk(
    runs: Sequence[Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]]],
) -> list[RunFigures]:
    tags: list[str] = []
    lens: list[int] = []
    steps: list[np.ndarray] = []
    walls: list[np.ndarray] = []
    values: list[np.ndarray] = []
    per_run: list[int] = []
    for series in runs:
        count = 0
        for tag, step, wall, value in series:
            n = step.shape[0]
            if n == 0:
                continue
            if n > BATCH_MAX_POINTS:
                raise ValueError(f"series {tag!r} of {n} points: longer than BATCH_MAX_POINTS")
            tags.append(tag)
            lens.append(n)
            steps.append(step)
            walls.append(wall)
            values.append(value)
            count += 1
        per_run.append(count)
    n_runs = len(per_run)
    if not tags:
        return [RunFigures({}, math.nan, None, None, None, None) for _ in range(n_runs)]
    n_series = len(tags)
    counts = np.array(lens, dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    step = np.concatenate(steps).astype(np.int64, copy=False)
    wall = np.concatenate(walls).astype(np.float64, copy=False)
    value = np.concatenate(values)
    run_of = np.repeat(np.arange(n_runs, dtype=np.int64), per_run)
    seg = np.repeat(np.arange(n_series, dtype=np.int64), counts)

    last = ends - 1
    last_steps = step[last].tolist()
    last_values = value[last].tolist()
    max_steps = np.maximum.reduceat(step, starts).tolist()

    # wall times: the newest finite one, and the intervals between consecutive finite ones
    finite_wall = np.isfinite(wall)
    newest = np.maximum.reduceat(np.where(finite_wall, wall, -np.inf), starts)
    run_has = np.array(per_run, dtype=np.int64) > 0
    run_first = (np.cumsum(per_run) - np.array(per_run, dtype=np.int64))[run_has]
    run_newest = np.full(n_runs, -np.inf)
    run_newest[run_has] = np.maximum.reduceat(newest, run_first)
    medians = _run_medians(wall, finite_wall, seg, run_of, n_runs)

    # best (argmin / argmax of the finite values, first of equals) and non-finite values
    finite_value = np.isfinite(value)
    lo = np.where(finite_value, value, np.inf)
    hi = np.where(finite_value, value, -np.inf)
    lo_at, lo_ok = _first_extreme(lo, np.minimum, starts, counts, np.inf)
    hi_at, hi_ok = _first_extreme(hi, np.maximum, starts, counts, -np.inf)
    lo_best, lo_step = value[lo_at].tolist(), step[lo_at].tolist()
    hi_best, hi_step = value[hi_at].tolist(), step[hi_at].tolist()
    has_bad = (np.bincount(seg[~finite_value], minlength=n_series) > 0).tolist()

    rates = _rates(step, wall, counts, starts, per_run, run_of, seg)

    out: list[RunFigures] = []
    i = 0
    for r in range(n_runs):
        figures: dict[str, SeriesFigures] = {}
        divergence: Divergence | None = None
        for j in range(i, i + per_run[r]):
            tag = tags[j]
            family = tag_family(tag)
            best: float | None = None
            best_step: int | None = None
            if family == LOSS:
                if lo_ok[j]:
                    best, best_step = lo_best[j], lo_step[j]
                if has_bad[j]:
                    cand = _divergence(tag, step[starts[j] : ends[j]], value[starts[j] : ends[j]])
                    if divergence is None or cand.step < divergence.step:
                        divergence = cand
            elif family == ACCURACY and hi_ok[j]:
                best, best_step = hi_best[j], hi_step[j]
            figures[tag] = SeriesFigures(
                lens[j], last_steps[j], last_values[j], max_steps[j], best, best_step
            )
        i += per_run[r]
        newest_r = float(run_newest[r])
        out.append(
            RunFigures(
                figures,
                newest_r if newest_r != -math.inf else math.nan,
                medians[r],
                divergence,
                *rates[r],
            )
        )
    return out


def facts_of(run: Run, version: int, kinds: dict[str, list[str]], fig: RunFigures) -> RunFacts:
    """health.run_facts(run) from the run's figures (`version`: run.version read before its
    series were)."""
    main: str | None = None
    most = 0
    for tag, f in fig.series.items():
        if tag_family(tag) == LOSS:
            main = tag
            break
        if f.points > most:
            main, most = tag, f.points
    last_step = max((f.max_step for f in fig.series.values()), default=None)
    main_fig = fig.series[main] if main is not None else None
    return RunFacts(
        name=run.name,
        version=version,
        last_write=float(run.last_write),
        last_data_time=fig.last_data_time,
        last_step=last_step,
        median_interval=fig.median_interval,
        divergence=fig.divergence,
        session_end=session_end(run, kinds.get(HPARAMS, ()), fig.last_data_time),
        warnings=tuple(run.warnings),
        main_tag=main,
        main_step=main_fig.last_step if main_fig is not None else None,
        main_value=main_fig.last_value if main_fig is not None else None,
        exit_code=run.meta.exit_code,
    )


def _first_extreme(
    masked: np.ndarray, ufunc: np.ufunc, starts: np.ndarray, counts: np.ndarray, none: float
) -> tuple[np.ndarray, list[bool]]:
    """Per segment: the index of the first cell holding its extreme (argmin/argmax), and
    whether a finite value exists (the extreme is not the `none` fill)."""
    extreme = ufunc.reduceat(masked, starts)
    hits = np.flatnonzero(masked == np.repeat(extreme, counts))
    at = hits[np.searchsorted(hits, starts)]
    return at, (extreme != none).tolist()


def _divergence(tag: str, step: np.ndarray, value: np.ndarray) -> Divergence:
    """health.run_facts' rule: the first non-finite value at the smallest step."""
    idx = np.flatnonzero(~np.isfinite(value))
    i = int(idx[np.argmin(step[idx])])
    return Divergence(tag, int(step[i]), float(value[i]))


def _run_medians(
    wall: np.ndarray, finite: np.ndarray, seg: np.ndarray, run_of: np.ndarray, n_runs: int
) -> list[float | None]:
    """Per run: the median of the positive intervals between consecutive finite wall times of
    each of its series, pooled (health._median). Runs with equally many intervals are sorted
    together as the rows of one 2-D array."""
    fw = wall[finite]
    fseg = seg[finite]
    d = fw[1:] - fw[:-1]
    keep = (fseg[1:] == fseg[:-1]) & (d > 0)
    d = d[keep]
    drun = run_of[fseg[1:][keep]]
    per = np.bincount(drun, minlength=n_runs)
    first = np.cumsum(per) - per
    out: list[float | None] = [None] * n_runs
    # the sizes present, ascending (np.unique would import numpy.ma: ~40 ms of a one-shot
    # command's start, in each of its processes)
    for size in np.flatnonzero(np.bincount(per)).tolist():
        if size == 0:
            continue
        rows = np.flatnonzero(per == size)
        block = np.sort(d[first[rows][:, None] + np.arange(size)], axis=1)
        med = (block[:, (size - 1) // 2] + block[:, size // 2]) / 2
        for r, m in zip(rows.tolist(), med.tolist(), strict=True):
            out[r] = m
    return out


RATE_POINTS = 64
"""Points of the most-written tag the recent rate is measured over (summary.recent_rates too)."""


def _rates(
    step: np.ndarray,
    wall: np.ndarray,
    counts: np.ndarray,
    starts: np.ndarray,
    per_run: list[int],
    run_of: np.ndarray,
    seg: np.ndarray,
) -> list[tuple[float | None, float | None]]:
    """summary.recent_rates per run: over the last RATE_POINTS points of its most-written
    series (the first of equals), steps/s and the points of every series written in that
    span (t0, t1]."""
    n_runs = len(per_run)
    lens = counts.tolist()
    main = np.zeros(n_runs, dtype=np.int64)
    has = np.zeros(n_runs, dtype=bool)
    i = 0
    for r in range(n_runs):
        k = per_run[r]
        if k:
            best = i
            for j in range(i + 1, i + k):
                if lens[j] > lens[best]:
                    best = j
            main[r] = best
            has[r] = True
        i += k
    end = starts[main] + counts[main]
    k = np.minimum(counts[main], RATE_POINTS)
    ok = has & (k >= 2)
    first = np.where(ok, end - k, end - 1)
    t0 = wall[first]
    t1 = wall[end - 1]
    point_run = run_of[seg]
    inside = (wall > t0[point_run]) & (wall <= t1[point_run])
    points = np.bincount(point_run[inside], minlength=n_runs).tolist()
    t0s, t1s = t0.tolist(), t1.tolist()
    s0, s1 = step[first].tolist(), step[end - 1].tolist()
    oks = ok.tolist()
    out: list[tuple[float | None, float | None]] = []
    for r in range(n_runs):
        if not oks[r]:
            out.append((None, None))
            continue
        span = t1s[r] - t0s[r]
        if not (math.isfinite(span) and span > 0):
            out.append((None, None))
            continue
        out.append(((s1[r] - s0[r]) / span, points[r] / span))
    return out
