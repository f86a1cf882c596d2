"""Aggregating a group of runs' series into one line with a band (W&B's grouped runs).

Owns: `aggregate` (series -> `Aggregate`: x, centre, lo, hi, count), the names of the centres
(`CENTRES`) and bands (`BANDS`). Pure numpy: no Python loop per point (one per run).
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

Rules (W&B's "group runs" line, written down exactly):
- x: the union of every run's x values (sorted, each once). When runs x union would make the
  runs x points matrix larger than MAX_CELLS, `max_cells // runs` of the union's x values,
  evenly spaced by rank among them, are kept (the first and last always): still real x values.
- A run's value at an x of the union is its last point at or before that x (its value carried
  forward), but only within its own range: before its first x and after its last x it has no
  value there (it does not count). Several points at one x: the last one written counts.
- Points whose value is not finite (NaN, inf) are left out first: the run's previous finite
  value is carried over them.
- The caller smooths each run before aggregating (W&B smooths per run, then aggregates).
- count: how many runs have a value at that x (always >= 1: every x of the union is some run's
  own point).
- centre: "mean" or "median" of those values. band: "minmax" (min to max), "std" (mean -+ one
  population standard deviation, ddof=0, around the mean even when the centre is the median),
  "iqr" (the 25th to the 75th percentile, numpy's default linear interpolation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CENTRES = ("mean", "median")
BANDS = ("minmax", "std", "iqr")
BAND_LABELS = {"minmax": "min-max", "std": "±1 std", "iqr": "25-75th pct"}
"""How each band is named on screen."""
MAX_CELLS = 20_000_000
"""Runs x union points above which the union is thinned (160 MB of float64 at most)."""


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A group's line: every array has the length of `x`."""

    x: np.ndarray
    """float64, strictly ascending: the union of the runs' x values (see the module)."""
    centre: np.ndarray
    """float64: the mean or median of the runs having a value at x."""
    lo: np.ndarray
    hi: np.ndarray
    """float64: the band's lower and upper edge at x."""
    count: np.ndarray
    """int64: how many runs have a value at x (>= 1)."""

    def __len__(self) -> int:
        return int(self.x.shape[0])


_EMPTY = np.empty(0, dtype=np.float64)


def _clean(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The finite points, in x order (stable: the last written of equal x stays last)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = min(x.shape[0], y.shape[0])
    x, y = x[:n], y[:n]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.all():
        x, y = x[ok], y[ok]
    if x.shape[0] > 1 and bool(np.any(x[1:] < x[:-1])):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return x, y


def _union(xs: list[np.ndarray]) -> np.ndarray:
    """Sorted unique values of sorted arrays. Runs usually log the same steps: an array equal
    to the first one's distinct values adds nothing, and only the others are sorted in (a sort
    of 100 x 10,000 values costs more than the whole aggregation otherwise)."""
    base = xs[0]
    if base.shape[0] > 1 and not bool(np.all(base[1:] > base[:-1])):
        base = np.unique(base)
    others = [x for x in xs[1:] if not (x.shape == base.shape and np.array_equal(x, base))]
    if not others:
        return base
    return np.unique(np.concatenate([base, *others]))


def carried(
    series: Sequence[tuple[np.ndarray, np.ndarray]], max_cells: int = MAX_CELLS
) -> tuple[np.ndarray, np.ndarray]:
    """The union x and the runs x union matrix of carried values (NaN where a run has none)."""
    clean = [_clean(x, y) for x, y in series]
    clean = [(x, y) for x, y in clean if x.shape[0]]
    if not clean:
        return _EMPTY, np.empty((0, 0))
    xs = _union([x for x, _ in clean])
    limit = max(2, max_cells // len(clean))
    if xs.shape[0] > limit:
        xs = xs[np.unique(np.linspace(0, xs.shape[0] - 1, limit).round().astype(np.int64))]
    matrix = np.full((len(clean), xs.shape[0]), np.nan)
    for r, (x, y) in enumerate(clean):  # one pass per run; the points go through numpy
        if x.shape == xs.shape and np.array_equal(x, xs):
            matrix[r] = y  # the usual case: every run logged the same steps
            continue
        first = int(np.searchsorted(xs, x[0], side="left"))
        last = int(np.searchsorted(xs, x[-1], side="right"))
        idx = np.searchsorted(x, xs[first:last], side="right") - 1
        matrix[r, first:last] = y[idx]
    return xs, matrix


def _quantiles(matrix: np.ndarray, count: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Per column, the q-quantiles of its non-NaN values (numpy's linear method), vectorised:
    one sort (NaN last), then interpolation between the ranks q * (count - 1)."""
    ordered = np.sort(matrix, axis=0)
    cols = np.arange(matrix.shape[1])
    out = []
    for q in qs:
        pos = q * (count - 1).astype(np.float64)
        below = np.floor(pos).astype(np.int64)
        above = np.minimum(below + 1, count - 1)
        frac = pos - below
        a = ordered[below, cols]
        b = ordered[above, cols]
        out.append(a + (b - a) * frac)
    return out


def aggregate(
    series: Sequence[tuple[np.ndarray, np.ndarray]],
    centre: str = "mean",
    band: str = "minmax",
    max_cells: int = MAX_CELLS,
) -> Aggregate:
    """One line with a band from several runs' (x, y) series (see the module for the rules).

    Raises ValueError for an unknown centre or band name (a bug or a usage error caught
    before: the CLI and the app offer only CENTRES and BANDS)."""
    if centre not in CENTRES:
        raise ValueError(f"unknown centre {centre!r} (one of {', '.join(CENTRES)})")
    if band not in BANDS:
        raise ValueError(f"unknown band {band!r} (one of {', '.join(BANDS)})")
    xs, matrix = carried(series, max_cells)
    if xs.shape[0] == 0:
        return Aggregate(_EMPTY, _EMPTY, _EMPTY, _EMPTY, np.empty(0, dtype=np.int64))
    has = ~np.isnan(matrix)
    count = has.sum(axis=0).astype(np.int64)
    if matrix.shape[0] == 1:
        v = matrix[0]
        return Aggregate(xs, v.copy(), v.copy(), v.copy(), count)
    filled = np.where(has, matrix, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = filled.sum(axis=0) / count
    quantiles: list[float] = []
    if centre == "median":
        quantiles.append(0.5)
    if band == "iqr":
        quantiles += [0.25, 0.75]
    qv = _quantiles(matrix, count, quantiles) if quantiles else []
    mid = qv.pop(0) if centre == "median" else mean
    if band == "minmax":
        lo = np.where(has, matrix, np.inf).min(axis=0)
        hi = np.where(has, matrix, -np.inf).max(axis=0)
    elif band == "std":
        with np.errstate(over="ignore", invalid="ignore"):
            dev = np.where(has, matrix - mean, 0.0)
            std = np.sqrt((dev * dev).sum(axis=0) / count)
        lo, hi = mean - std, mean + std
    else:
        lo, hi = qv
    return Aggregate(xs, mid, lo, hi, count)
