"""What a run says about itself, as tables: its names, id, project, group, tags, notes, host,
start time, exit code and health, then its summary and its config.

Owns: `run_details` (the renderables of the run details screen), `status_style` (the colour of
a health status; a status it does not know is drawn plain, so a new status never breaks it) and
`fmt_value`. Every string from a log is untrusted: cleaned and put in `Text`, never markup.
Must not import: textual, tuiboard.ui.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tuiboard.core.types import RunMeta
from tuiboard.render.sanitize import clean

STATUS_STYLES: dict[str, str] = {
    "failed": "bold red",
    "diverged": "bold red",
    "damaged": "yellow",
    "stalled": "yellow",
    "finished": "green",
    "live": "green",
}
"""Colours of the statuses headless/health.py knows today; any other is drawn plain."""
MAX_VALUE_CHARS = 2000
"""A value longer than this is cut (with …): a 70,000-character string stays readable."""


def status_style(status: str) -> str:
    return STATUS_STYLES.get(status, "")


def fmt_value(value: Any) -> str:
    """A config or summary value as one plain string (floats exactly, as Python writes them)."""
    if isinstance(value, bool) or value is None:
        out = json.dumps(value)
    elif isinstance(value, float):
        out = repr(value) if math.isfinite(value) else str(value)
    elif isinstance(value, int | str):
        out = str(value)
    else:
        try:
            out = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        except (TypeError, ValueError):  # a structure json cannot hold (cycles): its repr
            out = repr(value)
    if len(out) > MAX_VALUE_CHARS:
        out = out[:MAX_VALUE_CHARS] + "…"
    return out


def fmt_time(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return repr(t)


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    return table


def _plain(s: str, multiline: bool = False) -> Text:
    return Text(clean(s, keep_newlines=multiline))


def exit_text(meta: RunMeta) -> Text:
    """The exit record: finished (code 0), failed (another code), or none yet."""
    if meta.exit_code is None:
        return Text("no exit record (still running, or killed)", style="dim")
    if meta.exit_code == 0:
        return Text("finished (exit code 0)", style=status_style("finished"))
    return Text(f"failed (exit code {meta.exit_code})", style=status_style("failed"))


def _relative(path: str, base: str) -> str:
    """`path` relative to `base` when inside it (a run's files/output.log), else as given."""
    if base and path.startswith(base.rstrip("/") + "/"):
        return path[len(base.rstrip("/")) + 1 :]
    return path


def run_details(
    name: str,
    path: str,
    meta: RunMeta,
    config: Mapping[str, Any],
    health: Sequence[tuple[str, str]] = (),
) -> RenderableType:
    """The details of one run. `health`: (status, reason) pairs, most severe first."""
    about = _grid()
    about.add_row("run", _plain(name))
    if meta.display_name:
        about.add_row("name", _plain(meta.display_name))
    about.add_row("path", _plain(path))
    for label, value in (
        ("run id", meta.run_id),
        ("project", meta.project),
        ("group", meta.group),
        ("job type", meta.job_type),
        ("host", meta.host),
    ):
        if value:
            about.add_row(label, _plain(value))
    if meta.tags:
        tags = Text()
        for i, tag in enumerate(meta.tags):
            if i:
                tags.append(", ", style="dim")
            tags.append(clean(tag), style="bold")
        about.add_row("tags", tags)
    if meta.notes:
        about.add_row("notes", _plain(meta.notes, multiline=True))
    about.add_row("started", Text(fmt_time(meta.start_time)))
    if meta.runtime is not None:
        about.add_row("runtime", Text(f"{fmt_value(meta.runtime)} s"))
    if meta.resumed:
        about.add_row("resumed", Text("yes"))
    about.add_row("exit", exit_text(meta))
    for status, reason in health:
        line = Text(status, style=status_style(status))
        line.append(f"  {clean(reason)}", style="dim")
        about.add_row("status", line)
    for console in meta.console:
        about.add_row("console", _plain(_relative(console, path)))
    for metric_tag, step_metric in sorted(meta.step_metrics.items()):
        row = _plain(metric_tag)
        row.append("  x axis: ", style="dim")
        row.append(clean(step_metric))
        about.add_row("step metric", row)
    parts: list[RenderableType] = [about]
    for title, values in (("Summary", meta.summary), ("Config", config)):
        parts.append(Text(""))
        heading = Text(title, style="bold underline")
        heading.append(f"  {len(values)}", style="dim")
        parts.append(heading)
        if not values:
            parts.append(Text("none", style="dim"))
            continue
        table = _grid()
        for key in sorted(values, key=str):
            table.add_row(_plain(str(key)), _plain(fmt_value(values[key])))
        parts.append(table)
    return Group(*parts)
