"""One run of tuiboard's logging API (made by tuiboard.init, sdk.py): W&B's step rules, and the
files of its directory, written by its flusher thread.

Owns: `Run` (`log` with W&B's step rules, `define_metric`, `config`, `summary`, `flush`, `finish`,
context manager), the flusher thread and the run directory's format. Must not import: textual,
rich, torch, tensorboard, wandb, tuiboard.core (a writer shares no code with the reader it is
checked against). numpy/Pillow only through sdk_media, lazily.

What a run directory holds (our JSONL run format, extended; README "Logging without TensorBoard
or wandb"):
- `metrics.jsonl`: one committed history row a line, W&B's names for the bookkeeping keys:
  `{"_step": 3, "_runtime": 1.52, "_timestamp": 1796619508.59, "loss": 0.25, "val": {"acc": 0.9}}`.
  Media are W&B's objects: `{"_type": "image-file", "path": "media/images/<key>_<step>_<sha>.png",
  "sha256", "size", "format", "width", "height", "caption"?}`, `{"_type": "images/separated",
  "filenames": [...], ...}` for a list of images, `{"_type": "histogram", "bins", "values"}`.
- `media/images/...`: the image files, each written (atomically) before the line naming it.
- `config.json`: the config, rewritten (atomically) when it changes.
- `.tmp/`: files being written, renamed into place when whole (hidden: readers skip it).
- `tuiboard-run.json` (RUN_META): `{"format": "tuiboard-run", "version": 1, "id", "project",
  "display_name", "group", "job_type", "tags", "notes", "host", "pid", "start_time", "state"
  ("running" / "finished" / "failed"), "exit_code" (null while running), "runtime", "summary",
  "step_metrics" ({name or glob: step metric}), "metric_summaries" ({key: {"max": ...}})}`,
  rewritten atomically at start, when the summary or state changes (at most once a flush) and at
  finish. The summary is W&B's: the last committed value of each key (nested dicts merged key by
  key) plus `_step`, `_runtime`, `_timestamp`; `run.summary[k] = v` sets a key, and, as in wandb
  0.31 (checked), a later `log` of that key replaces it again.

W&B's step rules (checked against wandb 0.31.0 offline, tests/test_sdk.py compares them):
- `log(d)` merges `d` into the pending row at the current step and commits it (step += 1).
- `log(d, commit=False)` merges without committing; `log(d, step=s)` with s > current commits a
  pending row (one any log call touched, even with `{}`) at the current step, then makes `s`
  current and merges `d` there, committing only with `commit=True`; `s` == current merges; `s` <
  current warns "Tried to log to step ..." and drops `d`. `finish` commits the pending row.
- Nested dicts merge key by key while pending; `_step` in `d` is ignored.

Cost: `log` copies the dict, checks each value's type, takes a lock and appends to a list
(`python bench/bench_sdk.py`: ~4.5 us for 10 scalars); JSON encoding, media files and writes
happen on a daemon thread once a second (FLUSH_INTERVAL), and at finish and at exit. Each flush
is one os.write of whole lines on an O_APPEND descriptor: a SIGKILL loses at most the rows of
the last second, and at worst cuts the last line of that write, which readers leave alone as a
line still being written.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from tuiboard.sdk_config import Config, Summary
from tuiboard.sdk_media import clean_row, json_default, media_json, merge_into, summary_json
from tuiboard.sdk_metrics import MetricDefs

RUN_META = "tuiboard-run.json"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
FLUSH_INTERVAL = 1.0
"""Seconds between flushes: what a killed process can lose."""
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every line (json.dumps with arguments builds a new one per call)."""
_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


class Run:
    """One run being logged. Made by `init`; thread-safe; `finish()` (or leaving its `with`
    block, or the interpreter exiting) writes what is pending and marks the run finished."""

    def __init__(
        self,
        path: str | None,
        *,
        project: str,
        display_name: str,
        run_id: str,
        config: Mapping[str, Any],
        tags: tuple[str, ...],
        notes: str,
        group: str,
        job_type: str,
        on_finish: Callable[[Run], None] | None = None,
    ) -> None:
        """`path` None makes a disabled run (no files); `on_finish` is told when it ends."""
        self._on_finish = on_finish
        self.dir: str = path or ""
        """The run directory (absolute); "" for a disabled run, which writes nothing."""
        self._disabled = path is None
        self.project: str = project
        self.name: str = display_name
        self.id: str = run_id
        self.tags: tuple[str, ...] = tags
        self.notes: str = notes
        self.group: str = group
        self.job_type: str = job_type
        self.start_time: float = time.time()
        self._lock = threading.Lock()
        """Guards the step, the pending row, the committed rows, the summary and the flags."""
        self._flush_lock = threading.Lock()
        """One flush at a time (the flusher thread and finish)."""
        self._step = 0
        self._pending: dict[str, Any] | None = None
        """The row being built at `_step`; None when no log call touched it."""
        self._pending_time = 0.0
        self._pending_media = False
        self._pending_nested = False
        self._rows: list[tuple[int, float, dict[str, Any], bool]] = []
        """Committed rows not yet written: (step, unix time, row, holds media)."""
        self._summary: dict[str, Any] = {}
        self._last: tuple[int, float] | None = None
        """(step, time) of the last committed row, for the summary's `_step`/`_timestamp`."""
        self._metrics = MetricDefs()
        """define_metric's definitions and aggregates (fed and read under the flush lock)."""
        self._meta_dirty = True
        self._config_dirty = True
        self._finished = False
        self._forked = False
        """True in a forked child: the run is its parent's (see _after_fork_in_child)."""
        self.exit_code: int | None = None
        self.config: Config = Config(self)
        self.config.update(config)
        self.summary: Summary = Summary(self)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd = -1
        if self._disabled:
            return
        self._fd = os.open(
            os.path.join(self.dir, METRICS),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0),
            0o644,
        )
        self._flush()  # config.json and the run file now: the run is visible before its 1st row
        self._thread = threading.Thread(
            target=self._flush_loop, name=f"tuiboard-flush-{run_id}", daemon=True
        )
        self._thread.start()

    # -- logging -------------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """The step the next `log` without `step=` writes to (wandb's run.step)."""
        return self._step

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Log a dict of values with W&B's step rules (module docstring). Values: numbers,
        strings, nested dicts, `tuiboard.Image`, `tuiboard.Histogram`, lists of images, numpy
        arrays and tensors (their number, a list, or a histogram past 32 elements)."""
        if not isinstance(data, Mapping):
            raise TypeError("log takes a dict of values")
        row, media, nested = clean_row(data)
        now = time.time()
        with self._lock:
            if self._finished:
                if self._forked:
                    warn_once(
                        "log in a forked child process is dropped: the run belongs to its parent"
                    )
                    return
                raise RuntimeError("log called on a finished run")
            if step is not None:
                step = int(step)
                if step < self._step:
                    warnings.warn(
                        f"Tried to log to step {step} that is less than the current step "
                        f"{self._step}. Steps must be monotonically increasing, so this data "
                        "will be ignored.",
                        stacklevel=2,
                    )
                    return
                if step > self._step:
                    if self._pending is not None:
                        self._commit()
                    self._step = step
            pending = self._pending
            if pending is None:
                self._pending = row
                self._pending_media = media
                self._pending_nested = nested
            else:
                if nested or self._pending_nested:
                    merge_into(pending, row)
                else:
                    pending.update(row)
                self._pending_media = self._pending_media or media
                self._pending_nested = self._pending_nested or nested
            self._pending_time = now
            if commit or (commit is None and step is None):
                self._commit()

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> None:
        """W&B's define_metric: `step_metric` is the x axis of `name` (a name or a `*` glob) in
        tuiboard's charts; `summary` ("min", "max", "mean", "best", "first", "last", "none",
        comma-separated) replaces the key's summary by those aggregates of its logged values.
        `step_sync`, `hidden` and `overwrite` are accepted and ignored."""
        with self._flush_lock, self._lock:
            self._metrics.define(name, step_metric, summary, goal)
            self._meta_dirty = True

    def _commit(self) -> None:
        """Commit the pending row at the current step (the caller holds the lock)."""
        row = self._pending
        assert row is not None
        row.pop("_step", None)
        self._pending = None
        if self._pending_nested:
            merge_into(self._summary, row)
        else:
            self._summary.update(row)
        if not self._disabled:
            self._rows.append((self._step, self._pending_time, row, self._pending_media))
        self._last = (self._step, self._pending_time)
        self._meta_dirty = True
        self._step += 1

    # -- writing -------------------------------------------------------------------------------

    def _flush_loop(self) -> None:
        while not self._finished:
            self._wake.wait(FLUSH_INTERVAL)
            if self._finished:
                return
            try:
                self._flush()
            except Exception as error:  # a bug or a full disk: say so, keep the thread alive
                print(f"tuiboard: flush failed: {error!r}", file=sys.stderr)

    def flush(self) -> None:
        """Write what is committed now (the flusher does it every second anyway)."""
        self._flush()

    def _flush(self) -> None:
        if self._disabled:
            return
        with self._flush_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                meta_dirty, self._meta_dirty = self._meta_dirty, False
                config_dirty, self._config_dirty = self._config_dirty, False
                summary = dict(self._summary) if meta_dirty else None
                config = self.config.as_dict() if config_dirty else None
            if rows:
                self._write_rows(rows)
            if config is not None:
                self._write_json(CONFIG, _jsonable(config))
            if summary is not None:
                self._write_json(RUN_META, self._meta(summary))

    def _write_rows(self, rows: list[tuple[int, float, dict[str, Any], bool]]) -> None:
        start = self.start_time
        lines = []
        for step, wall, row, media in rows:
            self._metrics.feed(row)
            if media:
                row = {k: media_json(v, k, step, self._write_media) for k, v in row.items()}
            line = {"_step": step, "_runtime": round(wall - start, 6), "_timestamp": wall}
            line.update(row)
            try:
                text = _encode(line)
            except (TypeError, ValueError):
                text = json.dumps(
                    _jsonable(line), ensure_ascii=False, separators=(",", ":"), default=str
                )
            lines.append(text)
        lines.append("")
        # A lone surrogate (a str made from undecodable bytes) cannot be UTF-8: written as its
        # JSON escape, it reads back as the same string.
        data = "\n".join(lines).encode("utf-8", "backslashreplace")
        view = memoryview(data)
        while view:  # one write in practice; a short write continues where it stopped
            n = os.write(self._fd, view)
            view = view[n:]

    def _write_media(self, rel: str, data: bytes) -> None:
        path = os.path.join(self.dir, *rel.split("/"))
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _atomic_write(self.dir, path, data)

    def _write_json(self, name: str, obj: Any) -> None:
        text = json.dumps(obj, ensure_ascii=False, default=json_default) + "\n"
        data = text.encode("utf-8", "backslashreplace")
        _atomic_write(self.dir, os.path.join(self.dir, name), data)

    def _meta(self, summary: dict[str, Any]) -> dict[str, Any]:
        summary = {k: summary_json(v) for k, v in summary.items()}
        if self._last is not None:
            step, wall = self._last
            summary.update(_step=step, _runtime=round(wall - self.start_time, 6), _timestamp=wall)
        state = "running"
        if self.exit_code is not None:
            state = "finished" if self.exit_code == 0 else "failed"
        return {
            "format": "tuiboard-run",
            "version": 1,
            "id": self.id,
            "project": self.project,
            "display_name": self.name,
            "group": self.group,
            "job_type": self.job_type,
            "tags": list(self.tags),
            "notes": self.notes,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "start_time": self.start_time,
            "state": state,
            "exit_code": self.exit_code,
            "runtime": None if self.exit_code is None else round(time.time() - self.start_time, 3),
            "summary": _jsonable(summary),
            "step_metrics": self._metrics.step_metrics(),
            "metric_summaries": _jsonable(self._metrics.summaries()),
        }

    # -- the end -------------------------------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Commit the pending row, write everything, record the exit code (0 by default) and
        close the run. A second call does nothing."""
        with self._lock:
            if self._finished:
                return
            if self._pending is not None:
                self._commit()
            self._finished = True
            self.exit_code = 0 if exit_code is None else int(exit_code)
            self._meta_dirty = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        try:
            self._flush()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
            if self._on_finish is not None:
                self._on_finish(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self.finish(exit_code=0 if kind is None else 1)

    def __repr__(self) -> str:
        return f"<tuiboard.Run {self.project}/{self.name} at {self.dir}>"


TMP_DIR = ".tmp"
"""Where files are written before being renamed into place: a hidden directory of the run,
which discovery and the watcher skip (a live run rewrites its run file once a second)."""


def _atomic_write(run_dir: str, path: str, data: bytes) -> None:
    """Write a file whole: a reader sees the old one or the new one, never half of it."""
    tmp_dir = os.path.join(run_dir, TMP_DIR)
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, f"{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _jsonable(obj: Any) -> Any:
    """Plain JSON data from config/summary values (tuples, numpy values, objects by str)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    if hasattr(obj, "item"):
        return _jsonable(obj.item())
    return str(obj)
