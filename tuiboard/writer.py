"""Our own log writers: TFRecord-framed tfevents files and JSONL runs, in pure Python.

Owns: EventWriter (Event protos encoded by hand: scalars, TF2 scalar tensors, histograms (from
samples or raw buckets), PNG images, text, pr curves, WAV audio, meshes, hparams, session logs,
graphs) and JsonlWriter
(metrics.jsonl plus a config file). Used by the demo, the tests and anyone who wants to log
without TensorBoard.
Must not import: protobuf, tensorboard, textual, rich, or tuiboard.core (a writer must not share
code with the reader it is checked against). Only numpy, struct, zlib and google_crc32c.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import socket
import struct
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, TextIO

import google_crc32c
import numpy as np

# SessionLog.status
START = 1
STOP = 2
CHECKPOINT = 3

_FILE_COUNTER = itertools.count()
"""Process-wide file number, the `<n>` of `events.out.tfevents.<secs>.<host>.<pid>.<n>`."""


# --- TFRecord framing -------------------------------------------------------------------------


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum: CRC-32C rotated right by 15 plus a constant, mod 2**32."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One TFRecord: length, masked CRC of the length, data, masked CRC of the data."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# --- protobuf wire encoding -------------------------------------------------------------------


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 negatives are ten-byte two's complement varints
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _f_varint(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n) if n else b""


def _f_double(field: int, x: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", x) if x != 0.0 or math.copysign(1, x) < 0 else b""


def _f_float(field: int, x: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", x)


def _f_bytes(field: int, data: bytes, *, always: bool = False) -> bytes:
    if not data and not always:
        return b""
    return _key(field, 2) + _varint(len(data)) + data


def _f_str(field: int, s: str) -> bytes:
    return _f_bytes(field, s.encode("utf-8"))


def _f_packed_doubles(field: int, xs: np.ndarray) -> bytes:
    return _f_bytes(field, np.ascontiguousarray(xs, "<f8").tobytes())


# --- message builders (field numbers from docs/tfevents-format.md) ----------------------------

_DT_FLOAT = 1
_DT_DOUBLE = 2
_DT_INT32 = 3
_DT_UINT8 = 4
_DT_STRING = 7


def _tensor_shape(shape: Sequence[int]) -> bytes:
    return b"".join(_f_bytes(2, _f_varint(1, int(d)), always=True) for d in shape)


def _float_tensor(array: np.ndarray) -> bytes:
    a = np.asarray(array, "<f4")  # not ascontiguousarray: it would make rank 0 rank 1
    return (
        _f_varint(1, _DT_FLOAT)
        + _f_bytes(2, _tensor_shape(a.shape), always=True)
        + _f_bytes(4, a.tobytes())
    )


def _numeric_tensor(array: np.ndarray, dtype: int, code: str) -> bytes:
    """A tensor of `array` cast to numpy type `code` (little-endian) as TensorProto `dtype`,
    its values in tensor_content (as tensorboard's make_tensor_proto writes large arrays)."""
    a = np.ascontiguousarray(array, code)
    return (
        _f_varint(1, dtype)
        + _f_bytes(2, _tensor_shape(a.shape), always=True)
        + _f_bytes(4, a.tobytes())
    )


def _string_tensor(cells: np.ndarray) -> bytes:
    flat = [str(c).encode("utf-8") for c in cells.reshape(-1)]
    return (
        _f_varint(1, _DT_STRING)
        + _f_bytes(2, _tensor_shape(cells.shape), always=True)
        + b"".join(_f_bytes(8, c, always=True) for c in flat)
    )


_NULL_TENSOR = _f_varint(1, _DT_FLOAT) + _f_bytes(2, _tensor_shape([0]), always=True)
"""An empty float tensor of shape [0]: what tensorboard's hparams summaries carry."""


def _metadata(
    plugin: str, content: bytes = b"", display_name: str = "", data_class: int = 0
) -> bytes:
    plugin_data = _f_str(1, plugin) + _f_bytes(2, content)
    return (
        _f_bytes(1, plugin_data, always=True) + _f_str(2, display_name) + _f_varint(4, data_class)
    )


def _protobuf_value(v: object) -> bytes:
    """google.protobuf.Value: 1 null, 2 number, 3 string, 4 bool."""
    if v is None:
        return _key(1, 0) + b"\x00"
    if isinstance(v, bool):
        return _key(4, 0) + (b"\x01" if v else b"\x00")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _key(2, 1) + struct.pack("<d", float(v))
    raw = str(v).encode("utf-8")
    return _key(3, 2) + _varint(len(raw)) + raw


def _png(image: np.ndarray) -> tuple[bytes, int, int, int]:
    """(PNG bytes, height, width, channels) of a uint8 HxW, HxWx1, HxWx3 or HxWx4 array."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(np.asarray(a, np.float64) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    height, width, channels = a.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), a.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )
    return png, height, width, channels


def _wav(samples: np.ndarray, sample_rate: int) -> tuple[bytes, int, int]:
    """(16-bit PCM WAV bytes, channels, frames) of float samples in [-1, 1], shape (frames,) or
    (frames, channels)."""
    a = np.asarray(samples, np.float64)
    if a.ndim == 1:
        a = a[:, None]
    frames, channels = a.shape
    pcm = np.clip(np.round(a * 32767.0), -32768, 32767).astype("<i2").tobytes()
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * channels * 2, channels * 2, 16
        )
        + b"data"
        + struct.pack("<I", len(pcm))
    )
    return header + pcm, channels, frames


def pr_curve_table(
    labels: np.ndarray,
    predictions: np.ndarray,
    num_thresholds: int = 127,
    weights: np.ndarray | float | None = None,
) -> np.ndarray:
    """The [6, num_thresholds] float table (TP, FP, TN, FN, precision, recall) that TensorBoard's
    pr_curves plugin stores, computed from boolean labels and predictions in [0, 1] (and
    per-example weights, as PyTorch's compute_curve takes them)."""
    labels = np.asarray(labels, np.float64).reshape(-1)
    predictions = np.asarray(predictions, np.float64).reshape(-1)
    w = 1.0 if weights is None else np.asarray(weights, np.float64)
    buckets = np.floor(predictions * (num_thresholds - 1)).astype(np.int64)
    rng = (0, num_thresholds - 1)
    tp_b, _ = np.histogram(buckets, bins=num_thresholds, range=rng, weights=labels * w)
    fp_b, _ = np.histogram(buckets, bins=num_thresholds, range=rng, weights=(1.0 - labels) * w)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float32)


class EventWriter:
    """Writes one tfevents file in ``logdir``, like TensorBoard's EventFileWriter.

    The first record is ``file_version: "brain.Event:2"``. Plugin metadata goes with the first
    value of each tag only, as real writers do. Records are buffered until ``flush()`` (or until
    the buffer passes ``max_buffer`` bytes); ``close()`` flushes.
    """

    def __init__(
        self,
        logdir: str,
        filename_suffix: str = "",
        *,
        filename: str | None = None,
        start_time: float | None = None,
        append: bool = False,
        max_buffer: int = 1 << 20,
    ) -> None:
        """``filename`` replaces the generated name (deterministic output); ``start_time`` is the
        file_version record's wall time and the name's seconds; ``append=True`` continues an
        existing file without writing a new header."""
        os.makedirs(logdir, exist_ok=True)
        start = time.time() if start_time is None else start_time
        if filename is None:
            host = socket.gethostname()
            n = next(_FILE_COUNTER)
            filename = f"events.out.tfevents.{int(start):010d}.{host}.{os.getpid()}.{n}"
            filename += filename_suffix
        self.path: str = os.path.join(logdir, filename)
        """Absolute or logdir-relative path of the file being written."""
        self._file: BinaryIO | None = open(self.path, "ab" if append else "wb")  # noqa: SIM115
        self._buffer = bytearray()
        self._max_buffer = max_buffer
        self._tags_seen: set[str] = set()
        self.hparams_tensor: bool = True
        """Whether hparams summaries carry TF2's empty tensor (PyTorch's writer: False)."""
        if not append:
            self._write_event(start, 0, _f_str(3, "brain.Event:2"))
            self.flush()

    # - plumbing -

    def _write_event(self, wall_time: float | None, step: int, body: bytes) -> None:
        wt = time.time() if wall_time is None else wall_time
        self._buffer += frame_record(_f_double(1, wt) + _f_varint(2, int(step)) + body)
        if len(self._buffer) >= self._max_buffer:
            self.flush()

    def _first(self, tag: str) -> bool:
        if tag in self._tags_seen:
            return False
        self._tags_seen.add(tag)
        return True

    def _summary(
        self, tag: str, step: int, wall_time: float | None, payload: bytes, metadata: bytes = b""
    ) -> None:
        """One Summary with one Value: tag, then the payload fields, then metadata (field 9)."""
        value = _f_str(1, tag) + payload
        if metadata and self._first(tag):
            value += _f_bytes(9, metadata, always=True)
        self._write_event(wall_time, step, _f_bytes(5, _f_bytes(1, value, always=True)))

    # - values -

    def add_scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """The TF1 form: Summary.Value.simple_value (float32), no metadata."""
        self._summary(tag, step, wall_time, _f_float(2, float(value)))

    def add_scalar_tensor(
        self,
        tag: str,
        value: float,
        step: int,
        wall_time: float | None = None,
        *,
        double: bool = False,
    ) -> None:
        """The TF2 form: a rank-0 float32 (``double``: float64) tensor, plugin "scalars"
        metadata on the first value."""
        tensor = (
            _numeric_tensor(np.float64(value), _DT_DOUBLE, "<f8")
            if double
            else _float_tensor(np.float32(value))
        )
        self._summary(
            tag,
            step,
            wall_time,
            _f_bytes(8, tensor, always=True),
            _metadata("scalars", data_class=1),
        )

    def add_histogram(
        self,
        tag: str,
        values: np.ndarray,
        step: int,
        wall_time: float | None = None,
        bins: int = 30,
    ) -> None:
        """A HistogramProto from samples: ``bins`` equal-width buckets between min and max."""
        a = np.asarray(values, np.float64).reshape(-1)
        a = a[np.isfinite(a)]
        if a.size == 0:
            counts, edges = np.zeros(0), np.zeros(1)
            lo = hi = 0.0
        else:
            counts, edges = np.histogram(a, bins=bins)
            lo, hi = float(a.min()), float(a.max())
        histo = (
            _f_double(1, lo)
            + _f_double(2, hi)
            + _f_double(3, float(a.size))
            + _f_double(4, float(a.sum()))
            + _f_double(5, float(np.dot(a, a)))
            + _f_packed_doubles(6, edges[1:])
            + _f_packed_doubles(7, counts.astype(np.float64))
        )
        self._summary(tag, step, wall_time, _f_bytes(5, histo, always=True))

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        bucket_limits: Sequence[float] | np.ndarray,
        bucket_counts: Sequence[float] | np.ndarray,
        step: int,
        wall_time: float | None = None,
    ) -> None:
        """A HistogramProto with the given fields (buckets computed by the caller)."""
        histo = (
            _f_double(1, float(min))
            + _f_double(2, float(max))
            + _f_double(3, float(num))
            + _f_double(4, float(sum))
            + _f_double(5, float(sum_squares))
            + _f_packed_doubles(6, np.asarray(bucket_limits, np.float64))
            + _f_packed_doubles(7, np.asarray(bucket_counts, np.float64))
        )
        self._summary(tag, step, wall_time, _f_bytes(5, histo, always=True))

    def add_image(
        self, tag: str, image: np.ndarray, step: int, wall_time: float | None = None
    ) -> None:
        """Summary.Image holding a PNG: uint8 (or float in [0, 1]) HxW, HxWx3 or HxWx4."""
        png, height, width, channels = _png(image)
        body = (
            _f_varint(1, height) + _f_varint(2, width) + _f_varint(3, channels) + _f_bytes(4, png)
        )
        self._summary(tag, step, wall_time, _f_bytes(4, body, always=True))

    def add_text(
        self,
        tag: str,
        text: str | Sequence[str] | Sequence[Sequence[str]],
        step: int,
        wall_time: float | None = None,
    ) -> None:
        """A string tensor (rank 0 for a str, rank 1 or 2 for lists), plugin "text" metadata."""
        cells = np.array(text, dtype=object)
        self._summary(
            tag,
            step,
            wall_time,
            _f_bytes(8, _string_tensor(cells), always=True),
            _metadata("text", data_class=2),
        )

    def add_pr_curve(
        self,
        tag: str,
        labels: np.ndarray,
        predictions: np.ndarray,
        step: int,
        wall_time: float | None = None,
        num_thresholds: int = 127,
        weights: np.ndarray | float | None = None,
    ) -> None:
        """A [6, num_thresholds] float32 tensor, plugin "pr_curves" with PrCurvePluginData."""
        table = pr_curve_table(labels, predictions, num_thresholds, weights)
        content = _f_varint(1, 0) + _f_varint(2, num_thresholds)
        self._summary(
            tag,
            step,
            wall_time,
            _f_bytes(8, _float_tensor(table), always=True),
            _metadata("pr_curves", content, data_class=2),
        )

    def add_audio(
        self,
        tag: str,
        samples: np.ndarray,
        step: int,
        wall_time: float | None = None,
        sample_rate: int = 16_000,
    ) -> None:
        """Summary.Audio holding a 16-bit WAV of float samples in [-1, 1]."""
        wav, channels, frames = _wav(samples, sample_rate)
        body = (
            _f_float(1, float(sample_rate))
            + _f_varint(2, channels)
            + _f_varint(3, frames)
            + _f_bytes(4, wav)
            + _f_str(5, "audio/wav")
        )
        self._summary(tag, step, wall_time, _f_bytes(6, body, always=True))

    def add_mesh(
        self,
        tag: str,
        vertices: np.ndarray,
        step: int,
        wall_time: float | None = None,
        *,
        faces: np.ndarray | None = None,
        colors: np.ndarray | None = None,
    ) -> None:
        """A mesh as TensorBoard's mesh summary writes it (plugins/mesh/summary_v2.py mesh_pb):
        one value per component, tags `<tag>_VERTEX` (float32), `_FACE` (int32), `_COLOR`
        (uint8), each [B, N, 3] with MeshPluginData {name, content_type, json_config "{}",
        shape, components bitmask} in the plugin "mesh" metadata."""
        parts = [(vertices, 1, "VERTEX", _DT_FLOAT, "<f4")]
        if faces is not None:
            parts.append((faces, 2, "FACE", _DT_INT32, "<i4"))
        if colors is not None:
            parts.append((colors, 3, "COLOR", _DT_UINT8, "u1"))
        components = sum(1 << kind for _, kind, _, _, _ in parts)
        values = b""
        for array, kind, suffix, dtype, code in parts:
            a = np.asarray(array)
            shape = b"".join(_varint(int(d)) for d in a.shape)
            content = (
                _f_str(2, tag)
                + _f_varint(3, kind)
                + _f_str(5, "{}")
                + _f_bytes(6, shape)
                + _f_varint(7, components)
            )
            name = f"{tag}_{suffix}"
            value = _f_str(1, name) + _f_bytes(8, _numeric_tensor(a, dtype, code), always=True)
            if self._first(name):
                value += _f_bytes(9, _metadata("mesh", content), always=True)
            values += _f_bytes(1, value, always=True)
        self._write_event(wall_time, step, _f_bytes(5, values))

    def add_hparams(
        self,
        hparams: Mapping[str, object],
        metrics: Sequence[str] = (),
        *,
        group_name: str = "",
        start_time: float | None = None,
        wall_time: float | None = None,
        step: int = 0,
        domain_discrete: Mapping[str, Sequence[object]] | None = None,
    ) -> None:
        """The hparams plugin's summaries: an experiment (when ``metrics`` are named) declaring
        the hparams (with their ``domain_discrete`` value lists, when given) and metric tags,
        then a session_start_info with the values (``start_time=0`` leaves the field out, as
        PyTorch writes it)."""
        wt = time.time() if wall_time is None else wall_time
        if metrics:
            infos = b""
            for name, v in hparams.items():
                dtype = 2 if isinstance(v, bool) else 3 if isinstance(v, (int, float)) else 1
                info = _f_str(1, name) + _f_varint(4, dtype)
                if domain_discrete and name in domain_discrete:
                    values = b"".join(
                        _f_bytes(1, _protobuf_value(d), always=True) for d in domain_discrete[name]
                    )
                    info += _f_bytes(5, values, always=True)
                infos += _f_bytes(4, info, always=True)
            for tag in metrics:
                infos += _f_bytes(5, _f_bytes(1, _f_str(2, tag), always=True), always=True)
            self._hparams("_hparams_/experiment", _f_bytes(2, infos, always=True), wt, step)
        entries = b"".join(
            _f_bytes(1, _f_str(1, k) + _f_bytes(2, _protobuf_value(v), always=True), always=True)
            for k, v in hparams.items()
        )
        start = _f_str(4, group_name) + _f_double(5, wt if start_time is None else start_time)
        self._hparams(
            "_hparams_/session_start_info", _f_bytes(3, entries + start, always=True), wt, step
        )

    def add_custom_scalars(
        self,
        layout: Mapping[str, Mapping[str, tuple[str, Sequence[str]]]],
        wall_time: float | None = None,
    ) -> None:
        """The custom scalars dashboard's layout, in tensorboardX's form: {category: {chart
        title: ("Multiline", [regexes]) or ("Margin", [value, lower, upper])}}, written as the
        tag ``custom_scalars__config__``: a serialized Layout proto in a string tensor."""
        categories = b""
        for title, charts in layout.items():
            body = _f_str(1, title)
            for chart_title, (kind, tags) in charts.items():
                if kind == "Margin":
                    value, lower, upper = tags
                    series = _f_str(1, value) + _f_str(2, lower) + _f_str(3, upper)
                    content = _f_bytes(3, _f_bytes(1, series, always=True), always=True)
                else:
                    regexes = b"".join(_f_bytes(1, t.encode("utf-8"), always=True) for t in tags)
                    content = _f_bytes(2, regexes, always=True)
                body += _f_bytes(2, _f_str(1, chart_title) + content, always=True)
            categories += _f_bytes(2, body, always=True)
        tensor = (
            _f_varint(1, _DT_STRING)
            + _f_bytes(2, _tensor_shape(()), always=True)
            + _f_bytes(8, categories, always=True)
        )
        self._summary(
            "custom_scalars__config__",
            0,
            wall_time,
            _f_bytes(8, tensor, always=True),
            _metadata("custom_scalars"),
        )

    def end_hparams(
        self,
        status: int = 1,
        wall_time: float | None = None,
        step: int = 0,
        end_time: float | None = None,
    ) -> None:
        """session_end_info: status 1 success, 2 failure, 3 running, 0 unknown; end_time_secs
        is the wall time unless given (0 leaves it out, as PyTorch writes it)."""
        wt = time.time() if wall_time is None else wall_time
        body = _f_varint(1, status) + _f_double(2, wt if end_time is None else end_time)
        self._hparams("_hparams_/session_end_info", _f_bytes(4, body, always=True), wt, step)

    def _hparams(self, tag: str, plugin_data: bytes, wall_time: float, step: int = 0) -> None:
        """One hparams summary: TF2's hp API gives it an empty float tensor (a value with no
        payload otherwise), PyTorch's writer none (``hparams_tensor = False``)."""
        tensor = _f_bytes(8, _NULL_TENSOR, always=True) if self.hparams_tensor else b""
        value = (
            _f_str(1, tag) + tensor + _f_bytes(9, _metadata("hparams", plugin_data), always=True)
        )
        self._write_event(wall_time, step, _f_bytes(5, _f_bytes(1, value, always=True)))

    def add_graph(
        self,
        nodes: Sequence[tuple[str, str, Sequence[str], Sequence[int] | None]],
        step: int = 0,
        wall_time: float | None = None,
    ) -> None:
        """Event.graph_def: a GraphDef of (name, op, inputs, output shape or None) nodes, with
        the attributes PyTorch's add_graph gives each node (`attr` and `_output_shapes`)."""
        graph = b""
        for name, op, inputs, shape in nodes:
            node = _f_str(1, name) + _f_str(2, op)
            node += b"".join(_f_bytes(3, i.encode("utf-8"), always=True) for i in inputs)
            attrs = [("attr", _f_bytes(2, b"{}", always=True))]
            if shape is not None:
                shape_list = _f_bytes(7, _tensor_shape(shape), always=True)
                attrs.append(("_output_shapes", _f_bytes(1, shape_list, always=True)))
            for key, value in attrs:
                entry = _f_str(1, key) + _f_bytes(2, value, always=True)
                node += _f_bytes(5, entry, always=True)
            graph += _f_bytes(1, node, always=True)
        graph += _f_bytes(4, _f_varint(1, 22))  # versions { producer: 22 }, as PyTorch writes
        self._write_event(wall_time, step, _f_bytes(4, graph, always=True))

    def session_log(
        self,
        status: int,
        step: int,
        wall_time: float | None = None,
        checkpoint_path: str = "",
        msg: str = "",
    ) -> None:
        """A SessionLog event (START, STOP or CHECKPOINT)."""
        body = _f_varint(1, status) + _f_str(2, checkpoint_path) + _f_str(3, msg)
        self._write_event(wall_time, step, _f_bytes(7, body, always=True))

    def flush(self) -> None:
        if self._file is None:
            return
        if self._buffer:
            self._file.write(self._buffer)
            self._buffer.clear()
        self._file.flush()

    def close(self) -> None:
        if self._file is None:
            return
        self.flush()
        self._file.close()
        self._file = None

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- JSONL runs -------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*\Z")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _yaml_scalar(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x):
            return ".nan"
        if math.isinf(x):
            return ".inf" if x > 0 else "-.inf"
        r = repr(x)
        # YAML 1.1 (pyyaml) reads "1e-05" as a string: give the mantissa a dot.
        if "e" in r and "." not in r.split("e")[0]:
            m, e = r.split("e")
            r = f"{m}.0e{e}"
        return r
    return json.dumps(str(v), ensure_ascii=False)


def _yaml_key(k: str) -> str:
    return k if _PLAIN_KEY.match(k) and k.lower() not in _YAML_WORDS else json.dumps(k)


def to_yaml(config: Mapping[str, Any], indent: int = 0) -> str:
    """Block YAML of nested mappings with scalar and list leaves (a subset any parser reads)."""
    pad = "  " * indent
    lines = []
    for k, v in config.items():
        key = _yaml_key(str(k))
        if isinstance(v, Mapping) and v:
            lines.append(f"{pad}{key}:\n{to_yaml(v, indent + 1)}")
        elif isinstance(v, Mapping):
            lines.append(f"{pad}{key}: {{}}\n")
        elif isinstance(v, (list, tuple)):
            lines.append(f"{pad}{key}: [{', '.join(_yaml_scalar(x) for x in v)}]\n")
        else:
            lines.append(f"{pad}{key}: {_yaml_scalar(v)}\n")
    return "".join(lines)


class JsonlWriter:
    """Writes a JSONL run: one ``{"step": .., "wall_time": .., <metrics>}`` line per ``log``.

    Lines are flushed whole, so a reader never sees half a line except while it is written.
    ``step_key`` / ``time_key`` name the step and time keys (detectron2's metrics.json uses
    ``iteration`` and no unix time: ``time_key=None``).
    """

    def __init__(
        self,
        logdir: str,
        filename: str = "metrics.jsonl",
        *,
        step_key: str = "step",
        time_key: str | None = "wall_time",
        append: bool = False,
    ) -> None:
        os.makedirs(logdir, exist_ok=True)
        self.logdir: str = logdir
        self.path: str = os.path.join(logdir, filename)
        self._step_key = step_key
        self._time_key = time_key
        self._file: TextIO | None = open(  # noqa: SIM115
            self.path, "a" if append else "w", encoding="utf-8", newline="\n"
        )

    def log(self, step: int, metrics: Mapping[str, Any], wall_time: float | None = None) -> None:
        """One line. Values: numbers (NaN/Infinity as Python's json writes them), strings,
        lists of numbers, nested dicts (readers flatten them with "/")."""
        if self._file is None:
            raise ValueError("JsonlWriter is closed")
        line: dict[str, Any] = {self._step_key: int(step)}
        if self._time_key is not None:
            line[self._time_key] = time.time() if wall_time is None else float(wall_time)
        line.update(metrics)
        self._file.write(json.dumps(line, ensure_ascii=False, default=_json_default) + "\n")
        self._file.flush()

    def write_config(self, config: Mapping[str, Any], filename: str = "config.json") -> str:
        """Writes the run's config as JSON (``*.json``) or YAML (``*.yaml``/``*.yml``); returns
        the path."""
        path = os.path.join(self.logdir, filename)
        if filename.endswith((".yaml", ".yml")):
            text = to_yaml(config)
        else:
            text = json.dumps(config, indent=2, ensure_ascii=False, default=_json_default) + "\n"
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        return path

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(o: object) -> object:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
