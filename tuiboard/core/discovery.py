"""Which directories under a logdir are runs, and which of their files feed them.

Owns: the walk of a logdir (TensorBoard's rule: a directory directly holding an event file is a
run, runs nest; plus directories holding a metric JSONL file or CSV log, jsonl-runs.md, or a
W&B `*.wandb` file, wandb-format.md), the per-run file lists, and the warnings for directories
that cannot be read, and their plain-value form (pack_runs, pack_cache: a walk made in a child
process is sent back so, core/walk_ahead.py). It reads no file contents except the first line
of a metric-log candidate (through jsonl.sniff_metrics_state and csvlog.sniff_csv_state, cached
by the caller). A directory holding tuiboard.init's run file (core/runmeta.RUN_META) is a run
too: it is one from its start, before its first metrics line.
Must not import: textual, rich, or tuiboard modules other than core.types, core.jsonl,
core.csvlog, core.config, core.runmeta. A remote logdir (core/remote.py) is walked by the same
rules through discover_listed, over the listing it made.

The walk uses os.scandir: the file type comes with the directory entry, so there is no stat per
file or per directory. Symbolic links to directories are followed (one stat and a realpath, for
links only), except a link to the directory holding it or to one of its ancestors (a loop) and a
second link to a target already walked through a link. A directory reachable both directly and
through a link appears under both names, as in TensorBoard, except through a link to a sibling
(a directory in the same directory as the link): that directory is walked under its own name
anyway, and such links are "latest" pointers (W&B's `wandb/latest-run`), not second runs.
Hidden directories (".git", ".venv", ...) and __pycache__ are skipped.

Speed (bench/bench_discovery.py, this 2-core machine, warm page cache): a logdir of 1,000 run
directories with one event file each is discovered in about 8.5 ms (budget: 50 ms); a nested one
(sweep/seed/run with a checkpoints/ directory each: 2,111 directories) in about 18 ms; 1,000
JSONL runs in about 9 ms, or 19 ms on the first walk (every first line sniffed). With a DirCache
(Logdir keeps one a local root), a walk where nothing changed costs one stat a directory instead
of a scandir and a pass over its entries (bench/bench_scale.py, 10,111 directories: ~3x faster).
"""

from __future__ import annotations

import itertools
import operator
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

from tuiboard.core.config import CONFIG_NAMES
from tuiboard.core.csvlog import is_csv_candidate, sniff_csv_state
from tuiboard.core.jsonl import FRAMEWORK_NAMES, sniff_metrics_state
from tuiboard.core.runmeta import RUN_META
from tuiboard.core.types import ReadWarning

PROJECTOR_CONFIG = "projector_config.pbtxt"
"""TensorBoard's projector looks for this name in each run directory."""
PROFILE_EMPTY = ".profile-empty"
SKIPPED_DIRS = frozenset({"__pycache__"})
WANDB_SUFFIX = ".wandb"
"""W&B's run file, `run-<id>.wandb`."""
WANDB_SUMMARY = "wandb-summary.json"
"""Old W&B's summary (read into the run's RunMeta.summary when the directory is a run)."""
_CONFIG_NAMES = frozenset(CONFIG_NAMES)
_OTHER_NAMES = _CONFIG_NAMES | {PROJECTOR_CONFIG, RUN_META, WANDB_SUMMARY}
"""The files a run directory may hold beside its data, known by their whole name."""


@dataclass(slots=True)
class RunFiles:
    """The files of one run as found by one walk. Lists hold absolute paths sorted by name."""

    name: str
    """Path relative to the root, "/"-separated; "." for the root itself."""
    path: str
    """Absolute directory path."""
    event_files: list[str] = field(default_factory=list)
    jsonl_files: list[str] = field(default_factory=list)
    """Metric logs (sniffed: their first line holds a step or time key)."""
    csv_files: list[str] = field(default_factory=list)
    """CSV metric logs (Lightning's metrics.csv, Keras' CSVLogger files; sniffed: csvlog)."""
    config_files: list[str] = field(default_factory=list)
    projector_configs: list[str] = field(default_factory=list)
    meta_files: list[str] = field(default_factory=list)
    """tuiboard.init's run file (RUN_META): display name, tags, summary, exit code."""
    wandb_files: list[str] = field(default_factory=list)
    """W&B run files (`run-<id>.wandb`)."""
    summary_files: list[str] = field(default_factory=list)
    """Old W&B's `wandb-summary.json` beside the run's other files."""


def is_event_file(name: str) -> bool:
    """TensorBoard's rule: the name contains "tfevents", except the profiler's empty marker."""
    return "tfevents" in name and not name.endswith(PROFILE_EMPTY)


@dataclass(slots=True)
class _Listed:
    """What one directory's listing gave the walk, kept while the directory's mtime holds."""

    mtime_ns: int
    run: RunFiles | None
    subdirs: list[_Pending]
    """What it pushes on the walk's stack: its real (non-link) subdirectories, in reverse name
    order."""
    candidates: tuple[str, ...]
    """Its metric-log candidates (their sniff verdicts are settled)."""


DirCache = dict[str, _Listed]
"""A local discover()'s memory of directory listings, by directory path (see discover)."""

RACY_NS = 2_000_000_000
"""A directory modified less than this before a walk is listed again by the next walk: a file
made in the same timestamp tick as the listing (coarse filesystem clocks) would leave its mtime
unchanged (git's "racily clean" problem)."""


def discover(
    root: str, known_jsonl: dict[str, bool] | None = None, dir_cache: DirCache | None = None
) -> tuple[dict[str, RunFiles], list[ReadWarning]]:
    """Walk `root` and return its runs by name, plus warnings for what could not be read.

    `known_jsonl` (path -> is a metric log; JSONL and CSV candidates alike) is the caller's
    cache of sniff results, kept between calls so a refresh does not read first lines again; it
    is filled in here. Only settled answers are cached: a candidate with no complete line yet is
    asked again next time, and entries for files no longer found are dropped (a file made again
    is sniffed again).

    `dir_cache` (kept by the caller between calls, filled in here) spares listing again a
    directory whose mtime has not changed: one stat instead of a scandir and a pass over its
    entries (a no-change walk of 10,111 directories: ~3x faster). A directory's mtime changes
    when an entry is made, removed or renamed in it, which is all a listing shows; files
    appended in place do not change it, and the loaders stat those themselves. Not kept: a
    directory holding a link to a directory (the link rules depend on the whole walk), one
    reached through a link, one holding a metric-log candidate not settled yet, and one
    modified within RACY_NS of the walk. The RunFiles of a directory taken from the cache is
    the same object as last time (callers may compare them with `is`); treat it as read-only.
    """
    root_path = os.path.abspath(root)
    runs: dict[str, RunFiles] = {}
    warnings: list[ReadWarning] = []
    if not os.path.isdir(root_path):
        reason = "logdir is not a directory" if os.path.exists(root_path) else "no such logdir"
        warnings.append(ReadWarning(file=root_path, message=reason))
        return runs, warnings
    return _walk_tree(root_path, _scandir, known_jsonl, runs, warnings, dir_cache)


class Entry(Protocol):
    """What the walk reads of a directory entry: os.DirEntry, or a remote listing's."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    def is_dir(self, *, follow_symlinks: bool = True) -> bool: ...
    def is_symlink(self) -> bool: ...


def _scandir(path: str) -> Sequence[Entry]:
    with os.scandir(path) as entries:
        return list(entries)


def discover_listed(
    root: str,
    listdir: Callable[[str], Sequence[Entry]],
    known_jsonl: dict[str, bool] | None = None,
) -> tuple[dict[str, RunFiles], list[ReadWarning]]:
    """discover() over directory listings another source gives (a remote store's, whose
    paths are URLs and which has no links). `listdir(path)` may raise OSError."""
    return _walk_tree(root, listdir, known_jsonl, {}, [])


def _walk_tree(
    root_path: str,
    listdir: Callable[[str], Sequence[Entry]],
    known_jsonl: dict[str, bool] | None,
    runs: dict[str, RunFiles],
    warnings: list[ReadWarning],
    dir_cache: DirCache | None = None,
) -> tuple[dict[str, RunFiles], list[ReadWarning]]:
    walk = _Walk(known_jsonl if known_jsonl is not None else {}, warnings)
    # Depth first with an explicit stack (no recursion limit on deep trees); children are
    # pushed in reverse name order so they are walked in name order.
    stack: list[_Pending] = [(root_path, ".", ())]
    old = dir_cache.copy() if dir_cache is not None else None
    kept: DirCache = {}
    settled_before = time.time_ns() - RACY_NS
    cached_candidates = 0
    stat = os.stat
    while stack:
        path, name, chain = stack.pop()
        mtime_ns = -1
        if old is not None and not chain:
            try:
                mtime_ns = stat(path).st_mtime_ns
            except OSError:
                mtime_ns = -1
            hit = old.get(path)
            if hit is not None and hit.mtime_ns == mtime_ns:
                kept[path] = hit
                cached_candidates += len(hit.candidates)
                stack.extend(hit.subdirs)
                if hit.run is not None:
                    runs[name] = hit.run
                continue
        try:
            listing = listdir(path)
        except OSError as error:
            warnings.append(ReadWarning(file=path, message=f"cannot read directory: {_why(error)}"))
            continue
        depth = len(stack)
        run = walk.scan(path, name, chain, listing, stack)
        if run is not None:
            runs[name] = run
        if 0 <= mtime_ns < settled_before and walk.cacheable:
            kept[path] = _Listed(mtime_ns, run, stack[depth:], tuple(walk.last_candidates))
    if dir_cache is not None:
        dir_cache.clear()
        dir_cache.update(kept)
    if known_jsonl is not None and len(known_jsonl) > len(walk.candidates) + cached_candidates:
        seen = walk.candidates
        for listed in kept.values():
            seen.update(listed.candidates)
        for stale in [p for p in known_jsonl if p not in seen]:
            del known_jsonl[stale]
    names = list(runs)
    if all(a < b for a, b in itertools.pairwise(names)):
        return runs, warnings  # walked in name order already (no sibling sorts between)
    return dict(sorted(runs.items())), warnings


_Pending = tuple[str, str, tuple[str, ...]]
"""(directory path, run name, real paths of the directories holding the links followed on the
way to it): what is left to walk."""


class _Walk:
    """State of one discover() call. Real directories form a tree and need no bookkeeping; a
    link to a directory is walked unless its target is the real path of the directory holding
    it, or of one of its ancestors on the way there (a loop, also through other links), or was
    already walked through another link (no blow-up on webs of links)."""

    __slots__ = (
        "cache",
        "cacheable",
        "candidates",
        "last_candidates",
        "link_targets",
        "warnings",
    )

    def __init__(self, cache: dict[str, bool], warnings: list[ReadWarning]) -> None:
        self.cache = cache
        self.candidates: set[str] = set()
        """Metric-log candidates seen by this walk."""
        self.warnings = warnings
        self.link_targets: set[str] = set()
        self.cacheable = True
        """Whether the last scan() may be kept in a DirCache (no link to a directory in it, no
        unsettled candidate)."""
        self.last_candidates: list[str] = []

    def _follow(self, here: str, chain: tuple[str, ...], link: str) -> bool:
        target = os.path.realpath(link)
        if target in self.link_targets:
            return False
        prefix = target.rstrip(os.sep) + os.sep
        for held in (*chain, here):
            if held == target or held.startswith(prefix):
                return False
        self.link_targets.add(target)
        return True

    def scan(
        self,
        path: str,
        name: str,
        chain: tuple[str, ...],
        listing: Sequence[Entry],
        stack: list[_Pending],
    ) -> RunFiles | None:
        # A run directory usually holds one or two files and a sweep's folders only
        # directories: the lists are made when a first entry of theirs is found (10,111
        # directories of bench_scale: ~20 % of the walk's time went into empty lists).
        events: list[str] | None = None
        jsonl: list[str] | None = None
        csvs: list[str] | None = None
        wandb: list[str] | None = None
        other: list[tuple[str, str]] | None = None
        """Config, projector, run and W&B summary files: (base name, path)."""
        subdirs: list[tuple[str, str, tuple[str, ...]]] | None = None
        here = ""
        self.cacheable = True
        self.last_candidates = []
        for entry in listing:
            base = entry.name
            try:
                # following a link costs a stat and a realpath: for links only (is_dir()
                # stats only a link; for anything else the listing's file type answers)
                is_dir = entry.is_dir()
                link = is_dir and entry.is_symlink()
            except OSError:
                link = is_dir = False
            if is_dir:
                if base[:1] == "." or base in SKIPPED_DIRS:
                    continue
                if subdirs is None:
                    subdirs = []
                if not link:
                    subdirs.append((base, entry.path, chain))
                    continue
                self.cacheable = False
                here = here or os.path.realpath(path)
                target = os.path.realpath(entry.path)
                sibling = os.path.basename(target)
                if (
                    os.path.dirname(target) == here
                    and sibling[:1] != "."
                    and sibling not in SKIPPED_DIRS
                ):
                    continue  # a link to a sibling (wandb/latest-run): walked under its name
                if self._follow(here, chain, entry.path):
                    subdirs.append((base, entry.path, (*chain, here)))
                continue
            if "tfevents" in base:
                if not base.endswith(PROFILE_EMPTY):
                    if events is None:
                        events = []
                    events.append(entry.path)
            elif base in _OTHER_NAMES:
                if other is None:
                    other = []
                other.append((base, entry.path))
            elif base.endswith(WANDB_SUFFIX):
                if wandb is None:
                    wandb = []
                wandb.append(entry.path)
            elif (base.endswith(".jsonl") or base in FRAMEWORK_NAMES) and self._sniffed(
                entry.path, sniff_metrics_state
            ):
                if jsonl is None:
                    jsonl = []
                jsonl.append(entry.path)
            elif is_csv_candidate(base) and self._sniffed(entry.path, sniff_csv_state):
                if csvs is None:
                    csvs = []
                csvs.append(entry.path)
        if subdirs is not None:
            subdirs.sort(reverse=True)
            prefix = "" if name == "." else name + "/"
            for base, full, links in subdirs:
                stack.append((full, prefix + base, links))
        metas: list[str] = []
        if other is not None:
            metas = [p for base, p in other if base == RUN_META]
        if events is None and jsonl is None and csvs is None and not metas and wandb is None:
            return None
        configs: list[str] = []
        projectors: list[str] = []
        summaries: list[str] = []
        if other is not None:
            configs = sorted(p for base, p in other if base in _CONFIG_NAMES)
            projectors = [p for base, p in other if base == PROJECTOR_CONFIG]
            summaries = [p for base, p in other if base == WANDB_SUMMARY]
        return RunFiles(
            name,
            path,
            _in_order(events),
            _in_order(jsonl),
            _in_order(csvs),
            configs,
            projectors,
            metas,
            _in_order(wandb),
            summaries,
        )

    def _sniffed(self, path: str, sniff: Callable[[str], bool | None]) -> bool:
        """A candidate's cached verdict, sniffed on first sight (an unsettled one, again)."""
        self.candidates.add(path)
        self.last_candidates.append(path)
        known = self.cache.get(path)
        if known is None:
            sniffed = sniff(path)
            if sniffed is not None:
                self.cache[path] = sniffed
            else:
                self.cacheable = False  # sniffed again next walk, when it may have its line
            known = bool(sniffed)
        return known


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _in_order(found: list[str] | None) -> list[str]:
    """A run's files of one kind in name order; None (the walk made no list: none found) is
    an empty one."""
    if found is None:
        return []
    if len(found) > 1:
        found.sort()
    return found


RunFields = tuple[
    str, str, list[str], list[str], list[str], list[str], list[str], list[str], list[str], list[str]
]
"""A RunFiles as plain values, its fields in order (pack_runs)."""
PackedCache = list[tuple[str, int, int, list[_Pending], tuple[str, ...]]]
"""A DirCache as plain values (pack_cache): (directory, mtime_ns, index of its run or -1,
subdirectories pending, candidates)."""


_RUN_FIELDS = operator.attrgetter(*(f.name for f in fields(RunFiles)))
"""A RunFiles' fields in order, as one tuple (the class's own list: a field added to it is
packed too)."""


def pack_runs(runs: Sequence[RunFiles]) -> list[RunFields]:
    """RunFiles as plain tuples: marshal sends them cheaply (a walk in a child process,
    core/walk_ahead.py; 10,000 runs: ~15 ms to marshal, ~8 ms back, ~3 ms to make again)."""
    return [_RUN_FIELDS(rf) for rf in runs]


def unpack_runs(packed: Sequence[RunFields]) -> list[RunFiles]:
    return [RunFiles(*fields) for fields in packed]


def pack_cache(cache: DirCache, runs: Sequence[RunFiles]) -> PackedCache:
    """A DirCache as plain values; its RunFiles as indexes into `runs` (every one of them is
    there: a walk's cached runs are among the runs it found)."""
    index = {id(rf): i for i, rf in enumerate(runs)}
    return [
        (path, li.mtime_ns, -1 if li.run is None else index[id(li.run)], li.subdirs, li.candidates)
        for path, li in cache.items()
    ]


def unpack_cache(packed: PackedCache, runs: Sequence[RunFiles]) -> DirCache:
    """The DirCache pack_cache packed, its runs the very objects of `runs` (a later walk
    hands back a cached run as the same object: callers compare them with `is`)."""
    return {
        path: _Listed(mtime_ns, None if i < 0 else runs[i], subdirs, candidates)
        for path, mtime_ns, i, subdirs, candidates in packed
    }
