"""What every widget needs to draw: the logdir, the user's choices, colours and the series cache.

Owns: `Board`, the one object widgets read from (they get it at construction, which keeps them
testable without the app). It answers "which runs are shown", "which tags exist", "what colour
is this run"; it never reads files (the watcher thread does) and never draws. It holds the run
filter in force (a regex or a query, core/query.py: the runs a query keeps are worked out again
when the store moves, from what it read of each run per version) and the linked cursor.
Must not import: textual.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from tuiboard.core.query import QueryError
from tuiboard.core.run_filter import InfoCache, RunFilter
from tuiboard.core.run_filter import compile_filter as compile_run_filter
from tuiboard.core.types import HISTOGRAMS, SCALARS
from tuiboard.dashboards import CONFIG
from tuiboard.render.scalar_series import metric_axis_name
from tuiboard.render.theme import Theme, default_theme, run_color
from tuiboard.ui.groups import GroupState
from tuiboard.ui.series import SeriesCache
from tuiboard.ui.view_state import METRIC, RunSelection, ViewOptions, compile_filter

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes, Logdir, Run
    from tuiboard.headless.health import RunFacts


STATUS_WORKER_RUNS = 200
"""A `status:` query over more runs than this is worked out on a worker thread (10,000 runs:
~1 s the first time, ~0.1 s after); over fewer, at once on the UI thread."""
STATUS_CHUNK = 256
"""Runs a status worker looks at between two checks of whether it was cancelled."""

StatusWorker = Callable[["RunFilter", float, int, "Sequence[Run]"], None]
"""(filter, now, ticket, runs) -> None: starts the work (Board.status_worker)."""


class Board:
    """The shared view model. Mutated only on the UI thread (by the app's actions)."""

    def __init__(self, logdir: Logdir, theme: Theme | None = None) -> None:
        self.logdir = logdir
        self.theme = theme if theme is not None else default_theme()
        self.options = ViewOptions()
        """Current chart options; replaced whole on every change (it is a cache key)."""
        self.selection = RunSelection()
        self.tag_pattern = ""
        """The tag regex filter as typed ("" = every tag)."""
        self.cache = SeriesCache(logdir)
        self.grouping = GroupState(logdir)
        """Run groups (`g`): which runs draw as one line with a band (ui/groups.py)."""
        self._tags: dict[str, list[str]] = {}
        self._run_kinds: dict[str, tuple[int, dict[str, list[str]]]] = {}
        """Run name -> (run.version, run.kinds()) as last seen, for the runs read."""
        self._tag_counts: dict[str, dict[str, int]] = {}
        """Kind -> tag -> how many runs of `_run_kinds` hold it."""
        self._config_runs: set[str] = set()
        """The runs read that have a config (the HParams tab shows)."""
        self._stale_runs: set[str] | None = None
        """Runs named by changes applied since the tags were last worked out (None: every
        run, before the first time)."""
        self._kinds: set[str] = set()
        """Data kinds with at least one tag in some run (+ "config" when a run has one)."""
        self._log_pos = -1
        """How far the logdir's listing_log was read into `_runs` (-1: never built)."""
        self._runs: list[Run] = []
        """Every run, sorted by name; replaced (never changed in place) when runs move."""
        self._names: list[str] = []
        """The names of `_runs`, in the same order (bisection finds a run's place)."""
        self._moved: list[str] = []
        """Runs added, removed or given a new view in `_runs`, in the order the board saw
        them (append-only): the run panel asks for what moved since it last looked."""
        self._visible: list[str] = []
        self._visible_key: tuple[object, ...] | None = None
        """(runs list, selection state) that `_visible` was worked out for."""
        self._chart_runs: list[str] = []
        self._chart_key: tuple[object, ...] | None = None
        """(visible list, runs read, pins) that `_chart_runs` was worked out for."""
        self._read_moves = 0
        """Moves when a run enters or leaves `_run_kinds` (the runs read)."""
        self._counts: dict[str, tuple[int, int]] = {}
        """Run name -> (points, warnings) as of the last change applied (note_changes)."""
        self.point_count = 0
        """Scalar points of every run, as of the last change applied."""
        self.warning_count = 0
        """Warnings of every run, as of the last change applied."""
        self._console: str | None = None
        """The first run (by name) with console output, as of the last change applied."""
        self._console_stale = False
        self._run_filter: RunFilter | None = None
        """The run filter in force (the last one typed that compiled)."""
        self._filter_key: tuple[int, RunFilter] | None = None
        """(store version, filter) that `selection.matched` was worked out for."""
        self._facts: dict[str, tuple[int, RunFacts]] = {}
        """Run name -> (run.version, its health facts), for `status:` queries."""
        self._infos = InfoCache(self._statuses)
        """What queries read of each run, kept per run version (the UI thread's)."""
        self._status_infos = InfoCache(self._statuses)
        """The same for `status:` queries (status_matches: maybe a worker's, under the lock)."""
        self._status_lock = threading.Lock()
        """Held by status_matches: `_facts`, `_now` and `_status_infos` are its alone."""
        self._status_ticket = 0
        self.status_worker: StatusWorker | None = None
        """Set by the app: starts a worker thread that calls status_matches(rf, now, runs)
        and hands the answer to status_result(rf, ticket, kept) on the UI thread."""
        self._now = 0.0
        self.cursor: tuple[str, float] | None = None
        """The linked cursor: (x axis mode, x) where the user last put a chart's cursor; every
        chart draws it while the x axis is still that mode (see `linked_cursor`)."""

    # -- the run filter --------------------------------------------------------------------------

    def set_run_filter(self, text: str, now: float) -> str | None:
        """Filter runs by `text` (a regex or a query, core/query.py). A bad query changes
        nothing and its error is returned; a bad regex is searched literally (as one types)."""
        from tuiboard.headless.health import SEVERITY

        try:
            rf = compile_run_filter(
                text,
                ignore_case=True,
                lenient_regex=True,
                statuses=SEVERITY,
                statuses_of=self._statuses,
            )
        except QueryError as e:
            return str(e)
        if self._on_worker(rf):
            # the runs kept stay those of the filter before until the worker answers
            selection = self.selection
            if selection.matched is None:
                names = self.run_names()
                selection.matched = frozenset(n for n in names if selection.matches(n))
        self._run_filter = rf
        self.selection.pattern = text
        self.refresh_run_filter(now)
        return None

    def _on_worker(self, rf: RunFilter) -> bool:
        """Whether `rf` is worked out on a worker thread (status_worker): a `status:` query
        over more than STATUS_WORKER_RUNS runs (health facts of each run: ~0.1 ms a run)."""
        return (
            rf.uses_status
            and self.status_worker is not None
            and len(self.run_names()) > STATUS_WORKER_RUNS
        )

    def refresh_run_filter(self, now: float, changed: Collection[str] | None = None) -> bool:
        """Work out again which runs the filter keeps, when the store moved (or, for a status
        query, the clock). `changed`: the runs that changed (or went away) since the last call,
        when known: only those are looked at again. True when the kept runs changed (a filter
        worked out on a worker: False now, `status_result` says later)."""
        rf = self._run_filter
        if rf is None or rf.everything:
            matched = None
        elif self._on_worker(rf):
            assert self.status_worker is not None
            self._status_ticket += 1
            self._filter_key = (self.logdir.version, rf)
            self.status_worker(rf, now, self._status_ticket, self.runs())
            return False
        elif rf.uses_status:
            self._filter_key = (self.logdir.version, rf)
            runs = self.runs()
            found = self.status_matches(rf, now, runs)
            assert found is not None
            matched = found
        else:
            key = (self.logdir.version, rf)
            if key == self._filter_key:
                return False
            last, self._filter_key = self._filter_key, key
            old = self.selection.matched
            if changed is not None and old is not None and last is not None and last[1] is rf:
                add: list[str] = []
                drop: list[str] = []
                for name in changed:
                    run = self.logdir.run(name)
                    keep = run is not None and rf.matches(run, self._infos)
                    if keep != (name in old):
                        (add if keep else drop).append(name)
                if not add and not drop:
                    return False  # the same set object: what was worked out from it holds
                matched = old.difference(drop).union(add)
            else:
                runs = self.logdir.runs
                self._infos.retain([r.name for r in runs])
                matched = frozenset(r.name for r in rf.select(runs, self._infos))
        changed = matched != self.selection.matched
        self.selection.matched = matched
        return changed

    def status_matches(
        self,
        rf: RunFilter,
        now: float,
        runs: Sequence[Run],
        cancelled: Callable[[], bool] | None = None,
    ) -> frozenset[str] | None:
        """The runs a `status:` query keeps at `now` (None: `cancelled()` said stop). Safe on
        a worker thread: the status caches are this call's alone (one call at a time)."""
        with self._status_lock:
            self._now = now
            infos = self._status_infos
            infos.new_clock()
            infos.retain([r.name for r in runs])
            kept: list[str] = []
            for i in range(0, len(runs), STATUS_CHUNK):
                if cancelled is not None and cancelled():
                    return None
                kept.extend(r.name for r in rf.select(runs[i : i + STATUS_CHUNK], infos))
            return frozenset(kept)

    def status_result(self, rf: RunFilter, ticket: int, matched: frozenset[str]) -> bool:
        """A worker's answer for `rf` (ticket: refresh_run_filter's count when it asked); an
        answer for another filter, or older than a later question, is dropped. True when the
        kept runs changed."""
        if ticket != self._status_ticket or rf is not self._run_filter:
            return False
        moved = matched != self.selection.matched
        self.selection.matched = matched
        return moved

    @property
    def filter_uses_clock(self) -> bool:
        return self._run_filter is not None and self._run_filter.uses_status

    def _statuses(self, run: Run) -> tuple[str, ...]:
        from tuiboard.headless.health import assess, run_facts

        hit = self._facts.get(run.name)
        if hit is None or hit[0] != run.version:
            hit = (run.version, run_facts(run))
            self._facts[run.name] = hit
        return assess(hit[1], self._now).statuses

    # -- pins and the linked cursor ------------------------------------------------------------

    def toggle_pins(self, names: tuple[str, ...]) -> bool:
        """Pin the runs, or unpin them when all are pinned. True when they are pinned now."""
        pinned = self.selection.pinned
        if names and all(n in pinned for n in names):
            pinned.difference_update(names)
            return False
        pinned.update(names)
        return True

    def linked_cursor(self) -> float | None:
        """The linked cursor's x on the current x axis (step, relative or wall), or None: none
        set, set on another axis, or the axis is a step metric (each chart's own)."""
        cursor = self.cursor
        mode = self.options.x_axis
        if cursor is None or cursor[0] != mode or mode == METRIC:
            return None
        return cursor[1]

    def set_cursor(self, x: float | None) -> None:
        self.cursor = None if x is None else (self.options.x_axis, x)

    # -- runs ------------------------------------------------------------------------------------

    def runs(self) -> list[Run]:
        """Every run, sorted by name: the same list until runs come, go or get a new view
        (callers must not change it). Kept from the logdir's listing_log: the runs that moved
        since the last call are put in place by bisection, so the store's other changes cost
        nothing here (10,000 runs: sorting them again on every store version cost ~7 ms, and
        the app asks on every key and message)."""
        log = self.logdir.listing_log
        end = len(log)  # the writer appends meanwhile: what it adds is read next time
        if end != self._log_pos:
            if self._log_pos < 0:
                self._rebuild(None)
            else:
                self._place(log[self._log_pos : end])
            self._log_pos = end
        return self._runs

    def _rebuild(self, moved: list[str] | None) -> None:
        """Every run from the store, sorted: the first call (`moved` None: every run moved),
        or most runs moved at once."""
        runs = self.logdir.runs
        names = [r.name for r in runs]
        self.selection.note_runs(names)
        self._moved.extend(names if moved is None else moved)
        self._runs, self._names = runs, names

    def _place(self, log: list[str]) -> None:
        """Put the runs named in `log` where they belong now: added, dropped or their view
        replaced (each looked up in the store as it is now, so a name logged twice is one
        move). New lists, so that a list handed out before stays as it was."""
        moved = sorted(set(log))
        if len(moved) * 8 > len(self._names):
            self._rebuild(moved)  # one sort beats many insertions
            return
        logdir = self.logdir
        names, runs = self._names.copy(), self._runs.copy()
        added: list[str] = []
        for name in moved:
            run = logdir.run(name)
            i = bisect.bisect_left(names, name)
            here = i < len(names) and names[i] == name
            if run is None:
                if here:
                    del names[i], runs[i]
            elif here:
                runs[i] = run
            else:
                names.insert(i, name)
                runs.insert(i, run)
                added.append(name)
        self.selection.note_runs(added)  # sorted: the order a full pass gives new runs
        self._moved.extend(moved)
        self._runs, self._names = runs, names

    def run_names(self) -> list[str]:
        """The names of `runs()`, in the same order (the same list until the runs move)."""
        self.runs()
        return self._names

    def moved_since(self, mark: int) -> tuple[int, dict[str, Run | None] | None]:
        """(a new mark, the runs added, removed (None) or given a new view in `runs()` since
        `mark`, as they are now), or None for them when more than a quarter of the runs moved
        (the first listing: comparing every run is as cheap). For the run panel: its rows
        follow what moved, not every run."""
        self.runs()
        moved = self._moved
        end = len(moved)
        if (end - mark) * 4 > len(self._names):
            return end, None
        index = self._names
        runs = self._runs
        out: dict[str, Run | None] = {}
        for name in set(moved[mark:end]):
            i = bisect.bisect_left(index, name)
            out[name] = runs[i] if i < len(index) and index[i] == name else None
        return end, out

    def visible_runs(self) -> list[str]:
        """The shown runs, in name order: the same list until the runs or the selection move
        (callers must not change it). 10,000 runs: a pass over them was ~0.5 ms (a regex filter
        ~10 ms), made several times for each store change and frame."""
        names = self.run_names()
        sel = self.selection
        key = (names, sel.only, sel.pattern, sel.matched, frozenset(sel.hidden))
        old = self._visible_key
        if (
            old is None
            or old[0] is not names
            or old[1] != sel.only
            or old[2] != sel.pattern
            or old[3] is not sel.matched
            or old[4] != key[4]
        ):
            self._visible = sel.visible(names)
            self._visible_key = key
        return self._visible

    def note_changes(self, changes: Changes) -> None:
        """Bring the counts and the console run up to date with a store change: only the runs
        it names are looked at."""
        logdir = self.logdir
        if self._stale_runs is not None:
            self._stale_runs.update(changes.runs, changes.new_runs, changes.removed_runs)
        for name in changes.removed_runs:
            points, warnings = self._counts.pop(name, (0, 0))
            self.point_count -= points
            self.warning_count -= warnings
            self._console_stale = self._console_stale or name == self._console
        counts = self._counts
        for name in changes.runs | changes.new_runs:
            run = logdir.run(name)
            if run is None or (run.version == 0 and name not in counts):
                continue  # listed, not read yet: no points, no warnings, no console
            points, warnings = self._counts.get(name, (0, 0))
            now = (run.point_count, len(run.warnings))
            self._counts[name] = now
            self.point_count += now[0] - points
            self.warning_count += now[1] - warnings
            if has_console(run):
                if self._console is None or name < self._console:
                    self._console = name
            elif name == self._console:
                self._console_stale = True

    def console_run(self) -> Run | None:
        """The first run (by name) with console output: the Logs pane's default."""
        if self._console_stale:
            found = next((r for r in self.runs() if has_console(r)), None)
            self._console = None if found is None else found.name
            self._console_stale = False
        return None if self._console is None else self.logdir.run(self._console)

    def chart_runs(self) -> list[str]:
        """The shown runs read so far in the order charts take them: pinned ones first (so a
        chart that draws only its first runs still draws them), then the others, each in name
        order."""
        visible = self.visible_runs()
        self.tags()
        pinned = self.selection.pinned
        key = (visible, self._read_moves, frozenset(pinned))
        old = self._chart_key
        if old is not None and old[0] is visible and old[1] == key[1] and old[2] == key[2]:
            return self._chart_runs  # (each chart asks on each draw: the same list)
        read = self._run_kinds  # the runs read (as of the changes applied): the others have
        if len(read) < len(visible):  # nothing to draw (10,000 runs listed, 1 read: a chart
            visible = [n for n in visible if n in read]  # looked at each of them, ~30 ms)
        if pinned:
            visible = [n for n in visible if n in pinned] + [n for n in visible if n not in pinned]
        self._chart_runs, self._chart_key = visible, key
        return visible

    def colour_of(self, name: str) -> str:
        index = self.selection.colour_index.get(name)
        if index is None:
            self.selection.note_runs([name])
            index = self.selection.colour_index[name]
        return run_color(self.theme, index)

    # -- tags ------------------------------------------------------------------------------------

    def tags(self, kind: str = SCALARS) -> list[str]:
        """Sorted union of the tags of every run (stable layout when runs are hidden), as of
        the store changes applied (note_changes)."""
        if self._stale_runs is None or self._stale_runs:
            self._update_tags()
        return self._tags.get(kind, [])

    def _update_tags(self) -> None:
        """Look again at the runs the changes applied since the last call named (the first
        call: every run in the store). 10,000 runs: a pass over all of them on each store
        change cost ~10 ms, twenty times during the first load; now only the runs read since."""
        stale = self._stale_runs
        names: Collection[str] = self.run_names() if stale is None else stale
        self._stale_runs = set()
        counts = self._tag_counts
        moved = False
        logdir = self.logdir
        for name in names:
            run = logdir.run(name)
            read = run is not None and run.version != 0  # listed, not read yet: nothing
            if read and run is not None and run.config:
                if name not in self._config_runs:
                    self._config_runs.add(name)
                    moved = True
            elif name in self._config_runs:
                self._config_runs.discard(name)
                moved = True
            old = self._run_kinds.get(name)
            if run is not None and read and old is not None and old[0] == run.version:
                continue
            if (old is not None) != (run is not None and read):
                self._read_moves += 1
            if old is not None:
                del self._run_kinds[name]
                for k, run_tags in old[1].items():
                    held = counts[k]
                    for tag in run_tags:
                        left = held[tag] - 1
                        if left:
                            held[tag] = left
                        else:
                            del held[tag]
                moved = True
            if run is not None and read:
                kinds = run.kinds()
                self._run_kinds[name] = (run.version, kinds)
                for k, run_tags in kinds.items():
                    held = counts.setdefault(k, {})
                    for tag in run_tags:
                        held[tag] = held.get(tag, 0) + 1
                moved = True
        if moved or stale is None:
            found = {SCALARS: [], HISTOGRAMS: [], **{k: sorted(v) for k, v in counts.items()}}
            self._tags = found
            self._kinds = {k for k, v in found.items() if v} | (
                {CONFIG} if self._config_runs else set()
            )

    def kinds(self) -> set[str]:
        """The data kinds present in the loaded runs (which tabs to show)."""
        self.tags()
        return self._kinds

    def run_tags(self, name: str, kind: str) -> list[str]:
        """Tags of one run (from the same per-version cache as `tags`)."""
        self.tags(kind)
        hit = self._run_kinds.get(name)
        return [] if hit is None else hit[1].get(kind, [])

    def has_step_metrics(self) -> bool:
        """Whether some run defines a step metric (the x axis then cycles through METRIC)."""
        return any(r.meta.step_metrics for r in self.runs())

    def x_label(self, tag: str) -> str:
        """The x axis name of `tag`'s chart in METRIC mode: its step metric in the shown runs
        (several, when runs disagree, joined by ", "), or "step" where it has none."""
        runs = (self.logdir.run(name) for name in self.visible_runs())
        return metric_axis_name((r for r in runs if r is not None), tag)

    def tag_matches(self, tag: str) -> bool:
        regex = compile_filter(self.tag_pattern)
        return regex is None or regex.search(tag) is not None

    def visible_tags(self, kind: str = SCALARS) -> list[str]:
        regex = compile_filter(self.tag_pattern)
        return [t for t in self.tags(kind) if regex is None or regex.search(t) is not None]


def run_filter_error(text: str) -> str | None:
    """Why `text` is not a run filter (a bad query), or None (a query, a regex, or a bad regex,
    which the run filter searches literally)."""
    from tuiboard.headless.health import SEVERITY

    try:
        compile_run_filter(text, lenient_regex=True, statuses=SEVERITY)
    except QueryError as e:
        return str(e)
    return None


def has_console(run: Run) -> bool:
    """The run has console output for the Logs pane: log files, or lines in its run file."""
    return bool(run.meta.console or run.meta.console_records)


def tag_group(tag: str) -> str:
    """TensorBoard's grouping: the prefix before the first "/" (tags without one: their own)."""
    head, sep, _ = tag.partition("/")
    return head if sep else tag


SYSTEM_GROUP = "system"
"""W&B's system metrics (cpu, memory, disk, network, GPU) are `system/<key>` tags: their group
comes after the user's own groups in Scalars."""


def group_order(group: str) -> tuple[bool, str]:
    """Sort key of a Scalars group: by name, the system metrics' group last."""
    return (group == SYSTEM_GROUP, group)
