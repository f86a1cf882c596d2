"""W&B run files (`run-<id>.wandb`): history, summary, config, system metrics and run facts.

Owns: turning the records of a `.wandb` file (/work/shared/docs/wandb-format.md) into a Parsed
batch (scalars, histograms, images, text, tables and other media) and the run's RunMeta and
config, resumably by byte offset (WandbState holds what later reads need). Framing is
wandb_frame's; bulk decoding of history and summary records is wandb_items'; what values
become is wandb_values'; the records the bulk path does not handle, and every other record
type, are decoded here with core.wire.
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
  step the step of the latest history row written before the sample (0 before the first). W&B
  charts them against time, and so do the app's relative / wall x axes; on a step axis they
  sit at the training step they were sampled during. (A sample index would be a step count of
  its own: a run that logs once an epoch but is sampled every 15 s would show thousands of
  "steps" in `summary` and health.)
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
- Console: OutputRawRecords (Record field 13) are the run's stdout and stderr as written, one
  record per write (measured on 0.31.0: `print("x")` is two records, "x" and "\\n"; every tqdm
  update is one, "\\r<bar>"), both streams in file order as in files/output.log. Their text is
  kept joined into newline-ended lines, the last MAX_LINES of them (core.console's bound) plus
  the line being written. Lines are kept as written (escapes, `\\r` states: the UI renders them
  through core.console, as for the file), except long ones, which are kept as they display
  (the same display, bounded memory): an ended line longer than MAX_LINE_CHARS is rendered by
  core.console; the line being written, once it grows past LINE_CHARS, has what comes before
  its last `\\r` rendered (cut at HARD_LINE_CHARS when that is not possible).
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuiboard.core import wandb_items as wi
from tuiboard.core import wire
from tuiboard.core.console import MAX_LINE_CHARS, MAX_LINES, ConsoleText
from tuiboard.core.types import (
    Parsed,
    ReadWarning,
    RunMeta,
)
from tuiboard.core.wandb_frame import check_header, frame
from tuiboard.core.wandb_values import (
    SYSTEM_PREFIX,
    Batch,
    decode_item,
    decode_key,
    loads,
    media_prefix,
    put,
    summary_dict,
    timestamp_of,
    to_float,
)

CONSOLE_LOG = os.path.join("files", "output.log")

# Record fields (wandb_internal.proto).
R_HISTORY, R_SUMMARY, R_CONFIG, R_STATS, R_METRIC, R_RUN, R_EXIT = 2, 3, 5, 7, 12, 17, 18
R_OUTPUT_RAW = 13
LINE_CHARS = 16 * MAX_LINE_CHARS
"""The line being written is compacted when it grows past this (see the module's rules)."""
HARD_LINE_CHARS = 1 << 20
"""...and cut here when it cannot be (no `\\r` outside an escape): the one case where what the
records show may differ from the stream's display (a megabyte-long line without `\\r`)."""


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
    last_step: int = 0
    """The step of the latest history row read (system metrics samples take it as step)."""
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
    output: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    """Console lines of the output records, each ending with "\\n", oldest first (bounded)."""
    output_line: list[str] = field(default_factory=list)
    """The console line being written (no newline yet), in pieces (joined when it ends: a
    progress bar's thousands of states are not copied again on each one)."""
    output_chars: int = 0
    """Characters in `output_line`."""
    output_limit: int = LINE_CHARS
    """`output_line` is compacted when it holds more characters than this (twice its size
    after the last compaction: a line that cannot be made shorter is not tried on each piece)."""
    output_dropped: int = 0
    """Ended console lines that fell off the front of `output`."""
    output_records: tuple[str, ...] | None = ()
    """`output` and `output_line` as RunMeta holds them (None: out of date)."""
    output_file: bool = False
    """The run has its console file (files/output.log, the whole console): the records are
    not kept (a logdir of hundreds of chatty runs would hold 0.5-0.75 MB of lines each)."""

    def add_output(self, text: str) -> None:
        """One output record's text, appended to the console."""
        if self.output_file:
            return
        self.output_records = None
        pending = self.output_line
        if text == "\n":  # print's own write of its newline: most records
            if len(self.output) == MAX_LINES:
                self.output_dropped += 1
            self.output.append(_ended("".join(pending)) + "\n")
            self.output_line, self.output_chars = [], 0
            return
        if "\n" not in text:  # a piece of a line (print's text, a bar's state)
            pending.append(text)
            self.output_chars += len(text)
            if self.output_chars > self.output_limit:
                line = _bounded("".join(pending))
                self.output_line, self.output_chars = [line], len(line)
                self.output_limit = max(LINE_CHARS, 2 * len(line))
            return
        first, *middle, last = text.split("\n")
        pending.append(first)
        ended = [_ended("".join(pending)), *(_ended(s) for s in middle[-MAX_LINES:])]
        room = MAX_LINES - len(self.output)
        self.output_dropped += max(0, len(ended) - room) + max(0, len(middle) - MAX_LINES)
        self.output.extend(s + "\n" for s in ended)
        last = _bounded(last)
        self.output_line, self.output_chars = ([last] if last else []), len(last)
        self.output_limit = max(LINE_CHARS, 2 * len(last))

    def console_records(self) -> tuple[str, ...]:
        if self.output_records is None:
            last = ("".join(self.output_line),) if self.output_line else ()
            self.output_records = (*self.output, *last)
        return self.output_records

    def meta(self, run_dir: str) -> RunMeta:
        run = self.run
        console = os.path.join(run_dir, CONSOLE_LOG)
        has_file = os.path.isfile(console)
        if has_file and not self.output_file:
            self.output_file = True
            self.output.clear()
            self.output_line, self.output_chars, self.output_records = [], 0, ()
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
            console=(console,) if has_file else (),
            console_records=self.console_records(),
            console_dropped=self.output_dropped,
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
    batch = Batch(file, state)
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
    bulk = np.zeros(start.shape[0], dtype=bool)
    bulk[kinds.history] = True
    bulk[history_slow] = False
    batch.bulk_history_at = (
        np.maximum.accumulate(np.where(bulk, np.arange(start.shape[0]), -1))
        if start.shape[0]
        else np.zeros(0, dtype=np.int64)
    )
    for i in slow.tolist():
        payload = bytes(u8[int(start[i]) : int(end[i])])
        try:
            _record(batch, payload, base + i, int(fr.where[i]))
        except wire.DecodeError as error:
            batch.warnings.append(
                ReadWarning(file, f"record not decodable ({error}); skipped", int(fr.where[i]))
            )
    _apply_summary(batch)
    if start.shape[0]:
        state.last_step = batch.history_step_at(start.shape[0] - 1)
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
        elif media_prefix(path, media) is not None or path[-1] == "_type":
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
    batch: Batch,
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
    batch: Batch,
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
    batch: Batch, u8: np.ndarray, wanted: np.ndarray, sub_start: np.ndarray, end: np.ndarray
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
    batch: Batch,
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


def _apply_summary(batch: Batch) -> None:
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


def _record(batch: Batch, payload: bytes, seq: int, where: int) -> None:
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
                    path, raw = decode_item(payload[a2:c2])
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
        elif fno == R_OUTPUT_RAW:
            text = _output_text(payload, a, c)
            if text:
                state.add_output(text)
                state.changed = True


def _output_text(b: bytes, p: int, end: int) -> str:
    """An OutputRawRecord's `line` (field 3); core.wire's rules, inlined: a record per write
    makes this the reader's most frequent record after history."""
    text = ""
    varint = wire.varint
    while p < end:
        key = b[p]
        if key < 0x80:
            p += 1
        else:
            key, p = varint(b, p, end)
        wt = key & 7
        if key >> 3 == 0:
            raise wire.DecodeError("field number 0")
        if wt == wire.LEN:
            n = b[p] if p < end else 0x80
            if n < 0x80:
                p += 1
            else:
                n, p = varint(b, p, end)
            if n > end - p:
                raise wire.DecodeError("length past end")
            if key == 0x1A:  # field 3, length-delimited
                text = b[p : p + n].decode("utf-8", errors="replace")
            p += n
        elif wt == wire.VARINT:
            _, p = varint(b, p, end)
        elif wt == wire.FIXED64:
            p += 8
        elif wt == wire.FIXED32:
            p += 4
        else:
            raise wire.DecodeError(f"wire type {wt}")
    if p != end:
        raise wire.DecodeError("message overruns its end")
    return text


def _ended(line: str) -> str:
    """An ended console line (no newline) as kept: as written when it is short, else how it
    displays (plain text of at most MAX_LINE_CHARS, which displays the same again: a newline
    ends every escape, so a line displays alike alone or after others)."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    text = ConsoleText(1)
    text.feed(line)
    return text.current


def _bounded(line: str) -> str:
    """The line being written (no newline), shorter when it can be and showing the same: the
    part before its last `\\r` replaced by how it displays (at most MAX_LINE_CHARS, plain text;
    not when an escape is open there: an OSC title swallows the `\\r`). Cut at HARD_LINE_CHARS."""
    if len(line) <= LINE_CHARS:
        return line
    cut = line.rfind("\r")
    if cut > 0:
        head = ConsoleText(1)
        head.feed(line[:cut])
        if head.idle:  # else the `\r` is inside an escape (an OSC title swallows it)
            line = head.current + line[cut:]
    return line[:HARD_LINE_CHARS]


def _history(batch: Batch, msg: bytes, seq: int, where: int) -> None:
    items: list[tuple[tuple[str, ...], bytes]] = []
    step_num = 0
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if fno == 1 and wt == wire.LEN:
            items.append(decode_item(msg[a:c]))
        elif fno == 2 and wt == wire.LEN:
            step_num = wire.int_field(wire.message_fields(msg[a:c]), 1)
    step = step_num
    wall = math.nan
    for path, raw in items:
        if path == ("_step",):
            try:
                value = loads(raw)
            except (ValueError, RecursionError):
                continue
            if type(value) is int and -(2**63) <= value < 2**63:
                step = value
            elif type(value) is float and value.is_integer() and abs(value) < 9.2e18:
                step = int(value)
        elif path == ("_timestamp",):
            with contextlib.suppress(ValueError):
                wall = float(raw)
    batch.python_history = (seq - batch.base, step)
    batch.history(seq, step, wall, items, where)


def _config(state: WandbState, msg: bytes) -> None:
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if wt != wire.LEN or fno not in (1, 2):
            continue
        path, raw = decode_item(msg[a:c])
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
            put(state.config, path, value)
    state.changed = True


def _drop(obj: dict[str, Any], path: tuple[str, ...]) -> None:
    for part in path[:-1]:
        inner = obj.get(part)
        if not isinstance(inner, dict):
            return
        obj = inner
    if path:
        obj.pop(path[-1], None)


def _stats(batch: Batch, msg: bytes, seq: int) -> None:
    wall = math.nan
    items: list[tuple[str, bytes]] = []
    for fno, wt, a, c in wire.fields(msg, 0, len(msg)):
        if fno == 2 and wt == wire.LEN:
            wall = timestamp_of(msg[a:c])
        elif fno == 3 and wt == wire.LEN:
            key = ""
            raw = b""
            for f2, w2, a2, c2 in wire.fields(msg, a, c):
                if f2 == 1 and w2 == wire.LEN:
                    key = wire.text_at(msg, a2, c2)
                elif f2 == 16 and w2 == wire.LEN:
                    raw = msg[a2:c2]
            items.append((key, raw))
    step = batch.history_step_at(seq - batch.base)
    for key, raw in items:
        try:
            value = loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, int | float):
            batch.point(SYSTEM_PREFIX + key, seq, step, wall, to_float(value))


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
        run["start_time"] = timestamp_of(wire.sub(fs, 17))
    if wire.int_field(fs, 18) or wire.int_field(fs, 24):
        run["resumed"] = True
    if 4 in fs:
        _config(state, wire.sub(fs, 4))
    state.changed = True
