"""`tuiboard summary`: one row per run, as a Rich table, plain aligned text or JSON lines.

Owns: Row and TagStats (what a row shows), Summarizer (rows from a Logdir at a given time,
caching each run's data-derived figures by run version so `--watch` costs ~nothing while nothing
changes), tag selection, sorting, and the three outputs. Must not import: textual.
Rich is imported only by `rich_table` (a terminal is attached).

JSON lines (`--json`), a stable contract: one object per run, keys always present:
  run           str    the run name ("/"-separated, relative to its logdir)
  path          str    absolute directory
  formats       [str]  "tfevents", "jsonl" and/or "wandb"
  status        str    live | stalled | finished | diverged | failed | damaged (the most severe)
  statuses      [str]  every status that applies, most severe first
  reason        str    one phrase explaining `status`
  reasons       [str]  the phrase of each of `statuses`, in the same order
  last_step     int|null
  steps_per_s   num|null   recent rate: over the last 64 points of the most-written tag
  points_per_s  num|null   scalar points of every tag written over that same time span
  last_write    num|null   unix time of the newest file write
  idle_s        num|null   seconds since last_write at `time`
  stall_after_s num        the stall limit used for this run
  points        int    scalar points stored (clean line)
  warnings      int    reader warnings
  diverged      {"tag": str, "step": int, "value": num} | null
  tags          {tag: {"family": "loss"|"accuracy"|"lr"|null, "last": num, "last_step": int,
                       "best": num|null, "best_step": int|null, "points": int}}
                only the selected tags the run has; best is the min (loss) or max (accuracy)
                of the clean line, null for other families
  time          num    the clock the row was computed at (unix seconds)
  display_name  str|null   the name the writer gave the run (W&B's display name)
  exit_code     int|null   the exit code the writer recorded (W&B's exit record)
  summary       {key: value}  the writer's own summary of the run (W&B's run summary: the last
                value of each key, define_metric summaries as {"max": ...}); {} when none
Numbers that are not finite are the strings "NaN", "Infinity", "-Infinity" (JSON has none).
Values are the stored float32/float64 converted exactly: `float(run.scalars(tag).value[i])`.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tuiboard.core.run_filter import InfoCache
from tuiboard.core.types import SCALARS, RunMeta
from tuiboard.headless.facts_batch import BATCH_MAX_POINTS, RATE_POINTS, facts_of, reduce_runs
from tuiboard.headless.health import (
    ACCURACY,
    LOSS,
    SEVERITY,
    TAIL,
    Health,
    RunFacts,
    assess,
    fmt_duration,
    fmt_number,
    run_facts,
    tag_family,
)
from tuiboard.headless.run_query import run_filter

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from tuiboard.core.logdir import Logdir, Run
    from tuiboard.core.store import Scalars

BATCH_MIN_RUNS = 4
"""Runs whose figures are stale are computed together (facts_batch.reduce_runs) from this many
on; fewer (a --watch tick where a run grew) one by one."""
DEFAULT_TAG_LIMIT = 6
"""Tag columns chosen by default (every tag matching --tags is shown)."""
FALLBACK_TAGS = 3
"""Without loss/accuracy/lr-like tags, the first few tags are shown."""
SORT_KEYS = ("name", "status", "step", "rate", "idle")


@dataclass(frozen=True, slots=True)
class TagStats:
    family: str | None
    last: float
    """The last point written (clean line, in stored order)."""
    last_step: int
    best: float | None
    """min for loss-like, max for accuracy-like tags (NaN ignored); None for other families."""
    best_step: int | None
    points: int


@dataclass(frozen=True, slots=True)
class Row:
    """One run in a summary at one time."""

    name: str
    path: str
    formats: tuple[str, ...]
    health: Health
    """At `now`."""
    facts: RunFacts
    steps_per_s: float | None
    """Over the last RATE_POINTS points of the most-written tag; None without two timed points."""
    points_per_s: float | None
    """Points of every tag written over that same span."""
    points: int
    """Scalar points stored (clean line)."""
    tags: dict[str, TagStats]
    """The selected tags this run has."""
    now: float
    """The clock the row was computed at."""
    meta: RunMeta = field(default_factory=RunMeta)
    """What the run says about itself (display name, exit code, summary)."""
    generation: int = 0
    """Changes whenever the run's data changed (unlike Run.version, also when a replaced file
    made the loader start the run afresh): what a watch compares to decide "something new"."""


@dataclass(slots=True)
class _Cached:
    run: Run
    """The view the figures came from: a new view means the run was read afresh."""
    generation: int
    version: int
    facts: RunFacts
    scalar_tags: tuple[str, ...]
    rates: tuple[float | None, float | None]
    points: int
    tags: dict[str, TagStats | None]
    """Per tag, computed on demand for this version (None: the run lacks the tag)."""
    series: dict[str, Scalars] | None = None
    """The snapshots the figures came from, until the tag columns' stats are taken from them
    (one snapshot a series, not two)."""


def tag_stats(run: Run, tag: str) -> TagStats | None:
    """Last and best of one scalar tag, or None if the run has no point of it."""
    try:
        s = run.scalars(tag)
    except KeyError:
        return None
    return series_stats(tag, s)


def series_stats(tag: str, s: Scalars) -> TagStats | None:
    n = len(s)
    if n == 0:
        return None
    family = tag_family(tag)
    best: float | None = None
    best_step: int | None = None
    if family in (LOSS, ACCURACY):
        v = s.value
        finite = np.isfinite(v)
        if finite.all():
            i = int(np.argmin(v) if family == LOSS else np.argmax(v))
        elif finite.any():
            masked = np.where(finite, v, np.inf if family == LOSS else -np.inf)
            i = int(np.argmin(masked) if family == LOSS else np.argmax(masked))
        else:
            i = -1
        if i >= 0:
            best, best_step = float(s.value[i]), int(s.step[i])
    return TagStats(family, float(s.value[-1]), int(s.step[-1]), best, best_step, n)


def recent_rates(series: Iterable[Scalars]) -> tuple[float | None, float | None]:
    """(steps/s, points/s) over the last RATE_POINTS points of the most-written tag."""
    nonempty = [s for s in series if len(s)]
    if not nonempty:
        return None, None
    main = max(nonempty, key=len)
    k = min(len(main), RATE_POINTS)
    if k < 2:
        return None, None
    t0, t1 = float(main.wall_time[-k]), float(main.wall_time[-1])
    span = t1 - t0
    if not (math.isfinite(span) and span > 0):
        return None, None
    steps = (int(main.step[-1]) - int(main.step[-k])) / span
    points = 0
    for s in nonempty:
        w = s.wall_time[-TAIL:]
        points += int(np.count_nonzero((w > t0) & (w <= t1)))
    return steps, points / span


class Summarizer:
    """Rows of a Logdir at a given time. Data-derived figures are cached per run version; only
    the clock-dependent part (health) is recomputed on every call."""

    def __init__(
        self,
        tags_re: str | None = None,
        runs_query: str | None = None,
        stall_after: float | None = None,
        tag_limit: int = DEFAULT_TAG_LIMIT,
        since: float | None = None,
    ) -> None:
        self.tags_re = re.compile(tags_re) if tags_re else None
        self.runs_filter = (
            run_filter(runs_query, statuses_of=self._statuses) if runs_query else None
        )
        """--runs: a regex or a query (headless/run_query.py); raises QueryError when bad."""
        self._infos = InfoCache(self._statuses)
        """What the query read of each run, kept per run version (--watch asks every tick)."""
        self._now = 0.0
        """The `now` of the rows being made (a `status:` query reads health at it)."""
        self.stall_after = stall_after
        self.since = since
        """Only runs that wrote within this many seconds before `now` get a row (None: all)."""
        self.tag_limit = tag_limit
        self._cache: dict[str, _Cached] = {}
        self._generation = 0
        self._tags_key: tuple[tuple[str, int], ...] = ()
        self._tags: list[str] = []

    def runs(self, logdir: Logdir, now: float | None = None) -> list[Run]:
        """The runs --runs keeps (a `status:` query: their status at `now`, default the
        clock)."""
        return self.select(logdir.runs, now)

    def select(self, runs: list[Run], now: float | None = None) -> list[Run]:
        """Those of `runs` that --runs keeps (runs(), for runs not all of one Logdir)."""
        self._now = time.time() if now is None else now
        if self.runs_filter is not None:
            if self.runs_filter.uses_status:
                self._infos.new_clock()
            self._infos.retain([r.name for r in runs])
            runs = self.runs_filter.select(runs, self._infos)
        return runs

    def _statuses(self, run: Run) -> tuple[str, ...]:
        facts = self._entry(run).facts
        if run.last_write != facts.last_write:  # as in rows(): a touch moves no version
            facts = replace(facts, last_write=run.last_write)
        return assess(facts, self._now, self.stall_after).statuses

    def _entry(self, run: Run) -> _Cached:
        c = self._cache.get(run.name)
        version = run.version
        if c is None or c.run is not run or c.version != version:
            kinds = run.kinds()
            tags = tuple(kinds.get(SCALARS, ()))
            series = {tag: run.scalars(tag) for tag in tags}
            facts = run_facts(run, series, kinds)
            stats = {tag: series_stats(tag, s) for tag, s in series.items() if tag in self._tags}
            points = sum(len(s) for s in series.values())
            rates = recent_rates(series.values())
            self._generation += 1
            c = _Cached(
                run, self._generation, facts.version, facts, tags, rates, points, stats, series
            )
            self._cache[run.name] = c
        return c

    def _fill(self, runs: list[Run]) -> None:
        """Cache the figures of the runs whose cached ones are stale, those with small series
        in one batch (facts_batch.reduce_runs: what _entry computes, in a few numpy calls for
        all of them); _entry takes the others."""
        cache = self._cache
        todo = []
        for run in runs:
            c = cache.get(run.name)
            if c is None or c.run is not run or c.version != run.version:
                todo.append(run)
        if len(todo) < BATCH_MIN_RUNS:
            return
        batch = []
        for run in todo:
            version = run.version
            kinds = run.kinds()
            tags = tuple(kinds.get(SCALARS, ()))
            series = [(tag, *run.scalars(tag)) for tag in tags]
            if all(s[1].shape[0] <= BATCH_MAX_POINTS for s in series):
                batch.append((run, version, kinds, tags, series))
        figures = reduce_runs([item[4] for item in batch])
        for (run, version, kinds, tags, _), fig in zip(batch, figures, strict=True):
            facts = facts_of(run, version, kinds, fig)
            stats: dict[str, TagStats | None] = {}
            points = 0
            for tag in tags:
                f = fig.series.get(tag)
                if f is None:
                    stats[tag] = None
                    continue
                points += f.points
                stats[tag] = TagStats(
                    tag_family(tag), f.last_value, f.last_step, f.best, f.best_step, f.points
                )
            self._generation += 1
            cache[run.name] = _Cached(
                run,
                self._generation,
                version,
                facts,
                tags,
                (fig.steps_per_s, fig.points_per_s),
                points,
                stats,
            )

    def rows(self, logdir: Logdir, now: float) -> tuple[list[Row], list[str]]:
        """(rows in run-name order, the selected tags). Tags are chosen over every run that
        --runs keeps, even those --since leaves out, so columns stay put while watching."""
        runs = self.runs(logdir, now)
        if len(self._cache) > len(runs):
            live = {r.name for r in runs}
            for gone in set(self._cache) - live:
                del self._cache[gone]
        entries = self.figures(runs)
        key = tuple((r.name, c.generation) for r, c in zip(runs, entries, strict=True))
        if key != self._tags_key:
            self._tags = select_tags((c.scalar_tags for c in entries), self.tags_re, self.tag_limit)
            self._tags_key = key
        tags = self._tags
        return self.make_rows(runs, entries, tags, now), tags

    def figures(self, runs: list[Run]) -> list[_Cached]:
        """Each run's data-derived figures (cached per run version), in the order given."""
        self._fill(runs)
        return [self._entry(run) for run in runs]

    def tag_counts(self, entries: Iterable[_Cached]) -> dict[str, int]:
        """How many of these runs have each scalar tag (what the tag columns are chosen from:
        choose_tags, over the counts of every run kept)."""
        return count_tags(c.scalar_tags for c in entries)

    def choose_tags(self, counts: dict[str, int]) -> list[str]:
        return choose_tags(counts, self.tags_re, self.tag_limit)

    def make_rows(
        self, runs: list[Run], entries: list[_Cached], tags: list[str], now: float
    ) -> list[Row]:
        """The rows of `runs` (with their `figures`) at `now`, showing `tags`; --since leaves
        out the runs idle for longer."""
        rows = []
        for run, c in zip(runs, entries, strict=True):
            facts = c.facts
            last_write = run.last_write  # a touch changes it without a new version
            if last_write != facts.last_write:
                facts = replace(facts, last_write=last_write)
            health = assess(facts, now, self.stall_after)
            if self.since is not None and health.idle is not None and health.idle > self.since:
                continue
            stats: dict[str, TagStats] = {}
            held = c.series
            for tag in tags:
                if tag not in c.tags:
                    if held is not None and tag in held:
                        c.tags[tag] = series_stats(tag, held[tag])
                    else:
                        c.tags[tag] = tag_stats(run, tag) if tag in c.scalar_tags else None
                st = c.tags[tag]
                if st is not None:
                    stats[tag] = st
            c.series = None
            rows.append(
                Row(
                    name=run.name,
                    path=run.path,
                    formats=run.formats,
                    health=health,
                    facts=facts,
                    steps_per_s=c.rates[0],
                    points_per_s=c.rates[1],
                    points=c.points,
                    tags=stats,
                    now=now,
                    meta=run.meta,
                    generation=c.generation,
                )
            )
        return rows


def select_tags(
    tag_lists: Iterable[Sequence[str]], tags_re: re.Pattern[str] | None, limit: int
) -> list[str]:
    """The tag columns: every tag matching `tags_re`; by default the loss-, accuracy- and
    lr-like tags (up to `limit`, the most common first), else the first few tags."""
    return choose_tags(count_tags(tag_lists), tags_re, limit)


def count_tags(tag_lists: Iterable[Sequence[str]]) -> dict[str, int]:
    """In how many of the lists each tag is."""
    count: dict[str, int] = {}
    for tags in tag_lists:
        for t in tags:
            count[t] = count.get(t, 0) + 1
    return count


def choose_tags(count: dict[str, int], tags_re: re.Pattern[str] | None, limit: int) -> list[str]:
    """select_tags from the counts of every run's tags (whose order does not matter: every
    choice below is a sort on a total order)."""
    if tags_re is not None:
        return sorted(t for t in count if tags_re.search(t))
    order = {LOSS: 0, ACCURACY: 1, "lr": 2}
    fam = {t: tag_family(t) for t in count}
    liked = [t for t in count if fam[t] is not None]
    if liked:
        liked.sort(key=lambda t: (order[fam[t] or ""], -count[t], t))
        return liked[:limit]
    return sorted(count, key=lambda t: (-count[t], t))[:FALLBACK_TAGS]


def sort_rows(rows: list[Row], key: str) -> list[Row]:
    """name | status (worst first) | step | rate | idle | a tag (best first), ascending; a
    leading "-" reverses. Rows lacking the key go last either way. ValueError on unknown keys."""
    reverse = key.startswith("-")
    k = key[1:] if reverse else key

    def value(r: Row) -> Any:
        if k == "name":
            return r.name
        if k == "status":
            return SEVERITY.index(r.health.status)
        if k == "step":
            return r.facts.last_step
        if k == "rate":
            return r.steps_per_s
        if k == "idle":
            return r.health.idle
        st = r.tags.get(k)
        if st is None:
            return None
        v = st.last
        if not math.isfinite(v):
            return None
        return -v if st.family == ACCURACY else v

    if k not in SORT_KEYS and rows and not any(k in r.tags for r in rows):
        raise ValueError(f"unknown sort key {k!r}: use {', '.join(SORT_KEYS)} or a shown tag")
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (value(r), r.name), reverse=reverse)
    return present + missing


# --- output -------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(s: str) -> str:
    """Untrusted text for a plain line: control characters (ESC included) made visible."""
    if s.isascii() and s.isprintable():
        return s  # nothing _CONTROL matches (the usual name), without a regex pass
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def json_number(v: float | int | None) -> float | int | str | None:
    if type(v) is float and v - v == 0.0:  # finite (NaN and inf give NaN): the usual case
        return v
    if v is None or isinstance(v, int):
        return v
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def row_json(row: Row) -> dict[str, Any]:
    h, f = row.health, row.facts
    div = f.divergence
    return {
        "run": row.name,
        "path": row.path,
        "formats": list(row.formats),
        "status": h.status,
        "statuses": list(h.statuses),
        "reason": h.reason,
        "reasons": list(h.reasons),
        "last_step": f.last_step,
        "steps_per_s": json_number(row.steps_per_s),
        "points_per_s": json_number(row.points_per_s),
        "last_write": f.last_write if f.last_write > 0 else None,
        "idle_s": json_number(h.idle),
        "stall_after_s": h.stall_after,
        "points": row.points,
        "warnings": len(f.warnings),
        "diverged": None
        if div is None
        else {"tag": div.tag, "step": div.step, "value": json_number(div.value)},
        "tags": {
            tag: {
                "family": st.family,
                "last": json_number(st.last),
                "last_step": st.last_step,
                "best": json_number(st.best),
                "best_step": st.best_step,
                "points": st.points,
            }
            for tag, st in row.tags.items()
        },
        "time": row.now,
        "display_name": row.meta.display_name or None,
        "exit_code": row.meta.exit_code,
        "summary": json_safe(row.meta.summary),
    }


def json_safe(value: Any) -> Any:
    """A value for the JSON contract: non-finite floats as strings, containers recursively,
    anything else as its str()."""
    if isinstance(value, float):
        return json_number(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
"""json.dumps(obj, ensure_ascii=False, allow_nan=False) without making an encoder a row."""


def json_lines(rows: Iterable[Row]) -> Iterator[str]:
    encode = _JSON.encode
    for row in rows:
        yield encode(row_json(row))


def _rate(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def _columns(tags: Sequence[str]) -> list[tuple[str, str]]:
    """(header, key) of every column; key "tag:<t>" is a last value, "best:<t>" its best."""
    cols = [
        ("RUN", "run"),
        ("STATUS", "status"),
        ("STEP", "step"),
        ("STEPS/S", "steps"),
        ("PTS/S", "points"),
        ("IDLE", "idle"),
    ]
    for t in tags:
        cols.append((t, "tag:" + t))
        fam = tag_family(t)
        if fam == LOSS:
            cols.append(("min@step", "best:" + t))
        elif fam == ACCURACY:
            cols.append(("max@step", "best:" + t))
    cols.append(("REASON", "reason"))
    return cols


def _cell(row: Row, key: str) -> str:
    """One cell (the run name and reason made plain)."""
    return _column((row,), key)[0]


_RIGHT = {"step", "steps", "points", "idle"}


def plain_lines(rows: Sequence[Row], tags: Sequence[str]) -> list[str]:
    """Aligned columns separated by two spaces; numbers right-aligned; no trailing spaces."""
    if not rows:
        return ["no runs found"]
    cols = _columns(tags)
    # made a column at a time (one loop a column, no per-cell dispatch on its key: ~3x
    # faster than _cell per cell at 10,000 rows)
    columns = [[plain(header), *_column(rows, key)] for header, key in cols]
    specs = []
    for (_, key), column in zip(cols, columns, strict=True):
        right = key in _RIGHT or key.startswith(("tag:", "best:"))
        specs.append(f"{{:{'>' if right else '<'}{max(map(len, column))}}}")
    line = "  ".join(specs).format
    return [line(*cells).rstrip() for cells in zip(*columns, strict=True)]


def _column(rows: Sequence[Row], key: str) -> list[str]:
    """_cell of every row for one column; only run names and reasons (which may quote a tag)
    carry log text and are made plain: the other cells are numbers and status words this
    module formats."""
    if key == "run":
        return [plain(r.name) for r in rows]
    if key == "status":
        return [r.health.status for r in rows]
    if key == "reason":
        return [plain(r.health.reason) for r in rows]
    if key == "step":
        return ["-" if r.facts.last_step is None else str(r.facts.last_step) for r in rows]
    if key == "steps":
        return [_rate(r.steps_per_s) for r in rows]
    if key == "points":
        return [_rate(r.points_per_s) for r in rows]
    if key == "idle":
        return ["-" if r.health.idle is None else fmt_duration(r.health.idle) for r in rows]
    kind, _, tag = key.partition(":")
    out = []
    for r in rows:
        st = r.tags.get(tag)
        if st is None:
            out.append("")
        elif kind == "tag":
            out.append(fmt_number(st.last))
        elif st.best is None or st.best_step is None:
            out.append("-")
        else:
            out.append(f"{fmt_number(st.best)}@{st.best_step}")
    return out


RICH_TABLE_ROWS = 200
"""Above this many rows a terminal gets styled aligned lines instead of a Rich Table, whose
layout costs ~1.5 ms a row (1.6 s for 1,000 runs)."""


def styled_lines(rows: Sequence[Row], tags: Sequence[str]) -> Text:
    """The plain layout with a bold header and coloured statuses, for any number of rows (print
    it with no_wrap=True, overflow="ellipsis": a line is cropped to the terminal, not wrapped)."""
    from rich.text import Text

    lines = plain_lines(rows, tags)
    out = Text(no_wrap=True, overflow="ellipsis")
    if not rows:
        out.append(lines[0])
        return out
    col = lines[0].index("STATUS")
    out.append(lines[0], style="bold")
    for row, line in zip(rows, lines[1:], strict=True):
        status = row.health.status
        out.append("\n" + line[:col])
        out.append(line[col : col + len(status)], style=STATUS_STYLE.get(status, ""))
        out.append(line[col + len(status) :])
    return out


STATUS_STYLE = {
    "live": "green",
    "finished": "blue",
    "stalled": "yellow",
    "damaged": "magenta",
    "failed": "red",
    "diverged": "bold red",
}


def rich_table(rows: Sequence[Row], tags: Sequence[str], title: str | None = None) -> Table:
    """The table for a terminal. Every cell is a Text built from the (sanitized) string, never
    markup, and control characters are made visible, so a name cannot restyle the terminal."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold", box=None, pad_edge=False, expand=False)
    for header, key in _columns(tags):
        right = key in _RIGHT or key.startswith(("tag:", "best:"))
        table.add_column(
            Text(plain(header)),
            justify="right" if right else "left",
            no_wrap=key != "reason",
            overflow="fold" if key == "run" else "ellipsis",
        )
    for r in rows:
        cells = []
        for _, key in _columns(tags):
            text = Text(_cell(r, key))
            if key == "status":
                text.stylize(STATUS_STYLE.get(r.health.status, ""))
            elif key == "reason" or key.startswith("best:"):
                text.stylize("dim")
            cells.append(text)
        table.add_row(*cells)
    return table
