"""`define_metric` for tuiboard's logging API: step metrics and W&B's summary aggregates.

Owns: MetricDefs (the definitions, exact names or `*` globs as W&B takes them, and the running
min / max / mean / last / first of every key a definition asks a summary of). The flusher feeds
it the committed rows, so `log` pays nothing for it. What it writes into tuiboard-run.json:
`"step_metrics": {name or glob: step metric}` and `"metric_summaries": {key: {"max": 0.9, ...}}`
(`{}` for `summary="none"`: the key has no summary), which replace the plain last value of
those keys, as W&B's summary shows `{"max": 0.9}` for `define_metric("acc", summary="max")`.
Must not import: textual, rich, numpy, tuiboard.core.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import Any

SUMMARY_KINDS = frozenset({"min", "max", "mean", "last", "first", "best", "none"})


@dataclass(slots=True)
class _Def:
    step_metric: str | None
    summaries: tuple[str, ...]
    goal: str | None


@dataclass(slots=True)
class _Agg:
    min: float = math.inf
    max: float = -math.inf
    total: float = 0.0
    count: int = 0
    first: float | None = None
    last: float | None = None

    def add(self, x: float) -> None:
        if self.first is None:
            self.first = x
        self.last = x
        if not math.isnan(x):
            self.min = min(self.min, x)
            self.max = max(self.max, x)
            self.total += x
            self.count += 1


@dataclass(slots=True)
class MetricDefs:
    """The run's define_metric calls. Not thread-safe: the run's locks guard it."""

    defs: dict[str, _Def] = field(default_factory=dict)
    aggs: dict[str, _Agg] = field(default_factory=dict)

    def define(
        self,
        name: str,
        step_metric: str | None = None,
        summary: str | None = None,
        goal: str | None = None,
    ) -> None:
        kinds = tuple(k.strip() for k in summary.split(",")) if summary else ()
        bad = [k for k in kinds if k not in SUMMARY_KINDS]
        if bad:
            raise ValueError(f"unknown summary {bad[0]!r}: one of {sorted(SUMMARY_KINDS)}")
        if goal is not None and goal not in ("minimize", "maximize"):
            raise ValueError("goal is 'minimize' or 'maximize'")
        self.defs[name] = _Def(step_metric, kinds, goal)

    def _match(self, key: str) -> _Def | None:
        found = self.defs.get(key)
        if found is not None:
            return found
        for name, d in self.defs.items():
            if "*" in name and fnmatch.fnmatchcase(key, name):
                return d
        return None

    def feed(self, row: dict[str, Any]) -> None:
        """Add a committed row's numbers to the aggregates of the keys that want a summary.
        Only the row's own keys are matched (`"glob/a"` matches `glob/*`; the `a` of a nested
        `{"glob": {"a": ..}}` does not: wandb 0.31 leaves those alone too)."""
        if not any(d.summaries for d in self.defs.values()):
            return
        for key, value in row.items():
            if type(value) in (int, float):
                d = self._match(key)
                if d is not None and d.summaries:
                    agg = self.aggs.get(key)
                    if agg is None:
                        agg = self.aggs[key] = _Agg()
                    agg.add(float(value))

    def step_metrics(self) -> dict[str, str]:
        return {n: d.step_metric for n, d in self.defs.items() if d.step_metric}

    def summaries(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for key, agg in self.aggs.items():
            d = self._match(key)
            if d is None:
                continue
            entry: dict[str, float] = {}
            for kind in d.summaries:
                value = _pick(kind, agg, d.goal)
                if value is not None:
                    entry[kind] = value
            out[key] = entry
        return out


def _pick(kind: str, agg: _Agg, goal: str | None) -> float | None:
    if kind == "none" or (agg.count == 0 and kind in ("min", "max", "mean", "best")):
        return None
    if kind == "best":
        kind = "max" if goal == "maximize" else "min"
    value: float | None
    if kind == "min":
        value = agg.min
    elif kind == "max":
        value = agg.max
    elif kind == "mean":
        value = agg.total / agg.count
    elif kind == "first":
        value = agg.first
    else:
        value = agg.last
    return value
