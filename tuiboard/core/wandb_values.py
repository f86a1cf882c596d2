"""What the records of a W&B run file hold, as tuiboard values: numbers, text, media, summary.

Owns: Go's JSON as W&B writes it (`loads`), nested keys (`decode_key`, `decode_item`), the
per-read Batch that turns history items into scalar points, text, histograms, images, audio,
tables and other media (reading media files from the run's `files/`, never outside it), and
the merged summary as RunMeta shows it. The rules are in core/wandb.py's docstring.
Must not import: textual, rich, protobuf, wandb, or tuiboard modules other than tuiboard.core.*
(core.wandb only for type checking).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from tuiboard.core import wire
from tuiboard.core.jsonl import _sample_histogram, _wandb_histogram, media_captions
from tuiboard.core.tfevents_values import sniff_image, wav_info
from tuiboard.core.types import (
    AUDIO,
    HISTOGRAMS,
    IMAGES,
    TEXT,
    AudioValue,
    ImageValue,
    ReadWarning,
    ScalarColumns,
    TensorValue,
    TextValue,
    ValueRecord,
)

if TYPE_CHECKING:
    from tuiboard.core.wandb import WandbState

TABLE = "table"
"""The kind of W&B tables (`wandb.Table`)."""
SYSTEM_PREFIX = "system/"
MAX_MEDIA_BYTES = 64 << 20
"""Media files (images, table JSON) larger than this are not read (a warning says so)."""
_NUMERIC_START = frozenset(b"-0123456789NI")


def _json_int(text: str) -> int | float:
    return -0.0 if text == "-0" else int(text)


def loads(raw: bytes | str) -> Any:
    """Go's JSON as W&B writes it: NaN / Infinity / -Infinity bare, `-0`, exact big integers."""
    return json.loads(raw, parse_int=_json_int)


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
        prefix = media_prefix(path, media)
        if prefix is None:
            out["/".join(path)] = value
            continue
        obj = out.setdefault("/".join(prefix), {})
        if isinstance(obj, dict):
            put(obj, path[len(prefix) :], value)
    return out


def media_prefix(path: tuple[str, ...], media: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    if not media:
        return None
    for k in range(1, len(path)):
        if path[:k] in media:
            return path[:k]
    return None


def put(obj: dict[str, Any], rest: tuple[str, ...], value: Any) -> None:
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


def decode_item(b: bytes) -> tuple[tuple[str, ...], bytes]:
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


def timestamp_of(b: bytes) -> float:
    fs = wire.message_fields(b)
    return wire.int_field(fs, 1) + wire.int_field(fs, 2) / 1e9


class Batch:
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
        self.bulk_history_at = np.zeros(0, dtype=np.int64)
        """Per record of the read: the latest history record at or before it that the bulk
        path read (-1: none)."""
        self.python_history = (-1, 0)
        """(index, step) of the latest history record the Python path has read so far."""
        self.values: list[tuple[str, str, int, ValueRecord]] = []
        self.warnings: list[ReadWarning] = []
        self.summary_ops: list[tuple[int, int, tuple[str, ...], bytes | None]] = []
        """(record seq, item order, path, value_json or None for a remove), applied sorted."""
        self.history_last = np.full(0, -1, dtype=np.int64)
        """Per key number: the last history record of this read holding it (-1: none)."""

    def history_step_at(self, index: int) -> int:
        """The step of the latest history row at or before record `index` of this read (the
        Python path reads records in order, so its latest is before `index`), else the last
        one of earlier reads."""
        bulk = int(self.bulk_history_at[index]) if index < self.bulk_history_at.shape[0] else -1
        python_index, python_step = self.python_history
        if bulk < 0 and python_index < 0:
            return self.state.last_step
        if bulk > python_index:
            return int(self.row_step[bulk])
        return python_step

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
            prefix = media_prefix(path, media)
            if prefix is not None:
                try:
                    value = loads(raw)
                except (ValueError, RecursionError):
                    continue
                put(objects.setdefault(prefix, {}), path[len(prefix) :], value)
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
        try:
            self.decoded(tag, value, seq, step, wall)
        except RecursionError:  # an object nested about as deep as json allows
            self.warnings.append(
                ReadWarning(self.file, f"history value of {tag!r} nested too deeply", where)
            )

    def decoded(self, tag: str, value: Any, seq: int, step: int, wall: float) -> None:
        kind = type(value)
        if kind is bool:
            self.point(tag, seq, step, wall, 1.0 if value else 0.0)
        elif kind is int or kind is float:
            self.point(tag, seq, step, wall, to_float(value))
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
                    width=as_int(obj.get("width")),
                    height=as_int(obj.get("height")),
                    content_type=sniff_image(data),
                    images=(data,),
                    captions=tuple(c for c in media_captions(obj, kind, 1) if c),
                )
                self.values.append((IMAGES, tag, seq, image))
        elif kind == "images/separated":
            # a list of wandb.Image logged under one key: one value, one image per file
            names = obj.get("filenames")
            files = (
                [self._media_file(n, tag, step) for n in names] if isinstance(names, list) else []
            )
            kept = [
                (data, caption)
                for data, caption in zip(files, media_captions(obj, kind, len(files)), strict=True)
                if data is not None
            ]
            images = tuple(data for data, _ in kept)
            captions = tuple(caption for _, caption in kept)
            if images:
                value = ImageValue(
                    step=step,
                    wall_time=wall,
                    width=as_int(obj.get("width")),
                    height=as_int(obj.get("height")),
                    content_type=sniff_image(images[0]),
                    images=images,
                    captions=captions if any(captions) else (),
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


def as_int(v: Any) -> int:
    return (
        int(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else 0
    )


def to_float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf
