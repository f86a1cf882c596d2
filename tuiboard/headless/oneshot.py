"""A one-shot `summary` or `check` of a big logdir, read and summarized by several processes.

Owns: `one_shot` (the rows and tag columns of a Logdir once read, with the walk's warnings)
and the worker processes it forks. A one-shot command needs rows, not the store in one
process: the logdir is cut into parts (groups of top-level directories, each walked by the
process that takes it; or groups of the runs this process's walk found), N-1 forked workers
and this process take parts from a shared queue until none is left, read them and compute
their runs' figures (Summarizer.figures), and only small things cross between processes:
each part's walk warnings and each process's tag counts (the tag columns are chosen over all
of them, here), then the clock (`now`, taken here once every part was read) and the tags
chosen, then each process's rows. The rows are merged in name order: the output is the one
a single process gives (tests/headless/test_oneshot.py compares them, damaged files
included). Arrays and loaders never leave the process that read them (pickling them was the
cost of the loader's workers at many small runs: loader.read_in_workers).

When: local logdirs, Linux, 2+ usable cores, no other thread in this process (a fork with
another thread running may copy a lock held mid-operation), no `status:` in --runs (it reads
statuses at the clock before the rows are made), and enough work: a single unnamed root with
at least SPLIT_MIN_DIRS directories at its top level (then the walk is split too), or at least
SPLIT_MIN_RUNS runs found by this process's walk. Processes: one a usable core (at most
MAX_PROCESSES); TUIBOARD_WORKERS=1 reads everything in one process (as before, and as every
other case does), TUIBOARD_WORKERS=K uses K processes.

The walk split: the logdir's directories in the walk's order, cut into parts (top-level ones;
or, when there are fewer of them than parts wanted, their subdirectories, each top-level
directory's own files going with the first part holding it), each walked by
discovery.discover_listed from the root over the part's cuts of the listings made here (the
first part also gets the root's files). That walks exactly what the whole walk walks below
them, and the parts' warnings joined in part order are the whole walk's, with one exception:
the whole walk follows links to one target once, the parts once each. So when more than one
part met a link to a directory, the parts are dropped and the logdir is read again in one
process (Logdir.refresh, which keeps what this process had read).

A worker that fails (an exception, killed, a broken pipe) loses no run: this process reads the
parts it had taken and says so on stderr (Result.problems).
Must not import: textual, rich.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuiboard.core import discovery, forking
from tuiboard.core import logdir as logdir_mod
from tuiboard.core.source import is_url
from tuiboard.core.types import ReadWarning

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir, Run
    from tuiboard.headless.summary import Row, Summarizer

MAX_PROCESSES = 8
"""Processes at most (this one included), whatever the number of cores."""
SPLIT_MIN_DIRS = 8
"""A root with at least this many top-level directories is walked in parts."""
SPLIT_MIN_RUNS = 64
"""Otherwise, at least this many runs found are read in parts (fewer: a fork costs more)."""
ROWS_MESSAGE = 1000
"""A worker sends its rows in messages of this many (~0.4 MB)."""
PIPE_BYTES = 1 << 20
"""A worker's pipe to this process (Linux's default limit for an unprivileged process)."""
PARTS_PER_PROCESS = 8
"""Parts a process, about: enough that the process done first waits little for the others
(at most about one part), few enough that each part's runs still make big batches
(loader.preread_small)."""


@dataclass(slots=True)
class Result:
    """What a one-shot command prints from."""

    rows: list[Row]
    """In run-name order, at one clock."""
    tags: list[str]
    warnings: tuple[ReadWarning, ...]
    """The walk's (Logdir.warnings after a refresh), in the walk's order."""
    runs: int
    """Runs found (before --runs)."""
    problems: list[str] = field(default_factory=list)
    """Workers that failed (their parts were read here)."""
    processes: int = 1


def one_shot(logdir: Logdir, summarizer: Summarizer) -> Result:
    """Read `logdir` (opened with load=False) and make its rows at the time the reading
    ended, in several processes when it pays (see the module docstring)."""
    n = processes(logdir, summarizer)
    found = None
    if n >= 2:
        plan = _walk_plan(logdir, n)
        if plan is None:
            found = logdir.discover()
            if len(found) >= SPLIT_MIN_RUNS:
                plan = _read_plan(found, logdir.warnings, n)
        if plan is not None:
            got = _Split(logdir, summarizer, plan, n).run()
            if got is not None:
                return got
            found = None  # links met by several parts: read again, as one walk
    if found is None:
        logdir.refresh()
    else:
        logdir.read_found(found)
    rows, tags = summarizer.rows(logdir, time.time())
    return Result(rows, tags, logdir.warnings, len(logdir.runs))


def processes(logdir: Logdir, summarizer: Summarizer) -> int:
    """How many processes one_shot may use (1: this one only)."""
    cores = forking.fork_cores()
    if not cores or not logdir_mod.PARALLEL:
        return 1
    query = summarizer.runs_filter
    if query is not None and query.uses_status:
        return 1
    if any(is_url(path) for _, path in logdir.roots):
        return 1
    wanted = forking.workers_wanted()
    return min(wanted if wanted > 1 else cores, MAX_PROCESSES)


# --- plans --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    root: str
    """The root walked (walk plans)."""
    parts: list[Any]
    """A walk plan's: each part's cuts of the listings the plan made (directory path -> the
    part's entries of it); a read plan's: the runs of each part (dict name -> RunFiles)."""
    walk: bool
    warnings: tuple[ReadWarning, ...] = ()
    """A read plan's walk warnings."""


def _walk_plan(logdir: Logdir, n: int) -> _Plan | None:
    """Parts of a single unnamed root's directories, or None (several roots, a root that
    cannot be listed, a link to a directory at its top, too few directories). A top level
    of fewer directories than parts wanted is cut one level lower: each top-level directory
    whose listing has no link to a directory is split into its own files (with the first
    part holding it) and its subdirectories (so ten sweeps of ten groups are 110 units, not
    ten)."""
    roots = logdir.roots
    if len(roots) != 1 or roots[0][0]:
        return None
    root = roots[0][1]
    top = _cut(root)
    if top is None or len(top[1]) < SPLIT_MIN_DIRS:
        return None
    files, dirs = top
    wanted = PARTS_PER_PROCESS * n
    units: list[tuple[os.DirEntry[str], os.DirEntry[str] | None]] = []
    """(top-level directory, one of its subdirectories or None: its files, or the whole
    directory when it is not cut), in the walk's order."""
    cuts: dict[str, tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]]] = {}
    for d in dirs:
        below = _cut(d.path) if len(dirs) < wanted else None
        if below is None:
            units.append((d, None))
            continue
        cuts[d.path] = below
        units.append((d, None))
        units += [(d, sub) for sub in below[1]]
    k = min(len(units), wanted)
    parts: list[Any] = []
    owned: set[str] = set()
    for j in range(k):
        listings: dict[str, list[os.DirEntry[str]]] = {root: list(files) if j == 0 else []}
        for d, sub in units[len(units) * j // k : len(units) * (j + 1) // k]:
            if d.path not in listings:
                listings[root].append(d)
                if d.path in cuts:
                    listings[d.path] = []
            if d.path in cuts:
                if d.path not in owned:  # the first part holding it lists its files
                    owned.add(d.path)
                    listings[d.path] += cuts[d.path][0]
                if sub is not None:
                    listings[d.path].append(sub)
        parts.append(listings)
    return _Plan(root, parts, walk=True)


def _cut(path: str) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]] | None:
    """A directory's entries as (what is not a subdirectory to walk: files, hidden and
    skipped directories, which the walk's scan sorts out itself; subdirectories in name
    order), told apart as the scan does; None when it cannot be listed or holds a link to a
    directory (the whole walk then deals with it)."""
    try:
        with os.scandir(path) as it:
            listing = list(it)
    except OSError:
        return None
    files: list[os.DirEntry[str]] = []
    dirs: list[os.DirEntry[str]] = []
    for entry in listing:
        try:
            is_dir = entry.is_dir()
            link = is_dir and entry.is_symlink()
        except OSError:
            is_dir = link = False
        if link:
            return None
        name = entry.name
        if is_dir and name[:1] != "." and name not in discovery.SKIPPED_DIRS:
            dirs.append(entry)
        else:
            files.append(entry)
    dirs.sort(key=lambda e: e.name)
    return files, dirs


def _read_plan(
    found: dict[str, discovery.RunFiles], warnings: tuple[ReadWarning, ...], n: int
) -> _Plan:
    names = sorted(found)
    k = min(PARTS_PER_PROCESS * n, len(names))
    parts: list[Any] = [
        {name: found[name] for name in names[len(names) * j // k : len(names) * (j + 1) // k]}
        for j in range(k)
    ]
    return _Plan("", parts, walk=False, warnings=warnings)


class _Lister:
    """discover_listed's listdir for one part: the part's cuts of the listings made by the
    plan (the root's, and those of the top-level directories cut); elsewhere os.scandir,
    noting whether any entry is a link to a directory."""

    def __init__(self, cuts: dict[str, list[os.DirEntry[str]]]) -> None:
        self.cuts = cuts
        self.links = False

    def __call__(self, path: str) -> Sequence[os.DirEntry[str]]:
        cut = self.cuts.get(path)
        if cut is not None:
            return cut
        with os.scandir(path) as it:
            entries = list(it)
        if not self.links:
            for entry in entries:
                if entry.is_symlink():
                    with contextlib.suppress(OSError):
                        if entry.is_dir():
                            self.links = True
                            break
        return entries


# --- one process's share ------------------------------------------------------------------------


@dataclass(slots=True)
class _Share:
    """The parts one process read, and what it made of them."""

    parts: list[int] = field(default_factory=list)
    warnings: dict[int, list[ReadWarning]] = field(default_factory=dict)
    linked: list[int] = field(default_factory=list)
    """Parts whose walk met a link to a directory."""
    found: int = 0
    runs: list[Run] = field(default_factory=list)
    """The runs --runs keeps."""
    entries: list[Any] = field(default_factory=list)
    """Their figures (Summarizer.figures)."""

    def report(self, summarizer: Summarizer) -> tuple[Any, ...]:
        counts = summarizer.tag_counts(self.entries)
        return (self.parts, self.warnings, self.linked, self.found, counts)


def _read_part(logdir: Logdir, summarizer: Summarizer, plan: _Plan, i: int, share: _Share) -> None:
    if plan.walk:
        lister = _Lister(plan.parts[i])
        found, warnings = discovery.discover_listed(plan.root, lister, {})
        if lister.links:
            share.linked.append(i)
        share.warnings[i] = warnings
    else:
        found = plan.parts[i]
    logdir.read_found(found, parallel=False)
    runs = []
    for name in found:
        run = logdir.run(name)
        assert run is not None
        runs.append(run)
    kept = summarizer.select(runs)
    share.runs.extend(kept)
    share.entries.extend(summarizer.figures(kept))
    share.parts.append(i)
    share.found += len(found)


# --- messages -----------------------------------------------------------------------------------

_LENGTH = struct.Struct("<Q")
_PART = struct.Struct("<i")


_FIELDS: dict[type, tuple[str, ...]] = {}


def _compact_types() -> None:
    """The frozen dataclasses of a row, pickled as their class called with their fields:
    half the time both ways of pickle's default for slotted dataclasses (__setstate__ setting
    one field at a time: ~0.11 s for 5,000 rows each way)."""
    import dataclasses

    from tuiboard.core.types import RunMeta
    from tuiboard.headless.health import Divergence, Health, RunFacts, SessionEnd
    from tuiboard.headless.summary import Row, TagStats

    for cls in (Row, TagStats, Health, RunFacts, Divergence, SessionEnd, ReadWarning, RunMeta):
        fields = dataclasses.fields(cls)
        if all(f.init for f in fields):
            _FIELDS[cls] = tuple(f.name for f in fields)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        names = _FIELDS.get(type(obj))
        if names is None:
            return NotImplemented
        return type(obj), tuple([getattr(obj, name) for name in names])


def _send(fd: int, obj: object) -> None:
    if not _FIELDS:
        _compact_types()
    buf = io.BytesIO()
    buf.write(bytes(_LENGTH.size))
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    data = buf.getbuffer()
    _LENGTH.pack_into(data, 0, len(data) - _LENGTH.size)
    forking.write_all(fd, data)


def _exactly(fd: int, n: int) -> bytearray:
    buf = forking.read_exactly(fd, n)
    if buf is None:
        raise EOFError("the other process is gone")
    return buf


def _receive(fd: int) -> Any:
    (n,) = _LENGTH.unpack(_exactly(fd, _LENGTH.size))
    return pickle.loads(_exactly(fd, n))


def _take(fd: int) -> Iterator[int]:
    """The parts left in the shared queue, one at a time (a pipe filled before the fork:
    reads of one part's 4 bytes never split, and an empty pipe with no writer ends it)."""
    while True:
        got = os.read(fd, _PART.size)
        if len(got) < _PART.size:
            return
        yield _PART.unpack(got)[0]


# --- the split ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Worker:
    pid: int
    up: int
    """Its messages to this process (read end)."""
    down: int
    """This process's messages to it (write end)."""
    parts: list[int] = field(default_factory=list)
    failed: str = ""
    """Why it failed ("": it did not)."""
    done: bool = False
    """It sent its rows."""
    reaped: bool = False


class _Split:
    def __init__(self, logdir: Logdir, summarizer: Summarizer, plan: _Plan, n: int) -> None:
        self.logdir = logdir
        self.summarizer = summarizer
        self.plan = plan
        self.n = min(n, len(plan.parts))
        self.workers: list[_Worker] = []

    def run(self) -> Result | None:
        queue, fill = os.pipe()
        os.write(fill, b"".join(_PART.pack(i) for i in range(len(self.plan.parts))))
        os.close(fill)
        try:
            for _ in range(self.n - 1):
                self._fork(queue)
            share = _Share()
            for i in _take(queue):
                _read_part(self.logdir, self.summarizer, self.plan, i, share)
            return self._finish(share)
        finally:
            os.close(queue)
            self._reap()

    def _fork(self, queue: int) -> None:
        up_r, up_w = os.pipe()
        down_r, down_w = os.pipe()
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # room for a rows message or two (default 64 KiB)
            with contextlib.suppress(OSError):
                fcntl.fcntl(up_w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            code = 1
            try:
                for w in self.workers:
                    os.close(w.up)
                    os.close(w.down)
                os.close(up_r)
                os.close(down_w)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                self._work(queue, up_w, down_r)
                code = 0
            except BaseException as error:  # reported: the parent reads its parts
                with contextlib.suppress(BaseException):
                    _send(up_w, ("error", f"{type(error).__name__}: {error}"))
            finally:
                os._exit(code)
        os.close(up_w)
        os.close(down_r)
        self.workers.append(_Worker(pid, up_r, down_w))

    def _work(self, queue: int, up: int, down: int) -> None:
        share = _Share()
        for i in _take(queue):
            _read_part(self.logdir, self.summarizer, self.plan, i, share)
        _send(up, ("parts", *share.report(self.summarizer)))
        order = _receive(down)
        if order[0] != "rows":
            return
        _, tags, now = order
        # in messages of ROWS_MESSAGE rows: the parent unpickles one while the next is made
        runs, entries = share.runs, share.entries
        for a in range(0, len(runs), ROWS_MESSAGE):
            b = a + ROWS_MESSAGE
            _send(up, ("rows", self.summarizer.make_rows(runs[a:b], entries[a:b], tags, now)))
        _send(up, ("end",))

    def _finish(self, share: _Share) -> Result | None:
        plan = self.plan
        reports = [share.report(self.summarizer)]
        for w in self.workers:
            got = self._hear(w, "parts")
            if got is not None:
                w.parts = got[1]
                reports.append(got[1:])
        done = {i for report in reports for i in report[0]}
        missing = [i for i in range(len(plan.parts)) if i not in done]
        if missing:
            extra = self._read_here(missing)
            share.runs.extend(extra.runs)
            share.entries.extend(extra.entries)
            reports.append(extra.report(self.summarizer))
        linked = [i for report in reports for i in report[2]]
        if len(linked) > 1:
            for w in self.workers:
                if not w.failed:
                    with contextlib.suppress(OSError):
                        _send(w.down, ("stop",))
            return None
        counts: dict[str, int] = {}
        for report in reports:
            for tag, c in report[4].items():
                counts[tag] = counts.get(tag, 0) + c
        tags = self.summarizer.choose_tags(counts)
        now = time.time()
        asked = []
        for w in self.workers:
            if w.failed:
                continue
            try:
                _send(w.down, ("rows", tags, now))
                asked.append(w)
            except OSError as error:
                w.failed = f"{type(error).__name__}: {error}"
        rows = self._rows(share, asked, tags, now)
        for w in self.workers:
            if not w.done and w.parts:  # it read them and failed after: read them here
                extra = self._read_here(w.parts)
                rows.extend(self.summarizer.make_rows(extra.runs, extra.entries, tags, now))
        self._reap()
        problems = [
            f"a worker process failed ({w.failed}); its runs were read in the main process"
            for w in self.workers
            if w.failed
        ]
        rows.sort(key=lambda r: r.name)
        warnings = list(plan.warnings)
        by_part: dict[int, list[ReadWarning]] = {}
        for report in reports:
            by_part.update(report[1])
        for i in range(len(plan.parts)):
            warnings += by_part.get(i, ())
        found = sum(report[3] for report in reports)
        return Result(rows, tags, tuple(warnings), found, problems, self.n)

    def _read_here(self, parts: list[int]) -> _Share:
        """Parts a worker did not read, or read and failed to send, read in this process."""
        extra = _Share()
        for i in parts:
            _read_part(self.logdir, self.summarizer, self.plan, i, extra)
        return extra

    def _rows(self, share: _Share, asked: list[_Worker], tags: list[str], now: float) -> list[Row]:
        """This process's rows and those the workers send, made and received in turn (a
        worker's message waits in the pipe while this process makes some of its own)."""
        make = self.summarizer.make_rows
        runs, entries = share.runs, share.entries
        rows: list[Row] = []
        theirs: dict[int, list[Row]] = {w.up: [] for w in asked}
        waiting = {w.up: w for w in asked}
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        at = 0
        while at < len(runs) or waiting:
            if at < len(runs):
                end = at + ROWS_MESSAGE
                rows += make(runs[at:end], entries[at:end], tags, now)
                at += ROWS_MESSAGE
                ready = poller.poll(0) if waiting else []
            else:
                ready = poller.poll()
            for fd, _ in ready:
                w = waiting[fd]
                got = self._hear(w, "rows", "end")
                if got is not None and got[0] == "rows":
                    theirs[fd] += got[1]
                    continue
                del waiting[fd]
                poller.unregister(fd)
                if got is not None:  # "end": all of its rows came
                    w.done = True
                    rows += theirs[fd]
        return rows

    def _hear(self, w: _Worker, *kinds: str) -> tuple[Any, ...] | None:
        """A worker's next message, one of `kinds`, or None when it failed."""
        if w.failed:
            return None
        try:
            got = _receive(w.up)
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            w.failed = f"{type(error).__name__}: {error}"
            return None
        if not isinstance(got, tuple) or not got or got[0] not in kinds:
            w.failed = str(got[1]) if isinstance(got, tuple) and len(got) > 1 else "bad message"
            return None
        return got

    def _reap(self) -> None:
        """Wait for every worker to end: one that sent its rows is ending by itself; any
        other is killed first (this process read or will not need its parts)."""
        for w in self.workers:
            if w.reaped:
                continue
            w.reaped = True
            for fd in (w.up, w.down):
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                if not w.done:
                    os.kill(w.pid, signal.SIGKILL)
                os.waitpid(w.pid, 0)
