"""Reading tfevents bytes into ``Parsed``: framing, CRCs, Event decoding, kinds, damage rules.

Owns: ``read_events`` (the contract the loader calls) and the damage rules of
docs/tfevents-format.md (cut-off tail: retry; bad length CRC: fatal; bad data CRC: skip and warn,
except the last complete record at EOF, retried; undecodable payload: skip and warn).
Must not import textual, rich, or tuiboard modules outside core.

Where the time goes (CPU time, one medium-bench file: 16 tags of 15 characters x 10,000 steps by
tensorboardX + 2 histogram tags every 100 steps = 160k records, 10.6 MB; best of 20 runs):
  framing (tfrecord.frame_records)                 7.3 ms  ~1 % of records walked in Python,
                                                           the rest predicted + verified in numpy
  grouping by length                               2.0 ms  stable radix argsort on uint16
  gathering each group as a byte matrix            3.2 ms  one void-dtype gather per group slice
  data CRCs of the small records                   3.9 ms  one table lookup per varying byte
  templates + columns (tfevents_fast)              5.1 ms  periodic rows: strided slices, no sort
  CRC of the 200 histograms (C) + rest of batch    ~2 ms
  general decoder (200 histograms, headers) and
  assembly of the per-tag columns                  ~5 ms
  total read_events                               28.4 ms  = 5.6M events/s of CPU
The same file through a per-record Python loop (struct framing, two C CRC calls, proto.decode_event)
costs 0.74 s of CPU (4.6 us a record); TensorBoard's EventAccumulator takes 4-6 s.
The loader reads in 192 KiB chunks (memory: see loader.CHUNK): a call then costs ~1 ms, a third
of it fixed numpy work. A small file (bench "many": 201 records, 10 KB) costs ~0.2 ms: framing
~35 us, one length group ~100 us (CRC, period, fields: ~70 numpy calls), the 5 records of rare
lengths ~20 us (templates from the layout cache, no general decoder), columns ~20 us.
A 7 KB file of a sweep (3 tags x 50 steps) costs ~1.2 ms alone, almost all fixed costs; read with
many others by read_events_many (one walk per file size, one decode_batch for all), ~0.25 ms.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from tuiboard.core import tfevents_fast as fastmod
from tuiboard.core import tfevents_proto as proto
from tuiboard.core import tfevents_values as conv
from tuiboard.core import tfrecord as tfr
from tuiboard.core import types as t
from tuiboard.core import wire
from tuiboard.core.types import Parsed, ReadWarning, ScalarColumns, TagMeta

MAX_WARNINGS = 100
"""Detailed warnings per read; further damage is summed up in one more warning."""
_RECORD_ERRORS = (ValueError, IndexError, struct.error, OverflowError)


@dataclass(slots=True)
class EventsRead:
    consumed: int
    """Bytes of ``data`` fully handled; the next read starts at offset + consumed."""
    need: int
    """> 0 when the next record is complete only with more bytes than ``data`` has: the total
    bytes needed from offset + consumed."""
    fatal: bool
    """Framing lost (bad length CRC): stop reading this file; the warning is in
    parsed.warnings."""
    parsed: Parsed


class _Scalars:
    """Per-tag scalar parts, assembled into ScalarColumns at the end."""

    __slots__ = ("parts", "slow")

    def __init__(self) -> None:
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.slow: dict[str, tuple[list[int], list[int], list[float], list[float], list[bool]]] = {}

    def add(self, tag: str, seq: int, step: int, wall: float, value: float, f32: bool) -> None:
        lists = self.slow.get(tag)
        if lists is None:
            lists = self.slow[tag] = ([], [], [], [], [])
        lists[0].append(seq)
        lists[1].append(step)
        lists[2].append(wall)
        lists[3].append(value)
        lists[4].append(f32)

    def columns(self) -> dict[str, ScalarColumns]:
        for tag, (seq_list, step_list, wall_list, value_list, f32) in self.slow.items():
            dtype = np.float32 if all(f32) else np.float64
            self.parts.setdefault(tag, []).append(
                (
                    np.array(seq_list, dtype=np.int64),
                    np.array(step_list, dtype=np.int64),
                    np.array(wall_list, dtype=np.float64),
                    np.array(value_list, dtype=dtype),
                )
            )
        out: dict[str, ScalarColumns] = {}
        for tag, parts in self.parts.items():
            if len(parts) == 1:
                seq, step, wall, value = parts[0]
                out[tag] = ScalarColumns(step, wall, value, seq)
                continue
            # Parts are each in seq order; when they do not interleave (the usual case: a tag's
            # first record, with its metadata, decoded apart from the template-read rest),
            # ordering them by their first seq is enough and no sort is needed.
            parts.sort(key=lambda p: int(p[0][0]))
            ordered = all(
                int(parts[i][0][-1]) < int(parts[i + 1][0][0]) for i in range(len(parts) - 1)
            )
            all32 = all(p[3].dtype == np.float32 for p in parts)
            seq = np.concatenate([p[0] for p in parts])
            step = np.concatenate([p[1] for p in parts])
            wall = np.concatenate([p[2] for p in parts])
            value = np.concatenate([p[3] if all32 else p[3].astype(np.float64) for p in parts])
            if not ordered:
                order = np.argsort(seq, kind="stable")
                seq, step, wall, value = seq[order], step[order], wall[order], value[order]
            out[tag] = ScalarColumns(step, wall, value, seq)
        return out


class _Warnings:
    __slots__ = ("extra", "file", "first_extra", "out")

    def __init__(self, file: str, out: list[ReadWarning]) -> None:
        self.file = file
        self.out = out
        self.extra = 0
        self.first_extra: int | None = None

    def add(self, message: str, offset: int) -> None:
        if len(self.out) < MAX_WARNINGS:
            self.out.append(ReadWarning(self.file, message, offset=offset))
        else:
            self.extra += 1
            if self.first_extra is None:
                self.first_extra = offset

    def close(self) -> None:
        if self.extra:
            self.out.append(
                ReadWarning(
                    self.file,
                    f"{self.extra} more damaged records skipped",
                    offset=self.first_extra,
                )
            )


def read_events(
    data: bytes | bytearray | memoryview,
    offset: int,
    file: str,
    tags: dict[str, TagMeta],
    *,
    at_eof: bool = True,
    walker: tfr.Walker | None = None,
) -> EventsRead:
    """Read the complete records of ``data`` (the bytes of ``file`` from ``offset``). Adds new
    tag metadata to ``tags``. ``walker``: the framing walk's state from the read of the bytes
    just before (``tfrecord.frame_records``; the same result either way, for less work).
    Never raises on any input."""
    parsed = Parsed()
    if len(data) < tfr.HEADER:  # nothing new, or a header still being written: cheap
        return EventsRead(0, tfr.OVERHEAD if len(data) else 0, False, parsed)
    buf = np.frombuffer(data, dtype=np.uint8)
    framing = tfr.frame_records(data, buf, walker)
    batch = fastmod.decode_batch(data, buf, framing)
    return _finish(buf, framing, batch, offset, file, tags, at_eof, parsed)


SMALL_FILE = 256 << 10
"""read_events_many takes files up to this size (the loader reads them whole)."""


def read_events_many(
    items: list[tuple[bytes, str, dict[str, TagMeta]]],
) -> list[EventsRead | None]:
    """read_events(data, 0, file, tags) of many whole small files, what each would give alone,
    for a fraction of the cost: each file is framed by a plain walk (tfrecord.frame_small), and
    the records of every file whose framing is clean (complete records to its end, every length
    CRC good) are CRC-checked and decoded in one decode_batch over their concatenation, then
    split back per file. A file whose framing is not clean (cut short, damaged, tiny) gets None:
    the caller reads it with read_events. Per-file state (tags, warnings, offsets, the
    last-record-at-EOF rule) is the same as read_events'."""
    out: list[EventsRead | None] = [None] * len(items)
    framed = _frame_many(items)
    clean = [i for i, f in enumerate(framed) if f is not None]
    if not clean:
        return out
    parts: list[bytes] = []
    local: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    first = [0]
    base = 0
    for i in clean:
        got = framed[i]
        assert got is not None
        data = items[i][0]
        parts.append(data)
        local.append(got[0])
        starts.append(got[0] + base if base else got[0])
        lengths.append(got[1])
        base += len(data)
        first.append(first[-1] + len(got[0]))
    joined = b"".join(parts) if len(parts) > 1 else parts[0]
    buf = np.frombuffer(joined, dtype=np.uint8)
    framing = tfr.Framing(np.concatenate(starts), np.concatenate(lengths), len(joined), 0, None)
    batch = fastmod.decode_batch(joined, buf, framing)
    bounds = np.array(first, dtype=np.int64)
    fast_per: list[list[fastmod.FastScalars]] = [[] for _ in clean]
    for f in _merge_fast(batch.fast):
        cuts = np.searchsorted(f.seq, bounds).tolist()
        for k in np.flatnonzero(np.diff(cuts)).tolist():
            lo, hi = cuts[k], cuts[k + 1]
            fast_per[k].append(
                fastmod.FastScalars(
                    f.tag,
                    f.meta,
                    f.is_tensor,
                    f.seq[lo:hi] - first[k],
                    # copies: a file's own arrays, which the store keeps as they are (a slice
                    # of the batch's would be copied there, and keep the batch alive)
                    f.step[lo:hi].copy(),
                    f.wall_time[lo:hi].copy(),
                    f.value[lo:hi].copy(),
                )
            )
    slow_cuts = np.searchsorted(batch.slow, bounds).tolist()
    bad_cuts = np.searchsorted(batch.bad, bounds).tolist()
    for k, i in enumerate(clean):
        data, file, tags = items[i]
        r0 = first[k]
        sub = tfr.Framing(local[k], lengths[k], len(data), 0, None)
        sub_batch = fastmod.Batch(
            fast_per[k],
            batch.slow[slow_cuts[k] : slow_cuts[k + 1]] - r0,
            batch.bad[bad_cuts[k] : bad_cuts[k + 1]] - r0,
        )
        own = np.frombuffer(data, dtype=np.uint8)
        out[i] = _finish(own, sub, sub_batch, 0, file, tags, True, Parsed())
    return out


def _frame_many(
    items: list[tuple[bytes, str, dict[str, TagMeta]]],
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """tfrecord.frame_small of each file (None: not clean, or not small). Files of one size
    usually have one framing (a sweep's runs log the same tags at the same steps): the first
    clean one is walked, and every other of its size is checked against it in one numpy
    comparison of the 12 header bytes at each of its record starts (each record then has the
    verified length and length CRC of the walked file's, so the walk would find the same
    records); those that differ are walked."""
    lcrc: dict[int, int] = {}
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(items)
    by_size: dict[int, list[int]] = {}
    for i, (data, _, _) in enumerate(items):
        if tfr.HEADER <= len(data) <= SMALL_FILE:
            by_size.setdefault(len(data), []).append(i)
    for size, members in by_size.items():
        template: tuple[np.ndarray, np.ndarray] | None = None
        rest = members
        while rest and template is None:
            template = out[rest[0]] = tfr.frame_small(items[rest[0]][0], lcrc)
            rest = rest[1:]
        if template is None or not rest:
            continue
        cols = (template[0][:, None] + np.arange(tfr.HEADER)).ravel()
        matrix = np.frombuffer(b"".join(items[i][0] for i in rest), dtype=np.uint8)
        heads = matrix.reshape(len(rest), size)[:, cols]
        expected = np.frombuffer(items[members[0]][0], dtype=np.uint8)[cols]
        same = (heads == expected).all(axis=1).tolist()
        for i, ok in zip(rest, same, strict=True):
            out[i] = template if ok else tfr.frame_small(items[i][0], lcrc)
    return out


def _merge_fast(fast: list[fastmod.FastScalars]) -> list[fastmod.FastScalars]:
    """One FastScalars per (tag, metadata, simple/tensor, value dtype), in seq order:
    decode_batch gives one per template and per slice of a length group, which over many
    files would split each file's points of a tag into many pieces. read_events' columns are
    the same either way (its parts of a tag are put in seq order and concatenated)."""
    groups: dict[tuple[str, TagMeta | None, bool, str], list[fastmod.FastScalars]] = {}
    for f in fast:
        groups.setdefault((f.tag, f.meta, f.is_tensor, f.value.dtype.str), []).append(f)
    out: list[fastmod.FastScalars] = []
    for (tag, meta, is_tensor, _), fs in groups.items():
        if len(fs) == 1:
            out.append(fs[0])
            continue
        seq = np.concatenate([f.seq for f in fs])
        step = np.concatenate([f.step for f in fs])
        wall = np.concatenate([f.wall_time for f in fs])
        value = np.concatenate([f.value for f in fs])
        order = np.argsort(seq, kind="stable")
        out.append(
            fastmod.FastScalars(
                tag, meta, is_tensor, seq[order], step[order], wall[order], value[order]
            )
        )
    return out


def _finish(
    buf: np.ndarray,
    framing: tfr.Framing,
    batch: fastmod.Batch,
    offset: int,
    file: str,
    tags: dict[str, TagMeta],
    at_eof: bool,
    parsed: Parsed,
) -> EventsRead:
    """read_events after the framing and the batched decoding: damage, the general decoder,
    metadata, columns."""
    warn = _Warnings(file, parsed.warnings)
    consumed = framing.end
    count = int(framing.starts.shape[0])
    bad = batch.bad
    last = count - 1
    if (
        at_eof
        and bad.size
        and int(bad[-1]) == last
        and framing.need == 0
        and framing.fatal_offset is None
        and framing.end == len(buf)
    ):
        # the last record may still be being flushed (network filesystems): retry it later
        bad = bad[:-1]
        consumed = int(framing.starts[last])
        count = last
    for i in bad.tolist():
        start = int(framing.starts[i])
        length = int(framing.lengths[i])
        step = proto.event_step(buf[start + tfr.HEADER : start + tfr.HEADER + length].tobytes())
        where = f" (step {step})" if step is not None else ""
        warn.add(f"data CRC mismatch: record{where} skipped", offset + start)
    if framing.fatal_offset is not None:
        consumed = framing.fatal_offset
    parsed.records = count

    scalars = _Scalars()
    events = _decode_slow(buf, framing, batch.slow, offset, warn)
    _merge_metadata(batch.fast, events, tags, parsed)
    rerouted = _fast_scalars(batch.fast, tags, scalars)
    if rerouted.size:
        events.extend(_decode_slow(buf, framing, rerouted, offset, warn))
        events.sort(key=lambda e: e[0])
    histos: list[tuple[int, str, str, int, conv.ProtoHisto]] = []
    for seq, ev in events:
        at = offset + int(framing.starts[seq])
        _apply_event(seq, ev, tags, scalars, parsed, warn, at, histos)
    parsed.scalars = scalars.columns()
    _pack_histograms(parsed, histos)
    warn.close()
    if framing.fatal_offset is not None:  # never folded into the count of damaged records
        parsed.warnings.append(
            ReadWarning(
                file,
                "length CRC mismatch: framing lost, the rest of the file is not read",
                offset=offset + framing.fatal_offset,
            )
        )
    return EventsRead(consumed, framing.need, framing.fatal_offset is not None, parsed)


def _pack_histograms(
    parsed: Parsed, histos: list[tuple[int, str, str, int, conv.ProtoHisto]]
) -> None:
    """One block for the arrays of every histogram of this read (``conv.pack_histograms``):
    the HistogramProtos decoded but not yet built (``histos``: their place in
    ``parsed.values``, kind, tag, seq) are built there and put in their places."""
    values = parsed.values
    if histos:
        merged: list[tuple[str, str, int, t.ValueRecord | conv.ProtoHisto]] = []
        rest = iter(values)
        for place, kind, tag, seq, pending in histos:
            while len(merged) < place:
                merged.append(next(rest))
            merged.append((kind, tag, seq, pending))
        merged.extend(rest)
    elif sum(isinstance(v[3], t.HistogramValue) for v in values) < 2:
        return  # nothing to build, nothing to gain
    else:
        merged = list(values)
    at = [i for i, v in enumerate(merged) if isinstance(v[3], (t.HistogramValue, conv.ProtoHisto))]
    packed = conv.pack_histograms([merged[i][3] for i in at])  # type: ignore[misc]
    out: list[tuple[str, str, int, t.ValueRecord]] = []
    records = iter(packed)
    for kind, tag, seq, rec in merged:
        if isinstance(rec, (t.HistogramValue, conv.ProtoHisto)):
            out.append((kind, tag, seq, next(records)))
        else:
            out.append((kind, tag, seq, rec))
    parsed.values = out


def _decode_slow(
    buf: np.ndarray, framing: tfr.Framing, slow: np.ndarray, offset: int, warn: _Warnings
) -> list[tuple[int, proto.RawEvent]]:
    out: list[tuple[int, proto.RawEvent]] = []
    starts = framing.starts
    lengths = framing.lengths
    for i in slow.tolist():
        s = int(starts[i]) + tfr.HEADER
        try:
            out.append((i, proto.decode_event(buf[s : s + int(lengths[i])].tobytes())))
        except _RECORD_ERRORS as exc:
            warn.add(f"record is not an Event ({exc}): skipped", offset + int(starts[i]))
    return out


def _remember(tag: str, meta: TagMeta, tags: dict[str, TagMeta], parsed: Parsed) -> None:
    known = tags.get(tag)
    if known is None or (not known.plugin and meta.plugin):
        tags[tag] = meta
        parsed.metadata[tag] = meta


def _merge_metadata(
    fast: list[fastmod.FastScalars],
    events: list[tuple[int, proto.RawEvent]],
    tags: dict[str, TagMeta],
    parsed: Parsed,
) -> None:
    """Metadata first seen in this read, in file order."""
    seen: list[tuple[int, str, TagMeta]] = [
        (int(f.seq[0]), f.tag, f.meta) for f in fast if f.meta is not None
    ]
    for seq, ev in events:
        seen.extend((seq, v.tag, v.meta) for v in ev.values if v.meta is not None)
    seen.sort(key=lambda s: s[0])
    for _, tag, meta in seen:
        _remember(tag, meta, tags, parsed)


def _plugin(tag: str, meta: TagMeta | None, tags: dict[str, TagMeta]) -> str:
    if meta is not None and meta.plugin:
        return meta.plugin
    known = tags.get(tag)
    return known.plugin if known is not None else ""


def _fast_scalars(
    fast: list[fastmod.FastScalars], tags: dict[str, TagMeta], scalars: _Scalars
) -> np.ndarray:
    """Put the template-read scalars in their columns. A rank-0 tensor whose tag belongs to a
    plugin other than scalars is no scalar: its records go back to the general decoder (returned,
    sorted), so both paths give one answer."""
    other: list[np.ndarray] = []
    for f in fast:
        if f.is_tensor:
            plugin = _plugin(f.tag, f.meta, tags)
            if plugin and conv.PLUGIN_KINDS.get(plugin, plugin) != t.SCALARS:
                other.append(f.seq)
    rerouted = np.unique(np.concatenate(other)) if other else np.zeros(0, dtype=np.int64)
    for f in fast:
        if other:
            keep = ~np.isin(f.seq, rerouted)
            if not keep.any():
                continue
            if not keep.all():
                f = fastmod.FastScalars(
                    f.tag,
                    f.meta,
                    f.is_tensor,
                    f.seq[keep],
                    f.step[keep],
                    f.wall_time[keep],
                    f.value[keep],
                )
        scalars.parts.setdefault(f.tag, []).append((f.seq, f.step, f.wall_time, f.value))
    return rerouted


def _apply_event(
    seq: int,
    ev: proto.RawEvent,
    tags: dict[str, TagMeta],
    scalars: _Scalars,
    parsed: Parsed,
    warn: _Warnings,
    where: int,
    histos: list[tuple[int, str, str, int, conv.ProtoHisto]],
) -> None:
    if ev.file_version is not None and parsed.file_version is None:
        parsed.file_version = ev.file_version
    if ev.session is not None:
        status, path, msg = ev.session
        if status in (t.SESSION_START, t.SESSION_STOP, t.SESSION_CHECKPOINT):
            parsed.sessions.append(t.SessionMark(status, ev.step, ev.wall_time, seq, path, msg))
    for source, tag, blob in ev.graph:
        try:
            nodes = _node_count(source, blob)
        except _RECORD_ERRORS as exc:
            warn.add(f"{source} does not decode ({exc}): node count unknown", where)
            nodes = 0
        parsed.values.append(
            (t.GRAPH, tag, seq, t.GraphValue(ev.step, ev.wall_time, nodes, blob, source))
        )
    for value in ev.values:
        try:
            _apply_value(seq, ev, value, tags, scalars, parsed, warn, where, histos)
        except _RECORD_ERRORS as exc:
            warn.add(f"value {value.tag!r} does not decode ({exc}): skipped", where)


def _apply_value(
    seq: int,
    ev: proto.RawEvent,
    value: proto.RawValue,
    tags: dict[str, TagMeta],
    scalars: _Scalars,
    parsed: Parsed,
    warn: _Warnings,
    where: int,
    histos: list[tuple[int, str, str, int, conv.ProtoHisto]],
) -> None:
    form = value.form
    if form == "simple":
        scalars.add(value.tag, seq, ev.step, ev.wall_time, value.simple, True)
        return
    plugin = _plugin(value.tag, value.meta, tags)
    meta = value.meta if value.meta is not None else tags.get(value.tag)
    if form == "histo":
        # decoded now (a malformed one warns here, as any value), built with the read's
        # other histograms, in one block (_pack_histograms)
        pending = conv.histo_proto_parts(value.payload, ev.step, ev.wall_time)
        place = len(parsed.values) + len(histos)
        histos.append((place, t.HISTOGRAMS, value.tag, seq, pending))
        return
    elif form == "image":
        kind = t.IMAGES
    elif form == "audio":
        kind = t.AUDIO
    elif form == "tensor":
        tensor = proto.decode_tensor(value.payload)
        kind = conv.tensor_kind(plugin, tensor)
        if kind == t.SCALARS:
            number, f32 = conv.scalar_of(tensor)
            scalars.add(value.tag, seq, ev.step, ev.wall_time, number, f32)
            return
    elif plugin == "hparams":
        kind = t.HPARAMS
    else:
        return  # a value with no payload (add_video without moviepy): nothing to show
    record = conv.convert(kind, value, meta, ev.step, ev.wall_time)
    if record is not None:
        parsed.values.append((kind, value.tag, seq, record))
        if isinstance(record, t.ImageValue):
            # Kept (its card shows the mark), and said once here, where the run's warnings are.
            for problem in conv.image_problems(record):
                warn.add(f"image {value.tag!r} at step {ev.step}: {problem}", where)


def _node_count(source: str, blob: bytes) -> int:
    if source == "graph_def":
        return wire.count_field(blob, 1)
    if source == "meta_graph_def":
        return sum(wire.count_field(g, 1) for g in wire.sub_messages(blob, 2))
    return sum(wire.count_field(g, 1) for g in wire.sub_messages(blob, 3))
