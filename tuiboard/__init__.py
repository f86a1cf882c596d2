"""tuiboard: TensorBoard for the terminal.

The public API is the data layer, importable without Textual or Rich:

    import tuiboard
    logdir = tuiboard.open("logs/")          # reads every run
    for run in logdir.runs:
        s = run.scalars("loss")               # numpy step / wall_time / value
    logdir.refresh()                          # reads only what was appended since
"""

from __future__ import annotations

from tuiboard.core.logdir import Changes, Logdir, Run, open
from tuiboard.core.store import Scalars

__version__ = "0.1.0"
__all__ = ["Changes", "Logdir", "Run", "Scalars", "__version__", "open"]
