"""tuiboard: TensorBoard for the terminal.

The public API is the data layer, importable without Textual or Rich:

    import tuiboard
    logdir = tuiboard.open("logs/")          # reads every run
    for run in logdir.runs:
        s = run.scalars("loss")               # numpy step / wall_time / value
    logdir.refresh()                          # reads only what was appended since

Logging without wandb (tuiboard/sdk*.py; `import tuiboard as wandb` runs W&B's quickstart):

    run = tuiboard.init(project="p", config={"lr": 0.01})
    tuiboard.log({"loss": 0.1, "val": {"acc": 0.9}})     # W&B's step rules
    tuiboard.log({"sample": tuiboard.Image(array), "w": tuiboard.Histogram(weights)})
    tuiboard.finish()

and PyTorch's `tuiboard.SummaryWriter(log_dir)` writing real tfevents (tuiboard/summary_writer.py).

In notebooks (tuiboard/notebook.py), as `%tensorboard`: `%load_ext tuiboard` then `%tuiboard logs/`,
or from Python `tuiboard.show("logs/", tags="loss")`: the summary table and the scalar charts,
updating while training writes.

Importing the package itself loads nothing heavy: the names below resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Changes",
    "Histogram",
    "Image",
    "Logdir",
    "Run",
    "Scalars",
    "SummaryWriter",
    "__version__",
    "define_metric",
    "finish",
    "init",
    "log",
    "login",
    "open",
    "show",
]
_SDK = ("init", "log", "finish", "login", "define_metric")
_SDK_CURRENT = ("config", "summary", "run")
"""The current logging run's config / summary, and the run itself (None before init)."""

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes, Logdir, Run, open
    from tuiboard.core.store import Scalars
    from tuiboard.notebook import show
    from tuiboard.sdk import define_metric, finish, init, log, login
    from tuiboard.sdk_media import Histogram, Image
    from tuiboard.summary_writer import SummaryWriter


def __getattr__(name: str) -> Any:
    if name in ("Changes", "Logdir", "Run", "open"):
        from tuiboard.core import logdir

        return getattr(logdir, name)
    if name == "Scalars":
        from tuiboard.core.store import Scalars

        return Scalars
    if name in _SDK:
        from tuiboard import sdk

        return getattr(sdk, name)
    if name in _SDK_CURRENT:
        from tuiboard import sdk

        return sdk.module_attr(name)
    if name in ("Image", "Histogram"):
        from tuiboard import sdk_media

        return getattr(sdk_media, name)
    if name == "show":
        from tuiboard.notebook import show

        return show
    if name == "SummaryWriter":
        from tuiboard.summary_writer import SummaryWriter

        return SummaryWriter
    raise AttributeError(f"module 'tuiboard' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext tuiboard`: registers the `%tuiboard` magic (tuiboard/notebook.py)."""
    from tuiboard.notebook import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext tuiboard`: stops the live views and servers the magic started."""
    from tuiboard.notebook import unload_ipython_extension as unload

    unload(ipython)
