"""The run file tuiboard.init writes (`tuiboard-run.json`) read into a RunMeta.

Owns: RUN_META (the file name discovery looks for) and `read_run_meta`: display name, project,
id, group, job type, tags, notes, host, start time, exit code, runtime, the summary (nested
keys flattened with "/", W&B's internal `_` keys and media objects dropped, define_metric's
aggregates such as {"max": 0.9} in place of a key's last value, a key whose aggregate is {}
dropped) and the step metrics (names or `*` globs, as given).
The file is untrusted: wrong types are ignored field by field, a file that is not a JSON object
is a warning, reading never raises. Its layout is in tuiboard/sdk_run.py's docstring and the
README ("Logging without TensorBoard or wandb").
Must not import: textual, rich, tuiboard.sdk* (the writer), or tuiboard modules other than
core.types.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tuiboard.core import source
from tuiboard.core.types import ReadWarning, RunMeta

RUN_META = "tuiboard-run.json"
MAX_RUN_META_BYTES = 16 * 1024 * 1024


def read_run_meta(path: str) -> tuple[RunMeta | None, list[ReadWarning]]:
    """The RunMeta a run file describes, or None (and why) when it cannot be read."""
    try:
        with source.open_binary(path) as handle:
            raw = handle.read(MAX_RUN_META_BYTES + 1)
    except OSError as error:
        why = error.strerror or type(error).__name__
        return None, [ReadWarning(file=path, message=f"cannot read the run file: {why}")]
    if len(raw) > MAX_RUN_META_BYTES:
        return None, [ReadWarning(file=path, message="run file too large, not read")]
    try:
        obj = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as error:
        return None, [ReadWarning(file=path, message=f"run file is not valid JSON: {error}")]
    if not isinstance(obj, dict):
        return None, [ReadWarning(file=path, message="run file is not a JSON object")]
    summary = obj.get("summary")
    flat: dict[str, Any] = {}
    if isinstance(summary, dict):
        try:
            _flatten(summary, "", flat)
        except RecursionError:
            flat = {}
    aggregates = obj.get("metric_summaries")
    if isinstance(aggregates, dict):  # define_metric summaries replace the last values
        for key, entry in aggregates.items():
            if isinstance(entry, dict) and not entry:
                flat.pop(key, None)
            elif isinstance(entry, dict):
                flat[key] = {k: v for k, v in entry.items() if _float(v) is not None}
    steps = obj.get("step_metrics")
    step_metrics = (
        {k: v for k, v in steps.items() if isinstance(v, str)} if isinstance(steps, dict) else {}
    )
    tags = obj.get("tags")
    meta = RunMeta(
        display_name=_str(obj.get("display_name")),
        run_id=_str(obj.get("id")),
        project=_str(obj.get("project")),
        group=_str(obj.get("group")),
        job_type=_str(obj.get("job_type")),
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        notes=_str(obj.get("notes")),
        host=_str(obj.get("host")),
        start_time=_float(obj.get("start_time")),
        exit_code=_int(obj.get("exit_code")),
        runtime=_float(obj.get("runtime")),
        summary=flat,
        step_metrics=step_metrics,
    )
    return meta, []


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        if not prefix and key.startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if "_type" not in value:  # media objects (images, histograms) stay in the history
                _flatten(value, f"{name}/", out)
        else:
            out[name] = value


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _float(v: Any) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return None
