"""Log without wandb: ``tuiboard.init`` / ``run.log``, W&B's API on our JSONL run format.

    import tuiboard as wandb                 # the W&B quickstart runs unchanged
    run = wandb.init(project="p", config={"lr": 0.01})
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1), "val": {"acc": 0.9}})
    wandb.finish()

Owns: `init` (a new run directory `<dir>/<project>/<name>/`, never an existing one), `Run` (W&B's
step rules, `config`, `summary`, `finish`, context manager), the module-level current run
(`log`, `finish`, `config`, `summary`, `run` in tuiboard/__init__.py), the flusher thread and the
exit hooks. Must not import: textual, rich, torch, tensorboard, wandb, tuiboard.core (a writer
shares no code with the reader it is checked against). numpy/Pillow only through sdk_media.

What a run directory holds (jsonl-runs.md, "Written by tuiboard.init"):
- `metrics.jsonl`: one committed history row a line, W&B's names for the bookkeeping keys:
  `{"_step": 3, "_runtime": 1.52, "_timestamp": 1796619508.59, "loss": 0.25, "val": {"acc": 0.9}}`.
  Media are W&B's objects: `{"_type": "image-file", "path": "media/images/<key>_<step>_<sha>.png",
  "sha256", "size", "format", "width", "height", "caption"?}`, `{"_type": "images/separated",
  "filenames": [...], ...}` for a list of images, `{"_type": "histogram", "bins", "values"}`.
- `media/images/...`: the image files, each written (atomically) before the line naming it.
- `config.json`: the config, rewritten (atomically) when it changes.
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
(`python bench/bench_sdk.py`: ~2 us for 10 scalars); JSON encoding, media files and writes
happen on a daemon thread once a second (FLUSH_INTERVAL), and at finish and at exit. Each flush
is one os.write of whole lines on an O_APPEND descriptor: a SIGKILL loses at most the rows of
the last second, and at worst cuts the last line of that write, which readers leave alone as a
line still being written.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import socket
import string
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from tuiboard.sdk_media import clean_row, json_default, media_json, merge_into, summary_json
from tuiboard.sdk_metrics import MetricDefs

RUN_META = "tuiboard-run.json"
METRICS = "metrics.jsonl"
CONFIG = "config.json"
FLUSH_INTERVAL = 1.0
"""Seconds between flushes: what a killed process can lose."""
DEFAULT_PROJECT = "uncategorized"
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every line (json.dumps with arguments builds a new one per call)."""
_UNSAFE = re.compile(r"[^\w.\- +=@,]+")
_W_AND_B_KWARGS = frozenset(
    {
        "entity",
        "id",
        "mode",
        "reinit",
        "resume",
        "resume_from",
        "fork_from",
        "allow_val_change",
        "config_exclude_keys",
        "config_include_keys",
        "save_code",
        "settings",
        "anonymous",
        "force",
        "sync_tensorboard",
        "tensorboard",
        "monitor_gym",
    }
)
"""wandb.init arguments accepted and ignored (they concern W&B's servers and processes)."""

_ADJECTIVE_WORDS = (
    "amber autumn bold brisk calm cosmic crisp dainty dashing eager fancy gentle glad "
    "golden hardy honest jolly keen lively lucky lunar misty noble peppy polished proud "
    "quiet rosy royal rustic silver smooth solar stellar sunny swift tidy twilight vivid "
    "warm wild"
)
_NOUN_WORDS = (
    "breeze brook cloud comet dawn dew dream dust feather field firefly flower forest "
    "frost glade haze hill lake leaf meadow moon morning mountain night ocean pine planet "
    "pond rain river sea shadow sky snow star sun surf thunder tree valley water wave wind"
)
_ADJECTIVES = _ADJECTIVE_WORDS.split()
_NOUNS = _NOUN_WORDS.split()


class Config(MutableMapping[str, Any]):
    """W&B's run.config: item and attribute access (`config.lr`, `config["lr"]`), `update`
    (dicts, argparse namespaces), `setdefaults`, `as_dict`. Changes are written to the run's
    config.json by the flusher."""

    def __init__(self, run: Run | None = None) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_items", {})

    def _changed(self) -> None:
        run = self._run
        if run is not None:
            run._config_dirty = True

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[str(key)] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def update(self, other: Any = (), allow_val_change: bool | None = None, **kw: Any) -> None:  # type: ignore[override]
        """Set every key of a mapping, an argparse Namespace (or any object with __dict__)."""
        if other is None:
            other = {}
        if not isinstance(other, Mapping) and hasattr(other, "__dict__"):
            other = vars(other)
        self._items.update(dict(other), **kw)
        self._changed()

    def setdefaults(self, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            self._items.setdefault(str(k), v)
        self._changed()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"


class Summary(MutableMapping[str, Any]):
    """W&B's run.summary: the last value logged under each key unless set here (a later log of
    the key replaces it again, as in wandb 0.31)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def __getitem__(self, key: str) -> Any:
        with self._run._lock:
            return self._run._summary[key]

    def __setitem__(self, key: str, value: Any) -> None:
        row, _media, _nested = clean_row({key: value})
        with self._run._lock:
            self._run._summary[key] = row[key]
            self._run._meta_dirty = True

    def __delitem__(self, key: str) -> None:
        with self._run._lock:
            del self._run._summary[key]
            self._run._meta_dirty = True

    def __iter__(self) -> Iterator[str]:
        with self._run._lock:
            return iter(list(self._run._summary))

    def __len__(self) -> int:
        return len(self._run._summary)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def update(self, other: Any = (), **kw: Any) -> None:  # type: ignore[override]
        row, _media, _nested = clean_row({**dict(other), **kw})
        with self._run._lock:
            self._run._summary.update(row)
            self._run._meta_dirty = True

    def __repr__(self) -> str:
        with self._run._lock:
            return f"Summary({self._run._summary!r})"


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
    ) -> None:
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
                    _warn_once(
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
        _atomic_write(path, data)

    def _write_json(self, name: str, obj: Any) -> None:
        text = json.dumps(obj, ensure_ascii=False, default=json_default) + "\n"
        _atomic_write(os.path.join(self.dir, name), text.encode("utf-8", "backslashreplace"))

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
            _forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self.finish(exit_code=0 if kind is None else 1)

    def __repr__(self) -> str:
        return f"<tuiboard.Run {self.project}/{self.name} at {self.dir}>"


def _atomic_write(path: str, data: bytes) -> None:
    """Write a file whole: a reader sees the old one or the new one, never half of it."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
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


# -- the current run and the module-level API ----------------------------------------------------

_runs: list[Run] = []
"""Unfinished runs, oldest first."""
_current: Run | None = None
"""The run `tuiboard.log` & co. write to (wandb.run): the last one `init` made, unless made
with reinit="create_new"; None once it is finished."""
_runs_lock = threading.Lock()


def current() -> Run | None:
    return _current


def _forget(run: Run) -> None:
    global _current
    with _runs_lock:
        if run in _runs:
            _runs.remove(run)
        if _current is run:
            _current = None


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker, say) holds copies of its parent's runs, but not
    their flusher threads: they are not its to write. Its copies are closed without writing,
    their locks (maybe held at the fork) made anew, and its exit finishes none of them."""
    global _runs_lock, _current
    _runs_lock = threading.Lock()
    _current = None
    for run in _runs:
        run._lock = threading.Lock()
        run._flush_lock = threading.Lock()
        run._finished = True
        run._forked = True
    _runs.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _safe_part(text: str) -> str:
    part = _UNSAFE.sub("_", text).strip(" ._")[:100]
    return part or "_"


def _generated_name(project_dir: str) -> str:
    try:
        taken = len(os.listdir(project_dir))
    except OSError:
        taken = 0
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{taken + 1}"


def _new_dir(project_dir: str, name: str) -> str:
    """Make `<project_dir>/<name>`, or `<name>-2`, `-3`... when taken (never reuse one)."""
    os.makedirs(project_dir, exist_ok=True)
    base = _safe_part(name)
    for n in range(1, 100_000):
        path = os.path.join(project_dir, base if n == 1 else f"{base}-{n}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return os.path.abspath(path)
    raise FileExistsError(f"no free run directory for {name!r} in {project_dir}")


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    dir: str | os.PathLike[str] | None = None,
    tags: Any = (),
    notes: str | None = "",
    group: str | None = None,
    job_type: str | None = None,
    **kwargs: Any,
) -> Run:
    """Start a run in `<dir>/<project>/<name>/` (dir: `$TUIBOARD_DIR` or "logs"; project:
    "uncategorized"; name: a W&B-like "adjective-noun-N"; an existing directory is never
    reused: `<name>-2`...).

    As wandb.init: `mode="disabled"` (or `$TUIBOARD_MODE=disabled`) gives a run that keeps its
    step, config and summary and writes nothing; while a run is active, `reinit` None /
    "default" / "return_previous" returns it (wandb's default outside notebooks), True /
    "finish_previous" finishes it first, "create_new" makes a run that `tuiboard.log` & co. do
    not use. wandb's other arguments (entity, id, resume, settings, ...) are accepted and
    ignored."""
    global _current
    unknown = set(kwargs) - _W_AND_B_KWARGS
    if unknown:
        raise TypeError(f"init() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    reinit = kwargs.get("reinit")
    previous = current()
    if previous is not None and reinit in (None, False, "default", "return_previous"):
        return previous
    if reinit in (True, "finish_previous"):
        with _runs_lock:
            active = list(_runs)
        for run in reversed(active):
            run.finish()
    disabled = (kwargs.get("mode") or os.environ.get("TUIBOARD_MODE", "")) == "disabled"
    root = os.fspath(dir) if dir is not None else os.environ.get("TUIBOARD_DIR", "logs")
    project = project or DEFAULT_PROJECT
    project_dir = os.path.join(root, _safe_part(project))
    display = name or _generated_name(project_dir)
    path = None if disabled else _new_dir(project_dir, display)
    cfg: dict[str, Any] = {}
    if config is not None:
        if not isinstance(config, Mapping) and hasattr(config, "__dict__"):
            config = vars(config)
        cfg = dict(config)
    run_id = "".join(random.SystemRandom().choices(string.ascii_lowercase + string.digits, k=8))
    run = Run(
        path,
        project=project,
        display_name=display,
        run_id=run_id,
        config=cfg,
        tags=tuple(str(t) for t in (tags or ())),
        notes=notes or "",
        group=group or "",
        job_type=job_type or "",
    )
    with _runs_lock:
        _runs.append(run)
        if reinit != "create_new":
            _current = run
    _hooks.install()
    return run


def _need_run(what: str) -> Run:
    run = current()
    if run is None:
        raise RuntimeError(f"You must call tuiboard.init() before tuiboard.{what}()")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    """`log` on the current run (wandb.log)."""
    _need_run("log").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run (wandb.finish); nothing when there is none."""
    run = current()
    if run is not None:
        run.finish(exit_code=exit_code)


def define_metric(name: str, step_metric: str | None = None, **kwargs: Any) -> None:
    """`define_metric` on the current run (wandb.define_metric)."""
    _need_run("define_metric").define_metric(name, step_metric, **kwargs)


def login(*_args: Any, **_kwargs: Any) -> bool:
    """wandb.login: nothing to log in to. Returns True so scripts that check it go on."""
    return True


class _PreInit:
    """What `tuiboard.config` / `tuiboard.summary` are before `init` (as wandb's)."""

    _what: str

    def __init__(self, what: str) -> None:
        object.__setattr__(self, "_what", what)

    def _fail(self, *_args: Any) -> Any:
        raise RuntimeError(f"You must call tuiboard.init() before using tuiboard.{self._what}")

    __getattr__ = __setattr__ = __getitem__ = __setitem__ = _fail


def module_attr(name: str) -> Any:
    """tuiboard.config / .summary / .run for the current run (tuiboard/__init__.py asks)."""
    run = current()
    if name == "run":
        return run
    if run is None:
        return _PreInit(name)
    return run.config if name == "config" else run.summary


class _ExitHooks:
    """Finishes open runs at exit with the process's exit code: sys.exit's argument, 1 after
    an uncaught exception, else 0 (what wandb records)."""

    def __init__(self) -> None:
        self.installed = False
        self.exit_code: int | None = None
        self.failed = False

    def install(self) -> None:
        if self.installed:
            return
        self.installed = True
        self._orig_exit = sys.exit
        self._orig_excepthook = sys.excepthook
        sys.exit = self._exit  # type: ignore[assignment]
        sys.excepthook = self._excepthook
        atexit.register(self._at_exit)

    def _exit(self, code: object = None) -> None:
        if code is None:
            self.exit_code = 0
        elif isinstance(code, int):
            self.exit_code = code
        else:
            self.exit_code = 1
        self._orig_exit(code)  # type: ignore[arg-type]

    def _excepthook(self, kind: Any, value: Any, tb: Any) -> None:
        self.failed = True
        self._orig_excepthook(kind, value, tb)

    def _at_exit(self) -> None:
        code = self.exit_code if self.exit_code is not None else (1 if self.failed else 0)
        with _runs_lock:
            runs = list(_runs)
        for run in reversed(runs):
            try:
                run.finish(exit_code=code)
            except Exception as error:  # at exit nobody can catch it: report and go on
                print(f"tuiboard: could not finish {run.dir}: {error!r}", file=sys.stderr)


_hooks = _ExitHooks()
