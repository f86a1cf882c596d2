"""`tuiboard check`: print the unhealthy runs, exit non-zero when one has a status to fail on.

Owns: the exit codes, parsing `--fail-on`, and check's text and JSON output.
Must not import: textual, rich.

Exit codes (stable; cron, CI and Slurm epilogs rely on them):
  0  no run has a status listed in --fail-on (default: stalled,diverged,failed,damaged)
  1  at least one run has such a status
  2  usage or input error: bad arguments or regex, a logdir that does not exist
An existing logdir with no runs at all exits 0 and says so on stderr.

Text output: one line per run that is unhealthy or matches --fail-on: `MARK  STATUS  RUN  REASON`
where MARK is FAIL when the run counts for the exit code (STATUS is then its worst status listed
in --fail-on) and warn otherwise (STATUS is its worst), "(also ...)" naming its other unhealthy
statuses; then one line of totals (left out with --quiet when nothing fails).
JSON (`--json`): the summary's JSON line of each such run (see summary.py) plus "fail": bool,
and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from tuiboard.headless.health import SEVERITY, UNHEALTHY
from tuiboard.headless.summary import Row, plain, row_json

EXIT_OK = 0
EXIT_UNHEALTHY = 1
EXIT_ERROR = 2

DEFAULT_FAIL_ON = "stalled,diverged,failed,damaged"


def parse_fail_on(text: str) -> frozenset[str]:
    """The set of statuses in "stalled,diverged". ValueError names an unknown one."""
    wanted = frozenset(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = sorted(wanted - set(SEVERITY))
    if unknown:
        raise ValueError(
            f"unknown status {', '.join(unknown)} in --fail-on (statuses: {', '.join(SEVERITY)})"
        )
    return wanted


def failing(row: Row, fail_on: frozenset[str]) -> bool:
    return bool(fail_on.intersection(row.health.statuses))


def _shown_status(row: Row, fail_on: frozenset[str]) -> tuple[str, str]:
    """The status a line names, with its reason: the worst one that fails, else the worst."""
    h = row.health
    for status, reason in zip(h.statuses, h.reasons, strict=True):
        if status in fail_on:
            return status, reason
    return h.status, h.reason


def reported(rows: Sequence[Row], fail_on: frozenset[str]) -> list[Row]:
    """The rows check prints: unhealthy, or matching --fail-on; worst first, then by name."""
    out = [r for r in rows if failing(r, fail_on) or UNHEALTHY.intersection(r.health.statuses)]
    out.sort(key=lambda r: (SEVERITY.index(r.health.status), r.name))
    return out


def write_check(
    rows: Sequence[Row],
    fail_on: frozenset[str],
    out: TextIO,
    *,
    as_json: bool = False,
    quiet: bool = False,
) -> int:
    """Print the report and return the exit code."""
    shown = reported(rows, fail_on)
    fails = [r for r in shown if failing(r, fail_on)]
    if as_json:
        for r in shown:
            obj = row_json(r)
            obj["fail"] = failing(r, fail_on)
            out.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
        return EXIT_UNHEALTHY if fails else EXIT_OK
    if shown:
        picked = [_shown_status(r, fail_on) for r in shown]
        sw = max(len(status) for status, _ in picked)
        nw = max(len(plain(r.name)) for r in shown)
        for r, (status, reason) in zip(shown, picked, strict=True):
            mark = "FAIL" if failing(r, fail_on) else "warn"
            line = f"{mark}  {status.ljust(sw)}  {plain(r.name).ljust(nw)}  {plain(reason)}"
            others = [s for s in r.health.statuses if s != status and s in UNHEALTHY]
            if others:
                line += f" (also {', '.join(others)})"
            out.write(line + "\n")
    if fails or not quiet:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.health.status] = counts.get(r.health.status, 0) + 1
        parts = ", ".join(f"{counts[s]} {s}" for s in SEVERITY if s in counts)
        verdict = f"{len(fails)} failing" if fails else "ok"
        rule = ",".join(s for s in SEVERITY if s in fail_on) or "nothing"
        out.write(f"{verdict}: {len(rows)} runs ({parts or 'none'}); failing on {rule}\n")
    return EXIT_UNHEALTHY if fails else EXIT_OK
