"""JSONL metric logs (jsonl-runs.md): files written as detectron2, MMEngine, old W&B and our own
logger write them, read by tuiboard.core.jsonl, compared with what json.loads gives per line
through a small reference implementation of the spec written here independently."""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.util import tensor_util

from tuiboard.core import jsonl as jsonl_module
from tuiboard.core.jsonl import (
    JsonlState,
    is_metrics_candidate,
    read_jsonl,
    sniff_metrics_file,
    sniff_metrics_state,
)
from tuiboard.core.types import HISTOGRAMS, TEXT, HistogramValue, Parsed, TextValue

# --- reference: the spec, line by line, written plainly ------------------------------------------

STEPS = ("step", "_step", "global_step", "iteration", "iter")
TIMES = ("wall_time", "_timestamp", "timestamp", "time")


def _int_step(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    finite = isinstance(value, float) and math.isfinite(value)
    if finite and value == int(value) and abs(value) < 9.2e18:
        return int(value)
    return None


def _wall(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 1e9 and not math.isinf(value):
        return float(value)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[:4].isdigit():
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _walk(
    out: dict[str, list[tuple[int, float, float]]],
    prefix: str,
    obj: dict[str, Any],
    skip: tuple[str | None, ...],
    wandb: bool,
    step: int,
    wall: float,
) -> None:
    top = prefix == ""
    for key, value in obj.items():
        if top and key in skip:
            continue
        if top and wandb and key.startswith("_") and key != "_runtime":
            continue
        tag = prefix + key
        if isinstance(value, dict):
            if not (wandb and "_type" in value):  # W&B typed values are not scalars
                _walk(out, tag + "/", value, (), wandb, step, wall)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[tag].append((step, wall, float(value)))


def reference(lines: list[str], wandb: bool = False) -> dict[str, list[tuple[int, float, float]]]:
    """tag -> [(step, wall_time, value)] in file order, per the spec."""
    out: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    good = 0
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        step_key, step = None, None
        for key in (*STEPS, "epoch"):
            if key in obj and _int_step(obj[key]) is not None:
                step_key, step = key, _int_step(obj[key])
                break
        if step is None:
            step = good
        good += 1
        time_key, wall = None, math.nan
        for key in TIMES:
            if key in obj and _wall(obj[key]) is not None:
                time_key, wall = key, _wall(obj[key])
                break

        skip = (step_key, time_key)
        _walk(out, "", obj, skip, wandb, step, wall)
    return dict(out)


def as_points(parsed: Parsed) -> dict[str, list[tuple[int, float, float]]]:
    out = {}
    for tag, cols in parsed.scalars.items():
        assert cols.step.dtype == np.int64 and cols.wall_time.dtype == np.float64
        assert cols.value.dtype == np.float64 and cols.seq.dtype == np.int64
        assert np.all(np.diff(cols.seq) >= 0)
        out[tag] = list(
            zip(cols.step.tolist(), cols.wall_time.tolist(), cols.value.tolist(), strict=True)
        )
    return out


def same_points(got: dict[str, list[Any]], want: dict[str, list[Any]]) -> None:
    assert sorted(got) == sorted(want)
    for tag in want:
        assert len(got[tag]) == len(want[tag]), tag
        for (s1, w1, v1), (s2, w2, v2) in zip(got[tag], want[tag], strict=True):
            assert s1 == s2, tag
            assert (w1 == w2) or (math.isnan(w1) and math.isnan(w2)), tag
            assert (v1 == v2) or (math.isnan(v1) and math.isnan(v2)), tag


def read_all(path: Path, chunk: int | None = None) -> tuple[list[Parsed], JsonlState]:
    data = path.read_bytes()
    state = JsonlState()
    out = []
    offset = 0
    if chunk is None:
        consumed, parsed = read_jsonl(data, 0, str(path), state)
        assert consumed == len(data) or not data.endswith(b"\n")
        return [parsed], state
    end = 0
    while end < len(data):
        end = min(len(data), end + chunk)
        consumed, parsed = read_jsonl(data[offset:end], offset, str(path), state)
        offset += consumed
        out.append(parsed)
    return out, state


def merge(parts: list[Parsed]) -> dict[str, list[tuple[int, float, float]]]:
    out: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for parsed in parts:
        for tag, points in as_points(parsed).items():
            out[tag].extend(points)
    return dict(out)


# --- realistic writers ------------------------------------------------------------------------


def write_detectron2(path: Path, iterations: int = 60) -> list[str]:
    """detectron2's JSONWriter: json.dumps(sort_keys=True) per line; eval lines at the end."""
    rng = np.random.default_rng(1)
    lines = []
    for it in range(19, iterations * 20, 20):
        row = {
            "data_time": float(rng.random() * 0.01),
            "eta_seconds": float(1000 - it),
            "fast_rcnn/cls_accuracy": float(rng.random()),
            "fast_rcnn/false_negative": float(rng.random()),
            "iteration": it,
            "loss_box_reg": float(rng.random()),
            "loss_cls": float(rng.random()),
            "lr": 0.02 * min(1.0, it / 100),
            "rank_data_time": float(rng.random() * 0.01),
            "time": 0.3 + float(rng.random() * 0.05),
            "total_loss": float(rng.random() * 2),
        }
        lines.append(json.dumps(row, sort_keys=True))
    lines.append(json.dumps({"bbox/AP": 40.1, "bbox/AP50": 61.2, "iteration": it}, sort_keys=True))
    path.write_text("".join(line + "\n" for line in lines))
    return lines


def write_mmengine(path: Path) -> list[str]:
    """MMEngine LocalVisBackend.add_scalars: json.dump + newline; train by iter, val by epoch."""
    lines = []
    with path.open("w") as handle:
        for epoch in (1, 2):
            for it in range(10 * (epoch - 1) + 5, 10 * epoch + 1, 5):
                row = {
                    "lr": 0.1 / epoch,
                    "data_time": 0.004,
                    "loss": 2.0 / it,
                    "time": 0.21,
                    "epoch": epoch,
                    "iter": it,
                    "memory": 3349,
                    "step": it,
                }
                lines.append(json.dumps(row))
                json.dump(row, handle)
                handle.write("\n")
            val = {"accuracy/top1": 60.0 + epoch, "data_time": 0.01, "time": 0.03, "step": epoch}
            lines.append(json.dumps(val))
            json.dump(val, handle)
            handle.write("\n")
    return lines


# --- tests ------------------------------------------------------------------------------------


def test_detectron2_metrics_json(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    lines = write_detectron2(path)
    [parsed], state = read_all(path)
    same_points(as_points(parsed), reference(lines))
    assert "iteration" not in parsed.scalars  # the step key is not a tag
    time = parsed.scalars["time"]  # seconds per iteration: a metric, not a wall time
    assert np.all(time.value < 1) and np.all(np.isnan(time.wall_time))
    assert parsed.scalars["bbox/AP"].step.tolist() == [json.loads(lines[-1])["iteration"]]
    assert parsed.records == len(lines) and state.bad == 0 and not parsed.warnings


def test_mmengine_scalars_json_steps_go_back(tmp_path: Path) -> None:
    path = tmp_path / "vis_data" / "scalars.json"
    path.parent.mkdir()
    lines = write_mmengine(path)
    [parsed], _ = read_all(path)
    same_points(as_points(parsed), reference(lines))
    # epoch and iter are tags (step is the step key), and validation steps go back: all kept
    assert parsed.scalars["iter"].value.tolist() == [5, 10, 15, 20]
    assert parsed.scalars["data_time"].step.tolist() == [5, 10, 1, 15, 20, 2]
    assert parsed.scalars["accuracy/top1"].step.tolist() == [1, 2]


def test_old_wandb_history(tmp_path: Path) -> None:
    path = tmp_path / "wandb-history.jsonl"
    counts = [1, 3, 5, 2]
    edges = [0.0, 0.5, 1.0, 1.5, 2.0]
    rows = [
        {"loss": 0.9, "_runtime": 3.2, "_timestamp": 1700000000.5, "_step": 0},
        {
            "loss": 0.7,
            "acc": 0.5,
            "_runtime": 6.1,
            "_timestamp": 1700000003.25,
            "_step": 1,
            "_wandb": {"runtime": 6},
            "grads/w": {"_type": "histogram", "values": counts, "bins": edges},
            "examples": {"_type": "images/separated", "count": 2, "filenames": ["a.png"]},
        },
        {"loss": 0.5, "_runtime": 9.0, "_timestamp": 1700000006.0, "_step": 2},
    ]
    lines = [json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    [parsed], _ = read_all(path)
    same_points(as_points(parsed), reference(lines, wandb=True))
    assert sorted(parsed.scalars) == ["_runtime", "acc", "loss"]
    assert parsed.scalars["loss"].wall_time.tolist() == [1700000000.5, 1700000003.25, 1700000006.0]
    [(kind, tag, seq, hist)] = parsed.values
    assert (kind, tag, seq) == (HISTOGRAMS, "grads/w", 1)
    assert isinstance(hist, HistogramValue)
    assert hist.left.tolist() == edges[:-1] and hist.right.tolist() == edges[1:]
    assert hist.counts.tolist() == counts and hist.count == sum(counts)
    assert (hist.step, hist.wall_time) == (1, 1700000003.25)


def test_underscore_keys_are_data_outside_wandb(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": 1, "_private": 2.0, "obj": {"_type": "x", "v": 1}})]
    path.write_text(lines[0] + "\n")
    [parsed], _ = read_all(path)
    same_points(as_points(parsed), reference(lines))
    assert sorted(parsed.scalars) == ["_private", "obj/v"]


def test_own_metrics_jsonl_nested_lists_strings(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    rng = np.random.default_rng(7)
    rows = []
    for step in range(0, 50, 10):
        sample = rng.normal(size=200).tolist()
        rows.append(
            {
                "step": step,
                "wall_time": 1717000000.0 + step,
                "loss": 1.0 / (step + 1),
                "val": {"acc": step / 100, "deep": {"f1": 0.5}},
                "weights": sample,
                "note": f"step {step} \x1b[31mred",
                "flag": True,
                "missing": None,
            }
        )
    lines = [json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    [parsed], _ = read_all(path)
    same_points(as_points(parsed), reference(lines))
    assert sorted(parsed.scalars) == ["loss", "val/acc", "val/deep/f1"]  # bool/null skipped
    hists = [(t, s, v) for k, t, s, v in parsed.values if k == HISTOGRAMS]
    texts = [(t, s, v) for k, t, s, v in parsed.values if k == TEXT]
    assert [s for _, s, _ in hists] == [0, 1, 2, 3, 4]
    for (tag, _, hist), row in zip(hists, rows, strict=True):
        assert tag == "weights" and isinstance(hist, HistogramValue)
        sample = np.asarray(row["weights"])
        # TensorBoard's own default histogram summary as the reference for the buckets
        want = tensor_util.make_ndarray(histogram_pb("w", sample).value[0].tensor)
        np.testing.assert_allclose(hist.left, want[:, 0], rtol=1e-12)
        np.testing.assert_allclose(hist.right, want[:, 1], rtol=1e-12)
        assert hist.counts.tolist() == want[:, 2].tolist()
        assert hist.count == 200 and hist.min == sample.min() and hist.max == sample.max()
        assert hist.sum == pytest.approx(sample.sum()) and hist.step == row["step"]
        assert hist.sum_squares == pytest.approx(float((sample**2).sum()))
    assert [(t, s, v.text, v.step) for t, s, v in texts] == [
        ("note", i, r["note"], r["step"]) for i, r in enumerate(rows)
    ]
    assert all(isinstance(v, TextValue) and v.wall_time == 1717000000.0 + v.step for *_, v in texts)


def test_constant_sample_histogram_matches_tensorboard(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 3, "h": [2, 2, 2.0], "mixed": [1, "a"], "empty": [], "nan": [NaN]}\n')
    [parsed], _ = read_all(path)
    [(kind, tag, _, hist)] = parsed.values  # the mixed, empty and all-NaN lists are skipped
    assert (kind, tag) == (HISTOGRAMS, "h")
    want = tensor_util.make_ndarray(histogram_pb("h", np.array([2.0, 2.0, 2.0])).value[0].tensor)
    assert hist.left.tolist() == want[:, 0].tolist()
    assert hist.right.tolist() == want[:, 1].tolist()
    assert hist.counts.tolist() == want[:, 2].tolist()


def test_partial_last_line_then_its_completion(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": i, "loss": i / 10}) for i in range(5)]
    full = "".join(line + "\n" for line in lines).encode()
    cut = full.rindex(b"\n", 0, len(full) - 1) + 8  # 7 bytes into the last line
    path.write_bytes(full[:cut])
    state = JsonlState()
    consumed, parsed = read_jsonl(path.read_bytes(), 0, str(path), state)
    assert consumed == full.rindex(b"\n", 0, len(full) - 1) + 1
    assert parsed.scalars["loss"].step.tolist() == [0, 1, 2, 3]
    again, nothing = read_jsonl(path.read_bytes()[consumed:], consumed, str(path), state)
    assert again == 0 and not nothing.scalars and nothing.records == 0  # still incomplete
    with path.open("ab") as handle:
        handle.write(full[cut:])
    data = path.read_bytes()
    more, parsed2 = read_jsonl(memoryview(data)[consumed:], consumed, str(path), state)
    assert consumed + more == len(full)
    assert parsed2.scalars["loss"].step.tolist() == [4]
    assert parsed2.scalars["loss"].seq.tolist() == [0] and parsed2.records == 1
    assert state.lines == 5 and state.good == 5


def test_malformed_lines_counted_with_first_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    good = [json.dumps({"loss": float(i)}) for i in range(4)]
    text = f'{good[0]}\n{{"loss": 1.0,\n\n[1, 2]\n{good[1]}\n"str"\n'
    path.write_text(text)
    state = JsonlState()
    consumed, parsed = read_jsonl(path.read_bytes(), 0, str(path), state)
    [warning] = parsed.warnings
    assert warning.line == 2 and warning.file == str(path)
    assert "3 malformed lines" in warning.message and "line 2" in warning.message
    # no step key: the index among good lines (bad and blank lines not counted)
    assert parsed.scalars["loss"].step.tolist() == [0, 1]
    assert parsed.scalars["loss"].seq.tolist() == [0, 4]
    # a read without new damage repeats nothing; new damage re-emits the updated warning
    with path.open("a") as handle:
        handle.write(good[2] + "\n")
    data = path.read_bytes()
    more, parsed2 = read_jsonl(data[consumed:], consumed, str(path), state)
    assert not parsed2.warnings and parsed2.scalars["loss"].step.tolist() == [2]
    consumed += more
    with path.open("a") as handle:
        handle.write("not json\n" + good[3] + "\n")
    data = path.read_bytes()
    _, parsed3 = read_jsonl(data[consumed:], consumed, str(path), state)
    [warning3] = parsed3.warnings
    assert warning3.line == 2 and "4 malformed lines" in warning3.message
    assert parsed3.scalars["loss"].step.tolist() == [3]
    assert (state.bad, state.first_bad, state.lines) == (4, 2, 9)


def test_iso_and_unix_times(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    rows = [
        {"step": 1, "timestamp": "2024-05-01T12:00:00Z", "loss": 1.0},
        {"step": 2, "timestamp": "2024-05-01T14:00:00+02:00", "loss": 0.9},
        {"step": 3, "time": "2024-05-01T12:00:05.250", "loss": 0.8},
        {"step": 4, "time": 1714564810, "loss": 0.7},
        {"step": 5, "time": 0.31, "loss": 0.6},
        {"step": 6, "wall_time": 12.0, "_timestamp": 1714564811.5, "loss": 0.5},
    ]
    lines = [json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    [parsed], _ = read_all(path)
    utc = datetime(2024, 5, 1, 12, tzinfo=timezone.utc).timestamp()
    local = datetime(2024, 5, 1, 12, 0, 5, 250000).timestamp()
    walls = parsed.scalars["loss"].wall_time.tolist()
    assert walls[:4] == [utc, utc, local, 1714564810.0]
    assert math.isnan(walls[4]) and walls[5] == 1714564811.5
    assert parsed.scalars["time"].step.tolist() == [5]  # 0.31 s/iteration is a metric
    assert parsed.scalars["wall_time"].value.tolist() == [12.0]  # not a unix time: a metric
    same_points(as_points(parsed), reference(lines))


def test_step_key_order_epoch_and_index(tmp_path: Path) -> None:
    rows = [
        {"global_step": 7, "iter": 3, "loss": 1.0},
        {"step": "x", "_step": 9, "iteration": 4, "loss": 1.0},
        {"step": 10.0, "loss": 1.0},
        {"step": True, "epoch": 2, "loss": 1.0},
        {"epoch": 2.5, "loss": 1.0},
        {"loss": 1.0},
        {"iter": 2**70, "epoch": 3, "loss": 1.0},
    ]
    path = tmp_path / "m.jsonl"
    lines = [json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    [parsed], _ = read_all(path)
    same_points(as_points(parsed), reference(lines))
    assert parsed.scalars["loss"].step.tolist() == [7, 9, 10, 2, 4, 5, 3]
    assert parsed.scalars["iter"].value.tolist() == [3.0, float(2**70)]
    assert parsed.scalars["epoch"].value.tolist() == [2.5]  # fractional epoch: a tag


def test_sparse_keys_nan_infinity_huge_ints(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    text = (
        '{"step": 1, "loss": NaN, "a": 1}\n'
        '{"step": 2, "loss": Infinity}\n'
        '{"step": 3, "loss": -Infinity, "big": 12000000000000000000, "huge": 1' + "0" * 400 + "}\n"
        '{"step": 4, "a": 2}\n'
    )
    path.write_text(text)
    [parsed], _ = read_all(path)
    loss = parsed.scalars["loss"]
    assert loss.step.tolist() == [1, 2, 3]
    assert math.isnan(loss.value[0]) and loss.value[1] == math.inf and loss.value[2] == -math.inf
    assert parsed.scalars["a"].step.tolist() == [1, 4]
    assert parsed.scalars["big"].value.tolist() == [1.2e19]
    assert parsed.scalars["huge"].value.tolist() == [math.inf]


def test_huge_integers_in_a_block_of_lines(tmp_path: Path) -> None:
    """Many lines with the same keys are read as one block: a huge integer must still become a
    float value (or inf), and a too-big step must fall through to the next step key."""
    path = tmp_path / "metrics.jsonl"
    rows = [
        {"step": i, "iter": 2**64 + i, "epoch": 1, "v": 10**400 if i == 3 else i} for i in range(20)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    [parsed], _ = read_all(path)
    assert parsed.scalars["v"].value.tolist()[:5] == [0.0, 1.0, 2.0, math.inf, 4.0]
    assert parsed.scalars["iter"].value.tolist() == [float(2**64 + i) for i in range(20)]
    assert parsed.scalars["v"].step.tolist() == list(range(20))
    rows = [{"iter": 2**64 if i == 5 else i, "epoch": 7, "v": 1.0} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    [parsed], _ = read_all(path)
    assert parsed.scalars["v"].step.tolist() == [7 if i == 5 else i for i in range(20)]
    assert parsed.scalars["iter"].step.tolist() == [7]


def test_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"step": 1, "x": 1}\r\n\r\n{"step": 2, "x": 2}\r\n')
    [parsed], state = read_all(path)
    assert parsed.scalars["x"].step.tolist() == [1, 2] and state.bad == 0
    assert not parsed.warnings and state.lines == 3


values_strategy = st.one_of(
    st.integers(-5, 2000),
    st.integers(2**63 - 2, 2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([1.7e9, 1714564810, 3.0, 0.31, 2.5, "2024-05-01T12:00:00Z", "note"]),
    st.booleans(),
    st.none(),
    st.lists(st.floats(-10, 10), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y"]), st.floats(-1, 1), max_size=2),
    st.just({"_type": "histogram", "values": [1, 2], "bins": [0.0, 0.5, 1.0]}),
)
rows_strategy = st.lists(
    st.dictionaries(
        st.sampled_from(["step", "loss", "acc", "time", "epoch", "timestamp", "iter", "_step"]),
        values_strategy,
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=rows_strategy,
    repeat=st.integers(1, 12),
    bad=st.sets(st.integers(0, 30), max_size=4),
    chunk=st.integers(1, 400),
)
def test_any_chunking_gives_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, Any]],
    repeat: int,
    bad: set[int],
    chunk: int,
) -> None:
    # repeated rows make groups of lines with the same keys: the column path is taken
    lines = [json.dumps(r) for r in rows for _ in range(repeat)]
    for index in sorted(bad, reverse=True):
        lines.insert(min(index, len(lines)), '{"broken": ')
    path = tmp_path_factory.mktemp("j") / "metrics.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    parts, state = read_all(path, chunk=chunk)
    same_points(merge(parts), reference(lines))
    assert state.bad == len(bad) and state.lines == len(lines)
    warnings = [w for p in parts for w in p.warnings]
    if bad:
        assert warnings[-1].line == 1 + min(i for i, ln in enumerate(lines) if ln.startswith('{"b'))
    else:
        assert not warnings


@settings(max_examples=60, deadline=None)
@given(
    rows=rows_strategy,
    repeat=st.integers(1, 5),
    name=st.sampled_from(["metrics.jsonl", "wandb-history.jsonl"]),
)
def test_column_path_equals_line_path(rows: list[dict[str, Any]], repeat: int, name: str) -> None:
    """Lines sharing their keys are read as columns; the result is what one line at a time
    gives, for scalars, texts and histograms, in the same order."""
    data = "".join(json.dumps(r) + "\n" for r in rows for _ in range(repeat)).encode()
    results = []
    for threshold in (1, 10**9):
        with patch.object(jsonl_module, "GROUP_MIN_LINES", threshold):
            _, parsed = read_jsonl(data, 0, name, JsonlState())
        results.append(parsed)
    by_columns, by_lines = results
    same_points(as_points(by_columns), as_points(by_lines))
    for tag, cols in by_lines.scalars.items():
        assert by_columns.scalars[tag].seq.tolist() == cols.seq.tolist()

    def described(parsed: Parsed) -> list[tuple[Any, ...]]:
        return [(k, t, s, v.step, repr(v.wall_time), repr(v)) for k, t, s, v in parsed.values]

    assert described(by_columns) == described(by_lines)


# --- which files are metric logs ----------------------------------------------------------------


def test_candidates() -> None:
    for name in ("a.jsonl", "metrics.json", "scalars.json", "wandb-history.jsonl", "x/y/m.jsonl"):
        assert is_metrics_candidate(name)
    for name in ("config.json", "data.json", "events.out.tfevents.1", "metrics.csv", "a.jsonl.gz"):
        assert not is_metrics_candidate(name)


def test_sniff(tmp_path: Path) -> None:
    def sniff(name: str, content: str | bytes) -> bool:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return sniff_metrics_file(str(path))

    assert sniff("train.jsonl", '{"loss": 1, "iteration": 3}\n')
    assert sniff("train2.jsonl", '\n{"loss": 1, "timestamp": "2024-01-01T00:00:00"}\n')
    assert sniff("metrics.jsonl", '{"loss": 1}\n')  # our own name counts without a step key
    assert not sniff("dataset.jsonl", '{"text": "hello", "label": 1}\n')
    assert not sniff("prompts.jsonl", '{"prompt": "a", "time": 0.5}\n')
    assert not sniff("list.jsonl", "[1, 2]\n")
    assert not sniff("metrics.json", '{\n  "accuracy": 0.9\n}\n')  # a pretty-printed JSON
    assert not sniff("scalars.json", '{"acc": 0.9}\n')
    assert sniff("scalars2.jsonl", '{"lr": 0.1, "step": 5}\n{"lr"')
    assert not sniff("huge.jsonl", b"x" * (70 * 1024))
    long_first = json.dumps({"step": 1, "sample": list(range(2000))}) + "\n"  # > 4 KiB
    assert len(long_first) > 4096 and sniff("long.jsonl", long_first)
    assert not sniff("toolong.jsonl", json.dumps({"step": 1, "s": "x" * 70000}) + "\n")
    # no complete line yet: undecided (a caller must not cache it), and not a metric log now
    path = tmp_path / "growing.jsonl"
    path.write_text('{"step": 1, "lo')
    assert sniff_metrics_state(str(path)) is None and not sniff_metrics_file(str(path))
    path.write_text('{"step": 1, "loss": 2}\n')
    assert sniff_metrics_state(str(path)) is True
    assert sniff_metrics_state(os.path.join(tmp_path, "absent.jsonl")) is None
