"""The public, read-only face of the data layer: Logdir (one or more roots) and Run.

Owns: opening logdirs (TensorBoard's `--logdir_spec` naming), refresh (discovery + incremental
reads), and the snapshot accessors that viewers use. Must not import: textual, rich.

Threading: `refresh` is the single writer and must be called from one thread at a time (the
watcher's). Every accessor of Run may be called from any thread and returns a consistent snapshot
(see store.py for the invariant).

Speed at many runs: discovery keeps each local root's directory listings while their mtimes
hold (discovery.DirCache), and a run whose RunFiles came back from that cache and whose files
all stat as before is not refreshed at all (RunLoader.unchanged): a no-change refresh is about
two stats a run. A first read of many runs decodes their small event files in one batch
(loader.preread_small) and, when the load is big enough and nothing else runs in this process,
in worker processes (loader.read_in_workers; PARALLEL, PARALLEL_MIN_BYTES, TUIBOARD_WORKERS=1).
Listing runs before reading them: `discover()` then `refresh_iter(found=...)`, whose first
Changes lists every run found, empty, before any is read. A viewer's first walk may run in a
forked copy of the Logdir (core/walk_ahead.py: `discover_packed` there, `adopt_discovered`
here).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuiboard.core import discovery, forking
from tuiboard.core.loader import (
    ReadResult,
    RunLoader,
    preread_small,
    read_in_workers,
)
from tuiboard.core.source import StoreError, is_url, reading
from tuiboard.core.store import RunData, Scalars, Store
from tuiboard.core.types import (
    HISTOGRAMS,
    SCALARS,
    EmbeddingInfo,
    HistogramValue,
    ReadWarning,
    RunMeta,
    SessionMark,
    TagMeta,
    ValueRecord,
)

if TYPE_CHECKING:
    from tuiboard.core.remote import RemoteSource


@dataclass(frozen=True, slots=True)
class Changes:
    """What one refresh changed."""

    runs: frozenset[str] = frozenset()
    """Runs whose data changed (new ones included)."""
    new_runs: frozenset[str] = frozenset()
    removed_runs: frozenset[str] = frozenset()
    points: int = 0
    """Scalar points added."""
    version: int = 0
    """Store version after the refresh."""
    records: int = 0
    bytes_read: int = 0

    def __bool__(self) -> bool:
        return bool(self.runs or self.new_runs or self.removed_runs)

    def merge(self, other: Changes) -> Changes:
        return Changes(
            self.runs | other.runs,
            self.new_runs | other.new_runs,
            (self.removed_runs | other.removed_runs) - other.new_runs,
            self.points + other.points,
            max(self.version, other.version),
            self.records + other.records,
            self.bytes_read + other.bytes_read,
        )


@dataclass(frozen=True, slots=True)
class LoadStats:
    runs: int
    files: int
    bytes_read: int
    points: int
    records: int


class Run:
    """A live, read-only view of one run. Accessors return snapshots."""

    __slots__ = ("_data",)

    def __init__(self, data: RunData) -> None:
        self._data = data

    def __repr__(self) -> str:
        return f"Run({self.name!r})"

    @property
    def name(self) -> str:
        return self._data.name

    @property
    def path(self) -> str:
        return self._data.path

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(sorted(self._data.formats))

    @property
    def version(self) -> int:
        return self._data.version

    @property
    def last_write(self) -> float:
        return self._data.last_write

    @property
    def last_step(self) -> int | None:
        assert self._data.scalars is not None
        steps = [s.last_step() for s in list(self._data.scalars.values())]
        found = [s for s in steps if s is not None]
        return max(found) if found else None

    def tags(self, kind: str) -> list[str]:
        return self.kinds().get(kind, [])

    def kinds(self) -> dict[str, list[str]]:
        d = self._data
        assert d.scalars is not None and d.values is not None
        out: dict[str, set[str]] = {}
        scal = [t for t, s in list(d.scalars.items()) if s.raw_len]
        if scal:
            out[SCALARS] = set(scal)
        for kind, tag in list(d.values.keys()):
            out.setdefault(kind, set()).add(tag)
        if d.embeddings:
            out.setdefault("embeddings", set()).update(e.tensor_name for e in d.embeddings)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def scalars(self, tag: str, raw: bool = False) -> Scalars:
        assert self._data.scalars is not None
        s = self._data.scalars.get(tag)
        if s is None:
            raise KeyError(tag)
        return s.snapshot(raw=raw)

    def series_version(self, kind: str, tag: str) -> int:
        d = self._data
        assert d.scalars is not None and d.values is not None
        if kind == SCALARS:
            s = d.scalars.get(tag)
            return s.version + d.version_base if s is not None else -1
        v = d.values.get((kind, tag))
        return v.version + d.version_base if v is not None else -1

    def values(self, kind: str, tag: str, raw: bool = False) -> tuple[ValueRecord, ...]:
        assert self._data.values is not None
        v = self._data.values.get((kind, tag))
        return () if v is None else v.snapshot(raw=raw)

    def histograms(self, tag: str, raw: bool = False) -> tuple[HistogramValue, ...]:
        return self.values(HISTOGRAMS, tag, raw=raw)  # type: ignore[return-value]

    def metadata(self, tag: str) -> TagMeta | None:
        assert self._data.metadata is not None
        return self._data.metadata.get(tag)

    @property
    def config(self) -> dict[str, Any]:
        assert self._data.config is not None
        return dict(self._data.config)

    @property
    def hparams(self) -> dict[str, Any]:
        assert self._data.hparams is not None
        return dict(self._data.hparams)

    @property
    def sessions(self) -> tuple[SessionMark, ...]:
        return self._data.sessions

    @property
    def warnings(self) -> tuple[ReadWarning, ...]:
        return self._data.warnings

    @property
    def meta(self) -> RunMeta:
        """What the run says about itself (display name, tags, exit code, summary, ...)."""
        return self._data.meta

    @property
    def embeddings(self) -> tuple[EmbeddingInfo, ...]:
        return self._data.embeddings

    @property
    def point_count(self) -> int:
        assert self._data.scalars is not None
        return sum(len(s) for s in list(self._data.scalars.values()))


@dataclass(slots=True)
class _Root:
    name: str
    """Prefix of its runs' names ("" when there is only one root)."""
    path: str
    known_jsonl: dict[str, bool]
    remote: RemoteSource | None = None
    """The source of a URL root (core/remote.py); None for a local directory."""
    dir_cache: discovery.DirCache = field(default_factory=dict)
    """Directory listings kept between walks of a local root (discovery.discover)."""


def parse_spec(specs: Sequence[str]) -> list[tuple[str, str]]:
    """TensorBoard's --logdir_spec: "name:path" or "path". Several unnamed roots are named by
    their base names, made unique; a single unnamed root gives its runs no prefix."""
    out: list[tuple[str, str]] = []
    for spec in specs:
        name, sep, path = spec.partition(":")
        if path.startswith("//"):  # a URL: s3://bucket/logs
            out.append(("", spec))
        elif sep and name and "/" not in name and path and not os.path.exists(spec):
            out.append((name, path))
        else:
            out.append(("", spec))
    if len(out) == 1 and not out[0][0]:
        return out
    used: set[str] = set()
    named = []
    for name, path in out:
        base = name or _base_name(path) or "logdir"
        cand, i = base, 2
        while cand in used:
            cand, i = f"{base}_{i}", i + 1
        used.add(cand)
        named.append((cand, path))
    return named


PREREAD_MIN_RUNS = 8
"""A read of at least this many runs never read before decodes their small event files in one
batch (loader.preread_small); below it, the per-file path costs about the same."""
BATCHES = 16
"""refresh_iter's batches after the 1, 2, 4, ... ramp: at most about this many, whatever the
number of runs."""


class Logdir:
    """One or more logdirs read into one store."""

    def __init__(
        self, specs: Sequence[str], storage_options: dict[str, object] | None = None
    ) -> None:
        """`storage_options`: passed to fsspec for URL roots (raises source.RemoteUnavailable
        when a URL's fsspec package is missing)."""
        if not specs:
            specs = ["."]
        self._roots = [_make_root(name, path, storage_options) for name, path in parse_spec(specs)]
        self._sources = tuple(r.remote for r in self._roots if r.remote is not None)
        """This Logdir's remote sources: its listings and reads go through them alone
        (source.reading), never through another Logdir's opened on the same URL."""
        self.store = Store()
        self._loaders: dict[str, RunLoader] = {}
        self._views: dict[str, Run] = {}
        self.listing_log: list[str] = []
        """Names of the runs added, removed or given a new view (a run read again into fresh
        data), in order; append-only (the writer appends, under the write lock). A viewer that
        keeps the runs sorted remembers how far it read: what moved since is listing_log[pos:]
        (ui/board.py: a store change costs the runs it names, not every run)."""
        self._warnings: tuple[ReadWarning, ...] = ()
        self._write_lock = threading.Lock()
        self._bytes_read = 0
        self._records = 0

    @property
    def roots(self) -> list[tuple[str, str]]:
        return [(r.name, r.path) for r in self._roots]

    @property
    def runs(self) -> list[Run]:
        views = self._views
        return [views[k] for k in sorted(views)]

    def run(self, name: str) -> Run | None:
        return self._views.get(name)

    @property
    def warnings(self) -> tuple[ReadWarning, ...]:
        return self._warnings

    @property
    def store_errors(self) -> tuple[StoreError, ...]:
        """The URL roots whose latest listing failed (core/remote.py): the status line shows
        them and the watcher backs off while there are any."""
        return tuple(r.remote.error for r in self._roots if r.remote and r.remote.error)

    @property
    def version(self) -> int:
        return self.store.version

    @property
    def stats(self) -> LoadStats:
        loaders = list(self._loaders.values())
        return LoadStats(
            runs=len(loaders),
            files=sum(len(ld.cursors) for ld in loaders),
            bytes_read=self._bytes_read,
            points=sum(Run(ld.data).point_count for ld in loaders),
            records=self._records,
        )

    def discover(self) -> dict[str, discovery.RunFiles]:
        """Which runs exist now (no file is read past the first line of a JSONL candidate)."""
        with reading(self._sources):
            return self._discover()

    def _discover(self) -> dict[str, discovery.RunFiles]:
        found: dict[str, discovery.RunFiles] = {}
        warnings: list[ReadWarning] = []
        for root in self._roots:
            if root.remote is not None:
                from tuiboard.core.remote import discover_remote

                runs, warns = discover_remote(root.remote, root.known_jsonl)
            elif not os.path.isdir(root.path):
                warnings.append(
                    ReadWarning(root.path, "logdir does not exist or is not a directory")
                )
                continue
            else:
                runs, warns = discovery.discover(root.path, root.known_jsonl, root.dir_cache)
            warnings.extend(warns)
            for rel, rf in runs.items():
                name = rel if not root.name else (root.name if rel == "." else f"{root.name}/{rel}")
                rf.name = name
                found[name] = rf
        self._warnings = tuple(warnings)
        return found

    def discover_packed(self) -> bytes:
        """discover(), and what it leaves behind (its warnings, each root's sniff verdicts and
        directory listings), as one marshal blob: a forked walk's answer to its parent
        (core/walk_ahead.py), who takes it with adopt_discovered."""
        found = self.discover()
        runs = list(found.values())
        return marshal.dumps(
            (
                discovery.pack_runs(runs),
                [(w.file, w.message, w.offset, w.line) for w in self._warnings],
                [(r.known_jsonl, discovery.pack_cache(r.dir_cache, runs)) for r in self._roots],
            )
        )

    def adopt_discovered(self, blob: bytes) -> dict[str, discovery.RunFiles]:
        """What discover() would have returned and left behind, from discover_packed's blob
        made by a copy of this Logdir. A blob cut short or not one raises (ValueError,
        EOFError, TypeError, IndexError) and leaves this Logdir as it was: the caller walks
        again."""
        packed_runs, packed_warnings, roots = marshal.loads(blob)
        if len(roots) != len(self._roots):
            raise ValueError("not this logdir's walk")
        runs = discovery.unpack_runs(packed_runs)
        caches = [(known, discovery.unpack_cache(cache, runs)) for known, cache in roots]
        warnings = tuple(ReadWarning(*w) for w in packed_warnings)
        for root, (known, cache) in zip(self._roots, caches, strict=True):
            root.known_jsonl = known
            root.dir_cache = cache
        self._warnings = warnings
        return {rf.name: rf for rf in runs}

    def refresh(self, paths: Iterable[str] | None = None) -> Changes:
        """Read what is new. With `paths` (files the watcher saw change), only the runs holding
        them are read, unless a path is unknown (a new file or directory): then rediscover."""
        with self._write_lock:
            targets = self._targets(paths) if paths is not None else None
            if targets is None:
                found = self.discover()
                return self._read(found, list(found)).merge(self._drop_missing(found))
            found = {n: self._loaders[n].files for n in targets}
            return self._read(found, targets)

    def refresh_iter(
        self, most: int = 32, found: dict[str, discovery.RunFiles] | None = None
    ) -> Iterable[Changes]:
        """A full refresh in batches of runs, so a viewer draws the first runs while the rest
        are read: batches of 1, 2, 4, ... runs up to `most` (the first run shows after one
        run's read, and a big logdir still costs few batches). Yields each batch's Changes.
        `found`: a discover() result the caller just made (it is not walked again)."""
        with self._write_lock:
            if found is None:
                found = self.discover()
            names = sorted(found, key=lambda n: (n in self._loaders, n))
            # Every run found is listed at once, empty, before any is read.
            new = frozenset(n for n in names if n not in self._loaders)
            if new:
                for name in new:
                    self._register(found[name])
                self.store.version += 1
                yield Changes(new_runs=new, version=self.version)
            # At most about `BATCHES` batches past the ramp: each batch costs a viewer a pass over
            # every run, so a fixed cap of `most` made 10,000 runs quadratic (bench_scale.py).
            most = max(most, len(names) // BATCHES)
            i, size = 0, 1
            while i < len(names):
                yield self._read(found, names[i : i + size])
                i, size = i + size, min(size * 2, most)
            dropped = self._drop_missing(found)
            if dropped:
                yield dropped

    def read_found(self, found: dict[str, discovery.RunFiles], parallel: bool = True) -> Changes:
        """Read the runs of `found` (a discover() result or part of one); unlike refresh(),
        the runs known and not in it are kept. `parallel=False`: in this process, never in
        the loader's worker processes (a process that is itself one of several reading a
        logdir's parts: headless/oneshot.py)."""
        with self._write_lock:
            return self._read(found, list(found), parallel)

    def _new_view(self, name: str, data: RunData) -> None:
        """`name` shown with `data` (new, or read again into fresh data): its view, its entry
        in the store, and the listing_log line that tells viewers it moved."""
        self._views[name] = Run(data)
        self.listing_log.append(name)
        self.store.runs[name] = data

    def _register(self, rf: discovery.RunFiles) -> RunLoader:
        """A loader and an empty view for a run found but not read yet."""
        ld = self._loaders.get(rf.name)
        if ld is None:
            ld = self._loaders[rf.name] = RunLoader.new(rf)
            self._new_view(rf.name, ld.data)
        return ld

    def _drop_missing(self, found: dict[str, discovery.RunFiles]) -> Changes:
        """Forget runs no longer found (their directory or every file of theirs is gone)."""
        removed = frozenset(set(self._loaders) - set(found))
        if not removed:
            return Changes(version=self.version)
        for name in removed:
            del self._loaders[name]
            self._views.pop(name, None)
            self.listing_log.append(name)
            self.store.runs.pop(name, None)
        self.store.version += 1
        return Changes(removed_runs=removed, version=self.version)

    def _targets(self, paths: Iterable[str]) -> list[str] | None:
        """The runs to read for changed `paths`, or None to rediscover. A path is known when it
        is a data, config or run file of a run already read; a path inside a hidden directory
        (below a root) is skipped, since discovery never looks there (tuiboard.init writes its
        files there first, then renames them into place: once a second for a live run)."""
        by_dir: dict[str, list[str]] = {}
        for name, ld in self._loaders.items():
            by_dir.setdefault(ld.files.path, []).append(name)
        targets: set[str] = set()
        for p in paths:
            p = os.path.abspath(p)
            if self._hidden(p):
                continue
            names = by_dir.get(os.path.dirname(p))
            known = names and any(_holds(self._loaders[n], p) for n in names)
            if not known:
                return None
            targets.update(names or ())
        return sorted(targets)

    def _hidden(self, path: str) -> bool:
        for root in self._roots:
            prefix = root.path.rstrip(os.sep) + os.sep
            if path.startswith(prefix):
                parts = path[len(prefix) :].split(os.sep)[:-1]
                return any(part[:1] == "." for part in parts)
        return False

    def _read(
        self, found: dict[str, discovery.RunFiles], names: Iterable[str], parallel: bool = True
    ) -> Changes:
        with reading(self._sources):
            return self._read_runs(found, names, parallel)

    def _read_runs(
        self, found: dict[str, discovery.RunFiles], names: Iterable[str], parallel: bool
    ) -> Changes:
        changed: set[str] = set()
        new: set[str] = set()
        points = records = nbytes = 0
        names = list(names)
        fresh = []
        for name in names:
            ld = self._loaders.get(name)
            if ld is None:
                ld = self._register(found[name])
                new.add(name)
            if not ld.cursors:
                fresh.append(ld)
        done: dict[str, ReadResult] = {}
        groups = _parallel_groups(fresh) if parallel else None
        if groups is not None:
            for ld, res in read_in_workers(groups, PREREAD_MIN_RUNS):
                name = ld.files.name
                self._loaders[name] = ld
                done[name] = res
        elif len(fresh) >= PREREAD_MIN_RUNS:
            preread_small(fresh)  # many small runs never read: their event files in one batch
        for name in names:
            rf = found[name]
            ld = self._loaders[name]
            if name in done:
                res = done[name]
                self._new_view(name, ld.data)
                changed.add(name)
                points += res.points
                records += res.records
                nbytes += res.bytes_read
                continue
            first_read = not ld.cursors
            if rf is ld.files and not first_read and ld.unchanged():
                continue  # the same files (the discovery cache's object), none of them changed
            res = ld.refresh(rf)
            if res.reset:
                # A file shrank or was replaced: read the whole run again into fresh data.
                base = ld.data.next_version_base()
                ld = self._loaders[name] = RunLoader.new(rf)
                ld.data.version_base = base
                res = ld.refresh(rf)
                res.changed = True
            if name not in self._views or self._views[name]._data is not ld.data:
                self._new_view(name, ld.data)
            if res.changed or first_read:
                changed.add(name)
            points += res.points
            records += res.records
            nbytes += res.bytes_read
        self._bytes_read += nbytes
        self._records += records
        if changed:
            self.store.version += 1
        return Changes(
            frozenset(changed), frozenset(new), frozenset(), points, self.version, records, nbytes
        )


PARALLEL_MIN_BYTES = 24 << 20
"""Runs never read holding at least this many bytes (local files) are read by worker
processes, one per core (loader.read_in_workers); below it a fork and the pickled results
cost more than they save (bench/bench_load.py)."""
PARALLEL = True
"""Off: every read in this process (TUIBOARD_WORKERS=1 in the environment does the same)."""


def _parallel_groups(fresh: list[RunLoader]) -> list[list[discovery.RunFiles]] | None:
    """The runs never read split into one group a worker (balanced by bytes), or None to read
    them here: a single core, a small load, a URL, threads (forking a process with other
    threads running may copy a lock held mid-operation: the app's first load runs beside its
    UI thread), or a platform other than Linux."""
    if not PARALLEL or len(fresh) < 2:
        return None
    workers = min(forking.fork_cores(), len(fresh))
    if workers < 2:
        return None
    sizes: list[tuple[int, discovery.RunFiles]] = []
    total = 0
    for ld in fresh:
        rf = ld.files
        n = 0
        for path in (*rf.event_files, *rf.jsonl_files, *rf.csv_files, *rf.wandb_files):
            if "://" in path:
                return None
            with contextlib.suppress(OSError):
                n += os.stat(path).st_size
        sizes.append((n, rf))
        total += n
    if total < PARALLEL_MIN_BYTES:
        return None
    groups: list[list[discovery.RunFiles]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for n, rf in sorted(sizes, key=lambda x: -x[0]):  # biggest first, to the lightest group
        i = loads.index(min(loads))
        groups[i].append(rf)
        loads[i] += n
    return [g for g in groups if g]


def _holds(loader: RunLoader, path: str) -> bool:
    """Whether `path` is a file the run already reads (data, config or run file)."""
    files = loader.files
    return path in loader.cursors or path in files.meta_files or path in files.config_files


def _make_root(name: str, path: str, storage_options: dict[str, object] | None) -> _Root:
    if not is_url(path):
        return _Root(name, os.path.abspath(os.path.expanduser(path)), {})
    from tuiboard.core.remote import make_source

    src = make_source(path, storage_options)
    return _Root(name, src.url, {}, src)


def _base_name(path: str) -> str:
    if is_url(path):
        return path.rstrip("/").rpartition("/")[2]
    return os.path.basename(os.path.normpath(os.path.abspath(path)))


def open(
    *specs: str, load: bool = True, storage_options: dict[str, object] | None = None
) -> Logdir:
    """Open one or more logdirs ("path", "name:path", or a URL such as "s3://bucket/logs",
    read through fsspec with `storage_options`) and read them (unless load=False: a viewer
    that shows progress calls refresh_iter() itself)."""
    ld = Logdir(list(specs), storage_options)
    if load:
        ld.refresh()
    return ld
