"""`tuiboard ls` and `tuiboard export`: the logdir as text, with stable formats.

Owns: the ls JSON contract and the export CSV / JSON-lines contracts. Must not import: textual, rich
(these commands run on login nodes and in cron: plain text out).

Export contract (CSV, header first): `run,tag,step,wall_time,value`; values as Python's repr of the
float64 (float32 values widened exactly), so they read back bit for bit; nan, inf and -inf written
so; an unknown wall time left empty. JSON lines: the same keys, wall_time null when unknown, and
non-finite values written as Python's json writes them (NaN, Infinity, -Infinity). Order: runs,
then tags, sorted by name; points in step order (the clean line; --raw: file order, as written).

Media (`save_media`): images and audio clips as files holding exactly the stored bytes,
DIR/<run>/<tag>/<step>_<i>.<ext>, every path component made safe from hostile names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from tuiboard.core.logdir import Logdir, Run
from tuiboard.core.tfevents_values import sniff_image
from tuiboard.core.types import (
    AUDIO,
    GRAPH,
    HISTOGRAMS,
    HPARAMS,
    IMAGES,
    MESH,
    PR_CURVES,
    SCALARS,
    TEXT,
    AudioValue,
    GraphValue,
    HistogramValue,
    HParamsValue,
    ImageValue,
    MeshValue,
    PrCurveValue,
    ReadWarning,
    RunMeta,
    TensorValue,
    TextValue,
    ValueRecord,
)

# -- ls ------------------------------------------------------------------------------------------


def ls_json(logdir: Logdir) -> dict[str, Any]:
    """The `ls --json` contract."""
    runs = []
    for run in logdir.runs:
        runs.append(
            {
                "name": run.name,
                "path": run.path,
                "formats": list(run.formats),
                "tags": run.kinds(),
                "config": _jsonable(run.config),
                "warnings": [w.to_json() for w in run.warnings],
            }
        )
        meta = meta_json(run.meta)
        if meta:
            runs[-1]["meta"] = meta
    out: dict[str, Any] = {"runs": runs}
    if logdir.warnings:
        out["warnings"] = [w.to_json() for w in logdir.warnings]
    return out


_NOT_IN_LS = frozenset({"console_records", "console_dropped"})


def meta_json(meta: RunMeta) -> dict[str, Any]:
    """What a run says about itself (RunMeta), only the fields it has: `display_name`,
    `run_id`, `project`, `group`, `job_type`, `tags`, `notes`, `host`, `start_time`, `resumed`,
    `exit_code`, `runtime`, `summary`, `step_metrics`, `console`. {} for runs without any.
    Not the console lines a run file holds (`console_records`: up to 5,000 lines of raw text)."""
    out: dict[str, Any] = {}
    for name in RunMeta.__slots__:
        if name in _NOT_IN_LS:
            continue
        value = getattr(meta, name)
        if value is None or value is False or (isinstance(value, str | tuple | dict) and not value):
            continue  # an exit code 0 is kept
        out[name] = list(value) if isinstance(value, tuple) else _jsonable(value)
    return out


def write_ls(logdir: Logdir, out: IO[str], as_json: bool = False) -> None:
    if as_json:
        json.dump(ls_json(logdir), out, indent=2, ensure_ascii=False, allow_nan=True)
        out.write("\n")
        return
    for w in logdir.warnings:
        out.write(f"warning: {warning_text(w)}\n")
    runs = logdir.runs
    if not runs:
        out.write("no runs found\n")
        return
    for run in runs:
        kinds = run.kinds()
        last = run.last_step
        head = f"{_plain(run.name)}  [{', '.join(run.formats)}]"
        if last is not None:
            head += f"  last step {last}"
        out.write(head + "\n")
        meta = run.meta
        facts = [f"name {meta.display_name!r}"] if meta.display_name else []
        if meta.tags:
            facts.append(f"tags {', '.join(meta.tags)}")
        if meta.exit_code is not None:
            facts.append(f"exit code {meta.exit_code}")
        if facts:
            out.write(f"  {_plain('; '.join(facts))}\n")
        for kind, tags in kinds.items():
            shown = ", ".join(_plain(t) for t in tags[:8])
            more = f", ... (+{len(tags) - 8})" if len(tags) > 8 else ""
            out.write(f"  {kind} ({len(tags)}): {shown}{more}\n")
        if run.config:
            items = [f"{_plain(k)}={_plain(repr(v))}" for k, v in sorted(run.config.items())]
            out.write(f"  config: {', '.join(items[:12])}{' ...' if len(items) > 12 else ''}\n")
        for w in run.warnings:
            out.write(f"  warning: {warning_text(w)}\n")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(s: str) -> str:
    """Untrusted text for a plain terminal line: control characters (ESC included) made visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def warning_text(w: ReadWarning) -> str:
    """One warning as plain text: `FILE at byte N: MESSAGE` (or `line N`), control characters
    made visible."""
    where = f" at byte {w.offset}" if w.offset is not None else ""
    where += f" line {w.line}" if w.line is not None else ""
    return f"{_plain(w.file)}{where}: {_plain(w.message)}"


def store_refused(logdir: Logdir, err: IO[str]) -> bool:
    """When a remote store refused its listing and no run was found anywhere: its warnings as
    one line each on `err` ("tuiboard: warning: s3://b: cannot list: credentials refused: ..."),
    and True (the command exits 2 without printing anything else)."""
    if not logdir.store_errors or logdir.runs:
        return False
    for w in logdir.warnings:
        err.write(f"tuiboard: warning: {warning_text(w)}\n")
    return True


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


# -- export --------------------------------------------------------------------------------------


def select(
    logdir: Logdir, kind: str, runs_query: str | None, tags_re: str | None
) -> Iterator[tuple[Run, str]]:
    """(run, tag) pairs of a kind, runs then tags sorted by name; `runs_query` is --runs (a regex
    on the name or a query: headless/run_query.py), `tags_re` a regex searched in the tag."""
    from tuiboard.headless.run_query import run_filter

    tr = re.compile(tags_re) if tags_re else None
    for run in run_filter(runs_query).select(logdir.runs):
        for tag in run.tags(kind):
            if tr is None or tr.search(tag):
                yield run, tag


def _num(v: float) -> str:
    return repr(float(v))


def _scalar_rows(run: Run, tag: str, raw: bool) -> Iterator[tuple[int, float, float]]:
    s = run.scalars(tag, raw=raw)
    step, wall, value = s.step, s.wall_time, s.value
    if not raw and len(step) > 1 and not bool(np.all(step[1:] >= step[:-1])):
        order = np.argsort(step, kind="stable")  # JSONL keeps file order: export in step order
        step, wall, value = step[order], wall[order], value[order]
    # tolist() widens float32 exactly to Python floats (float64).
    yield from zip(step.tolist(), wall.tolist(), value.astype(np.float64).tolist(), strict=True)


def export_scalars(
    logdir: Logdir,
    out: IO[str],
    *,
    fmt: str = "csv",
    runs_query: str | None = None,
    tags_re: str | None = None,
    raw: bool = False,
) -> int:
    """Write every selected scalar point; returns the number of points written."""
    n = 0
    if fmt == "csv":
        out.write("run,tag,step,wall_time,value\n")
        for run, tag in select(logdir, SCALARS, runs_query, tags_re):
            prefix = _csv_fields(run.name, tag)
            lines = [
                f"{prefix},{st},{'' if math.isnan(w) else repr(w)},{v!r}\n"
                for st, w, v in _scalar_rows(run, tag, raw)
            ]
            out.writelines(lines)
            n += len(lines)
        return n
    for run, tag in select(logdir, SCALARS, runs_query, tags_re):
        head = json.dumps({"run": run.name, "tag": tag}, ensure_ascii=False)[:-1]
        for st, w, v in _scalar_rows(run, tag, raw):
            wj = "null" if math.isnan(w) else repr(w)
            out.write(f'{head}, "step": {st}, "wall_time": {wj}, "value": {json.dumps(v)}}}\n')
            n += 1
    return n


def _csv_fields(*fields: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _fmt_opt(v: float | None) -> str:
    return "" if v is None else _num(v)


def _hist_row(r: HistogramValue) -> list[Any]:
    buckets = [
        [float(a), float(b), float(c)] for a, b, c in zip(r.left, r.right, r.counts, strict=True)
    ]
    return [
        _num(r.count),
        _num(r.min),
        _num(r.max),
        _fmt_opt(r.sum),
        json.dumps(buckets, allow_nan=True),
    ]


def _image_row(r: ImageValue) -> list[Any]:
    return [r.width, r.height, r.content_type, len(r.images), sum(len(b) for b in r.images)]


def _audio_row(r: AudioValue) -> list[Any]:
    return [
        _num(r.sample_rate),
        r.num_channels,
        r.length_frames,
        r.content_type,
        len(r.clips),
        sum(len(b) for b in r.clips),
    ]


def _text_row(r: TextValue) -> list[Any]:
    return ["x".join(map(str, r.shape)), len(r.text), r.text]


def _pr_row(r: PrCurveValue) -> list[Any]:
    """num_thresholds, then the curve: thresholds i / (N - 1) and the rows of TensorBoard's
    [6, N] tensor, each a JSON list of the float32 values widened exactly to float64 and written
    as Python's repr (they read back bit for bit); NaN / Infinity as Python's json writes them."""
    n = r.num_thresholds
    thresholds = [i / (n - 1) for i in range(n)] if n > 1 else [0.0] * n
    rows = (r.precision, r.recall, r.tp, r.fp, r.tn, r.fn)
    return [
        n,
        json.dumps(thresholds),
        *(json.dumps(np.asarray(a, dtype=np.float64).tolist(), allow_nan=True) for a in rows),
    ]


def _mesh_row(r: MeshValue) -> list[Any]:
    # Vertices, faces and colours are [batch, count, 3] tensors: count is the vertex (face) count.
    count = r.shape[-2] if len(r.shape) >= 2 else (r.shape[0] if r.shape else 0)
    return [r.component, "x".join(map(str, r.shape)), count]


def _graph_row(r: GraphValue) -> list[Any]:
    return [r.source, r.node_count, len(r.data)]


def _hparams_row(r: HParamsValue) -> list[Any]:
    return [
        r.kind,
        "" if r.status is None else r.status,
        json.dumps(_jsonable(r.hparams), ensure_ascii=False),
    ]


def _tensor_row(r: TensorValue) -> list[Any]:
    return [r.plugin, r.dtype, "x".join(map(str, r.shape))]


_KIND_COLUMNS: dict[str, tuple[list[str], Callable[[Any], list[Any]]]] = {
    HISTOGRAMS: (["count", "min", "max", "sum", "buckets"], _hist_row),
    IMAGES: (["width", "height", "format", "images", "bytes"], _image_row),
    AUDIO: (["sample_rate", "channels", "frames", "format", "clips", "bytes"], _audio_row),
    TEXT: (["shape", "length", "text"], _text_row),
    PR_CURVES: (
        ["num_thresholds", "thresholds", "precision", "recall", "tp", "fp", "tn", "fn"],
        _pr_row,
    ),
    MESH: (["component", "shape", "count"], _mesh_row),
    GRAPH: (["source", "nodes", "bytes"], _graph_row),
    HPARAMS: (["kind", "status", "hparams"], _hparams_row),
}
_OTHER_COLUMNS: tuple[list[str], Callable[[Any], list[Any]]] = (
    ["plugin", "dtype", "shape"],
    _tensor_row,
)


def export_values(
    logdir: Logdir,
    out: IO[str],
    kind: str,
    *,
    fmt: str = "csv",
    runs_query: str | None = None,
    tags_re: str | None = None,
    raw: bool = False,
) -> int:
    """One row per (run, tag, step) of a non-scalar kind, with that kind's essentials."""
    cols, row_of = _KIND_COLUMNS.get(kind, _OTHER_COLUMNS)
    header = ["run", "tag", "step", "wall_time", *cols]
    n = 0
    writer = csv.writer(out, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(header)
    for run, tag in select(logdir, kind, runs_query, tags_re):
        recs: Iterable[ValueRecord] = run.values(kind, tag, raw=raw)
        for r in recs:
            w = r.wall_time
            row = [run.name, tag, r.step, "" if math.isnan(w) else _num(w), *row_of(r)]
            if fmt == "csv":
                writer.writerow(row)
            else:
                obj = dict(zip(header, row, strict=True))
                obj["wall_time"] = None if math.isnan(w) else w
                out.write(json.dumps(_jsonable(obj), ensure_ascii=False) + "\n")
            n += 1
    return n


# -- export --media: the stored image and audio bytes as files ----------------------------------

_MEDIA_EXT = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
}
# Control characters (C0, C1, DEL), the bidi overrides that reorder what a listing shows, and the
# other path separator (a "\\" in a tag must not become a directory on Windows).
_UNSAFE_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\\\\]")
_MAX_NAME_BYTES = 200
"""Below the usual 255-byte limit of one file name, leaving room for a disambiguating suffix."""


def safe_component(name: str) -> str:
    """One path component made from untrusted text: control characters and backslashes become
    "_", "" becomes "_", "." and ".." become "_." and "_..", and a name over 200 UTF-8 bytes is
    cut and given a hash of the whole so distinct long names stay distinct."""
    out = _UNSAFE_IN_NAME.sub("_", name)
    if out in ("", ".", ".."):
        out = "_" + out
    raw = out.encode("utf-8", "surrogatepass")
    if len(raw) > _MAX_NAME_BYTES:
        digest = hashlib.sha1(raw).hexdigest()[:10]
        out = raw[: _MAX_NAME_BYTES - 11].decode("utf-8", "ignore") + "~" + digest
    return out


def safe_relpath(name: str) -> list[str]:
    """The components of a run name or tag ("train/eval", "a/b/c"): "/" keeps making
    sub-directories, and every component is `safe_component`, so the result is always a
    relative path below its parent (no "..", no absolute path, no empty component)."""
    return [safe_component(part) for part in name.split("/")]


def _media_blobs(kind: str, rec: ValueRecord) -> tuple[tuple[bytes, str], ...]:
    """(bytes, file extension) of each image or clip of one record."""
    if kind == IMAGES and isinstance(rec, ImageValue):
        return tuple((b, _MEDIA_EXT.get(sniff_image(b), "bin")) for b in rec.images)
    if kind == AUDIO and isinstance(rec, AudioValue):
        return tuple((b, "wav") for b in rec.clips)
    return ()


def save_media(
    logdir: Logdir,
    directory: str,
    kind: str,
    *,
    runs_query: str | None = None,
    tags_re: str | None = None,
    raw: bool = False,
) -> int:
    """Write every image ("images") or audio clip ("audio") as a file with exactly the stored
    bytes: DIRECTORY/<run>/<tag>/<step>_<i>.<ext> (i counts the samples of a step from 0; ext
    png, jpg, gif, bmp, webp or bin by the bytes' signature; audio .wav). Returns how many files
    were written.

    Run names and tags keep their "/" as sub-directories; every component goes through
    `safe_component`, so no name can write outside DIRECTORY. Two (run, tag) pairs that land on
    the same directory (run "a" tag "b/c" and run "a/b" tag "c") get "~2", "~3" appended to the
    second one's last component; a step seen twice in one series (only with `raw`, which keeps
    the points a restart replaced) gets "-1", "-2" after the sample number."""
    if kind not in (IMAGES, AUDIO):
        raise ValueError(f"save_media writes images or audio, not {kind!r}")
    root = os.path.abspath(directory)
    owners: dict[tuple[str, ...], tuple[str, str]] = {}
    n = 0
    for run, tag in select(logdir, kind, runs_query, tags_re):
        parts = (*safe_relpath(run.name), *safe_relpath(tag))
        base, k = parts, 1
        while owners.setdefault(parts, (run.name, tag)) != (run.name, tag):
            k += 1
            parts = (*base[:-1], safe_component(f"{base[-1]}~{k}"))
        target = os.path.join(root, *parts)
        # Belt and braces: the components above can never climb out; a bug here must not write.
        if os.path.commonpath([root, os.path.abspath(target)]) != root:
            raise ValueError(f"refusing to write outside {root}: {target!r}")
        made = False
        seen: dict[int, int] = {}
        for rec in run.values(kind, tag, raw=raw):
            blobs = _media_blobs(kind, rec)
            if not blobs:
                continue
            if not made:
                os.makedirs(target, exist_ok=True)
                made = True
            again = seen.get(rec.step, 0)
            seen[rec.step] = again + 1
            suffix = f"-{again}" if again else ""
            for i, (data, ext) in enumerate(blobs):
                with open(os.path.join(target, f"{rec.step}_{i}{suffix}.{ext}"), "wb") as f:
                    f.write(data)
                n += 1
    return n


def inside_logdir(logdir: Logdir, path: str) -> bool:
    """Whether writing to `path` would write into the logdir or one of its runs (the viewer
    never writes where it reads)."""
    target = Path(path).expanduser().resolve()
    roots = [Path(p).resolve() for _, p in logdir.roots]
    roots += [Path(r.path).resolve() for r in logdir.runs]
    return any(target == root or root in target.parents for root in roots)
