"""The in-memory columnar store: every point of every series, in growable numpy columns.

Owns: ScalarSeries (raw columns + the clean line after restart handling), ValueSeries (records of
the other kinds), RunData (one run's series, metadata, config, warnings) and the version counters.
Must not import: textual, rich, or the readers (the loader feeds the store).

Threading invariant: one writer (the loader thread), any number of readers. Every series publishes
its state as ONE tuple attribute, replaced whole by a single assignment (atomic in CPython). The
writer only ever writes into buffer cells beyond the published length, or into fresh arrays, before
publishing; it never changes a cell a published state can see. So a reader that loads the state
tuple once sees a consistent series without taking a lock.

Restart handling (tfevents-format.md, "Restarts"): for each tag, in reading order, a point at
step s removes every earlier point at a step >= s (RustBoard's rule), and a SessionLog START that
is not the run's first removes every point of the run at a step >= its step. The surviving points
("the clean line") are therefore strictly increasing in step, so each new point only ever cuts
the tail of the clean line: the clean line is a stack, kept as indices into the raw columns (or
None while it is simply every raw point, the common case, which costs no memory at all).

Memory: 20 bytes a point (int64 step, float64 wall time, float32 value), nothing per point
beyond that. A series' three columns are views of one block; a large block is a private
anonymous mapping of its own, so capacity reserved ahead (the loader reserves a file's
extrapolated size plus headroom for live appends) is address space, not resident memory, and
a dropped series gives its memory straight back to the system.
"""

from __future__ import annotations

import mmap
import weakref
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from tuiboard.core.types import (
    EmbeddingInfo,
    HistogramValue,
    ReadWarning,
    RunMeta,
    ScalarColumns,
    SessionMark,
    TagMeta,
    ValueRecord,
)

_GROWTH = 1.25
"""Capacity growth factor of the columns: small, so the slack stays within the memory budget
(32 bytes a point with 20 bytes of payload)."""


class Scalars(NamedTuple):
    """A read-only snapshot of one scalar series."""

    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


def _survivors(step: np.ndarray) -> np.ndarray:
    """Indices of points that no later point of the same batch removes (later step <= theirs)."""
    n = step.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n == 1 or bool(np.all(step[1:] > step[:-1])):
        return np.arange(n, dtype=np.int64)
    # next_min[i] = min(step[i+1:]); a point survives iff it is below every later step.
    suffix_min = np.minimum.accumulate(step[::-1])[::-1]
    next_min = np.empty(n, dtype=np.int64)
    next_min[:-1] = suffix_min[1:]
    next_min[-1] = np.iinfo(np.int64).max
    return np.flatnonzero(step < next_min).astype(np.int64)


class _State(NamedTuple):
    step: np.ndarray  # buffers; cells [0, n) are published
    wall: np.ndarray
    value: np.ndarray
    n: int
    keep: np.ndarray | None  # clean-line indices into [0, n); None = all of [0, n)
    k: int  # published length of keep
    version: int
    raw: Scalars | None = None
    """The raw points [0, n) as a snapshot ready to hand out, when the buffers are exactly
    them made read-only (an adopted first batch): snapshot() then makes no views. Dropped when
    the buffers are replaced (reserve), so it never keeps old buffers alive."""


_EMPTY = _State(
    np.empty(0, dtype=np.int64), np.empty(0, np.float64), np.empty(0, np.float32), 0, None, 0, 0
)
"""Every new series' state: zero-length buffers, never written (an append grows them first)."""


class ScalarSeries:
    """One tag's scalar points in one run. Raw columns are append-only."""

    __slots__ = ("_state", "restarts")

    def __init__(self, restarts: bool = True) -> None:
        self.restarts = restarts
        """Whether the restart rule applies (tfevents); JSONL keeps every point in file order."""
        self._state = _EMPTY

    @property
    def version(self) -> int:
        return self._state.version

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled (a worker process's read, loader.read_in_workers) with its published cells
        only; rebuilt with the same capacity, whose unused cells cost no memory (_columns)."""
        s = self._state
        keep = None if s.keep is None else s.keep[: s.k]
        n = s.n
        return (
            _rebuilt_series,
            (self.restarts, s.step[:n], s.wall[:n], s.value[:n], s.step.shape[0], keep, s.version),
        )

    def __len__(self) -> int:
        s = self._state
        return s.n if s.keep is None else s.k

    @property
    def raw_len(self) -> int:
        return self._state.n

    def snapshot(self, raw: bool = False) -> Scalars:
        s = self._state
        if s.raw is not None and (raw or s.keep is None):
            return s.raw
        step, wall, value = s.step[: s.n], s.wall[: s.n], s.value[: s.n]
        if not raw and s.keep is not None:
            idx = s.keep[: s.k]
            return Scalars(_readonly(step[idx]), _readonly(wall[idx]), _readonly(value[idx]))
        return Scalars(_readonly(step), _readonly(wall), _readonly(value))

    def last_step(self) -> int | None:
        s = self._state
        if s.n == 0:
            return None
        if s.keep is not None:
            return int(s.step[s.keep[s.k - 1]]) if s.k else None
        return int(s.step[s.n - 1]) if self.restarts else int(s.step[: s.n].max())

    def nbytes(self) -> int:
        s = self._state
        extra = s.keep.nbytes if s.keep is not None else 0
        return s.step.nbytes + s.wall.nbytes + s.value.nbytes + extra

    # -- writer side -------------------------------------------------------------------------

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` points, so appends up to it copy nothing. The columns are
        fresh arrays (readers holding the old ones stay consistent). Cells beyond the points
        stored are never written until used, and large columns are mappings of their own
        (``_columns``), so that room costs address space, not resident memory."""
        s = self._state
        if capacity <= s.step.shape[0]:
            return
        step, wall, value = _grow(s, capacity, s.value.dtype)
        self._state = s._replace(step=step, wall=wall, value=value, raw=None)

    def append(self, cols: ScalarColumns) -> None:
        m = len(cols)
        if m == 0:
            return
        s = self._state
        n = s.n
        if n == 0 and m * 20 < MAPPED_COLUMN and _adoptable(cols):
            # a small first batch (a small file): keep the reader's fresh arrays, no copy
            keep, k = None, 0
            if self.restarts:
                keep, k = self._clean_append(s, cols.step, 0, cols.step)
            step, wall, value = cols.step, cols.wall_time, cols.value
            step.flags.writeable = wall.flags.writeable = value.flags.writeable = False
            raw = Scalars(step, wall, value)
            self._state = _State(step, wall, value, m, keep, k, s.version + 1, raw)
            return
        step, wall, value = s.step, s.wall, s.value
        new_dtype = np.result_type(value.dtype, cols.value.dtype)
        if n + m > step.shape[0] or new_dtype != value.dtype:
            cap = max(n + m, int(step.shape[0] * _GROWTH) if n else n + m)
            step, wall, value = _grow(s, cap, new_dtype)
        step[n : n + m] = cols.step
        wall[n : n + m] = cols.wall_time
        value[n : n + m] = cols.value
        keep, k = s.keep, s.k
        if self.restarts:
            keep, k = self._clean_append(s, step, n, cols.step)
        self._state = _State(step, wall, value, n + m, keep, k, s.version + 1)

    def _clean_append(
        self, s: _State, step: np.ndarray, n: int, new_steps: np.ndarray
    ) -> tuple[np.ndarray | None, int]:
        after = n == 0 or int(step[n - 1]) < int(new_steps[0])
        if s.keep is None and after and _increasing(new_steps):
            return None, 0  # still every raw point, in increasing steps: the common case
        surv = _survivors(np.asarray(new_steps, dtype=np.int64))
        lo = int(new_steps.min())
        if s.keep is None:
            cut = n if n == 0 or step[n - 1] < lo else _cut_sorted(step[:n], lo)
            if cut == n and surv.shape[0] == new_steps.shape[0]:
                return None, 0  # still every raw point: the common case
            base = np.arange(cut, dtype=np.int64)
        else:
            kept = s.keep[: s.k]
            cut = s.k if s.k == 0 or step[kept[-1]] < lo else _cut_sorted(step[kept], lo)
            base = kept[:cut]
        tail = surv + n
        dtype = _keep_dtype(n + new_steps.shape[0])
        if (
            s.keep is not None
            and cut == s.k
            and s.k + tail.shape[0] <= s.keep.shape[0]
            and s.keep.dtype == dtype
        ):
            # Pure append into free capacity: published cells [0, k) are untouched.
            s.keep[s.k : s.k + tail.shape[0]] = tail
            return s.keep, s.k + tail.shape[0]
        # A cut (or growth): fresh array, so a reader holding the old one stays consistent.
        total = base.shape[0] + tail.shape[0]
        keep = np.empty(max(total, int(total * _GROWTH)), dtype=dtype)
        keep[: base.shape[0]] = base
        keep[base.shape[0] : total] = tail
        return keep, total

    def purge_from(self, start_step: int) -> bool:
        """Drop every clean point at a step >= start_step (a SessionLog START). True if any."""
        if not self.restarts:
            return False
        s = self._state
        if s.n == 0:
            return False
        idx = s.keep[: s.k] if s.keep is not None else np.arange(s.n, dtype=np.int64)
        if idx.shape[0] == 0 or s.step[idx[-1]] < start_step:
            return False
        cut = _cut_sorted(s.step[idx], start_step)
        keep = np.array(idx[:cut], dtype=_keep_dtype(s.n))  # fresh: readers keep the old one
        self._state = s._replace(keep=keep, k=cut, version=s.version + 1)
        return True


_HistoMeta = tuple[int, float, float, float, float, Any, Any, bool, int, int, int, str, str]
"""A histogram in transit: step, wall_time, count, min, max, sum, sum_squares, whether left
and right are views of one edges array, their lengths and the counts' length, the dtypes of
the edges and of the counts."""


def _histograms_out(records: tuple[ValueRecord, ...]) -> tuple[np.ndarray, list[_HistoMeta]] | None:
    """Every histogram of a series as one byte block (each array 8-byte aligned; a left/right
    pair that are views of one edges array as that array) and a tuple each: one array to
    pickle instead of three a histogram. None when a record is not a 1-D histogram."""
    parts: list[np.ndarray] = []
    meta: list[_HistoMeta] = []
    pad = np.zeros(8, dtype=np.uint8)
    for r in records:
        if not isinstance(r, HistogramValue):
            return None
        left, right, counts = r.left, r.right, r.counts
        if left.ndim != 1 or right.ndim != 1 or counts.ndim != 1 or left.dtype != right.dtype:
            return None
        if left.dtype.kind not in "fiu" or counts.dtype.kind not in "fiu":
            return None
        n = left.shape[0]
        shared = bool(
            n
            and right.shape[0] == n
            and left.flags.c_contiguous
            and right.flags.c_contiguous
            and right.ctypes.data == left.ctypes.data + left.itemsize
        )
        units = ((left, right[-1:]), (counts,)) if shared else ((left,), (right,), (counts,))
        for unit in units:
            nbytes = 0
            for a in unit:
                if a.shape[0]:
                    parts.append(np.ascontiguousarray(a).view(np.uint8))
                    nbytes += a.nbytes
            if nbytes % 8:  # the next array starts 8-byte aligned
                parts.append(pad[: -nbytes % 8])
        meta.append(
            (
                r.step,
                r.wall_time,
                r.count,
                r.min,
                r.max,
                r.sum,
                r.sum_squares,
                shared,
                n,
                right.shape[0],
                counts.shape[0],
                left.dtype.str,
                counts.dtype.str,
            )
        )
    block = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return block, meta


def _histograms_in(block: np.ndarray, meta: list[_HistoMeta]) -> list[ValueRecord]:
    """The histograms ``_histograms_out`` sent, as views of its one block (one block a series,
    shared edges shared again)."""
    out: list[ValueRecord] = []
    at = 0
    for step, wall, count, lo, hi, total, squares, shared, nl, nr, nc, edt, cdt in meta:
        et = np.dtype(edt)
        if shared:
            size = (nl + 1) * et.itemsize
            edges = block[at : at + size].view(et)
            left, right = edges[:-1], edges[1:]
            at += -(-size // 8) * 8
        else:
            size = nl * et.itemsize
            left = block[at : at + size].view(et)
            at += -(-size // 8) * 8
            size = nr * et.itemsize
            right = block[at : at + size].view(et)
            at += -(-size // 8) * 8
        ct = np.dtype(cdt)
        size = nc * ct.itemsize
        counts = block[at : at + size].view(ct)
        at += -(-size // 8) * 8
        out.append(HistogramValue(step, wall, left, right, counts, count, lo, hi, total, squares))
    return out


def _rebuilt_values(
    restarts: bool, raw: list[Any], clean: list[Any], version: int, packed: Any = None
) -> ValueSeries:
    records: list[ValueRecord] = _histograms_in(*packed) if packed is not None else raw
    series = ValueSeries(restarts)
    kept = [records[i] if isinstance(i, int) else i for i in clean]
    series._state = (tuple(records), tuple(kept), version)
    return series


def _rebuilt_series(
    restarts: bool,
    step: np.ndarray,
    wall: np.ndarray,
    value: np.ndarray,
    cap: int,
    keep: np.ndarray | None,
    version: int,
) -> ScalarSeries:
    series = ScalarSeries(restarts)
    n = step.shape[0]
    if n and cap == n and keep is None and _adoptable(ScalarColumns(step, wall, value, step)):
        # an adopted first batch (its capacity is its points): the unpickled arrays, as read
        step.flags.writeable = wall.flags.writeable = value.flags.writeable = False
        series._state = _State(step, wall, value, n, None, 0, version, Scalars(step, wall, value))
        return series
    if n:
        new_step, new_wall, new_value = _columns(max(cap, n), value.dtype)
        new_step[:n] = step
        new_wall[:n] = wall
        new_value[:n] = value
        step, wall, value = new_step, new_wall, new_value
    k = 0 if keep is None else keep.shape[0]
    kept = None if keep is None else np.array(keep)
    series._state = _State(step, wall, value, n, kept, k, version)
    return series


def _keep_dtype(raw_points: int) -> type[np.signedinteger[Any]]:
    """Clean-line indices take 4 bytes while the raw columns hold fewer than 2**31 points."""
    return np.int32 if raw_points < 2**31 else np.int64


def _adoptable(cols: ScalarColumns) -> bool:
    """Whether the store may keep these arrays as its columns: the right dtypes, contiguous, and
    keeping alive no more memory than they show. (The reader hands over fresh arrays that
    nothing else holds or writes; the store never writes a cell it has published.)"""
    for a, dtypes in zip((cols.step, cols.wall_time, cols.value), _ADOPTED, strict=True):
        if a.ndim != 1 or a.dtype not in dtypes or not a.flags.c_contiguous:
            return False
        if a.base is None:
            continue  # its own memory: the usual case
        owner = a
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if owner.base is not None or owner.nbytes > a.nbytes:
            return False  # memory of another object, or a slice of something bigger
    return True


_ADOPTED = (
    (np.dtype(np.int64),),
    (np.dtype(np.float64),),
    (np.dtype(np.float32), np.dtype(np.float64)),
)
"""The dtypes _adoptable takes for step, wall time and value."""


def _increasing(steps: np.ndarray) -> bool:
    return steps.shape[0] < 2 or bool((steps[1:] > steps[:-1]).all())


def _cut_sorted(steps: np.ndarray, lo: int) -> int:
    """Index of the first step >= lo in strictly increasing steps."""
    return int(np.searchsorted(steps, lo, side="left"))


MAPPED_COLUMN = 32 << 10
"""Columns from this many bytes up are anonymous memory maps of their own."""
PAGE_CELLS = 1024
"""Mapped capacities are multiples of this: 8 and 4 KiB columns, whole pages of any size up to
4 KiB."""
_MAP_PRIVATE: int | None = getattr(mmap, "MAP_PRIVATE", None)
"""Private (not shared with a forked child); absent on Windows, where columns stay plain."""


def _columns(cap: int, value_dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uninitialised step, wall-time and value columns of ``cap`` cells, as views of one block.
    A large block is its own anonymous mapping: its unused capacity is never resident (pages are
    only backed once written), and its memory goes back to the system as soon as the last view
    of it dies, whatever the allocator does with its heap. A small one comes from the allocator
    (a mapping rounds up to whole pages)."""
    vt = np.dtype(value_dtype)
    block: np.ndarray | None = None
    if cap * (16 + vt.itemsize) >= MAPPED_COLUMN and _MAP_PRIVATE is not None:
        # every column starts on a page of its own: the last page of one column's points and
        # the first of the next are never one partly used page each (~1 B a point on medium)
        cap = -(-cap // PAGE_CELLS) * PAGE_CELLS
        block = _mapped(cap * (16 + vt.itemsize))
    if block is None:
        block = np.empty(cap * (16 + vt.itemsize), dtype=np.uint8)
    step = block[: 8 * cap].view(np.int64)
    wall = block[8 * cap : 16 * cap].view(np.float64)
    value = block[16 * cap :].view(vt)
    return step, wall, value


MAX_MAPPED = 16384
"""Live column mappings at most: Linux allows 65,530 mappings a process (vm.max_map_count) and
the interpreter and other libraries need theirs. Beyond it, columns come from the heap."""
_mapped_live = 0


def _unmapped() -> None:
    global _mapped_live
    _mapped_live -= 1


def _mapped(nbytes: int) -> np.ndarray | None:
    """``nbytes`` of a fresh private anonymous mapping, or None (too many live mappings, or the
    system refuses one)."""
    global _mapped_live
    if _MAP_PRIVATE is None or _mapped_live >= MAX_MAPPED:
        return None
    try:
        mapping = mmap.mmap(-1, nbytes, flags=_MAP_PRIVATE)
    except OSError:  # out of mappings or address space: the heap then
        return None
    _mapped_live += 1
    weakref.finalize(mapping, _unmapped)
    return np.frombuffer(mapping, dtype=np.uint8)


def _grow(s: _State, cap: int, value_dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh columns of ``cap`` cells holding the published points of ``s``."""
    step, wall, value = _columns(cap, value_dtype)
    n = s.n
    if n == 0:
        return step, wall, value
    step[:n] = s.step[:n]
    wall[:n] = s.wall[:n]
    value[:n] = s.value[:n]
    return step, wall, value


class ValueSeries:
    """Records of one (kind, tag) in one run: histograms, images, text, ...

    The state is a pair of tuples (raw, clean) replaced whole on every change.
    """

    __slots__ = ("_state", "restarts")

    def __init__(self, restarts: bool = True) -> None:
        self.restarts = restarts
        self._state: tuple[tuple[ValueRecord, ...], tuple[ValueRecord, ...], int] = ((), (), 0)

    @property
    def version(self) -> int:
        return self._state[2]

    def snapshot(self, raw: bool = False) -> tuple[ValueRecord, ...]:
        raw_t, clean_t, _ = self._state
        if raw:
            return raw_t
        if not self.restarts:
            return tuple(sorted(clean_t, key=lambda r: r.step))
        return clean_t

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled (a worker process's read) with the clean line as indices into the raw
        records (one copy of each). Histograms go as one byte block and a tuple each
        (``_histograms_out``): pickling three arrays a histogram cost more than reading them,
        and they arrive in one block a series, left/right edges views of one array again."""
        raw_t, clean_t, version = self._state
        where = {id(r): i for i, r in enumerate(raw_t)}
        clean = [where.get(id(r), -1) for r in clean_t]
        if -1 in clean:  # not a subset of the raw records (never, as extend works): as they are
            return (_rebuilt_values, (self.restarts, list(raw_t), list(clean_t), version))
        packed = _histograms_out(raw_t) if raw_t else None
        if packed is not None:
            return (_rebuilt_values, (self.restarts, [], clean, version, packed))
        return (_rebuilt_values, (self.restarts, list(raw_t), clean, version))

    def extend(self, records: list[ValueRecord]) -> None:
        raw_t, clean_t, version = self._state
        clean = list(clean_t)
        if self.restarts:
            for r in records:
                while clean and clean[-1].step >= r.step:
                    clean.pop()
                clean.append(r)
        else:
            clean.extend(records)
        self._state = (raw_t + tuple(records), tuple(clean), version + 1)

    def purge_from(self, start_step: int) -> bool:
        raw_t, clean_t, version = self._state
        if not self.restarts or not clean_t or clean_t[-1].step < start_step:
            return False
        clean = tuple(r for r in clean_t if r.step < start_step)
        self._state = (raw_t, clean, version + 1)
        return True


@dataclass(slots=True)
class RunData:
    """Everything the store holds about one run. Only the loader thread mutates it; the dicts are
    only ever added to (never removed from), and readers copy them before iterating."""

    name: str
    path: str
    formats: frozenset[str] = frozenset()
    version: int = 0
    last_write: float = 0.0
    scalars: dict[str, ScalarSeries] | None = None
    values: dict[tuple[str, str], ValueSeries] | None = None
    metadata: dict[str, TagMeta] | None = None
    config: dict[str, Any] | None = None
    hparams: dict[str, Any] | None = None
    sessions: tuple[SessionMark, ...] = ()
    warnings: tuple[ReadWarning, ...] = ()
    embeddings: tuple[EmbeddingInfo, ...] = ()
    meta: RunMeta = field(default_factory=RunMeta)
    """Replaced whole (RunMeta is frozen) by the loader thread."""
    version_base: int = 0
    """Added to every series' own version (Run.series_version): a run read afresh (a file
    rewritten smaller or replaced) starts above every version its old data had, so no cache
    keyed by a series version mistakes the new series for the old one."""

    def next_version_base(self) -> int:
        """The version_base for this run's data read afresh: above any version seen here."""
        assert self.scalars is not None and self.values is not None
        top = max(
            max((s.version for s in self.scalars.values()), default=0),
            max((v.version for v in self.values.values()), default=0),
        )
        return self.version_base + top + 1

    def __post_init__(self) -> None:
        self.scalars = {} if self.scalars is None else self.scalars
        self.values = {} if self.values is None else self.values
        self.metadata = {} if self.metadata is None else self.metadata
        self.config = {} if self.config is None else self.config
        self.hparams = {} if self.hparams is None else self.hparams


class Store:
    """All runs. Run objects are replaced whole when a run is reset (a file replaced under us).
    Only the Logdir's writer changes it (under Logdir's write lock); readers need no lock."""

    def __init__(self) -> None:
        self.runs: dict[str, RunData] = {}
        self.version = 0
        """Bumped on every change of any run."""
