"""JSON-lines metric logs: which files are metric logs, and reading their complete lines.

Owns: the rules of /work/shared/docs/jsonl-runs.md for one file (step key, wall time key, tags,
flattening, histogram samples, text, damage counting), resumable by byte offset, and the
sniffing of a file's first line. It does not know about runs, the store or the watcher.
Must not import: textual, rich, or tuiboard modules other than tuiboard.core.types,
tuiboard.core.tfevents_values (its image sniffing) and tuiboard.core.jsonl_uniform (chunks whose
lines share one layout of numbers, read in bulk).

Decisions the spec leaves open (and why):
- A step key "holds an integer" when its value is a JSON integer within int64, or a float with
  an integral value (3.0): writers that pass numpy scalars through `float()` write steps so.
  A bool is never a step, a too-big integer is not a step (it stays a float tag).
- `epoch` is the step only under the same integer rule; a fractional epoch (0.25, as the
  Hugging Face Trainer logs it) leaves the line index as step and `epoch` is a tag.
- A naive ISO-8601 time (no offset) is local time, as `datetime.now().isoformat()` wrote it.
- Blank lines are ignored: not data, not damage (they still count in line numbers).
- Bytes that are not UTF-8 are replaced by U+FFFD; the line still parses.
- A list is a histogram sample only when every element is a number (bool excluded); its
  non-finite elements are left out of the buckets (they have no place on the axis), and a
  sample with no finite element is skipped. Buckets: TensorBoard's default histogram
  summary (`tensorboard.plugins.histogram.summary_v2.histogram_pb`, 30 equal-width buckets).
- Old W&B `wandb-history.jsonl` only: top-level keys beginning with `_` are W&B's namespace
  (`_step`, `_timestamp`, `_runtime`, `_wandb`, ...). `_step`/`_timestamp` serve as step and
  time as the spec says, `_runtime` (seconds since the run started) stays a scalar tag because
  users chart against it, the others are W&B internals (`_wandb: {"runtime": ..}`) and are
  dropped so they do not pose as metrics. A nested object holding `"_type"` is a W&B typed value:
  `"histogram"` (`bins` + `values`, or `packedBins`) becomes a HistogramValue, the others
  (tables and the like) are skipped. In every other file `_` keys are plain data.
- W&B's media objects are media in every file (tuiboard.init writes them in metrics.jsonl):
  `{"_type": "histogram"}` as above; `{"_type": "image-file", "path": ...}` and
  `{"_type": "images/separated", "filenames": [...]}` become an ImageValue holding the file's
  bytes, read from the path relative to the JSONL file's directory (W&B's `files/`, our run
  directory). A path that is absolute, leaves that directory, is missing or is larger than
  MAX_MEDIA_BYTES is not read: one warning a file counts them and names the first. Other
  `_type` objects in files other than W&B's history are plain data, as before.

Speed (`python bench/bench_jsonl.py`: 100,000 detectron2-like lines of 11 numeric keys, 37 MB,
CPU time, this 2-core machine): 165k lines/s, 1.65M points/s, 1.76x the time json.loads alone
takes on the same lines. How: json's C scanner called without json.loads' Python wrappers (a
third of its time on short lines), then lines that share their keys (a training loop logs the
same dict every step) converted as one numpy block; one line at a time: 129k lines/s.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from tuiboard.core import source
from tuiboard.core.jsonl_uniform import Uniform, uniform_numbers, uniform_numbers_many
from tuiboard.core.tfevents_values import image_size, sniff_image
from tuiboard.core.types import (
    HISTOGRAMS,
    IMAGES,
    TEXT,
    HistogramValue,
    ImageValue,
    Parsed,
    ReadWarning,
    ScalarColumns,
    TextValue,
)

STEP_KEYS = ("step", "_step", "global_step", "iteration", "iter")
EPOCH_KEY = "epoch"
_STEP_KEYS_ALL = (*STEP_KEYS, EPOCH_KEY)
TIME_KEYS = ("wall_time", "_timestamp", "timestamp", "time")
UNIX_TIME_MIN = 1e9
"""2001-09-09: a number above it under a time key is a unix time in seconds."""
HISTOGRAM_BUCKETS = 30
"""TensorBoard's DEFAULT_BUCKET_COUNT for histogram summaries."""
SNIFF_BYTES = 64 * 1024
SNIFF_FIRST_BYTES = 4096

METRICS_JSONL = "metrics.jsonl"
FRAMEWORK_NAMES = frozenset({"metrics.json", "scalars.json", "wandb-history.jsonl"})
WANDB_HISTORY = "wandb-history.jsonl"
WANDB_KEPT = frozenset({"_runtime"})
MEDIA_TYPES = frozenset({"histogram", "image-file", "images/separated"})
"""W&B `_type` objects that are media in every JSONL file."""
MAX_MEDIA_BYTES = 64 << 20
"""A media file larger than this is not read (a warning says so)."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INF = math.inf
_NAN = math.nan
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(slots=True)
class JsonlState:
    """What the reader remembers about one file between reads. JsonlState() is a fresh file."""

    lines: int = 0
    """Complete lines consumed so far (good, bad and blank): line numbers continue from it."""
    good: int = 0
    """Lines that were JSON objects: the next one's index is its step when it has no step key."""
    bad: int = 0
    """Lines skipped as not JSON or not an object."""
    first_bad: int | None = None
    """1-based line number of the first bad line."""
    media_missing: int = 0
    """Media files named by lines and not read (missing, outside the directory, too large)."""
    first_media: tuple[int, str] | None = None
    """(1-based line, why) of the first of them."""


def is_metrics_candidate(name: str) -> bool:
    """Whether a file name may be a metric log (its first line then decides: sniff)."""
    base = os.path.basename(name)
    return base.endswith(".jsonl") or base in FRAMEWORK_NAMES


def _as_step(value: Any) -> int | None:
    """The integer a step key holds, or None (see the module docstring for the rule)."""
    kind = type(value)
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        return None
    if kind is float and value.is_integer() and -9.2e18 < value < 9.2e18:
        return int(value)
    return None


def _as_wall_time(value: Any) -> float | None:
    """Seconds since the epoch held by a time key, or None when it is not a wall time."""
    kind = type(value)
    if kind is float or kind is int:
        if UNIX_TIME_MIN < value < _INF:
            wall = _to_float(value) if kind is int else value
            return wall if wall < _INF else None
        return None
    if kind is str and _ISO_RE.match(value):
        return _parse_iso(value)
    return None


def _parse_iso(text: str) -> float | None:
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _step_key(obj: dict[str, Any]) -> tuple[str | None, int | None]:
    for key in (*STEP_KEYS, EPOCH_KEY):  # the step keys in order, then epoch
        value = obj.get(key)
        if value is not None:
            step = _as_step(value)
            if step is not None:
                return key, step
    return None, None


def _time_key(obj: dict[str, Any]) -> tuple[str | None, float]:
    for key in TIME_KEYS:
        value = obj.get(key)
        if value is not None:
            wall = _as_wall_time(value)
            if wall is not None:
                return key, wall
    return None, _NAN


def _to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return _INF if value > 0 else -_INF


def _sample_histogram(step: int, wall: float, sample: list[Any]) -> HistogramValue | None:
    """Buckets of a list of numbers as TensorBoard's histogram_pb makes them, or None."""
    for item in sample:
        kind = type(item)
        if kind is not float and kind is not int:
            return None
    try:
        data = np.asarray(sample, dtype=np.float64)
    except OverflowError:
        data = np.asarray([_to_float(x) if type(x) is int else x for x in sample], np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    low = float(data.min())
    high = float(data.max())
    if low == high:
        left = right = np.full(HISTOGRAM_BUCKETS, low)
        counts = np.zeros(HISTOGRAM_BUCKETS)
        counts[-1] = data.size
    else:
        width = (high - low) / HISTOGRAM_BUCKETS
        index = np.minimum(np.floor((data - low) / width).astype(np.int64), HISTOGRAM_BUCKETS - 1)
        counts = np.bincount(index, minlength=HISTOGRAM_BUCKETS).astype(np.float64)
        edges = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)
        left, right = edges[:-1], edges[1:]
    return HistogramValue(
        step=step,
        wall_time=wall,
        left=left,
        right=right,
        counts=counts,
        count=float(data.size),
        min=low,
        max=high,
        sum=float(data.sum()),
        sum_squares=float(np.dot(data, data)),
    )


def _wandb_histogram(step: int, wall: float, obj: dict[str, Any]) -> HistogramValue | None:
    """W&B's {"_type": "histogram", "bins": edges, "values": counts} (or packedBins)."""
    try:
        counts = np.asarray(obj["values"], dtype=np.float64)
        packed = obj.get("packedBins")
        if isinstance(packed, dict):
            edges = float(packed["min"]) + float(packed["size"]) * np.arange(
                int(packed["count"]) + 1, dtype=np.float64
            )
        else:
            edges = np.asarray(obj["bins"], dtype=np.float64)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if counts.ndim != 1 or edges.ndim != 1 or counts.size == 0 or edges.size != counts.size + 1:
        return None
    return HistogramValue(
        step=step,
        wall_time=wall,
        left=edges[:-1],
        right=edges[1:],
        counts=counts,
        count=float(counts.sum()),
        min=float(edges[0]),
        max=float(edges[-1]),
    )


_NUMBERS = frozenset({int, float})
GROUP_MIN_LINES = 8
"""Lines sharing their keys (in order) are read as columns when at least this many do."""


class _Mixed(Exception):
    """A key column holds a step (or time) on some lines only: read the block line by line."""


def _first_column(
    where: dict[str, int],
    column: Callable[[int], list[Any]],
    keys: Iterable[str],
    convert: Callable[[list[Any]], np.ndarray | Literal[False] | None],
) -> tuple[str | None, np.ndarray | None]:
    """The first of `keys` present in the block whose column converts (a step or time column),
    as (key, values); (None, None) when none does. Raises _Mixed when a column only partly does."""
    for key in keys:
        j = where.get(key)
        if j is None:
            continue
        got = convert(column(j))
        if got is None:
            raise _Mixed
        if got is not False:
            return key, got
    return None, None


def _column_steps(column: list[Any]) -> np.ndarray | Literal[False] | None:
    """A step-key column: int64 steps when every value is a step, False when none is, None
    when only some are (then the lines are read one by one)."""
    kinds = set(map(type, column))
    if kinds == {int}:
        try:
            return np.array(column, dtype=np.int64)
        except OverflowError:
            return None
    if kinds == {float}:
        values = np.array(column, dtype=np.float64)
        ok = (values == np.floor(values)) & (np.abs(values) < 9.2e18)
        if ok.all():
            return values.astype(np.int64)
        return None if ok.any() else False
    return None if kinds & _NUMBERS else False


def _column_walls(column: list[Any]) -> np.ndarray | Literal[False] | None:
    """A time-key column: float64 wall times when every value is a unix time, False when none
    is, None otherwise (ISO strings and mixtures are read line by line)."""
    kinds = set(map(type, column))
    if kinds <= _NUMBERS:
        try:
            values = np.array(column, dtype=np.float64)
        except OverflowError:
            return None
        ok = (values > UNIX_TIME_MIN) & (values < _INF)
        if ok.all():
            return values
        return None if ok.any() else False
    return None if kinds & {int, float, str} else False


def _floats(values: Any) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        return np.array([_to_float(v) if type(v) is int else v for v in values], dtype=np.float64)


class _Batch:
    """Per-read accumulation; one numpy conversion per tag at the end. Lines are addressed by
    their 0-based index in the read (the seq).

    Two paths give the same result: add_line (one line, the spec written out) and add_group
    (many lines with the same keys in the same order, the usual training log: their values
    are taken as columns, with the step and time keys checked per column; a column where the
    rule would differ between lines sends the whole group back to add_line)."""

    __slots__ = (
        "base_dir",
        "chunks",
        "columns",
        "groups",
        "line_base",
        "media_problems",
        "steps",
        "values",
        "walls",
        "wandb",
    )

    def __init__(self, count: int, wandb: bool, base_dir: str = "", line_base: int = 0) -> None:
        self.columns: dict[str, tuple[list[int], list[Any]]] = {}
        """Per tag, points from add_line: seqs and values."""
        self.chunks: dict[str, list[tuple[np.ndarray, Any]]] = {}
        """Per tag, numeric columns from add_group: (seqs, values)."""
        self.groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        """(seqs, steps, wall times) of the lines read by add_group."""
        self.steps = [0] * count
        self.walls = [_NAN] * count
        self.values: list[tuple[str, str, int, Any]] = []
        self.wandb = wandb
        self.base_dir = base_dir
        """Directory media paths are relative to (the JSONL file's)."""
        self.line_base = line_base
        """Lines consumed before this read: seq + line_base + 1 is a 1-based line number."""
        self.media_problems: list[tuple[int, str]] = []
        """(line, why) of each media file not read."""

    def add_line(self, seq: int, obj: dict[str, Any], index_step: int) -> None:
        step_key, step = _step_key(obj)
        if step is None:
            step = index_step
        time_key, wall = _time_key(obj)
        self.steps[seq] = step
        self.walls[seq] = wall
        columns = self.columns
        wandb = self.wandb
        for key, value in obj.items():
            if key in (step_key, time_key):
                continue
            if wandb and key[:1] == "_" and key not in WANDB_KEPT:
                continue
            kind = type(value)
            if kind is float or kind is int:
                entry = columns.get(key)
                if entry is None:
                    entry = columns[key] = ([], [])
                entry[0].append(seq)
                entry[1].append(value)
            else:
                self._add_other(key, value, kind, seq, step, wall)

    def add_group(
        self, seqs: list[int], objs: list[dict[str, Any]], index_steps: list[int]
    ) -> None:
        keys = tuple(objs[0])
        rows = [tuple(obj.values()) for obj in objs]
        # The usual case, every value a number: one conversion of the whole block.
        matrix: np.ndarray | None = None
        if set(map(type, chain.from_iterable(rows))) <= _NUMBERS:
            try:
                matrix = np.array(rows, dtype=np.float64)
            except OverflowError:  # an integer beyond float64: column by column
                matrix = None
        columns: dict[int, list[Any]] = {}

        def column(j: int) -> list[Any]:
            """The exact Python values of one key (steps must not pass through float64)."""
            values = columns.get(j)
            if values is None:
                values = columns[j] = [row[j] for row in rows]
            return values

        where = {key: j for j, key in enumerate(keys)}
        try:
            step_key, steps = _first_column(where, column, _STEP_KEYS_ALL, _column_steps)
            time_key, walls = _first_column(where, column, TIME_KEYS, _column_walls)
        except _Mixed:
            return self._add_lines(seqs, objs, index_steps)
        if steps is None:
            steps = np.array(index_steps, dtype=np.int64)
        if walls is None:
            walls = np.full(len(objs), _NAN)
        seq_array = np.array(seqs, dtype=np.int64)
        self.groups.append((seq_array, steps, walls))
        wandb = self.wandb
        for j, key in enumerate(keys):
            if key in (step_key, time_key):
                continue
            if wandb and key[:1] == "_" and key not in WANDB_KEPT:
                continue
            if matrix is not None:
                self.chunks.setdefault(key, []).append((seq_array, matrix[:, j]))
                continue
            values = column(j)
            if set(map(type, values)) <= _NUMBERS:
                self.chunks.setdefault(key, []).append((seq_array, values))
                continue
            # Text, lists, nested objects or a mixture: value by value, as add_line does.
            for seq, step, wall, value in zip(
                seqs, steps.tolist(), walls.tolist(), values, strict=True
            ):
                kind = type(value)
                if kind is float or kind is int:
                    entry = self.columns.get(key)
                    if entry is None:
                        entry = self.columns[key] = ([], [])
                    entry[0].append(seq)
                    entry[1].append(value)
                else:
                    self._add_other(key, value, kind, seq, step, wall)
        return None

    def _add_lines(
        self, seqs: list[int], objs: list[dict[str, Any]], index_steps: list[int]
    ) -> None:
        for seq, obj, index_step in zip(seqs, objs, index_steps, strict=True):
            self.add_line(seq, obj, index_step)

    def _add_other(
        self, tag: str, value: Any, kind: type, seq: int, step: int, wall: float
    ) -> None:
        if kind is dict:
            typed = value.get("_type")
            if typed is not None and (self.wandb or (type(typed) is str and typed in MEDIA_TYPES)):
                if typed == "histogram":
                    histogram = _wandb_histogram(step, wall, value)
                    if histogram is not None:
                        self.values.append((HISTOGRAMS, tag, seq, histogram))
                elif typed in ("image-file", "images/separated"):
                    image = self._image(value, typed, seq, step, wall)
                    if image is not None:
                        self.values.append((IMAGES, tag, seq, image))
                return
            columns = self.columns
            for key, item in value.items():
                name = f"{tag}/{key}"
                item_kind = type(item)
                if item_kind is float or item_kind is int:
                    entry = columns.get(name)
                    if entry is None:
                        entry = columns[name] = ([], [])
                    entry[0].append(seq)
                    entry[1].append(item)
                else:
                    self._add_other(name, item, item_kind, seq, step, wall)
        elif kind is str:
            self.values.append((TEXT, tag, seq, TextValue(step, wall, (), (value,))))
        elif kind is list:
            histogram = _sample_histogram(step, wall, value)
            if histogram is not None:
                self.values.append((HISTOGRAMS, tag, seq, histogram))
        # bool and None: skipped, as the spec says.

    def _image(
        self, obj: dict[str, Any], typed: str, seq: int, step: int, wall: float
    ) -> ImageValue | None:
        """An image-file (one path) or images/separated (filenames) object as an ImageValue."""
        paths = [obj.get("path")] if typed == "image-file" else obj.get("filenames")
        if not isinstance(paths, list) or not paths:
            self.media_problems.append((self.line_base + seq + 1, f"{typed} without a path"))
            return None
        images: list[bytes] = []
        captions: list[str] = []
        for rel, caption in zip(paths, media_captions(obj, typed, len(paths)), strict=True):
            data, why = read_media(self.base_dir, rel)
            if data is None:
                self.media_problems.append((self.line_base + seq + 1, why))
            else:
                images.append(data)
                captions.append(caption)
        if not images:
            return None
        width, height = obj.get("width"), obj.get("height")
        if type(width) is not int or type(height) is not int:
            width, height = image_size(images[0]) or (0, 0)
        return ImageValue(
            step=step,
            wall_time=wall,
            width=width,
            height=height,
            content_type=sniff_image(images[0]),
            images=tuple(images),
            captions=tuple(captions) if any(captions) else (),
        )

    def scalars(self) -> dict[str, ScalarColumns]:
        if not self.columns and not self.chunks:
            return {}
        steps = np.array(self.steps, dtype=np.int64)
        walls = np.array(self.walls, dtype=np.float64)
        for seqs, group_steps, group_walls in self.groups:
            steps[seqs] = group_steps
            walls[seqs] = group_walls
        out: dict[str, ScalarColumns] = {}
        for tag in {**self.columns, **self.chunks}:
            seq_parts: list[np.ndarray] = []
            value_parts: list[np.ndarray] = []
            if tag in self.columns:
                line_seqs, line_values = self.columns[tag]
                seq_parts.append(np.array(line_seqs, dtype=np.int64))
                value_parts.append(_floats(line_values))
            for chunk_seqs, chunk_values in self.chunks.get(tag, ()):
                seq_parts.append(chunk_seqs)
                value_parts.append(_floats(chunk_values))
            if len(seq_parts) == 1:
                seq, value = seq_parts[0], value_parts[0]
            else:
                seq = np.concatenate(seq_parts)
                value = np.concatenate(value_parts)
            if seq.size > 1 and bool((seq[1:] < seq[:-1]).any()):
                order = np.argsort(seq, kind="stable")
                seq, value = seq[order], value[order]
            out[tag] = ScalarColumns(step=steps[seq], wall_time=walls[seq], value=value, seq=seq)
        return out

    def sorted_values(self) -> list[tuple[str, str, int, Any]]:
        """Histogram and text records in file order (groups add them column by column)."""
        self.values.sort(key=itemgetter(2))
        return self.values


def _uniform_scalars(
    keys: tuple[str, ...], ints: tuple[bool, ...], matrix: np.ndarray, index_base: int, wandb: bool
) -> dict[str, ScalarColumns] | None:
    """What _Batch.add_group and scalars() make of lines that hold the same keys, all numbers
    (jsonl_uniform: per key float64 values and whether they were JSON integers of at most 15
    digits, exact in float64): the same steps, times and columns, built straight (every line
    is in the one group, in order). None when a step or time column holds a step (a time) on
    some lines only: the caller then reads the lines one by one."""
    n = matrix.shape[0]
    where = {key: j for j, key in enumerate(keys)}
    step_key: str | None = None
    steps: np.ndarray | None = None
    for key in _STEP_KEYS_ALL:  # as _column_steps on the lines' values
        j = where.get(key)
        if j is None:
            continue
        column = matrix[:, j]
        if not ints[j]:
            ok = (column == np.floor(column)) & (np.abs(column) < 9.2e18)
            if not ok.all():
                if ok.any():
                    return None
                continue
        step_key, steps = key, column.astype(np.int64)
        break
    time_key: str | None = None
    walls: np.ndarray | None = None
    for key in TIME_KEYS:  # as _column_walls
        j = where.get(key)
        if j is None:
            continue
        column = matrix[:, j]
        ok = (column > UNIX_TIME_MIN) & (column < _INF)
        if ok.all():
            time_key, walls = key, np.array(column)
            break
        if ok.any():
            return None
    seq = np.arange(n, dtype=np.int64)
    if steps is None:
        steps = seq + index_base
    if walls is None:
        walls = np.full(n, _NAN)
    out: dict[str, ScalarColumns] = {}
    for j, key in enumerate(keys):
        if key in (step_key, time_key):
            continue
        if wandb and key[:1] == "_" and key not in WANDB_KEPT:
            continue
        # (each tag its own arrays, as scalars() gives them: the store adopts them)
        out[key] = ScalarColumns(
            step=steps.copy(), wall_time=walls.copy(), value=np.array(matrix[:, j]), seq=seq
        )
    return out


def read_jsonl(
    data: bytes | memoryview, offset: int, file: str, state: JsonlState
) -> tuple[int, Parsed]:
    """Read the complete lines of `data` (the file's bytes from absolute `offset` on).

    Returns (bytes consumed, what they held). A last line without its newline is left for the
    next call; `state` carries line numbers, the good-line index and damage counts across calls.
    """
    parsed = Parsed()
    raw = data if isinstance(data, bytes) else bytes(data)
    end = raw.rfind(b"\n") + 1
    if end == 0:
        return 0, parsed
    uniform = uniform_numbers(raw[:end] if end < len(raw) else raw, GROUP_MIN_LINES)
    if uniform is not None:
        got = _take_uniform(uniform, file, state)
        if got is not None:
            return end, got
    return _read_lines(raw, end, offset, file, state)


def read_jsonl_many(
    items: list[tuple[bytes, str, JsonlState]],
) -> list[tuple[int, Parsed]]:
    """read_jsonl(data, 0, file, state) of each item, the same answers and states, with the
    files whose complete lines share one layout of numbers (a sweep's runs log the same keys)
    checked and parsed together: jsonl_uniform.uniform_numbers_many, one regex pass and one
    np.fromstring for them all. The others are read one by one as read_jsonl reads them."""
    chunks: list[bytes] = []
    ends: list[int] = []
    for data, _, _ in items:
        end = data.rfind(b"\n") + 1
        ends.append(end)
        chunks.append(data[:end] if end < len(data) else data)
    out: list[tuple[int, Parsed]] = []
    for (data, file, state), end, uniform in zip(
        items, ends, uniform_numbers_many(chunks, GROUP_MIN_LINES), strict=True
    ):
        got = None if uniform is None else _take_uniform(uniform, file, state)
        out.append((end, got) if got is not None else read_jsonl(data, 0, file, state))
    return out


def _take_uniform(uniform: Uniform, file: str, state: JsonlState) -> Parsed | None:
    """What read_jsonl gives of complete lines that jsonl_uniform read, None (state untouched)
    when a step or time column holds a step (a time) on some lines only."""
    keys, ints, matrix = uniform
    lines = matrix.shape[0]
    scalars = _uniform_scalars(
        keys, ints, matrix, state.good, os.path.basename(file) == WANDB_HISTORY
    )
    if scalars is None:
        return None
    state.good += lines
    state.lines += lines
    parsed = Parsed()
    parsed.records = lines
    parsed.scalars = scalars
    return parsed


def _read_lines(
    raw: bytes, end: int, offset: int, file: str, state: JsonlState
) -> tuple[int, Parsed]:
    """read_jsonl's line-by-line path (damage rules, mixed keys, media)."""
    parsed = Parsed()
    text = raw[:end].decode("utf-8", "replace")
    if offset == 0 and text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    lines.pop()  # the empty string after the final newline
    scan = _SCAN_ONCE
    good_seqs: list[int] = []
    good_objs: list[dict[str, Any]] = []
    bad = 0
    first_bad: int | None = None
    for seq, line in enumerate(lines):
        # json.loads without its Python wrappers (a third of its time on short lines): the C
        # scanner, then the same checks loads makes (nothing but JSON whitespace after it).
        try:
            obj, stop = scan(line, 0)
            if stop != len(line) and line[stop:].strip(" \t\r"):
                obj = None
        except (StopIteration, ValueError, RecursionError):
            obj = _loads_or_none(line)
            if obj is None and not line.strip(" \t\r"):
                continue  # a blank line
        if type(obj) is not dict:
            bad += 1
            if first_bad is None:
                first_bad = state.lines + seq + 1
            continue
        good_seqs.append(seq)
        good_objs.append(obj)
    batch = _Batch(
        len(lines), os.path.basename(file) == WANDB_HISTORY, os.path.dirname(file), state.lines
    )
    base = state.good
    by_keys: dict[tuple[str, ...], list[int]] = {}
    for position, obj in enumerate(good_objs):
        keys = tuple(obj)
        members = by_keys.get(keys)
        if members is None:
            by_keys[keys] = [position]
        else:
            members.append(position)
    for members in by_keys.values():
        if len(members) < GROUP_MIN_LINES:
            for position in members:
                batch.add_line(good_seqs[position], good_objs[position], base + position)
        else:
            batch.add_group(
                [good_seqs[p] for p in members],
                [good_objs[p] for p in members],
                [base + p for p in members],
            )
    state.good = base + len(good_objs)
    state.lines += len(lines)
    parsed.records = len(lines)
    parsed.scalars = batch.scalars()
    parsed.values = batch.sorted_values()
    if bad:
        state.bad += bad
        if state.first_bad is None:
            state.first_bad = first_bad
        parsed.warnings.append(bad_lines_warning(file, state))
    if batch.media_problems:
        state.media_missing += len(batch.media_problems)
        if state.first_media is None:
            state.first_media = min(batch.media_problems)
        parsed.warnings.append(media_warning(file, state))
    return end, parsed


def media_captions(obj: dict[str, Any], typed: str, n: int) -> list[str]:
    """The `n` captions of a W&B image object, "" where there is none: `caption` (a string) of
    an image-file, `captions` (a list, one per file) of images/separated. Anything else that
    W&B would not write (a number, a short list) gives "" rather than a guess."""
    if typed == "image-file":
        caption = obj.get("caption")
        return [caption if isinstance(caption, str) else ""] * n
    listed = obj.get("captions")
    if not isinstance(listed, list):
        return [""] * n
    out = [c if isinstance(c, str) else "" for c in listed[:n]]
    return out + [""] * (n - len(out))


def read_media(base_dir: str, rel: Any) -> tuple[bytes | None, str]:
    """The bytes of a media file named by a line (relative to `base_dir`), or None and why
    not. Paths are untrusted: absolute ones and ones leaving `base_dir` are refused."""
    if not isinstance(rel, str) or not rel:
        return None, "media path is not a string"
    parts = rel.replace("\\", "/").split("/")
    if rel.startswith("/") or os.path.isabs(rel) or ".." in parts:
        return None, f"media path outside the run directory: {rel!r}"
    path = os.path.join(base_dir, *parts)
    try:
        with source.open_binary(path) as handle:
            data = handle.read(MAX_MEDIA_BYTES + 1)
    except OSError as error:
        return None, f"media file {rel!r} not read: {error.strerror or type(error).__name__}"
    if len(data) > MAX_MEDIA_BYTES:
        return None, f"media file {rel!r} larger than {MAX_MEDIA_BYTES} bytes, not read"
    return data, ""


def media_warning(file: str, state: JsonlState) -> ReadWarning:
    """The one warning a file's unread media files get, with the running count."""
    assert state.first_media is not None
    line, why = state.first_media
    plural = "file" if state.media_missing == 1 else "files"
    return ReadWarning(
        file=file,
        message=f"{state.media_missing} media {plural} not shown; first: {why}",
        line=line,
    )


_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads_or_none(line: str) -> Any:
    """json.loads for what the fast path refused (leading whitespace, damage); None if bad."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def bad_lines_warning(file: str, state: JsonlState) -> ReadWarning:
    """The one warning a file's malformed lines get, with the running count."""
    plural = "line" if state.bad == 1 else "lines"
    return ReadWarning(
        file=file,
        message=(
            f"{state.bad} malformed {plural} skipped (not a JSON object); "
            f"first at line {state.first_bad}"
        ),
        line=state.first_bad,
    )


def first_line(head: bytes) -> bytes | bool | None:
    """The first non-blank line of a file's first bytes (a UTF-8 BOM dropped); None when no
    complete line is there yet, False when none ends within the sniff window (not a log)."""
    window_full = len(head) >= SNIFF_BYTES
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    start = 0
    while True:
        stop = head.find(b"\n", start)
        if stop < 0:
            return False if window_full else None
        line = head[start:stop]
        if line.strip():
            return line
        start = stop + 1


def _sniff_bytes(head: bytes, name: str) -> bool | None:
    """Decide from the first bytes of a file; None when no complete line is there yet."""
    line = first_line(head)
    if not isinstance(line, bytes):
        return line
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return False
    if type(obj) is not dict:
        return False
    if name == METRICS_JSONL:
        return True
    if _step_key(obj)[1] is not None:
        return True
    return _time_key(obj)[0] is not None


def sniff_metrics_file(path: str) -> bool:
    """Whether the file's first complete line makes it a metric log (reads at most 64 KiB)."""
    return sniff_metrics_state(path) is True


def sniff_metrics_state(path: str) -> bool | None:
    """sniff_metrics_file, with None for "cannot tell yet" (no complete line, file unreadable):
    a caller that caches answers must not cache None."""
    return sniff_head(path, _sniff_bytes)


def sniff_head(path: str, sniff: Callable[[bytes, str], bool | None]) -> bool | None:
    """`sniff(first bytes, file name)` on the file's first line; None when it cannot tell yet
    or the file cannot be read. Shared by the JSONL and CSV sniffers."""
    name = os.path.basename(path)
    if "://" not in path:
        return _sniff_local(path, name, sniff)
    try:
        with source.open_binary(path) as handle:
            # A first line is short: 4 KiB decides almost always (a logdir may hold thousands
            # of JSONL data shards), the rest of the 64 KiB window only when needed.
            head = handle.read(SNIFF_FIRST_BYTES)
            verdict = sniff(head, name)
            if verdict is None and len(head) == SNIFF_FIRST_BYTES:
                head += handle.read(SNIFF_BYTES - SNIFF_FIRST_BYTES)
                verdict = sniff(head, name)
    except OSError:
        return None
    return verdict


def _sniff_local(path: str, name: str, sniff: Callable[[bytes, str], bool | None]) -> bool | None:
    """sniff_head for a local file through the bare file descriptor: a first walk of 5,000
    JSONL runs sniffs 5,000 files, and an `open()` file object costs twice the read itself."""
    try:
        fd = os.open(path, source.READ_FLAGS)
    except OSError:
        return None
    try:
        head = os.read(fd, SNIFF_FIRST_BYTES)
        verdict = sniff(head, name)
        if verdict is None:
            # (a read may return less than asked before the end: read on to the window's end)
            while len(head) < SNIFF_BYTES:
                more = os.read(fd, SNIFF_BYTES - len(head))
                if not more:
                    break
                head += more
            verdict = sniff(head, name)
    except OSError:
        return None
    finally:
        os.close(fd)
    return verdict
