"""Log without wandb: ``tuiboard.init`` / ``run.log``, W&B's API on our JSONL run format.

    import tuiboard as wandb                 # the W&B quickstart runs unchanged
    run = wandb.init(project="p", config={"lr": 0.01})
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1), "val": {"acc": 0.9}})
    wandb.finish()

Owns: `init` (a new run directory `<dir>/<project>/<name>/`, never an existing one; wandb's
reinit and mode="disabled"), the current run and the module-level API (`log`, `finish`,
`define_metric`, `login`; `config`, `summary`, `run` through tuiboard/__init__.py), the exit hooks
(exit codes) and what a fork does to runs. The run itself (step rules, files, flusher) is
sdk_run.py; config and summary sdk_config.py; media sdk_media.py; define_metric sdk_metrics.py.
Must not import: textual, rich, torch, tensorboard, wandb, tuiboard.core (a writer shares no
code with the reader it is checked against). numpy/Pillow only through sdk_media, lazily.
"""

from __future__ import annotations

import atexit
import os
import random
import re
import string
import sys
import threading
from collections.abc import Mapping
from typing import Any

from tuiboard.sdk_run import CONFIG, METRICS, RUN_META, Run

__all__ = ["CONFIG", "METRICS", "RUN_META", "Run", "define_metric", "finish", "init", "log"]

DEFAULT_PROJECT = "uncategorized"
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
        on_finish=_forget,
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
