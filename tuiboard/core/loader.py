"""Per run: its files, how far each was read, and turning what the readers parse into store updates.

Owns: FileCursor (one file's offset, identity and reader state) and RunLoader (one run's files,
in name order, applied to its RunData). Reads only the bytes appended since last time, in chunks,
so a refresh costs what was appended, not the size of the file.
Must not import: textual, rich.

A file is *active* while it can still grow and *dead* once framing was lost in it (a bad length
CRC): a dead file is not read again unless it is replaced. A file that shrinks or is replaced (new
inode) makes the whole run be read again from scratch into a fresh RunData, because its points are
already mixed into the run's series; readers holding the old RunData keep a consistent view.
A file that vanishes keeps the points already read, and the run gets a warning.
Files are stat'ed and opened through core/source.py: os.stat and open for local paths, the last
listing and ranged reads for a remote logdir's URLs (core/remote.py).

A first load of many runs has two shortcuts, each giving what the per-run path gives (tests/core/
test_tfevents_many.py, test_jsonl_many.py, test_parallel_load.py): preread_small decodes the small
event files of many runs never read in one batch (a sweep's runs: ~2.4 ms of fixed cost a file
becomes ~0.3 ms) and parses their small JSONL files together (jsonl.read_jsonl_many: the files of
one layout by one regex pass and one np.fromstring a join, bench_scale's 5,000 JSONL runs 1.6 ->
1.15 s of CPU), and read_in_workers reads runs in forked worker processes, one per core (this
process reads a share too), that send the loaders back pickled: only the published cells of each
column, a histogram series as one block, every array out of band, read by this process straight into
memory of its own (_send/_receive); after that the watcher goes on from their
cursors. Logdir decides when (logdir._parallel_groups).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tuiboard.core import config as config_mod
from tuiboard.core import (
    csvlog,
    forking,
    jsonl,
    projector,
    runmeta,
    source,
    tfevents,
    tfevents_values,
    wandb,
)
from tuiboard.core.discovery import RunFiles
from tuiboard.core.store import RunData, ScalarSeries, ValueSeries
from tuiboard.core.types import (
    HPARAMS,
    SESSION_START,
    HParamsValue,
    Parsed,
    ReadWarning,
    RunMeta,
    ScalarColumns,
    TagMeta,
    ValueRecord,
)

CHUNK = 192 << 10
"""Bytes read per call: bounds the transient buffer and the decoder's temporaries (2-4 times the
chunk), and so peak memory, on big files. Measured on medium (85 MB, 1.28M points; peak bytes
a point above baseline / events a second, fresh process, noisy machine): 16 MiB 51 / 3.8M,
1 MiB 34 / 4.6M, 512 KiB 34 / 4.2M, 256 KiB 32 / 3.9M, 192 KiB 31.5 / 3.5M, 128 KiB 31.6 /
2.8M. Held memory is ~31 at every size; each read costs ~0.3 ms of fixed numpy work."""
WANDB_CHUNK = 8 << 20
"""Bytes read per call from a `.wandb` file: its reader cuts all blocks of a buffer in lockstep
(numpy passes over every block at once), so it wants many blocks a call; 8 MiB is 256 blocks."""
RESERVE_HEADROOM = 1.125
"""Room reserved beyond a file's extrapolated points. Untouched, it costs no resident memory
(large columns are anonymous mappings, see store._columns), and live appends fill it without
copying the columns."""
TRIM_AFTER = 8 << 20
"""A refresh of a run that read this many bytes hands the allocator's free heap pages back."""


HEAD_BYTES = 64
"""How much of a file's start is kept to notice it being rewritten in place (FileCursor.head)."""


def _read_head(path: str, n: int) -> bytes:
    try:
        with source.open_binary(path) as fh:
            return fh.read(n)
    except OSError:
        return b""


HEAP_KEEP = 8 << 20
"""glibc M_TRIM_THRESHOLD and M_MMAP_THRESHOLD / 8 (see _glibc_malloc)."""


def _glibc_malloc() -> Callable[[int], int] | None:
    """Tune glibc's allocator for chunked reads; return its malloc_trim (None, and nothing done,
    on other platforms and C libraries).

    Each read allocates and frees the same few hundred KB of temporaries. By default glibc
    hands the top of its heap back to the system whenever more than 128 KiB is free there and
    maps big blocks afresh, so every read pays page faults again for the same memory (~25 % of
    the load time with 256 KiB reads). A high trim threshold and mmap threshold keep those
    pages between reads; it costs no peak (the pages are in use during a read anyway), and
    after a refresh that read much, malloc_trim(0) returns them. Columns and packed histograms
    are mappings of their own and never sit in the heap."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):
            return None  # musl and others: other allocators, other constants
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_trim_threshold, HEAP_KEEP)
        libc.mallopt(m_mmap_threshold, HEAP_KEEP // 8)
        trim: Callable[[int], int] = libc.malloc_trim
        return trim
    except (OSError, AttributeError, TypeError):
        return None


_trim = _glibc_malloc()


@dataclass(slots=True)
class FileCursor:
    path: str
    fmt: str
    """"tfevents", "jsonl", "csv" or "wandb"."""
    inode: int = -1
    offset: int = 0
    """Absolute offset just past the last complete, handled record or line."""
    size: int = 0
    mtime: float = 0.0
    dead: bool = False
    vanished: bool = False
    jsonl_state: jsonl.JsonlState | None = None
    csv_state: csvlog.CsvState | None = None
    wandb_state: wandb.WandbState | None = None
    etag: str = ""
    """A remote object's ETag/generation from the listing ("" for a local file): a new one
    with the same size means the object was rewritten whole."""
    head: bytes = b""
    """The file's first bytes when first read: writers only append, so different first bytes
    under the same inode mean the file was rewritten in place (truncated and written again).
    For a CSV file, its whole header line: Lightning rewrites metrics.csv with one more column
    when a new metric appears, and the new name may lie past any fixed count of bytes."""


@dataclass(slots=True)
class ReadResult:
    changed: bool = False
    points: int = 0
    records: int = 0
    bytes_read: int = 0
    reset: bool = False


_NO_META = RunMeta()
"""The RunMeta of every run until its files say more (RunLoader.new)."""


@dataclass(slots=True)
class RunLoader:
    """Reads one run's files into its RunData. Only the loader thread calls it."""

    files: RunFiles
    data: RunData
    cursors: dict[str, FileCursor] = field(default_factory=dict)
    tags: dict[str, TagMeta] = field(default_factory=dict)
    """Per-run tag metadata: writers send it only with a tag's first value."""
    starts_seen: int = 0
    config_mtimes: dict[str, float] = field(default_factory=dict)
    file_warnings: dict[tuple[str, int | None, int | None], ReadWarning] = field(
        default_factory=dict
    )
    meta_stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    """(inode, mtime_ns) of each run file when last read: it is replaced whole when rewritten."""
    stamps: list[tuple[str, int, int, int]] | None = None
    """unchanged()'s memory of every file's stat after the last refresh (None: to be taken)."""
    preread: dict[str, tuple[int, bytes, dict[str, TagMeta], tfevents.EventsRead]] | None = None
    """Small event files already read whole and decoded by preread_small: (inode, bytes, the
    tag metadata after them, what read_events gives of them), used by the next refresh when
    the file is still that size."""
    preread_jsonl: dict[str, tuple[int, int, bytes, int, Parsed, jsonl.JsonlState]] | None = None
    """Small JSONL files already read whole and parsed by preread_small: (inode, size, first
    bytes, bytes consumed, what read_jsonl gave, the state after it), as preread."""
    chunk: int = 0
    """Bytes a read of an event file (0: CHUNK); read_group's WORKER_CHUNK while it reads."""

    @classmethod
    def new(cls, files: RunFiles) -> RunLoader:
        # RunMeta is frozen and replaced whole (never changed in place): a run not read yet
        # shares the empty one (making one cost ~5 us, half of registering a run)
        return cls(files=files, data=RunData(name=files.name, path=files.path, meta=_NO_META))

    def unchanged(self) -> bool:
        """Whether refresh() with the same RunFiles would find nothing to do: every file read
        before has the inode, size and mtime it had, and every config and run file its stamp.
        One stat per file and little else: what a no-change refresh of many runs costs. False
        (refresh decides) on any doubt: a file missing, not read yet, gone from the listing or
        changed."""
        stamps = self.stamps
        if stamps is None:
            stamps = self.stamps = self._stamps()
            if stamps is None:
                return False
        stat = source.stat
        try:
            for path, ino, size, mtime in stamps:
                st = stat(path)
                if st.st_mtime_ns != mtime or st.st_size != size or st.st_ino != ino:
                    return False
        except OSError:
            return False
        return True

    def _stamps(self) -> list[tuple[str, int, int, int]] | None:
        """(path, inode, size, mtime_ns) that unchanged() expects of each file (-1: any), or
        None when the run's state is not one unchanged() can vouch for."""
        files = self.files
        cursors = self.cursors
        listed = (
            len(files.event_files)
            + len(files.jsonl_files)
            + len(files.csv_files)
            + len(files.wandb_files)
        )
        if len(cursors) != listed:
            return None  # a file not read yet, or one gone from the listing
        out: list[tuple[str, int, int, int]] = []
        stat = source.stat
        try:
            for cur in cursors.values():
                if cur.vanished or cur.inode == -1:
                    return None
                st = stat(cur.path)
                if st.st_mtime != cur.mtime or st.st_size != cur.size or st.st_ino != cur.inode:
                    return None
                out.append((cur.path, cur.inode, cur.size, st.st_mtime_ns))
            for paths in (files.config_files, files.projector_configs, files.summary_files):
                for path in paths:
                    st = stat(path)
                    if self.config_mtimes.get(path) != st.st_mtime:
                        return None
                    out.append((path, st.st_ino, st.st_size, st.st_mtime_ns))
            for path in files.meta_files:
                st = stat(path)
                if self.meta_stamps.get(path) != (st.st_ino, st.st_mtime_ns):
                    return None
                out.append((path, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            return None
        return out

    def refresh(self, files: RunFiles | None = None) -> ReadResult:
        """Read what is new in every file of the run. `files` is the latest discovery result."""
        if files is not None:
            self.files = files
        self.stamps = None
        result = ReadResult()
        found = {p: "tfevents" for p in self.files.event_files}
        found.update((p, "jsonl") for p in self.files.jsonl_files)
        found.update((p, "csv") for p in self.files.csv_files)
        found.update((p, "wandb") for p in self.files.wandb_files)
        # Files read before and gone from the listing are checked too: they vanished.
        found.update((p, c.fmt) for p, c in self.cursors.items() if p not in found)
        wanted = sorted(found.items())
        for path, fmt in wanted:
            cur = self.cursors.get(path)
            if cur is None:
                cur = self.cursors[path] = FileCursor(path, fmt)
            try:
                st = source.stat(path)
            except OSError:
                if not cur.vanished and cur.inode != -1:
                    cur.vanished = True
                    self._warn(ReadWarning(path, "file vanished; the points read stay shown"))
                    result.changed = True
                continue
            if cur.inode != -1 and (st.st_ino != cur.inode or st.st_size < cur.offset):
                result.reset = True
                return result
            cur.vanished = False
            cur.inode = st.st_ino
            if st.st_mtime > self.data.last_write:
                self.data.last_write = st.st_mtime
            etag = getattr(st, "etag", "")  # a remote object's (core/remote.py); local: ""
            unchanged = st.st_size == cur.size and st.st_mtime == cur.mtime and etag == cur.etag
            if unchanged:
                continue  # nothing new (an incomplete tail is retried once the file changes)
            if etag != cur.etag and cur.etag and st.st_size == cur.size:
                result.reset = True  # rewritten whole with the same size (S3 times are 1 s)
                return result
            cur.etag = etag
            if cur.head and _read_head(path, len(cur.head)) != cur.head:
                result.reset = True
                return result
            if cur.dead or st.st_size == cur.offset:
                cur.size, cur.mtime = st.st_size, st.st_mtime
                continue
            cur.size, cur.mtime = st.st_size, st.st_mtime
            pre = self.preread.pop(path, None) if self.preread else None
            if pre is not None and cur.offset == 0 and not self.tags:
                ino, data, tags, got = pre
                if ino == st.st_ino and len(data) == st.st_size:
                    self.tags.update(tags)
                    self._take_preread(cur, data, got, result)
                    continue
            jpre = self.preread_jsonl.pop(path, None) if self.preread_jsonl else None
            if jpre is not None and cur.offset == 0 and cur.fmt == "jsonl":
                ino, size, head, consumed, parsed, state = jpre
                if ino == st.st_ino and size == st.st_size:
                    # what _read_file does with the file read whole in one chunk
                    cur.head = head
                    result.bytes_read += size
                    cur.jsonl_state = state
                    self._apply(parsed, cur.fmt, result)
                    cur.offset += consumed
                    continue
            if cur.fmt == "csv":
                if not cur.head.endswith(b"\n"):  # until the header line is complete
                    cur.head = csvlog.read_header_line(path)
            elif not cur.head and cur.offset:
                cur.head = _read_head(path, HEAD_BYTES)
            self._read_file(cur, result)  # from offset 0: takes the head from its first read
        self.preread = self.preread_jsonl = None
        self._read_configs(result)
        self._read_run_meta(result)
        if _trim is not None and result.bytes_read >= TRIM_AFTER:
            _trim(0)  # the decoder's freed temporaries: ~0.3 ms, up to a few MB not held
        if result.changed:
            self.data.version += 1
        self.data.formats = frozenset(c.fmt for c in self.cursors.values())
        return result

    # -- files -----------------------------------------------------------------------------------

    def _take_preread(
        self, cur: FileCursor, data: bytes, got: tfevents.EventsRead, result: ReadResult
    ) -> None:
        """What _read_file does with a whole file read in one chunk, from preread_small's read."""
        cur.head = data[:HEAD_BYTES]
        result.bytes_read += len(data)
        if got.fatal:
            cur.dead = True
        self._apply(got.parsed, cur.fmt, result)
        cur.offset += got.consumed

    def _read_file(self, cur: FileCursor, result: ReadResult) -> None:
        try:
            fh = source.open_binary(cur.path)  # closed in finally, read in a loop
        except OSError as e:
            self._warn(ReadWarning(cur.path, f"cannot open: {e.strerror or e}"))
            result.changed = True
            return
        base = WANDB_CHUNK if cur.fmt == "wandb" else self.chunk or CHUNK
        try:
            want = base
            first = True
            walker = tfevents.tfr.Walker()  # the framing's pattern, from chunk to chunk
            while cur.offset < cur.size:
                fh.seek(cur.offset)
                n = min(want, cur.size - cur.offset)
                buf = fh.read(n)
                if not buf:
                    break
                at_eof = cur.offset + len(buf) >= cur.size
                result.bytes_read += len(buf)
                if cur.offset == 0 and not cur.head and cur.fmt != "csv":
                    cur.head = buf[:HEAD_BYTES]
                if cur.fmt == "tfevents":
                    got = tfevents.read_events(
                        buf, cur.offset, cur.path, self.tags, at_eof=at_eof, walker=walker
                    )
                    consumed, parsed = got.consumed, got.parsed
                    if got.fatal:
                        cur.dead = True
                    need = got.need
                elif cur.fmt == "csv":
                    if cur.csv_state is None:
                        cur.csv_state = csvlog.CsvState()
                    consumed, parsed = csvlog.read_csv(buf, cur.offset, cur.path, cur.csv_state)
                    need = 0 if consumed or at_eof else len(buf) * 2
                elif cur.fmt == "wandb":
                    if cur.wandb_state is None:
                        cur.wandb_state = wandb.WandbState()
                    wgot = wandb.read_wandb(buf, cur.offset, cur.path, cur.wandb_state)
                    consumed, parsed = wgot.consumed, wgot.parsed
                    if wgot.fatal:
                        cur.dead = True
                    need = 0 if consumed or at_eof else len(buf) * 2
                else:
                    if cur.jsonl_state is None:
                        cur.jsonl_state = jsonl.JsonlState()
                    consumed, parsed = jsonl.read_jsonl(buf, cur.offset, cur.path, cur.jsonl_state)
                    need = 0 if consumed or at_eof else len(buf) * 2
                self._apply(parsed, cur.fmt, result)
                cur.offset += consumed
                if first and consumed and not at_eof:
                    self._reserve_ahead(parsed, (cur.size - cur.offset) / consumed)
                first = first and not consumed
                if cur.dead:
                    break
                if at_eof and consumed < len(buf):
                    break  # an incomplete tail: read it again when the file changes
                # A chunk boundary; with nothing consumed, one record is bigger than the chunk.
                want = max(want * 2, need) if consumed == 0 else base
        except OSError as e:
            self._warn(ReadWarning(cur.path, f"read failed: {e.strerror or e}", offset=cur.offset))
            result.changed = True
        finally:
            fh.close()
        if cur.wandb_state is not None:
            self._take_wandb(cur, result)

    def _take_wandb(self, cur: FileCursor, result: ReadResult) -> None:
        """A W&B file's run facts and config, after a read of it."""
        state = cur.wandb_state
        assert state is not None and self.data.config is not None
        meta = state.meta(os.path.dirname(cur.path))
        if not meta.summary and self.data.meta.summary and not state.summary:
            meta = replace(meta, summary=self.data.meta.summary)  # old W&B's summary file
        if meta != self.data.meta:
            self.data.meta = meta
            result.changed = True
        if state.config:
            flat = config_mod.flatten(config_mod.unwrap_wandb(state.config))
            if any(self.data.config.get(k, _MISSING) != v for k, v in flat.items()):
                self.data.config.update(flat)
                result.changed = True

    def _reserve_ahead(self, parsed: Parsed, ratio: float) -> None:
        """After the first chunk of a long read: size each series for the rest of the file,
        extrapolated from that chunk (``ratio`` = bytes left / bytes read), plus headroom for
        live appends. One allocation per series instead of a chain of growth copies (which
        left freed columns behind in the heap), and no copy on the first live append."""
        scalars = self.data.scalars
        assert scalars is not None
        for tag, cols in parsed.scalars.items():
            series = scalars.get(tag)
            if series is not None:
                ahead = int(len(cols) * ratio * RESERVE_HEADROOM) + 1
                series.reserve(series.raw_len + ahead)

    def _apply(self, parsed: Parsed, fmt: str, result: ReadResult) -> None:
        """Apply one read's Parsed to the run's series, in file order."""
        data = self.data
        restarts = fmt == "tfevents"
        if parsed.warnings:
            for w in parsed.warnings:
                self._warn(w)
            result.changed = True
        if parsed.metadata:
            assert data.metadata is not None
            for tag, meta in parsed.metadata.items():
                data.metadata.setdefault(tag, meta)
            result.changed = True
        result.records += parsed.records
        purges = [m for m in parsed.sessions if m.status == SESSION_START]
        if parsed.sessions:
            data.sessions = data.sessions + tuple(parsed.sessions)
            result.changed = True
        if not purges or not restarts:
            self._apply_points(parsed, restarts, None, None, result)
            self.starts_seen += len(purges)
            return
        # A SessionLog START (but the run's first) drops every point at a step >= its step that
        # was read before it: apply the points in segments split at each START.
        lo = None
        for mark in purges:
            self._apply_points(parsed, restarts, lo, mark.seq, result)
            self.starts_seen += 1
            if self.starts_seen > 1:
                self._purge(mark.step)
            lo = mark.seq
        self._apply_points(parsed, restarts, lo, None, result)

    def _apply_points(
        self, parsed: Parsed, restarts: bool, lo: int | None, hi: int | None, result: ReadResult
    ) -> None:
        data = self.data
        assert data.scalars is not None and data.values is not None
        for tag, cols in parsed.scalars.items():
            if lo is not None or hi is not None:
                cols = _slice_seq(cols, lo, hi)
            if len(cols) == 0:
                continue
            series = data.scalars.get(tag)
            if series is None:
                series = data.scalars[tag] = ScalarSeries(restarts=restarts)
            series.append(cols)
            result.points += len(cols)
            result.changed = True
        groups: dict[tuple[str, str], list[ValueRecord]] = {}
        for kind, tag, seq, rec in parsed.values:
            if (lo is not None and seq < lo) or (hi is not None and seq >= hi):
                continue
            groups.setdefault((kind, tag), []).append(rec)
            if kind == HPARAMS and isinstance(rec, HParamsValue):
                self._take_hparams(rec)
        for key, recs in groups.items():
            vs = data.values.get(key)
            if vs is None:
                vs = data.values[key] = ValueSeries(restarts=restarts)
            vs.extend(recs)
            result.changed = True

    def _take_hparams(self, rec: HParamsValue) -> None:
        assert self.data.hparams is not None and self.data.config is not None
        if rec.kind == "session_start" and rec.hparams:
            self.data.hparams.update(rec.hparams)
            self.data.config.update(rec.hparams)

    def _purge(self, step: int) -> None:
        data = self.data
        assert data.scalars is not None and data.values is not None
        for s in data.scalars.values():
            s.purge_from(step)
        for v in data.values.values():
            v.purge_from(step)

    # -- configs and warnings ------------------------------------------------------------------

    def _read_configs(self, result: ReadResult) -> None:
        paths = list(self.files.config_files) + list(self.files.projector_configs)
        paths += self.files.summary_files
        for path in paths:
            try:
                mtime = source.stat(path).st_mtime
            except OSError:
                continue
            if self.config_mtimes.get(path) == mtime:
                continue
            self.config_mtimes[path] = mtime
            result.changed = True
            if path in self.files.summary_files:
                summary, warns = read_summary_file(path)
                if not self.data.meta.summary or not any(
                    c.wandb_state is not None and c.wandb_state.summary
                    for c in self.cursors.values()
                ):
                    self.data.meta = replace(self.data.meta, summary=summary)
            elif path in self.files.projector_configs:
                infos, warns = projector.read_projector(path)
                self.data.embeddings = tuple(infos)
            else:
                cfg, warns = config_mod.read_config(path)
                assert self.data.config is not None
                self.data.config.update(cfg)
            for w in warns:
                self._warn(w)

    def _read_run_meta(self, result: ReadResult) -> None:
        """tuiboard.init's run file -> RunData.meta (replaced whole when the file changes)."""
        for path in self.files.meta_files:
            try:
                st = source.stat(path)
            except OSError:
                continue
            stamp = (st.st_ino, st.st_mtime_ns)
            if self.meta_stamps.get(path) == stamp:
                continue
            self.meta_stamps[path] = stamp
            meta, warns = runmeta.read_run_meta(path)
            if meta is not None:
                self.data.meta = meta
            for w in warns:
                self._warn(w)
            result.changed = True

    def _warn(self, w: ReadWarning) -> None:
        # One entry per place: a JSONL file's bad-line warning (keyed by its first bad line) is
        # replaced by its updated count instead of piling up.
        self.file_warnings[(w.file, w.offset, w.line)] = w
        self.data.warnings = tuple(self.file_warnings.values())


def preread_small(loaders: list[RunLoader]) -> int:
    """Read and decode, in one batch, the small event files (up to tfevents.SMALL_FILE) of the
    runs that have never been read: tfevents.read_events_many, a fraction of the per-file cost
    of many small runs (a sweep). Each loader keeps what its files gave (RunLoader.preread) and
    applies it in its next refresh, in file order as always, when the file is still the size
    that was read; anything else (a file grown meanwhile, not clean) is read there as usual.
    Returns the number of files decoded here."""
    items: list[tuple[bytes, str, dict[str, TagMeta]]] = []
    owners: list[tuple[RunLoader, int]] = []
    for ld in loaders:
        if ld.cursors or ld.tags:
            continue
        # only a run's first event file: later ones depend on the run's tags so far; a
        # remote one's bytes are the prefetch's GET (core/remote.py), waited for here
        for path in ld.files.event_files[:1]:
            whole = source.read_whole(path, tfevents.tfr.HEADER, tfevents.SMALL_FILE)
            if whole is not None:
                items.append((whole[1], path, {}))
                owners.append((ld, whole[0]))
    done = 0
    if len(items) >= 2:
        for (ld, ino), (data, path, tags), got in zip(
            owners, items, tfevents.read_events_many(items), strict=True
        ):
            if got is not None:
                if ld.preread is None:
                    ld.preread = {}
                ld.preread[path] = (ino, data, tags, got)
                done += 1
    return done + _preread_jsonl(loaders)


JSONL_SMALL = 64 << 10
"""preread_small reads JSONL files up to this size whole (at most a chunk: one read of them)."""
JSONL_MANY_MIN = 8
"""preread_small parses JSONL files together when runs never read have at least this many."""
JSONL_BATCH = 1024
"""Files read and parsed together at a time: bounds the bytes held (at most JSONL_SMALL each)."""


def _preread_jsonl(loaders: list[RunLoader]) -> int:
    """preread_small's JSONL part: the small JSONL files of runs never read, read whole and
    parsed in batches of JSONL_BATCH files (jsonl.read_jsonl_many: the files of one layout of
    numbers, a sweep's, by one regex pass and one np.fromstring a join), kept in
    RunLoader.preread_jsonl. Returns the number of files read here."""
    wanted = [
        (ld, path)
        for ld in loaders
        if not ld.cursors
        for path in ld.files.jsonl_files
        if "://" not in path
    ]
    if len(wanted) < JSONL_MANY_MIN:
        return 0
    done = 0
    for start in range(0, len(wanted), JSONL_BATCH):
        items: list[tuple[bytes, str, jsonl.JsonlState]] = []
        owners: list[tuple[RunLoader, int]] = []
        for ld, path in wanted[start : start + JSONL_BATCH]:
            whole = source.read_whole(path, 1, JSONL_SMALL)
            if whole is not None:
                items.append((whole[1], path, jsonl.JsonlState()))
                owners.append((ld, whole[0]))
        for (ld, ino), (data, path, state), (consumed, parsed) in zip(
            owners, items, jsonl.read_jsonl_many(items), strict=True
        ):
            if ld.preread_jsonl is None:
                ld.preread_jsonl = {}
            ld.preread_jsonl[path] = (ino, len(data), data[:HEAD_BYTES], consumed, parsed, state)
        done += len(items)
    return done


WORKER_CHUNK = 512 << 10
"""Bytes a read in read_in_workers' groups (the parent's own share and each worker's): their
chunks' transient memory comes before the parent holds the whole load (and a worker's is its
own), so it adds nothing to the load's peak, and 2.7x fewer chunks than CHUNK cost ~25 % less
CPU (bench/bench_load.py medium: 1 process ~0.61 s at 192 KiB, ~0.48 s at 512 KiB)."""


def read_group(
    group: list[RunFiles], preread_min: int = 8, chunk: int = 0
) -> list[tuple[RunLoader, ReadResult]]:
    """Runs never read, read whole (a worker's share in read_in_workers) in reads of ``chunk``
    bytes (0: CHUNK); with at least `preread_min` of them, their small event files first in
    one batch (preread_small)."""
    loaders = [RunLoader.new(files) for files in group]
    if len(loaders) >= preread_min:
        preread_small(loaders)
    out = []
    for ld in loaders:
        files = ld.files
        ld.chunk = chunk
        res = ld.refresh(files)
        if res.reset:  # a file shrank or was replaced while being read: once more, afresh
            ld = RunLoader.new(files)
            ld.chunk = chunk
            res = ld.refresh(files)
            res.changed = True
        ld.chunk = 0  # later reads (appends) as any loader's
        out.append((ld, res))
    return out


WORKER_WAIT = 0.05
"""How often the parent checks that a worker it waits for is still alive (seconds)."""


def read_in_workers(
    groups: list[list[RunFiles]], preread_min: int = 8
) -> list[tuple[RunLoader, ReadResult]]:
    """Read runs never read in parallel: groups[0] in this process, each other group in a
    forked worker process that sends its loaders back pickled (ScalarSeries pickle their
    published cells only, histogram series one block each: store.ValueSeries.__reduce__).
    A worker that dies or fails is replaced by reading its group here, so the result is the
    same as reading every group here, in group order. The caller makes sure forking is safe
    (a single thread) and worth it (bench/bench_load.py)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    started = []
    for group in groups[1:]:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(group, preread_min, send), daemon=True)
        proc.start()
        send.close()
        started.append((proc, recv, group))
    out = read_group(groups[0], preread_min, WORKER_CHUNK)
    for proc, recv, group in started:
        got: list[tuple[RunLoader, ReadResult]] | None = []
        try:
            # messages of a few MB: the parent holds one at a time, not the whole pickle
            while got is not None and len(got) < len(group):
                while not recv.poll(WORKER_WAIT):
                    if not proc.is_alive() and not recv.poll(0):
                        got = None
                        break
                else:
                    got.extend(_receive(recv))
        except (EOFError, OSError, pickle.UnpicklingError):
            got = None
        finally:
            recv.close()
        proc.join(timeout=1.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
        if got is None:
            got = read_group(group, preread_min)  # the worker failed: read its runs here
        out.extend(got)
    if _trim is not None:
        _trim(0)  # the received pickles' pages
    return out


MESSAGE_BYTES = 4 << 20
"""A worker sends its runs in messages of about this many bytes read (file bytes)."""


def _send(send: Any, batch: list[tuple[RunLoader, ReadResult]]) -> None:
    """One message: the pickle (protocol 5) with every contiguous array out of band, then
    those arrays' bytes written straight from the worker's memory into the pipe (no copy into
    the pickle); their sizes go first, so that the parent can read each straight into memory
    of its own (``_receive``)."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    send.send([r.nbytes for r in raws])
    send.send_bytes(data)
    fd = send.fileno()
    for raw in raws:
        forking.write_all(fd, raw)


def _receive(recv: Any) -> list[tuple[RunLoader, ReadResult]]:
    """A worker's message (``_send``): each out-of-band array read from the pipe straight into
    its own memory (one copy, not the three of a pickled message's bytes), the arrays then
    built on it by the unpickler."""
    sizes: list[int] = recv.recv()
    data = recv.recv_bytes()
    fd = recv.fileno()
    landed: list[np.ndarray] = []
    for size in sizes:
        # a mapping of its own when large (tfevents_values.block, counted): a histogram
        # series' block stays where it lands; a scalar column's goes once the store copied it
        into = tfevents_values.block(size)
        view = into.data
        whole = forking.fill(fd, view)
        view.release()
        if not whole:
            raise EOFError("worker gone mid-message")
        landed.append(into)
    got: list[tuple[RunLoader, ReadResult]] = pickle.loads(data, buffers=landed)
    return got


def _worker(group: list[RunFiles], preread_min: int, send: Any) -> None:
    try:
        batch: list[tuple[RunLoader, ReadResult]] = []
        size = 0
        for item in read_group(group, preread_min, WORKER_CHUNK):
            batch.append(item)
            size += item[1].bytes_read
            if size >= MESSAGE_BYTES:
                _send(send, batch)
                batch, size = [], 0
        if batch:
            _send(send, batch)
    finally:
        send.close()


_MISSING = object()
MAX_SUMMARY_BYTES = 16 << 20


def read_summary_file(path: str) -> tuple[dict[str, Any], list[ReadWarning]]:
    """Old W&B's `wandb-summary.json`: top-level keys as written (nested objects kept as dicts,
    as W&B's summary holds them), keys starting with "_" (W&B's own) dropped."""
    raw, problem = config_mod.read_small_file(path, MAX_SUMMARY_BYTES, "summary")
    if raw is None:
        return {}, [problem] if problem is not None else []
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        return {}, [ReadWarning(path, f"summary is not valid JSON: {error}")]
    if not isinstance(data, dict):
        return {}, [ReadWarning(path, "summary is not a JSON object")]
    return {str(k): v for k, v in data.items() if not str(k).startswith("_")}, []


def _slice_seq(cols: ScalarColumns, lo: int | None, hi: int | None) -> ScalarColumns:
    """The points of `cols` whose seq lies in [lo, hi)."""
    seq = cols.seq
    a = 0 if lo is None else int(np.searchsorted(seq, lo, side="left"))
    b = len(seq) if hi is None else int(np.searchsorted(seq, hi, side="left"))
    return ScalarColumns(cols.step[a:b], cols.wall_time[a:b], cols.value[a:b], seq[a:b])
