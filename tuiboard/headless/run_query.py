"""`--runs` of summary, check, compare, plot and export: a regex on the run name or a run query
(core/query.py decides which), with the statuses of headless/health.py for `status:`.

Owns: `run_filter` (text -> RunFilter; QueryError when it is neither a good query nor a good
regex), `statuses_at` and `explain` (the error with a caret under the fault, for stderr).
Must not import: textual, rich.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from tuiboard.core.query import QueryError, is_query
from tuiboard.core.run_filter import RunFilter, compile_filter
from tuiboard.headless.health import SEVERITY, assess, run_facts

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

StatusesOf = Callable[["Run"], Collection[str]]


def statuses_at(now: float | None = None, stall_after: float | None = None) -> StatusesOf:
    """A run's statuses (health.assess) at `now` (default: the clock when first asked)."""
    at: list[float] = [] if now is None else [now]

    def statuses(run: Run) -> tuple[str, ...]:
        if not at:
            at.append(time.time())
        return assess(run_facts(run), at[0], stall_after).statuses

    return statuses


def run_filter(
    text: str | None,
    *,
    statuses_of: StatusesOf | None = None,
    now: float | None = None,
    stall_after: float | None = None,
) -> RunFilter:
    """The filter `--runs TEXT` means (None or "": every run). A regex is searched in the run
    name, case-sensitively, as before queries existed; raises QueryError on bad input."""
    return compile_filter(
        text or "",
        statuses=SEVERITY,
        statuses_of=statuses_of if statuses_of is not None else statuses_at(now, stall_after),
    )


def runs_problem(text: str | None) -> str | None:
    """Why `--runs TEXT` is neither a good regex nor a good query, explained with a caret
    (`explain`); None when it is one (or empty). For the commands that only check it before
    handing the text on."""
    if not text:
        return None
    try:
        run_filter(text)
    except QueryError as e:
        return explain(e, text)
    return None


def explain(error: QueryError, text: str, flag: str = "--runs") -> str:
    """`error` as lines for stderr: what, then the text and a caret under the fault."""
    what = "query" if is_query(text) else "regex"
    line = _CONTROL.sub(" ", text)  # one cell each: the caret stays under the fault
    message = error.message.removeprefix("bad regex: ")
    return f"bad {flag} {what}: {message}\n  {line}\n  {' ' * error.position}^"
