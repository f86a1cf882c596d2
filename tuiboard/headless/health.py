"""Run health: a status and a one-phrase reason, from a run's data and a clock.

Owns: the tag families (loss-like, accuracy-like, lr-like), RunFacts (what health needs from a
run's data, computed once per run version) and `assess(facts, now)`, which is pure: the same
facts and the same `now` always give the same Health. Nothing here reads the system clock.
Must not import: textual, rich.

Statuses (a run may have several; `Health.status` is the most severe, `Health.statuses` all):
  diverged   a NaN or inf in a loss-like tag (its clean line), from the first step it appeared
  failed     the writer recorded a non-zero exit code (W&B's exit record); the run is also
             finished
  damaged    the reader reported warnings (bad records, unparsable lines, vanished files)
  stalled    no new data for longer than the stall limit: `stall_after` when given, else ten
             times the run's median interval between writes and at least 5 minutes
  finished   the writer closed the session (a SessionLog STOP, or an hparams session end) and
             wrote no data after it (points within END_GRACE seconds of it still count as its),
             or recorded an exit code (W&B's exit record: 0 finished, else failed too)
  live       wrote recently (none of the above about its activity)
Exactly one of live / stalled / finished is always present; diverged, failed and damaged come
on top.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core.types import HPARAMS, SCALARS, SESSION_STOP, HParamsValue, ReadWarning

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run
    from tuiboard.core.store import Scalars

LIVE = "live"
STALLED = "stalled"
FINISHED = "finished"
DIVERGED = "diverged"
DAMAGED = "damaged"
FAILED = "failed"

SEVERITY = (DIVERGED, FAILED, DAMAGED, STALLED, FINISHED, LIVE)
"""Every status, most severe first."""
UNHEALTHY = frozenset({DIVERGED, FAILED, DAMAGED, STALLED})
"""The statuses `check` fails on by default and `--on-alert` fires for."""

MIN_STALL = 300.0
"""The stall limit is never below 5 minutes: checkpoints and evaluations pause writing."""
STALL_FACTOR = 10.0

LOSS_RE = re.compile(r"loss|err|perplex|ppl|nll|mse|mae", re.IGNORECASE)
ACC_RE = re.compile(r"acc|f1|precision|recall|auc|map|iou|bleu|score|top\d", re.IGNORECASE)
LR_RE = re.compile(r"lr|learning.rate", re.IGNORECASE)

LOSS = "loss"
ACCURACY = "accuracy"
LR = "lr"

END_GRACE = 10.0
"""Points written this many seconds after a session end still belong to it: tensorboardX and
PyTorch's add_hparams write the session end first and the metric values right after it."""

TAIL = 4096
"""Points per tag looked at for intervals and rates: recent behaviour, bounded cost."""


@functools.lru_cache(maxsize=65536)
def tag_family(tag: str) -> str | None:
    """The family of a tag: LOSS, ACCURACY, LR or None. Loss wins ("top1_err" is an error)."""
    if LOSS_RE.search(tag):
        return LOSS
    if ACC_RE.search(tag):
        return ACCURACY
    if LR_RE.search(tag):
        return LR
    return None


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first non-finite point of the loss-like tags (smallest step; ties: tag order)."""

    tag: str
    step: int
    value: float


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """The writer said the run is over, and no point was written after it."""

    how: str
    """"SessionLog STOP" or "hparams session end"."""
    step: int
    wall_time: float


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What health needs from one run, taken from one look at its data."""

    name: str
    version: int
    """Run.version when the facts were taken (read before the data: a change bumps it)."""
    last_write: float
    """Newest mtime of the run's files (0 when unknown)."""
    last_data_time: float
    """Newest wall time of any scalar point (NaN when the format has no times)."""
    last_step: int | None
    median_interval: float | None
    """Median seconds between consecutive points of a tag, pooled over the tags (None: unknown)."""
    divergence: Divergence | None
    session_end: SessionEnd | None
    warnings: tuple[ReadWarning, ...]
    main_tag: str | None
    """The tag alerts report for stalls: the first loss-like tag, else the one with most points."""
    main_step: int | None
    """Step of the main tag's last point."""
    main_value: float | None
    """Value of the main tag's last point."""
    exit_code: int | None = None
    """The exit code the writer recorded (W&B's exit record); None when it recorded none."""


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    """The most severe of `statuses`."""
    reason: str
    """One phrase explaining `status` (may quote a tag name: untrusted text)."""
    statuses: tuple[str, ...]
    """Every status that applies, most severe first; exactly one of live/stalled/finished."""
    reasons: tuple[str, ...]
    """The phrase of each of `statuses`, in the same order."""
    idle: float | None
    """Seconds since the last write (None when unknown)."""
    stall_after: float
    """The stall limit used for this run, in seconds."""
    tag: str | None = None
    """The tag the status is about: the diverged tag, else the run's main tag (its last point)."""
    step: int | None = None
    value: float | None = None


def run_facts(
    run: Run,
    series: Mapping[str, Scalars] | None = None,
    kinds: Mapping[str, list[str]] | None = None,
) -> RunFacts:
    """Take the facts of a run. `series` (tag -> run.scalars(tag)) and `kinds` (run.kinds())
    may be passed when the caller already holds them; the version is read first, so data that
    arrives meanwhile bumps it and the facts are taken again next time."""
    version = run.version
    if kinds is None:
        kinds = run.kinds()
    if series is None:
        series = {tag: run.scalars(tag) for tag in kinds.get(SCALARS, ())}
    diffs: list[np.ndarray] = []
    last_time = -math.inf
    last_step: int | None = None
    divergence: Divergence | None = None
    most: tuple[int, str] | None = None
    first_loss: str | None = None
    last_of: dict[str, tuple[int, float]] = {}
    for tag, s in series.items():
        n = len(s)
        if n == 0:
            continue
        if most is None or n > most[0]:
            most = (n, tag)
        wall = s.wall_time[-TAIL:]
        fin = wall[np.isfinite(wall)]
        if fin.shape[0]:
            last_time = max(last_time, float(fin.max()))
            if fin.shape[0] > 1:
                d = fin[1:] - fin[:-1]
                diffs.append(d[d > 0])
        last_of[tag] = (int(s.step[-1]), float(s.value[-1]))
        top = int(s.step.max())
        last_step = top if last_step is None else max(last_step, top)
        if tag_family(tag) == LOSS:
            if first_loss is None:
                first_loss = tag
            bad = ~np.isfinite(s.value)
            if bad.any():
                idx = np.flatnonzero(bad)
                i = int(idx[np.argmin(s.step[idx])])
                cand = Divergence(tag, int(s.step[i]), float(s.value[i]))
                if divergence is None or cand.step < divergence.step:
                    divergence = cand
    if last_time == -math.inf:
        last_time = math.nan
    main = first_loss or (most[1] if most else None)
    main_step, main_value = last_of[main] if main is not None else (None, None)
    return RunFacts(
        name=run.name,
        version=version,
        last_write=float(run.last_write),
        last_data_time=last_time,
        last_step=last_step,
        median_interval=_median(diffs),
        divergence=divergence,
        session_end=session_end(run, kinds.get(HPARAMS, ()), last_time),
        warnings=tuple(run.warnings),
        main_tag=main,
        main_step=main_step,
        main_value=main_value,
        exit_code=run.meta.exit_code,
    )


def _median(parts: list[np.ndarray]) -> float | None:
    """Median of the pooled arrays (np.median costs 10x more on the small arrays of a run)."""
    if not parts:
        return None
    pooled = np.sort(np.concatenate(parts)) if len(parts) > 1 else np.sort(parts[0])
    n = pooled.shape[0]
    if n == 0:
        return None
    return float((pooled[(n - 1) // 2] + pooled[n // 2]) / 2)


def session_end(run: Run, hparams_tags: Sequence[str], last_time: float) -> SessionEnd | None:
    """The writer's last word, if it closed the session and wrote no point after that."""
    end: SessionEnd | None = None
    sessions = run.sessions
    if sessions:
        mark = sessions[-1]  # file order: the latest session event
        if mark.status == SESSION_STOP:
            end = SessionEnd("SessionLog STOP", mark.step, mark.wall_time)
    for tag in hparams_tags:
        for rec in run.values(HPARAMS, tag):
            if isinstance(rec, HParamsValue) and rec.kind == "session_end":
                t = rec.extra.get("end_time_secs") or rec.wall_time
                t = float(t) if isinstance(t, int | float) else rec.wall_time
                if end is None or t > end.wall_time:
                    end = SessionEnd("hparams session end", rec.step, t)
    if end is None:
        return None
    if last_time == last_time and last_time > end.wall_time + END_GRACE:
        return None  # data written after the end: a new session went on
    return end


def stall_limit(facts: RunFacts, stall_after: float | None = None) -> float:
    """Seconds without new data after which the run counts as stalled."""
    if stall_after is not None:
        return stall_after
    if facts.median_interval is None:
        return MIN_STALL
    return max(MIN_STALL, STALL_FACTOR * facts.median_interval)


def assess(facts: RunFacts, now: float, stall_after: float | None = None) -> Health:
    """The run's health at time `now` (unix seconds). Pure."""
    limit = stall_limit(facts, stall_after)
    if facts.last_write > 0:
        idle: float | None = max(0.0, now - facts.last_write)
    elif facts.last_data_time == facts.last_data_time:
        idle = max(0.0, now - facts.last_data_time)
    else:
        idle = None
    found: dict[str, str] = {}
    tag, step, value = facts.main_tag, facts.main_step, facts.main_value
    if facts.divergence is not None:
        d = facts.divergence
        found[DIVERGED] = f"{fmt_number(d.value)} in {d.tag} at step {d.step}"
        tag, step, value = d.tag, d.step, d.value
    if facts.warnings:
        n = len(facts.warnings)
        found[DAMAGED] = f"{n} reader warning{'s' if n > 1 else ''}: {facts.warnings[0].message}"
    if facts.exit_code is not None and facts.exit_code != 0:
        found[FAILED] = f"exit code {facts.exit_code}"
    if facts.exit_code is not None:
        found[FINISHED] = f"exit code {facts.exit_code}"
    elif facts.session_end is not None:
        found[FINISHED] = f"{facts.session_end.how} at step {facts.session_end.step}"
    elif idle is not None and idle > limit:
        found[STALLED] = f"no new data for {fmt_duration(idle)} (limit {fmt_duration(limit)})"
    elif idle is None:
        found[LIVE] = "no write time known"
    else:
        found[LIVE] = f"wrote {fmt_duration(idle)} ago"
    statuses = tuple(s for s in SEVERITY if s in found)
    return Health(
        status=statuses[0],
        reason=found[statuses[0]],
        statuses=statuses,
        reasons=tuple(found[s] for s in statuses),
        idle=idle,
        stall_after=limit,
        tag=tag,
        step=step,
        value=value,
    )


def fmt_number(v: float) -> str:
    """6 significant digits; NaN, inf, -inf spelled the way people search for them."""
    if v - v == 0.0:  # finite (NaN and inf give NaN)
        return f"{v:.6g}"
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def fmt_duration(seconds: float) -> str:
    """45s, 12m30s, 3h05m, 2d04h."""
    s = round(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, sec = divmod(s, 60)
        return f"{m}m{sec:02d}s" if sec else f"{m}m"
    if s < 86400:
        h, rest = divmod(s, 3600)
        return f"{h}h{rest // 60:02d}m"
    d, rest = divmod(s, 86400)
    return f"{d}d{rest // 3600:02d}h"


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds from "90", "90s", "5m", "1.5h" or "2d". ValueError otherwise."""
    m = _DURATION_RE.match(text)
    if m is None:
        raise ValueError(f"not a duration: {text!r} (examples: 300, 90s, 5m, 2h, 1d)")
    return float(m.group(1)) * _UNIT[(m.group(2) or "s").lower()]
