"""`tuiboard.SummaryWriter`: PyTorch's `torch.utils.tensorboard.SummaryWriter`, without torch or
tensorboard, writing real tfevents files through tuiboard/writer.py's EventWriter.

Owns: PyTorch's signatures and what its methods write (checked against torch 2.13's
torch/utils/tensorboard: writer.py, summary.py, _utils.py):
- `log_dir=None` is `runs/<Mon DD_HH-MM-SS>_<host><comment>`; `purge_step` writes a SessionLog
  START at that step; events are queued and written when `max_queue` are waiting, every
  `flush_secs` (a daemon thread), on `flush()`, `close()` and at interpreter exit.
- `add_scalar`: Summary.Value.simple_value (float32); `new_style=True`: a rank-0 tensor with
  the "scalars" plugin (`double_precision`: float64).
- `add_scalars(main_tag, {tag: v})`: one writer per tag in `<log_dir>/<main_tag with / as _>_<tag>`,
  each value tagged `main_tag` (TensorBoard shows them as runs of one chart).
- `add_histogram`: numpy's histogram of the values over PyTorch's default "tensorflow" bins
  (±1e-12·1.1^k up to 1e20, and 0) or the given bins, trimmed to the populated range with one
  empty bucket on the left, as make_histogram does; `add_histogram_raw` as given.
- `add_image(dataformats="CHW")`, `add_images(dataformats="NCHW")` (an 8-column grid, as
  make_grid), `add_figure` (matplotlib's Agg canvas, RGB, `close=True` closes it): uint8 taken
  as is, anything else multiplied by 255, clipped; one channel becomes three.
- `add_text`: a [1] string tensor tagged `<tag>/text_summary` with the "text" plugin.
- `add_pr_curve`: PyTorch's compute_curve table (num_thresholds at most 127, optional weights).
- `add_hparams(hparam_dict, metric_dict, hparam_domain_discrete, run_name, global_step)`: a
  sub-run `<log_dir>/<run_name or time.time()>` holding the experiment, session start (bools and
  ints as numbers, as PyTorch writes them) and session end (success) summaries, then each metric
  as a scalar.
Values may be numpy arrays, numbers, or anything with `__array__` / `.numpy()` (torch tensors,
detached and moved to the CPU without importing torch).
Must not import: torch, tensorboard, tensorboardX, textual, rich, tuiboard.core.
"""

from __future__ import annotations

import atexit
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from tuiboard.sdk_media import to_numpy
from tuiboard.writer import START, EventWriter


def _default_bins() -> list[float]:
    """PyTorch's (and TensorFlow's) default histogram bucket edges."""
    v = 1e-12
    buckets: list[float] = []
    neg: list[float] = []
    while v < 1e20:
        buckets.append(v)
        neg.append(-v)
        v *= 1.1
    return [*neg[::-1], 0.0, *buckets]


DEFAULT_BINS = _default_bins()
_open_writers: weakref.WeakSet[SummaryWriter] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for writer in list(_open_writers):
        try:
            writer.close()
        except OSError as error:  # at exit nobody can catch it: report and go on
            print(f"tuiboard: could not close {writer.log_dir}: {error!r}", file=sys.stderr)


atexit.register(_flush_all_at_exit)


def _step(global_step: Any) -> int:
    return 0 if global_step is None else int(np.asarray(to_numpy(global_step)).reshape(-1)[0])


def _scalar(value: Any) -> float:
    a = np.asarray(to_numpy(value)) if not isinstance(value, (int, float)) else None
    if a is None:
        return float(value)
    if a.squeeze().ndim != 0:
        raise ValueError(f"scalar should be 0D, got shape {a.shape}")
    return float(a.reshape(-1)[0])


def make_histogram(
    values: np.ndarray, bins: Any, max_bins: int | None = None
) -> tuple[float, float, float, float, float, np.ndarray, np.ndarray]:
    """(min, max, num, sum, sum_squares, bucket_limits, bucket_counts) as PyTorch's
    make_histogram computes them."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        sub = num_bins // max_bins
        rem = num_bins % sub
        if rem != 0:
            counts = np.pad(counts, pad_width=[[0, sub - rem]], mode="constant", constant_values=0)
        counts = counts.reshape(-1, sub).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:sub]
        new_limits[-1] = limits[-1]
        limits = new_limits
    cum = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum, [0, cum[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1 : end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start : end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty")
    return (
        float(values.min()),
        float(values.max()),
        float(len(values)),
        float(values.sum()),
        float(values.dot(values)),
        np.asarray(limits, np.float64),
        np.asarray(counts, np.float64),
    )


def to_hwc(tensor: np.ndarray, dataformats: str) -> np.ndarray:
    """PyTorch's convert_to_HWC: any order of N/C/H/W to HxWxC, a batch as an 8-column grid,
    one channel (or none) as three."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or tensor.ndim != len(fmt):
        raise ValueError(f"tensor of shape {tensor.shape} does not match {dataformats!r}")
    if len(fmt) == 4:
        nchw = tensor.transpose([fmt.find(c) for c in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = tensor.transpose([fmt.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    hw = tensor.transpose([fmt.find(c) for c in "HW"])
    return np.stack([hw, hw, hw], 2)


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """PyTorch's make_grid: N1HW or N3HW -> 3 x (H·rows) x (W·cols), row by row."""
    if images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError("images should be N x 1 or 3 x H x W")
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = int(np.ceil(float(n) / ncols))
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h : (y + 1) * h, x * w : (x + 1) * w] = images[i]
    return canvas


def image_uint8(tensor: Any, dataformats: str) -> np.ndarray:
    """PyTorch's image(): HWC, then x1 for uint8 and x255 for anything else, clipped, uint8."""
    a = to_hwc(np.asarray(to_numpy(tensor)), dataformats)
    scale = 1 if a.dtype == np.uint8 else 255
    return (a.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """A matplotlib figure (CHW uint8) or a list of them (NCHW), drawn on an Agg canvas."""
    import matplotlib.backends.backend_agg as backend_agg
    import matplotlib.pyplot as plt

    def render(figure: Any) -> np.ndarray:
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], 2, 0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


class SummaryWriter:
    """PyTorch's SummaryWriter (see the module docstring); thread-safe."""

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{now}_{socket.gethostname()}{comment}")
        self.log_dir: str = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._lock = threading.RLock()
        self._queued = 0
        self._closed = False
        self._writers: dict[str, EventWriter] = {}
        self.file_writer: EventWriter = self._writer(self.log_dir)
        if purge_step is not None:
            self.file_writer.session_log(START, purge_step)
            self.file_writer.flush()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._flush_loop, daemon=True, name="tb-flush")
        self._thread.start()
        _open_writers.add(self)

    # -- plumbing --------------------------------------------------------------------------------

    def _writer(self, path: str) -> EventWriter:
        writer = self._writers.get(path)
        if writer is None:
            writer = self._writers[path] = EventWriter(path, filename_suffix=self.filename_suffix)
        return writer

    def _queued_one(self) -> None:
        self._queued += 1
        if self._queued >= self.max_queue:
            self._flush_locked()

    def _flush_loop(self) -> None:
        while not self._wake.wait(self.flush_secs):
            with self._lock:
                if self._closed:
                    return
                self._flush_locked()

    def _flush_locked(self) -> None:
        for writer in self._writers.values():
            writer.flush()
        self._queued = 0

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("SummaryWriter is closed")

    def get_logdir(self) -> str:
        return self.log_dir

    # -- values ----------------------------------------------------------------------------------

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Any = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        value = _scalar(scalar_value)
        with self._lock:
            self._check_open()
            if new_style:
                self.file_writer.add_scalar_tensor(
                    tag, value, _step(global_step), walltime, double=double_precision
                )
            else:
                self.file_writer.add_scalar(tag, value, _step(global_step), walltime)
            self._queued_one()

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: Mapping[str, Any],
        global_step: Any = None,
        walltime: float | None = None,
    ) -> None:
        walltime = time.time() if walltime is None else walltime
        with self._lock:
            self._check_open()
            for tag, value in tag_scalar_dict.items():
                path = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
                value = _scalar(value)
                self._writer(path).add_scalar(main_tag, value, _step(global_step), walltime)
            self._queued_one()

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: Any = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        if isinstance(bins, str) and bins == "tensorflow":
            bins = DEFAULT_BINS
        a = np.asarray(to_numpy(values)).astype(float)
        lo, hi, num, total, squares, limits, counts = make_histogram(a, bins, max_bins)
        with self._lock:
            self._check_open()
            self.file_writer.add_histogram_raw(
                tag, lo, hi, num, total, squares, limits, counts, _step(global_step), walltime
            )
            self._queued_one()

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        bucket_limits: Sequence[float],
        bucket_counts: Sequence[float],
        global_step: Any = None,
        walltime: float | None = None,
    ) -> None:
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        with self._lock:
            self._check_open()
            self.file_writer.add_histogram_raw(
                tag,
                min,
                max,
                num,
                sum,
                sum_squares,
                list(bucket_limits),
                list(bucket_counts),
                _step(global_step),
                walltime,
            )
            self._queued_one()

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Any = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        image = image_uint8(img_tensor, dataformats)
        with self._lock:
            self._check_open()
            self.file_writer.add_image(tag, image, _step(global_step), walltime)
            self._queued_one()

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Any = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: Any = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        if isinstance(figure, list):
            self.add_images(tag, figure_to_image(figure, close), global_step, walltime, "NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, "CHW")

    def add_text(
        self, tag: str, text_string: str, global_step: Any = None, walltime: float | None = None
    ) -> None:
        with self._lock:
            self._check_open()
            self.file_writer.add_text(
                f"{tag}/text_summary", [text_string], _step(global_step), walltime
            )
            self._queued_one()

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: Any = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        labels_a = np.asarray(to_numpy(labels))
        predictions_a = np.asarray(to_numpy(predictions))
        weights_a = None if weights is None else np.asarray(to_numpy(weights))
        with self._lock:
            self._check_open()
            self.file_writer.add_pr_curve(
                tag,
                labels_a,
                predictions_a,
                _step(global_step),
                walltime,
                num_thresholds=min(num_thresholds, 127),
                weights=weights_a,
            )
            self._queued_one()

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list[Any]] | None = None,
        run_name: str | None = None,
        global_step: Any = None,
    ) -> None:
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        domain = hparam_domain_discrete or {}
        for k, v in domain.items():
            if (
                k not in hparam_dict
                or not isinstance(v, list)
                or not all(isinstance(d, type(hparam_dict[k])) for d in v)
            ):
                raise TypeError(
                    f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                    f"hparam_dict[{k}]."
                )
        values: dict[str, Any] = {}
        for k, v in hparam_dict.items():
            if v is None:
                continue
            if isinstance(v, (int, float)):  # bools too: PyTorch writes them as numbers
                values[k] = float(v)
            elif isinstance(v, str):
                values[k] = v
            elif hasattr(v, "__array__") or hasattr(v, "numpy"):
                values[k] = float(np.asarray(to_numpy(v)).reshape(-1)[0])
            else:
                raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        discrete = {
            k: [float(d) if isinstance(d, (int, float)) else d for d in v]
            for k, v in domain.items()
            if k in values
        }
        step = _step(global_step)
        name = run_name or str(time.time())
        with SummaryWriter(log_dir=os.path.join(self.log_dir, name)) as sub:
            w = sub.file_writer
            w.hparams_tensor = False  # PyTorch's hparams summaries are metadata only
            wt = time.time()
            w.add_hparams(
                values,
                list(metric_dict),
                start_time=0.0,
                wall_time=wt,
                step=step,
                domain_discrete=discrete,
            )
            w.end_hparams(1, wall_time=wt, step=step, end_time=0.0)
            for k, v in metric_dict.items():
                sub.add_scalar(k, v, global_step)

    # -- the end ---------------------------------------------------------------------------------

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for writer in self._writers.values():
                writer.close()
        self._wake.set()
        _open_writers.discard(self)

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
