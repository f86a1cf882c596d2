"""Headless commands: `summary`, `check`, `compare` and the no-terminal fallback of `tuiboard`.

Owns: run health (health.py, pure: statuses from a run's data and a clock), the summary rows and
their three outputs (summary.py), `check` (check.py), `compare` (compare.py), alert transitions
and the `--on-alert` command runner (alerts.py), and the argparse handlers (commands.py).
`tuiboard plot` lives in plot.py (its own owner).
Must not import: textual or tuiboard.ui (these commands run where no terminal is attached).
Rich is used for tables on a terminal only; piped output is plain text or JSON.
"""

from __future__ import annotations
