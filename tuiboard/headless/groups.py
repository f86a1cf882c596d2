"""`--group` / `--group-by` of `plot` and `summary`: the options, and the grouped summary.

Owns: `add_group_args` (the four options; plot_args.py and commands.py add them),
`spec_from_args`, `logdir_groups` (the groups of some runs of a logdir), and the grouped
summary: `GroupRow`, `group_rows`, `group_plain_lines`, `group_json_lines`.
Must not import: textual, rich (the summary's parsers are built without loading it),
tuiboard.render.

The grouped summary has one row per group, and one per run that no group takes (its own name,
1 run), in the order of each one's first run. For each tag column, the runs' last values (and,
for loss-/accuracy-like tags, their best values), each a single number per run, are aggregated
over the runs holding the tag, with the same centre and band as the charts
(core/aggregate.py): "centre [lo, hi]"; non-finite values are left out. STATUS counts the
runs' statuses (`2 finished, 1 diverged`, most severe first); STEP is the largest last step.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tuiboard.core.aggregate import BAND_LABELS, BANDS, CENTRES, aggregate
from tuiboard.core.grouping import (
    Group,
    GroupSpec,
    group_runs,
    key_function,
    parse_keys,
    settings_lookup,
)
from tuiboard.headless.health import SEVERITY, fmt_number

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run
    from tuiboard.headless.summary import Row


def add_group_args(p: argparse.ArgumentParser) -> None:
    """--group REGEX | --group-by KEYS, --centre, --band."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--group",
        metavar="REGEX",
        help="group runs whose names are equal once every match of REGEX (its first capture "
        "group, if it has one) is cut out: --group 'seed=\\d+' puts lr=0.1_seed=1 and "
        "lr=0.1_seed=2 in the group lr=0.1_*; runs it does not match stay alone",
    )
    g.add_argument(
        "--group-by",
        metavar="KEYS",
        help="group runs with equal values of these comma-separated config keys (config files, "
        "then hparams): --group-by lr,optimizer",
    )
    p.add_argument(
        "--centre",
        "--center",
        dest="centre",
        choices=CENTRES,
        default="mean",
        help="a group's line: mean (default) or median of its runs",
    )
    p.add_argument(
        "--band",
        choices=BANDS,
        default="minmax",
        help="a group's band: minmax (default), std (mean -+ 1 std), iqr (25th-75th percentile)",
    )


def spec_from_args(args: argparse.Namespace) -> GroupSpec | None:
    """The grouping asked for, or None. ValueError (a usage error) for a bad regex or keys."""
    pattern = getattr(args, "group", None)
    keys = getattr(args, "group_by", None)
    centre = getattr(args, "centre", "mean")
    band = getattr(args, "band", "minmax")
    if pattern is not None:
        if not pattern:
            raise ValueError("--group needs a regex")
        return GroupSpec(pattern=pattern, centre=centre, band=band)
    if keys is not None:
        return GroupSpec(keys=parse_keys(keys), centre=centre, band=band)
    return None


def logdir_groups(spec: GroupSpec, runs: Sequence[Run], all_runs: Sequence[Run]) -> list[Group]:
    """The groups among `runs` (settings, such as a sub-run's hparams, come from `all_runs`)."""
    key_of = key_function(spec, settings_lookup(all_runs))
    return group_runs([r.name for r in runs], key_of)


# --- the grouped summary ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """A number over a group's runs: centre and band, over `count` runs."""

    centre: float
    lo: float
    hi: float
    count: int


def spread(values: Sequence[float], spec: GroupSpec) -> Spread | None:
    """The centre and band of one number per run (None when no run has a finite one)."""
    if not values:
        return None
    zero = np.zeros(1)
    agg = aggregate([(zero, np.array([v])) for v in values], spec.centre, spec.band)
    if len(agg) == 0:
        return None
    return Spread(float(agg.centre[0]), float(agg.lo[0]), float(agg.hi[0]), int(agg.count[0]))


@dataclass(frozen=True, slots=True)
class GroupRow:
    name: str
    """Untrusted (run names, config values)."""
    runs: tuple[str, ...]
    statuses: dict[str, int]
    """How many runs have each status, most severe first."""
    last_step: int | None
    last: dict[str, Spread]
    """Per tag column: the runs' last values."""
    best: dict[str, Spread]
    """Per loss-/accuracy-like tag column: the runs' best values."""


def group_rows(rows: Sequence[Row], groups: Sequence[Group], spec: GroupSpec) -> list[GroupRow]:
    """One GroupRow per group with rows, and per row no group takes (see the module)."""
    by_name = {r.name: r for r in rows}
    group_of = {run: g for g in groups for run in g.runs}
    out: list[GroupRow] = []
    seen: set[str] = set()
    for row in rows:
        g = group_of.get(row.name)
        members = [row] if g is None else [by_name[n] for n in g.runs if n in by_name]
        name = row.name if g is None else g.name
        if g is not None:
            if g.name in seen:
                continue
            seen.add(g.name)
        counts: dict[str, int] = {}
        for m in members:
            counts[m.health.status] = counts.get(m.health.status, 0) + 1
        statuses = {s: counts[s] for s in SEVERITY if s in counts}
        steps = [m.facts.last_step for m in members if m.facts.last_step is not None]
        tags = sorted({t for m in members for t in m.tags})
        last: dict[str, Spread] = {}
        best: dict[str, Spread] = {}
        for tag in tags:
            sp = spread([m.tags[tag].last for m in members if tag in m.tags], spec)
            if sp is not None:
                last[tag] = sp
            bests = [m.tags[tag].best for m in members if tag in m.tags]
            sb = spread([b for b in bests if b is not None], spec)
            if sb is not None:
                best[tag] = sb
        out.append(
            GroupRow(
                name=name,
                runs=tuple(m.name for m in members),
                statuses=statuses,
                last_step=max(steps) if steps else None,
                last=last,
                best=best,
            )
        )
    return out


def _fmt(sp: Spread | None) -> str:
    if sp is None:
        return ""
    if sp.count == 1:
        return fmt_number(sp.centre)
    return f"{fmt_number(sp.centre)} [{fmt_number(sp.lo)}, {fmt_number(sp.hi)}]"


def group_plain_lines(
    rows: Sequence[GroupRow], tags: Sequence[str], spec: GroupSpec, plain: Any
) -> list[str]:
    """Aligned columns: GROUP, RUNS, STATUS, STEP, then per tag its last values (and best
    values for tags that have them). `plain` makes an untrusted string printable."""
    if not rows:
        return ["no runs found"]
    head = f"{spec.centre} [{BAND_LABELS[spec.band]}]"
    has_best = [t for t in tags if any(t in r.best for r in rows)]
    header = ["GROUP", "RUNS", "STATUS", "STEP"]
    for t in tags:
        header.append(f"{t} {head}")
        if t in has_best:
            header.append(f"best {t}")
    table = [[plain(h) for h in header]]
    for r in rows:
        line = [
            r.name,
            str(len(r.runs)),
            ", ".join(f"{n} {s}" for s, n in r.statuses.items()),
            "-" if r.last_step is None else str(r.last_step),
        ]
        for t in tags:
            line.append(_fmt(r.last.get(t)))
            if t in has_best:
                line.append(_fmt(r.best.get(t)))
        table.append([plain(c) for c in line])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    out = []
    for line in table:
        cells = [
            c.ljust(widths[i]) if i in (0, 2) else c.rjust(widths[i]) for i, c in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _spread_json(sp: Spread | None, number: Any) -> dict[str, Any] | None:
    if sp is None:
        return None
    return {
        "centre": number(sp.centre),
        "lo": number(sp.lo),
        "hi": number(sp.hi),
        "count": sp.count,
    }


def group_json_lines(rows: Sequence[GroupRow], spec: GroupSpec, number: Any) -> Iterator[str]:
    """One JSON object per group (a stable contract):
    group str, runs [str], statuses {status: count}, last_step int|null, centre str,
    band str, tags {tag: {"last": S, "best": S|null}} where S is
    {"centre": num, "lo": num, "hi": num, "count": int} (non-finite numbers as strings)."""
    for r in rows:
        obj = {
            "group": r.name,
            "runs": list(r.runs),
            "statuses": r.statuses,
            "last_step": r.last_step,
            "centre": spec.centre,
            "band": spec.band,
            "tags": {
                t: {"last": _spread_json(sp, number), "best": _spread_json(r.best.get(t), number)}
                for t, sp in r.last.items()
            },
        }
        yield json.dumps(obj, ensure_ascii=False, allow_nan=False)
