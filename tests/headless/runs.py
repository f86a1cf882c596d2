"""Test helpers: runs written by real writers (tensorboardX, plain JSON lines) with explicit wall
times, and file times set with os.utime so a test's clock decides what is recent."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

T0 = 1_700_000_000.0
"""Wall-time origin of every test run."""


class TbRun:
    """A run written by TensorBoard's own EventFileWriter (whose flush waits until the bytes are
    on disk, unlike tensorboardX's), appended to, flushed and dated by a test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.writer = EventFileWriter(str(path), max_queue_size=1000, flush_secs=3600)

    def scalar(self, tag: str, step: int, value: float, wall: float) -> None:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
        )
        self.writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))

    def session(self, status: int, step: int, wall: float) -> None:
        ev = event_pb2.Event(wall_time=wall, step=step)
        ev.session_log.status = status  # type: ignore[assignment]
        self.writer.add_event(ev)

    def flush(self, mtime: float | None = None) -> None:
        self.writer.flush()
        if mtime is not None:
            touch(self.path, mtime)

    def close(self, mtime: float | None = None) -> None:
        self.writer.close()
        if mtime is not None:
            touch(self.path, mtime)


class JsonlRun:
    """A metrics.jsonl run, appended line by line as Python's json writes them (NaN included)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.file = path / "metrics.jsonl"

    def log(self, **fields: Any) -> None:
        with open(self.file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(fields) + "\n")

    def raw(self, line: str) -> None:
        with open(self.file, "a", encoding="utf-8") as fh:
            fh.write(line)

    def touch(self, mtime: float) -> None:
        touch(self.path, mtime)


def touch(run_dir: Path, mtime: float) -> None:
    """Set the access and modification time of every file of a run directory."""
    for f in glob.glob(os.path.join(str(run_dir), "*")):
        if os.path.isfile(f):
            os.utime(f, (mtime, mtime))
