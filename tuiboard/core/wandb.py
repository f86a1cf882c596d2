"""W&B run files (`run-<id>.wandb`): history, summary, config, system metrics and run facts.

Owns: turning the records of a `.wandb` file (/work/shared/docs/wandb-format.md) into a Parsed
batch (scalars, histograms, images, text, tables and other media) and the run's RunMeta and
config, resumably by byte offset (WandbState holds what later reads need). Framing is
wandb_frame's; bulk decoding of history and summary records is wandb_items'; the records that
path does not handle, and every other record type, are decoded here with core.wire.
Must not import: textual, rich, protobuf, wandb, or tuiboard modules other than tuiboard.core.*.

Rules (the spec leaves these to the reader; they are what W&B's own viewers show):
- A history item's name is its nested_key joined with "/" (`["a/b"]` and `["a", "b"]` are both
  `a/b`); `_step` is the step and `_timestamp` the wall time; other names whose first part starts
  with "_" (`_runtime`, `_wandb`, ...) are W&B's and not series.
- Every number is a scalar point (float64; an integer beyond 2^53 is its nearest float64, as
  W&B's charts show it); `true`/`false` are points 1 and 0; a string is a text value; a list of
  numbers is a histogram sample (as in JSONL runs); null is skipped.
- A media object is the items under `[K, ...]` when `[K, "_type"]` is in the same record:
  `histogram` -> a histogram (jsonl's `_wandb_histogram`), `image-file` -> an image whose bytes
  are read from the run's `files/<path>` (a missing file: a warning, no value), `table-file` ->
  kind "table": a TensorValue of the column names from the table's JSON file (shape (columns,)),
  `images/separated` (a list of images under one key) -> one image value holding each file,
  `audio-file` -> audio (rate, channels and length from the WAV header),
  any other `_type` -> kind `<_type>`: a TensorValue holding the object as JSON text.
- System metrics (StatsRecord) are scalars `system/<key>` with the record's wall time, and as
  step the sample's index (0, 1, 2, ...): W&B charts them against time, not the training step,
  and samples are not tied to history rows; the app's relative / wall x axes show them as W&B
  does.
- `RunMeta.resumed` is RunRecord.resumed or RunRecord.resume: offline, wandb cannot know whether
  the id existed before, so every run started with `resume=` says so (each is its own directory
  and its own run here, with its own steps).
- Summary: wandb-core writes, before each history row, a summary record of that row's keys;
  of those, only the last one of each key can matter and only those are decoded (with every
  other summary record), which relies on wandb-core's construction (checked on every pair
  decoded; see `_summaries`). Updates and removes merged in file order, nested keys joined
  with "/", names with a leading "_" dropped, define_metric summaries kept as dicts
  ({"max": 0.9}), a media object as the dict of its fields.
- Config: the RunRecord's, then ConfigRecords in order; the caller flattens and unwraps it
  (core.config).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuiboard.core import wandb_items as wi
from tuiboard.core import wire
from tuiboard.core.jsonl import _sample_histogram, _wandb_histogram
from tuiboard.core.tfevents_values import sniff_image, wav_info
from tuiboard.core.types import (
    AUDIO,
    HISTOGRAMS,
    IMAGES,
    TEXT,
    AudioValue,
    ImageValue,
    Parsed,
    ReadWarning,
    RunMeta,
    ScalarColumns,
    TensorValue,
    TextValue,
    ValueRecord,
)
from tuiboard.core.wandb_frame import check_header, frame

TABLE = "table"
"""The kind of W&B tables (`wandb.Table`)."""
SYSTEM_PREFIX = "system/"
MAX_MEDIA_BYTES = 64 << 20
"""Media files (images, table JSON) larger than this are not read (a warning says so)."""
CONSOLE_LOG = os.path.join("files", "output.log")

# Record fields (wandb_internal.proto).
R_HISTORY, R_SUMMARY, R_CONFIG, R_STATS, R_METRIC, R_RUN, R_EXIT = 2, 3, 5, 7, 12, 17, 18
_NUMERIC_START = frozenset(b"-0123456789NI")


def _json_int(text: str) -> int | float:
    return -0.0 if text == "-0" else int(text)


def loads(raw: bytes | str) -> Any:
    """Go's JSON as W&B writes it: NaN / Infinity / -Infinity bare, `-0`, exact big integers."""
    return json.loads(raw, parse_int=_json_int)


@dataclass(slots=True)
class WandbState:
    """What the reader remembers about one `.wandb` file between reads."""

    header: bool | None = None
    """Whether the file starts with the W&B header (None: not checked yet)."""
    skip_to: int = 0
    keys: wi.KeyTable = field(default_factory=wi.KeyTable)
    paths: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Key number -> its nested key, decoded once."""
    records: int = 0
    stats_index: int = 0
    run: dict[str, Any] = field(default_factory=dict)
    """RunRecord fields seen (later records override)."""
    config: dict[str, Any] = field(default_factory=dict)
    """Top-level config key -> value, as the records say (wrapped, `_wandb` included)."""
    summary: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    """Summary path -> its value_json, merged in file order."""
    metrics: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, glob_name, step_metric) of MetricRecords that name a step metric."""
    exit_code: int | None = None
    runtime: float | None = None
    tags: set[str] = field(default_factory=set)
    """Scalar tags seen (define_metric globs are resolved against them)."""
    changed: bool = False
    """The run facts or config changed in the last read."""
    classes: tuple[np.ndarray, list[str]] | None = None
    """What each key number is (see _key_classes), for the keys numbered so far."""

    def meta(self, run_dir: str) -> RunMeta:
        run = self.run
        console = os.path.join(run_dir, CONSOLE_LOG)
        return RunMeta(
            display_name=run.get("display_name", ""),
            run_id=run.get("run_id", ""),
            project=run.get("project", ""),
            group=run.get("group", ""),
            job_type=run.get("job_type", ""),
            tags=tuple(run.get("tags", ())),
            notes=run.get("notes", ""),
            host=run.get("host", ""),
            start_time=run.get("start_time"),
            resumed=bool(run.get("resumed", False)),
            exit_code=self.exit_code,
            runtime=self.runtime,
            summary=summary_dict(self.summary),
            step_metrics=self.step_metrics(),
            console=(console,) if os.path.isfile(console) else (),
        )

    def step_metrics(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, glob, step_metric in self.metrics:
            if name:
                out[name] = step_metric
                continue
            hits = [
                t for t in sorted(self.tags) if t != step_metric and fnmatch.fnmatchcase(t, glob)
            ]
            if hits:
                out.update((t, step_metric) for t in hits)
            else:
                out[glob] = step_metric
        return out


@dataclass(slots=True)
class WandbRead:
    consumed: int
    parsed: Parsed
    fatal: bool = False
    """The file is not a W&B file: read it no more."""


def summary_dict(raw: dict[tuple[str, ...], bytes]) -> dict[str, Any]:
    """The merged summary as RunMeta wants it (see the module docstring)."""
    media = {path[:-1] for path in raw if len(path) >= 2 and path[-1] == "_type"}
    out: dict[str, Any] = {}
    for path, value_json in raw.items():
        if not path or path[0].startswith("_"):
            continue
        try:
            value = loads(value_json)
        except (ValueError, RecursionError):
            value = value_json.decode("utf-8", "replace")
        prefix = _media_prefix(path, media)
        if prefix is None:
            out["/".join(path)] = value
            continue
        obj = out.setdefault("/".join(prefix), {})
        if isinstance(obj, dict):
            _put(obj, path[len(prefix) :], value)
    return out


def _media_prefix(path: tuple[str, ...], media: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    if not media:
        return None
    for k in range(1, len(path)):
        if path[:k] in media:
            return path[:k]
    return None


def _put(obj: dict[str, Any], rest: tuple[str, ...], value: Any) -> None:
    for part in rest[:-1]:
        inner = obj.get(part)
        if not isinstance(inner, dict):
            inner = obj[part] = {}
        obj = inner
    obj[rest[-1]] = value


def decode_key(blob: bytes) -> tuple[str, ...]:
    """The nested key of an item from its encoded key fields (1 key, 2 nested_key)."""
    parts: list[str] = []
    key = ""
    for fno, wt, a, c in wire.fields(blob, 0, len(blob)):
        if wt != wire.LEN:
            raise wire.DecodeError("key field is not a string")
        if fno == 2:
            parts.append(wire.text_at(blob, a, c))
        elif fno == 1:
            key = wire.text_at(blob, a, c)
    return tuple(parts) if parts else (key,)


def _item(b: bytes) -> tuple[tuple[str, ...], bytes]:
    """One HistoryItem / SummaryItem / ConfigItem: (nested key, value as JSON text). The typed
    fields of HistoryItem (3-8) are turned into JSON text too."""
    parts: list[str] = []
    key = ""
    value = b"null"
    for fno, wt, a, c in wire.fields(b, 0, len(b)):
        if fno == 1 and wt == wire.LEN:
            key = wire.text_at(b, a, c)
        elif fno == 2 and wt == wire.LEN:
            parts.append(wire.text_at(b, a, c))
        elif fno == 16 and wt == wire.LEN:
            value = b[a:c]
        elif fno == 3:
            value = b"null"
        elif fno == 4 and wt == wire.VARINT:
            value = b"true" if a else b"false"
        elif fno == 5 and wt == wire.VARINT:
            value = str((a >> 1) ^ -(a & 1)).encode()  # sint64
        elif fno == 6 and wt == wire.FIXED64:
            value = json.dumps(wire.double_at(b, wt, a)).encode()
        elif fno == 7 and wt == wire.LEN:
            value = json.dumps(wire.text_at(b, a, c), ensure_ascii=False).encode()
        elif fno == 8 and wt == wire.LEN:
            value = b[a:c]
    return (tuple(parts) if parts else (key,)), value


def _timestamp(b: bytes) -> float:
    fs = wire.message_fields(b)
    return wire.int_field(fs, 1) + wire.int_field(fs, 2) / 1e9


class _Batch:
    """What one read collects, then turns into a Parsed."""

    def __init__(self, file: str, state: WandbState) -> None:
        self.file = file
        self.run_dir = os.path.dirname(file)
        self.state = state
        self.points: dict[str, tuple[list[int], list[int], list[float], list[float]]] = {}
        """Per tag, points from the Python path: seqs, steps, wall times, values."""
        self.arrays: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        """Per tag, points from the bulk path: (record index in the read, value) arrays; the
        step and wall time of a record are in row_step / row_wall."""
        self.row_step = np.zeros(0, dtype=np.int64)
        self.row_wall = np.zeros(0, dtype=np.float64)
        self.base = 0
        """Records read before this read (a record's seq is base + its index)."""
        self.values: list[tuple[str, str, int, ValueRecord]] = []
        self.warnings: list[ReadWarning] = []
        self.summary_ops: list[tuple[int, int, tuple[str, ...], bytes | None]] = []
        """(record seq, item order, path, value_json or None for a remove), applied sorted."""
        self.history_last = np.full(0, -1, dtype=np.int64)
        """Per key number: the last history record of this read holding it (-1: none)."""

    # -- points --------------------------------------------------------------------------------

    def point(self, tag: str, seq: int, step: int, wall: float, value: float) -> None:
        cols = self.points.get(tag)
        if cols is None:
            cols = self.points[tag] = ([], [], [], [])
        cols[0].append(seq)
        cols[1].append(step)
        cols[2].append(wall)
        cols[3].append(value)

    def history(
        self,
        seq: int,
        step: int,
        wall: float,
        items: Iterable[tuple[tuple[str, ...], bytes]],
        where: int,
    ) -> None:
        """The items of one history row that the bulk path left (or all, for a record it did not
        handle): everything but plain numbers."""
        items = list(items)
        media = {p[:-1] for p, _ in items if len(p) >= 2 and p[-1] == "_type"}
        objects: dict[tuple[str, ...], dict[str, Any]] = {}
        for path, raw in items:
            if not path or path[0].startswith("_"):
                continue
            prefix = _media_prefix(path, media)
            if prefix is not None:
                try:
                    value = loads(raw)
                except (ValueError, RecursionError):
                    continue
                _put(objects.setdefault(prefix, {}), path[len(prefix) :], value)
                continue
            self.value("/".join(path), raw, seq, step, wall, where)
        for prefix, obj in objects.items():
            self.media("/".join(prefix), obj, seq, step, wall)

    def value(self, tag: str, raw: bytes, seq: int, step: int, wall: float, where: int) -> None:
        if raw[:1] and raw[0] in _NUMERIC_START:
            try:
                self.point(tag, seq, step, wall, float(raw))
                return
            except ValueError:
                pass
        try:
            value = loads(raw)
        except (ValueError, RecursionError):
            self.warnings.append(
                ReadWarning(self.file, f"history value of {tag!r} is not JSON; skipped", where)
            )
            return
        self.decoded(tag, value, seq, step, wall)

    def decoded(self, tag: str, value: Any, seq: int, step: int, wall: float) -> None:
        kind = type(value)
        if kind is bool:
            self.point(tag, seq, step, wall, 1.0 if value else 0.0)
        elif kind is int or kind is float:
            self.point(tag, seq, step, wall, _to_float(value))
        elif kind is str:
            self.values.append((TEXT, tag, seq, TextValue(step, wall, (), (value,))))
        elif kind is list:
            hist = _sample_histogram(step, wall, value)
            if hist is not None:
                self.values.append((HISTOGRAMS, tag, seq, hist))
        elif kind is dict:
            if "_type" in value:
                self.media(tag, value, seq, step, wall)
                return
            for key, inner in value.items():
                self.decoded(f"{tag}/{key}", inner, seq, step, wall)

    def media(self, tag: str, obj: dict[str, Any], seq: int, step: int, wall: float) -> None:
        kind = obj.get("_type")
        if kind == "histogram":
            hist = _wandb_histogram(step, wall, obj)
            if hist is not None:
                self.values.append((HISTOGRAMS, tag, seq, hist))
            else:
                self.warnings.append(
                    ReadWarning(self.file, f"histogram {tag!r} at step {step} unreadable")
                )
        elif kind == "image-file":
            data = self._media_file(obj.get("path"), tag, step)
            if data is not None:
                image = ImageValue(
                    step=step,
                    wall_time=wall,
                    width=_int(obj.get("width")),
                    height=_int(obj.get("height")),
                    content_type=sniff_image(data),
                    images=(data,),
                )
                self.values.append((IMAGES, tag, seq, image))
        elif kind == "images/separated":
            # a list of wandb.Image logged under one key: one value, one image per file
            names = obj.get("filenames")
            files = (
                [self._media_file(n, tag, step) for n in names] if isinstance(names, list) else []
            )
            images = tuple(data for data in files if data is not None)
            if images:
                value = ImageValue(
                    step=step,
                    wall_time=wall,
                    width=_int(obj.get("width")),
                    height=_int(obj.get("height")),
                    content_type=sniff_image(images[0]),
                    images=images,
                )
                self.values.append((IMAGES, tag, seq, value))
        elif kind == "audio-file":
            data = self._media_file(obj.get("path"), tag, step)
            if data is not None:
                rate, channels, frames = wav_info(data)
                ctype = "audio/wav" if data[:4] == b"RIFF" else "application/octet-stream"
                caption = obj.get("caption")
                labels = (caption,) if isinstance(caption, str) else ()
                audio = AudioValue(step, wall, rate, channels, frames, ctype, (data,), labels)
                self.values.append((AUDIO, tag, seq, audio))
        elif kind == "table-file":
            data = self._media_file(obj.get("path"), tag, step)
            if data is None:
                return
            try:
                table = json.loads(data)
                columns = tuple(str(c).encode() for c in table["columns"])
            except (ValueError, KeyError, TypeError, RecursionError):
                self.warnings.append(
                    ReadWarning(self.file, f"table {tag!r} at step {step} unreadable")
                )
                return
            table_value = TensorValue(step, wall, TABLE, "string", (len(columns),), columns)
            self.values.append((TABLE, tag, seq, table_value))
        else:
            name = str(kind) if kind else "object"
            text = json.dumps(obj, ensure_ascii=False, allow_nan=True).encode()
            self.values.append((name, tag, seq, TensorValue(step, wall, name, "json", (), text)))

    def _media_file(self, rel: Any, tag: str, step: int) -> bytes | None:
        """A media file's bytes from the run's files/ directory (never outside it)."""
        if not isinstance(rel, str) or not rel:
            self.warnings.append(ReadWarning(self.file, f"{tag!r} at step {step}: no file path"))
            return None
        base = os.path.realpath(os.path.join(self.run_dir, "files"))
        path = os.path.realpath(os.path.join(base, rel))
        if os.path.commonpath([base, path]) != base:
            self.warnings.append(
                ReadWarning(self.file, f"{tag!r} at step {step}: file path leaves the run: {rel!r}")
            )
            return None
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_MEDIA_BYTES + 1)
        except OSError as error:
            why = error.strerror or type(error).__name__
            self.warnings.append(ReadWarning(path, f"{tag!r} at step {step}: {why}"))
            return None
        if len(data) > MAX_MEDIA_BYTES:
            self.warnings.append(
                ReadWarning(path, f"larger than {MAX_MEDIA_BYTES} bytes, not read")
            )
            return None
        return data

    # -- result --------------------------------------------------------------------------------

    def scalars(self) -> dict[str, ScalarColumns]:
        out: dict[str, ScalarColumns] = {}
        for tag in {**self.points, **self.arrays}:
            parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
            bulk = self.arrays.get(tag)
            if bulk:
                if len(bulk) == 1:
                    rows, values = bulk[0]
                else:
                    rows = np.concatenate([r for r, _ in bulk])
                    values = np.concatenate([v for _, v in bulk])
                parts.append((rows + self.base, self.row_step[rows], self.row_wall[rows], values))
            if tag in self.points:
                s, st, w, v = self.points[tag]
                parts.append(
                    (
                        np.array(s, np.int64),
                        np.array(st, np.int64),
                        np.array(w, np.float64),
                        np.array(v, np.float64),
                    )
                )
            if len(parts) == 1:
                seq, step, wall, value = parts[0]
            else:
                seq, step, wall, value = (np.concatenate(c) for c in zip(*parts, strict=True))
            if seq.size > 1 and bool((seq[1:] < seq[:-1]).any()):
                order = np.argsort(seq, kind="stable")
                seq, step, wall, value = seq[order], step[order], wall[order], value[order]
            out[tag] = ScalarColumns(step=step, wall_time=wall, value=value, seq=seq)
        return out


def _int(v: Any) -> int:
    return (
        int(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else 0
    )


def _to_float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def read_wandb(buf: bytes, offset: int, file: str, state: WandbState) -> WandbRead:
    """Read the whole records of `buf` (the file's bytes from absolute `offset`)."""
    parsed = Parsed()
    state.changed = False
    if state.header is None:
        if offset != 0:
            state.header = True  # resumed by the caller past the header it checked
        else:
            ok = check_header(buf)
            if ok is None:
                return WandbRead(0, parsed)
            state.header = ok
    if not state.header:
        parsed.warnings.append(ReadWarning(file, "not a W&B file (bad header)", 0))
        return WandbRead(len(buf), parsed, fatal=True)
    fr = frame(buf, offset, file, state.skip_to)
    if fr.skip_to:
        state.skip_to = fr.skip_to
    batch = _Batch(file, state)
    batch.warnings.extend(fr.warnings)
    u8, start, end = fr.data, fr.start, fr.end
    batch.base = state.records
    batch.row_step = np.zeros(start.shape[0], dtype=np.int64)
    batch.row_wall = np.full(start.shape[0], np.nan)
    kinds = wi.classify(u8, start, end)
    base = state.records
    slow_parts = [kinds.other]
    # In slices: the temporaries of a slice stay in the CPU cache and in the allocator's heap
    # (the loader has glibc map blocks over 1 MB afresh, which page-faults them on every use).
    for recs in _slices(kinds.history):
        slow_parts.append(_bulk_history(batch, u8, recs, kinds.sub_start, end, base))
    history_slow = np.concatenate(slow_parts[1:]) if len(slow_parts) > 1 else kinds.other[:0]
    slow_parts += _summaries(batch, u8, kinds, end, base, history_slow)
    slow = np.concatenate(slow_parts)
    slow.sort()
    for i in slow.tolist():
        payload = bytes(u8[int(start[i]) : int(end[i])])
        try:
            _record(batch, payload, base + i, int(fr.where[i]))
        except wire.DecodeError as error:
            batch.warnings.append(
                ReadWarning(file, f"record not decodable ({error}); skipped", int(fr.where[i]))
            )
    _apply_summary(batch)
    state.records += int(start.shape[0])
    parsed.scalars = batch.scalars()
    batch.values.sort(key=lambda v: v[2])
    parsed.values = batch.values
    parsed.warnings.extend(batch.warnings)
    parsed.records = int(start.shape[0])
    new_tags = set(parsed.scalars) - state.tags
    if new_tags:
        state.tags.update(new_tags)
        if state.metrics:
            state.changed = True
    return WandbRead(fr.consumed, parsed)


# -- the bulk paths ------------------------------------------------------------------------------

_STEP, _TIME, _SKIP, _PLAIN, _OTHER = 0, 1, 2, 3, 4
"""What a history key is: `_step`, `_timestamp`, another W&B key, a name, a media part."""


def _key_classes(state: WandbState) -> tuple[np.ndarray, list[str]]:
    """Per key number: its class and flat name (cached until new keys appear)."""
    keys = state.keys.keys
    cached = state.classes
    if cached is not None and cached[0].shape[0] == len(keys):
        return cached
    paths = state.paths
    for number in range(len(keys)):
        if number not in paths:
            try:
                paths[number] = decode_key(keys[number])
            except wire.DecodeError:
                paths[number] = ()
    media = {p[:-1] for p in paths.values() if len(p) >= 2 and p[-1] == "_type"}
    size = len(keys)
    classes = np.full(size, _OTHER, dtype=np.int8)
    names = [""] * size
    for number, path in paths.items():
        if not path:
            classes[number] = _OTHER
        elif path == ("_step",):
            classes[number] = _STEP
        elif path == ("_timestamp",):
            classes[number] = _TIME
        elif path[0].startswith("_"):
            classes[number] = _SKIP
        elif _media_prefix(path, media) is not None or path[-1] == "_type":
            classes[number] = _OTHER
        else:
            classes[number] = _PLAIN
        names[number] = "/".join(path)
    state.classes = (classes, names)
    return classes, names


SLICE = 4096
"""Records decoded in bulk together (about 60k items: temporaries of a few hundred KB)."""


def _slices(recs: np.ndarray) -> list[np.ndarray]:
    return [recs[i : i + SLICE] for i in range(0, recs.shape[0], SLICE)]


def _bulk_history(
    batch: _Batch,
    u8: np.ndarray,
    recs: np.ndarray,
    sub_start: np.ndarray,
    end: np.ndarray,
    base: int,
) -> np.ndarray:
    """History records in bulk; returns the record indices left for the Python path."""
    if not recs.size:
        return recs
    its = wi.items(u8, sub_start[recs], end[recs])
    state = batch.state
    numbers = state.keys.number(u8, its.key_start, its.key_end)
    classes, names = _key_classes(state)
    cls = classes[numbers]
    m = recs.shape[0]
    bad = its.bad.copy()
    # the step: exactly one integer `_step` item per record
    is_step = cls == _STEP
    count = np.bincount(its.msg[is_step], minlength=m)
    bad |= count != 1
    steps = np.zeros(m, np.int64)
    sm = its.msg[is_step]
    step_values, not_int = wi.parse_ints(u8, its.val_start[is_step], its.val_end[is_step])
    steps[sm] = step_values
    bad[sm[not_int]] = True
    walls = np.full(m, np.nan)
    is_time = cls == _TIME
    tm = its.msg[is_time]
    wall_values, _ = wi.parse_floats(u8, its.val_start[is_time], its.val_end[is_time])
    walls[tm] = wall_values
    batch.row_step[recs] = steps
    batch.row_wall[recs] = walls
    keep = ~bad[its.msg]
    plain = keep & (cls == _PLAIN) & wi.numeric(u8, its.val_start, its.val_end)
    values, failed = wi.parse_floats(u8, its.val_start[plain], its.val_end[plain])
    idx = np.flatnonzero(plain)
    if failed.any():
        plain[idx[failed]] = False
        idx, values = idx[~failed], values[~failed]
    seqs = base + recs
    num = numbers[idx]
    if len(names) < 1 << 15:
        num = num.astype(np.int16)  # a stable sort of int16 is a radix sort
    order = np.argsort(num, kind="stable")
    idx, values, num = idx[order], values[order], num[order]
    cuts = np.flatnonzero(np.diff(num)) + 1
    for part, vals in zip(np.split(idx, cuts), np.split(values, cuts), strict=True):
        if not part.size:
            continue
        msg = its.msg[part]
        tag = names[int(numbers[part[0]])]
        batch.arrays.setdefault(tag, []).append((recs[msg], vals))
    good = ~bad[its.msg]
    last = batch.history_last
    if last.shape[0] < len(names):
        last = batch.history_last = np.concatenate(
            [last, np.full(len(names) - last.shape[0], -1, dtype=np.int64)]
        )
    np.maximum.at(last, numbers[good], recs[its.msg[good]])
    # what is left of good records: text, bools, media, ... in Python, record by record
    rest = np.flatnonzero(keep & ~plain & (cls != _STEP) & (cls != _TIME) & (cls != _SKIP))
    if rest.size:
        paths = state.paths
        msgs = its.msg[rest]
        cuts = np.flatnonzero(np.diff(msgs)) + 1
        for part in np.split(rest, cuts):
            r = int(its.msg[part[0]])
            row = [
                (paths[int(numbers[i])], bytes(u8[int(its.val_start[i]) : int(its.val_end[i])]))
                for i in part.tolist()
            ]
            batch.history(int(seqs[r]), int(steps[r]), float(walls[r]), row, -1)
    return recs[bad]


def _summaries(
    batch: _Batch,
    u8: np.ndarray,
    kinds: wi.Kinds,
    end: np.ndarray,
    base: int,
    history_slow: np.ndarray,
) -> list[np.ndarray]:
    """The summary records of a read, skipping those that cannot matter.

    wandb-core writes, for every history row, a summary record of exactly that row's keys right
    before it (wandb-format.md). Such a "paired" record is superseded, key by key, by the next
    one of the same key, so of the paired records only those right before each key's last
    history row of the read are decoded, with every unpaired one (runtime updates, the user's
    `run.summary` changes). The pairing is checked on each paired record decoded (its keys are
    its row's keys); when it does not hold, or a history record needed the Python path, every
    summary record is decoded. Returns the records left for the Python path."""
    summary = kinds.summary
    if not summary.size:
        return []
    n = end.shape[0]
    is_history = np.zeros(n + 1, dtype=bool)
    is_history[kinds.history] = True
    paired = is_history[summary + 1]
    last = batch.history_last
    rows = np.unique(last[last >= 0])
    wanted = rows - 1
    shortcut = not history_slow.size and bool(np.isin(wanted, summary[paired]).all())
    if not shortcut:
        return [
            _bulk_summary(batch, u8, recs, kinds.sub_start, end, base) for recs in _slices(summary)
        ]
    chosen = np.union1d(summary[~paired], wanted)
    mark = len(batch.summary_ops)
    out = [_bulk_summary(batch, u8, recs, kinds.sub_start, end, base) for recs in _slices(chosen)]
    if wanted.size and not _pairs_hold(batch, u8, wanted, kinds.sub_start, end):
        del batch.summary_ops[mark:]
        return [
            _bulk_summary(batch, u8, recs, kinds.sub_start, end, base) for recs in _slices(summary)
        ]
    return out


def _pairs_hold(
    batch: _Batch, u8: np.ndarray, wanted: np.ndarray, sub_start: np.ndarray, end: np.ndarray
) -> bool:
    """Whether each of these summary records holds exactly the keys of the history row after
    it (and both were decoded in bulk)."""
    keys = batch.state.keys
    s_items = wi.items(u8, sub_start[wanted], end[wanted])
    h_items = wi.items(u8, sub_start[wanted + 1], end[wanted + 1])
    if s_items.bad.any() or h_items.bad.any():
        return False
    s_keys = keys.number(u8, s_items.key_start, s_items.key_end)
    h_keys = keys.number(u8, h_items.key_start, h_items.key_end)
    s_pairs = np.unique(s_items.msg * (len(keys.keys) + 1) + s_keys)
    h_pairs = np.unique(h_items.msg * (len(keys.keys) + 1) + h_keys)
    return s_pairs.shape == h_pairs.shape and bool((s_pairs == h_pairs).all())


def _bulk_summary(
    batch: _Batch,
    u8: np.ndarray,
    recs: np.ndarray,
    sub_start: np.ndarray,
    end: np.ndarray,
    base: int,
) -> np.ndarray:
    """Summary records in bulk: only each key's last update counts; returns the records left
    for the Python path (those with removes or an unusual layout)."""
    if not recs.size:
        return recs
    its = wi.items(u8, sub_start[recs], end[recs])
    state = batch.state
    numbers = state.keys.number(u8, its.key_start, its.key_end)
    if numbers.size:
        last = np.full(len(state.keys.keys), -1, dtype=np.int64)
        np.maximum.at(last, numbers, np.arange(numbers.size, dtype=np.int64))
        for number in np.flatnonzero(last >= 0).tolist():
            i = int(last[number])
            path = state.paths.get(number)
            if path is None:
                try:
                    path = state.paths[number] = decode_key(state.keys.keys[number])
                except wire.DecodeError:
                    continue
            raw = bytes(u8[int(its.val_start[i]) : int(its.val_end[i])])
            batch.summary_ops.append((base + int(recs[its.msg[i]]), i, path, raw))
    return recs[its.bad]


def _apply_summary(batch: _Batch) -> None:
    if not batch.summary_ops:
        return
    summary = batch.state.summary
    batch.summary_ops.sort(key=lambda op: (op[0], op[1]))
    for _, _, path, raw in batch.summary_ops:
        if raw is None:
            summary.pop(path, None)
            for key in [k for k in summary if k[: len(path)] == path]:
                del summary[key]
        else:
            summary[path] = raw
    batch.state.changed = True


# -- the Python path -----------------------------------------------------------------------------


def _record(batch: _Batch, payload: bytes, seq: int, where: int) -> None:
    """One record of any type, decoded with core.wire."""
    state = batch.state
    for fno, wt, a, c in wire.fields(payload, 0, len(payload)):
        if wt != wire.LEN:
            continue
        if fno == R_HISTORY:
            _history(batch, payload[a:c], seq, where)
        elif fno == R_SUMMARY:
            order = 0
            for f2, w2, a2, c2 in wire.fields(payload, a, c):
                if w2 == wire.LEN and f2 in (1, 2):
                    path, raw = _item(payload[a2:c2])
                    batch.summary_ops.append((seq, order, path, raw if f2 == 1 else None))
                    order += 1
        elif fno == R_CONFIG:
            _config(state, payload[a:c])
        elif fno == R_STATS:
            _stats(batch, payload[a:c], seq)
        elif fno == R_METRIC:
            _metric(state, payload[a:c])
        elif fno == R_RUN:
            _run(state, payload[a:c])
        elif fno == R_EXIT:
            fs = wire.message_fields(payload[a:c])
            state.exit_code = int(wire.signed64(fs[1][-1]) if 1 in fs else 0)
            if state.exit_code >= 1 << 31:
                state.exit_code -= 1 << 32
            state.runtime = float(wire.int_field(fs, 2))
            state.changed = True


def _history(batch: _Batch, msg: bytes, seq: int, where: int) -> None:
    items: list[tuple[tuple[str, ...], bytes]] = []
    step_num = 0
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if fno == 1 and wt == wire.LEN:
            items.append(_item(msg[a:c]))
        elif fno == 2 and wt == wire.LEN:
            step_num = wire.int_field(wire.message_fields(msg[a:c]), 1)
    step = step_num
    wall = math.nan
    for path, raw in items:
        if path == ("_step",):
            try:
                value = loads(raw)
            except ValueError:
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and float(value).is_integer():
                step = int(value)
        elif path == ("_timestamp",):
            with contextlib.suppress(ValueError):
                wall = float(raw)
    batch.history(seq, step, wall, items, where)


def _config(state: WandbState, msg: bytes) -> None:
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if wt != wire.LEN or fno not in (1, 2):
            continue
        path, raw = _item(msg[a:c])
        if fno == 2:
            _drop(state.config, path)
            continue
        try:
            value = loads(raw)
        except (ValueError, RecursionError):
            value = raw.decode("utf-8", "replace")
        if len(path) == 1:
            state.config[path[0]] = value
        elif path:
            _put(state.config, path, value)
    state.changed = True


def _drop(obj: dict[str, Any], path: tuple[str, ...]) -> None:
    for part in path[:-1]:
        inner = obj.get(part)
        if not isinstance(inner, dict):
            return
        obj = inner
    if path:
        obj.pop(path[-1], None)


def _stats(batch: _Batch, msg: bytes, seq: int) -> None:
    state = batch.state
    wall = math.nan
    items: list[tuple[str, bytes]] = []
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if fno == 2 and wt == wire.LEN:
            wall = _timestamp(msg[a:c])
        elif fno == 3 and wt == wire.LEN:
            key = ""
            raw = b""
            for f2, w2, a2, c2 in wire.fields(msg, a, c):
                if f2 == 1 and w2 == wire.LEN:
                    key = wire.text_at(msg, a2, c2)
                elif f2 == 16 and w2 == wire.LEN:
                    raw = msg[a2:c2]
            items.append((key, raw))
    step = state.stats_index
    state.stats_index += 1
    for key, raw in items:
        try:
            value = loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, int | float):
            batch.point(SYSTEM_PREFIX + key, seq, step, wall, _to_float(value))


def _metric(state: WandbState, msg: bytes) -> None:
    fs = wire.message_fields(msg)
    step_metric = wire.text_field(fs, 4)
    if step_metric:
        state.metrics.append((wire.text_field(fs, 1), wire.text_field(fs, 2), step_metric))
        state.changed = True


def _run(state: WandbState, msg: bytes) -> None:
    fs = wire.message_fields(msg)
    run = state.run
    for number, name in ((1, "run_id"), (3, "project"), (6, "group"), (7, "job_type")):
        if number in fs:
            run[name] = wire.text_field(fs, number)
    for number, name in ((8, "display_name"), (9, "notes"), (13, "host")):
        if number in fs:
            run[name] = wire.text_field(fs, number)
    if 10 in fs:
        run["tags"] = tuple(v.decode("utf-8", "replace") for v in fs[10] if isinstance(v, bytes))
    if 17 in fs:
        run["start_time"] = _timestamp(wire.sub(fs, 17))
    if wire.int_field(fs, 18) or wire.int_field(fs, 24):
        run["resumed"] = True
    if 4 in fs:
        _config(state, wire.sub(fs, 4))
    state.changed = True
