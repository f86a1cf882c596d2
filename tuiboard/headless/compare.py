"""`tuiboard compare`: hyper-parameters and config side by side, then shared scalar tags.

Owns: Comparison (built from runs), its plain text, Rich and JSON forms.
Must not import: textual. Rich only inside `rich_tables` (a terminal is attached).

JSON (`--json`), a stable contract: one object
  runs     [{"run": str, "path": str}]                     in the order compared
  params   [{"key": str, "differs": bool, "values": {run: value}}]
           config files + hparams, flattened with "/"; differing keys first, then by key; a run
           lacking the key is absent from "values" (and the key then differs)
  scalars  [{"tag": str, "family": "loss"|"accuracy"|"lr"|null,
             "runs": {run: {"last", "last_step", "best", "best_step", "points"}}}]
           the scalar tags every run has, by name; best as in summary.py
  unshared [str]   scalar tags some runs lack
  summary  [{"key": str, "differs": bool, "values": {run: value}}]
           the writers' own run summaries (W&B's: each key's last value, define_metric
           summaries as {"max": ...}), as params; [] when no run has one
Numbers that are not finite are "NaN", "Infinity", "-Infinity"; other values keep their JSON type.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuiboard.core.types import SCALARS
from tuiboard.headless.health import ACCURACY, LOSS, fmt_number
from tuiboard.headless.summary import TagStats, json_number, json_safe, plain, tag_stats

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tuiboard.core.logdir import Run

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    differs: bool
    values: dict[str, Any]
    """run -> value, only for the runs that have the key."""


@dataclass(frozen=True, slots=True)
class Comparison:
    runs: tuple[tuple[str, str], ...]
    """(name, path) in the order given."""
    params: tuple[Param, ...]
    scalars: tuple[tuple[str, dict[str, TagStats]], ...]
    unshared: tuple[str, ...]
    summary: tuple[Param, ...] = ()
    """The runs' own summaries (RunMeta.summary), keyed as params are."""


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal values; 1 and 1.0 are the same setting, True and 1 are not, NaN equals NaN."""
    if _is_number(a) and _is_number(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _params(names: Sequence[str], dicts: Sequence[dict[str, Any]]) -> list[Param]:
    keys = sorted({k for c in dicts for k in c})
    params = []
    for k in keys:
        vals = {n: c[k] for n, c in zip(names, dicts, strict=True) if k in c}
        present = list(vals.values())
        differs = len(vals) < len(names) or any(not _same(present[0], v) for v in present[1:])
        params.append(Param(k, differs, vals))
    params.sort(key=lambda p: (not p.differs, p.key))
    return params


def compare(runs: Sequence[Run]) -> Comparison:
    names = [r.name for r in runs]
    params = _params(names, [r.config for r in runs])
    summaries = [r.meta.summary for r in runs]
    summary = _params(names, summaries) if any(summaries) else []
    tag_sets = [set(r.tags(SCALARS)) for r in runs]
    shared = sorted(set.intersection(*tag_sets)) if tag_sets else []
    unshared = sorted(set.union(*tag_sets) - set(shared)) if tag_sets else []
    scalars = []
    for tag in shared:
        per: dict[str, TagStats] = {}
        for r in runs:
            st = tag_stats(r, tag)
            if st is not None:
                per[r.name] = st
        scalars.append((tag, per))
    return Comparison(
        tuple((r.name, r.path) for r in runs),
        tuple(params),
        tuple(scalars),
        tuple(unshared),
        tuple(summary),
    )


def _json_value(v: Any) -> Any:
    if isinstance(v, dict):
        return json_safe(v)  # a define_metric summary such as {"max": 0.9}
    if isinstance(v, float):
        return json_number(v)
    if v is None or isinstance(v, str | int | bool):
        return v
    return str(v)


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {
        "runs": [{"run": n, "path": p} for n, p in c.runs],
        "params": [
            {
                "key": p.key,
                "differs": p.differs,
                "values": {n: _json_value(v) for n, v in p.values.items()},
            }
            for p in c.params
        ],
        "scalars": [
            {
                "tag": tag,
                "family": next(iter(per.values())).family if per else None,
                "runs": {
                    n: {
                        "last": json_number(st.last),
                        "last_step": st.last_step,
                        "best": json_number(st.best),
                        "best_step": st.best_step,
                        "points": st.points,
                    }
                    for n, st in per.items()
                },
            }
            for tag, per in c.scalars
        ],
        "unshared": list(c.unshared),
        "summary": [
            {
                "key": p.key,
                "differs": p.differs,
                "values": {n: _json_value(v) for n, v in p.values.items()},
            }
            for p in c.summary
        ],
    }


def write_json(c: Comparison, out: Any) -> None:
    out.write(json.dumps(comparison_json(c), ensure_ascii=False, allow_nan=False) + "\n")


def _param_cell(v: Any) -> str:
    if v is _MISSING:
        return "-"
    if isinstance(v, float):
        return fmt_number(v)
    if isinstance(v, str):
        return v
    return repr(v) if not isinstance(v, bool | int) else str(v)


def _scalar_cell(st: TagStats | None) -> str:
    if st is None:
        return "-"
    text = f"{fmt_number(st.last)}@{st.last_step}"
    if st.best is not None and st.best_step is not None:
        word = "min" if st.family == LOSS else "max" if st.family == ACCURACY else "best"
        text += f" ({word} {fmt_number(st.best)}@{st.best_step})"
    return text


def _grids(c: Comparison, only_diff: bool) -> tuple[list[list[str]], list[list[str]]]:
    names = [n for n, _ in c.runs]
    params = _keyed_grid(names, c.params, only_diff)
    scal = [["TAG", *names]]
    for tag, per in c.scalars:
        scal.append([tag, *(_scalar_cell(per.get(n)) for n in names)])
    return params, scal


def _aligned(grid: list[list[str]]) -> list[str]:
    grid = [[plain(x) for x in row] for row in grid]
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    return [
        "  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in grid
    ]


def plain_lines(c: Comparison, only_diff: bool = False) -> list[str]:
    params, scal = _grids(c, only_diff)
    out = ["hyper-parameters and config (* = differs)"]
    out += _aligned(params) if len(params) > 1 else ["  (none)"]
    out += ["", "scalars: last@step (best@step)"]
    out += _aligned(scal) if len(scal) > 1 else ["  (no tag shared by every run)"]
    if c.unshared:
        shown = ", ".join(plain(t) for t in c.unshared[:10])
        more = f", ... (+{len(c.unshared) - 10})" if len(c.unshared) > 10 else ""
        out.append(f"not in every run: {shown}{more}")
    if c.summary:
        out += ["", "run summaries, as the writers recorded them (* = differs)"]
        out += _aligned(_summary_grid(c, only_diff))
    return out


def _summary_grid(c: Comparison, only_diff: bool) -> list[list[str]]:
    return _keyed_grid([n for n, _ in c.runs], c.summary, only_diff)


def _keyed_grid(names: list[str], rows: Sequence[Param], only_diff: bool) -> list[list[str]]:
    """A KEY x run grid of hyper-parameters or summaries, "*" marking keys that differ."""
    grid = [["", "KEY", *names]]
    for p in rows:
        if only_diff and not p.differs:
            continue
        cells = [_param_cell(p.values.get(n, _MISSING)) for n in names]
        grid.append(["*" if p.differs else "", p.key, *cells])
    return grid


def rich_tables(c: Comparison, only_diff: bool = False) -> list[RenderableType]:
    """Tables for a terminal: Text cells from sanitized strings, never markup."""
    from rich.table import Table
    from rich.text import Text

    params, scal = _grids(c, only_diff)
    out: list[RenderableType] = [Text("hyper-parameters and config", style="bold")]
    if len(params) > 1:
        t = Table(header_style="bold")
        for h in params[0][1:]:
            t.add_column(Text(plain(h)), overflow="fold")
        for row in params[1:]:
            style = "bold yellow" if row[0] else "dim"  # differing keys stand out
            t.add_row(*(Text(plain(x), style=style) for x in row[1:]))
        out.append(t)
    else:
        out.append(Text("  (none)", style="dim"))
    out.append(Text("scalars: last@step (best@step)", style="bold"))
    if len(scal) > 1:
        t = Table(header_style="bold")
        for h in scal[0]:
            t.add_column(Text(plain(h)), overflow="fold")
        for row in scal[1:]:
            t.add_row(*(Text(plain(x)) for x in row))
        out.append(t)
    else:
        out.append(Text("  (no tag shared by every run)", style="dim"))
    if c.unshared:
        out.append(Text(plain("not in every run: " + ", ".join(c.unshared)), style="dim"))
    if c.summary:
        out.append(Text("run summaries, as the writers recorded them", style="bold"))
        grid = _summary_grid(c, only_diff)
        t = Table(header_style="bold")
        for h in grid[0][1:]:
            t.add_column(Text(plain(h)), overflow="fold")
        for row in grid[1:]:
            style = "bold yellow" if row[0] else "dim"
            t.add_row(*(Text(plain(x), style=style) for x in row[1:]))
        out.append(t)
    return out
