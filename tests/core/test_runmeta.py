"""tuiboard-run.json (what tuiboard.init writes about a run) read into RunMeta, W&B media objects
in JSONL files read as images, and runs found from their run file alone."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

import tuiboard
from tuiboard.core.jsonl import JsonlState, read_jsonl
from tuiboard.core.runmeta import RUN_META, read_run_meta
from tuiboard.core.types import IMAGES, ImageValue


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_run_file_fields(tmp_path: Path) -> None:
    path = tmp_path / RUN_META
    path.write_text(
        json.dumps(
            {
                "format": "tuiboard-run",
                "version": 1,
                "id": "abc123",
                "project": "p",
                "display_name": "gentle-sun-1",
                "group": "g",
                "job_type": "train",
                "tags": ["a", 3, "b"],
                "notes": "n",
                "host": "h",
                "start_time": 1.7e9,
                "exit_code": 2,
                "runtime": 12.5,
                "summary": {
                    "loss": 0.1,
                    "val": {"acc": 0.9, "img": {"_type": "image-file", "path": "x.png"}},
                    "_step": 3,
                    "h": {"_type": "histogram", "bins": [0, 1], "values": [1]},
                },
                "step_metrics": {"val/*": "epoch", "bad": 3},
                "metric_summaries": {"loss": {"min": 0.05, "oops": "x"}, "val/acc": {}},
            }
        )
    )
    meta, warnings = read_run_meta(str(path))
    assert warnings == [] and meta is not None
    assert (meta.display_name, meta.run_id, meta.project, meta.group, meta.job_type) == (
        "gentle-sun-1",
        "abc123",
        "p",
        "g",
        "train",
    )
    assert meta.tags == ("a", "b") and meta.notes == "n" and meta.host == "h"
    assert (meta.start_time, meta.exit_code, meta.runtime) == (1.7e9, 2, 12.5)
    assert meta.summary == {"loss": {"min": 0.05}}
    assert meta.step_metrics == {"val/*": "epoch"}


def test_bad_run_files_are_warnings(tmp_path: Path) -> None:
    cases = {
        "not json": "{oops",
        "not an object": "[1, 2]",
        "wrong types": json.dumps(
            {"display_name": 3, "tags": "x", "exit_code": True, "start_time": "now", "summary": 1}
        ),
    }
    for what, text in cases.items():
        path = tmp_path / what / RUN_META
        path.parent.mkdir()
        path.write_text(text)
        meta, warnings = read_run_meta(str(path))
        if what == "wrong types":
            assert meta is not None and warnings == []
            assert (meta.display_name, meta.tags, meta.exit_code, meta.start_time) == (
                "",
                (),
                None,
                None,
            )
            assert meta.summary == {}
        else:
            assert meta is None and len(warnings) == 1 and warnings[0].file == str(path)
    meta, warnings = read_run_meta(str(tmp_path / "missing" / RUN_META))
    assert meta is None and "cannot read" in warnings[0].message


def test_a_run_file_alone_makes_a_run_and_follows_rewrites(tmp_path: Path) -> None:
    run_dir = tmp_path / "p" / "r"
    run_dir.mkdir(parents=True)
    (run_dir / RUN_META).write_text(json.dumps({"display_name": "first", "exit_code": None}))
    ld = tuiboard.open(str(tmp_path))
    assert [r.name for r in ld.runs] == ["p/r"]
    run = ld.runs[0]
    assert run.meta.display_name == "first" and run.meta.exit_code is None
    assert run.kinds() == {} and run.last_step is None
    tmp = run_dir / ".new"
    tmp.write_text(json.dumps({"display_name": "first", "exit_code": 0}))
    os.replace(tmp, run_dir / RUN_META)  # as the writer does: a whole new file
    ld.refresh()
    assert ld.runs[0].meta.exit_code == 0


def test_old_wandb_history_images(tmp_path: Path) -> None:
    """Old wandb's files/wandb-history.jsonl names media relative to files/."""
    files = tmp_path / "run" / "files"
    (files / "media" / "images").mkdir(parents=True)
    a = np.arange(24, dtype=np.uint8).reshape(4, 6)
    b = np.full((2, 3, 3), 200, dtype=np.uint8)
    (files / "media/images/ex_0_aaa.png").write_bytes(png(a))
    (files / "media/images/ex_1_bbb.png").write_bytes(png(b))
    lines = [
        {
            "_step": 0,
            "_timestamp": 1.7e9,
            "ex": {"_type": "image-file", "path": "media/images/ex_0_aaa.png", "format": "png"},
        },
        {
            "_step": 1,
            "_timestamp": 1.7e9 + 1,
            "many": {
                "_type": "images/separated",
                "width": 3,
                "height": 2,
                "count": 2,
                "filenames": ["media/images/ex_1_bbb.png", "media/images/ex_0_aaa.png"],
            },
            "table": {"_type": "table-file", "path": "media/table/t.json"},
        },
    ]
    path = files / "wandb-history.jsonl"
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    path.write_bytes(data)
    consumed, parsed = read_jsonl(data, 0, str(path), JsonlState())
    assert consumed == len(data) and parsed.warnings == []
    images = [(tag, rec) for kind, tag, _, rec in parsed.values if kind == IMAGES]
    assert [tag for tag, _ in images] == ["ex", "many"]
    first, second = images[0][1], images[1][1]
    assert isinstance(first, ImageValue) and isinstance(second, ImageValue)
    assert (first.step, first.wall_time, first.width, first.height) == (0, 1.7e9, 6, 4)
    assert first.images == (png(a),) and first.content_type == "image/png"
    assert (second.step, second.width, second.height) == (1, 3, 2)
    assert second.images == (png(b), png(a))


def test_media_problems_counted_in_one_warning(tmp_path: Path) -> None:
    lines = [
        {"step": 0, "a": {"_type": "image-file", "path": "nope.png"}, "b": {"_type": [1]}},
        {"step": 1, "a": {"_type": "image-file"}},
        {"step": 2, "a": {"_type": "images/separated", "filenames": ["../../x.png"]}},
    ]
    path = tmp_path / "metrics.jsonl"
    state = JsonlState()
    data = json.dumps(lines[0]).encode() + b"\n"
    _, parsed = read_jsonl(data, 0, str(path), state)
    (w,) = parsed.warnings
    assert w.line == 1 and w.message.startswith("1 media file not shown")
    rest = "".join(json.dumps(x) + "\n" for x in lines[1:]).encode()
    _, parsed = read_jsonl(rest, len(data), str(path), state)
    (w,) = parsed.warnings
    assert w.line == 1 and w.message.startswith("3 media files not shown; first:")
    assert "'nope.png'" in w.message
    assert not [v for v in parsed.values if v[0] == IMAGES]


def test_watcher_paths_of_a_live_run(tmp_path: Path) -> None:
    """A run file rewritten (through a temp file in a hidden directory, as tuiboard.init does)
    reads that run only; the temp file is skipped; a new file still rediscovers."""
    run_dir = tmp_path / "p" / "r"
    (run_dir / ".tmp").mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text('{"_step": 0, "loss": 1.0}\n')
    (run_dir / RUN_META).write_text(json.dumps({"display_name": "r"}))
    ld = tuiboard.open(str(tmp_path))
    tmp = run_dir / ".tmp" / f"{RUN_META}.1.tmp"
    tmp.write_text(json.dumps({"display_name": "renamed", "exit_code": 3}))
    assert not ld.refresh([str(tmp)])  # skipped: nothing to read
    os.replace(tmp, run_dir / RUN_META)
    ch = ld.refresh([str(run_dir / RUN_META), str(tmp)])
    assert ch.runs == frozenset({"p/r"}) and not ch.new_runs
    assert ld.runs[0].meta.display_name == "renamed" and ld.runs[0].meta.exit_code == 3
    other = tmp_path / "p" / "s"
    other.mkdir()
    (other / RUN_META).write_text(json.dumps({"display_name": "s"}))
    ch = ld.refresh([str(other / RUN_META)])  # unknown: rediscovered
    assert ch.new_runs == frozenset({"p/s"})
