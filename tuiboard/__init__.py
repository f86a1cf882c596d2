"""tuiboard: TensorBoard for the terminal.

The public API is the data layer, importable without Textual or Rich:

    import tuiboard
    logdir = tuiboard.open("logs/")          # reads every run
    for run in logdir.runs:
        s = run.scalars("loss")               # numpy step / wall_time / value
    logdir.refresh()                          # reads only what was appended since

Importing the package itself loads nothing heavy: the names below resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Changes", "Logdir", "Run", "Scalars", "__version__", "open"]

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes, Logdir, Run, open
    from tuiboard.core.store import Scalars


def __getattr__(name: str) -> Any:
    if name in ("Changes", "Logdir", "Run", "open"):
        from tuiboard.core import logdir

        return getattr(logdir, name)
    if name == "Scalars":
        from tuiboard.core.store import Scalars

        return Scalars
    raise AttributeError(f"module 'tuiboard' has no attribute {name!r}")
