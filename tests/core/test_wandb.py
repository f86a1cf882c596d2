"""W&B run files (wandb-format.md): runs written by real wandb 0.31 offline (tests/wandb_runs.py)
read by tuiboard.core.wandb, compared point by point with what the script passed to wandb.log
and with wandb's own Go reader (`wandb leet inspect --summary --json`); framing cases the real
writer rarely produces are built by a writer of the spec written here."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tuiboard.core import wandb as wandb_reader
from tuiboard.core import wandb_items
from tuiboard.core.types import (
    AUDIO,
    HISTOGRAMS,
    IMAGES,
    TEXT,
    AudioValue,
    HistogramValue,
    ImageValue,
    Parsed,
    TensorValue,
    TextValue,
)
from tuiboard.core.wandb import WandbState, read_wandb
from tuiboard.core.wandb_frame import BLOCK, HEADER

from ..wandb_runs import WandbRuns, wandb_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> WandbRuns:
    return wandb_runs(tmp_path_factory)


def wandb_file(run_dir: Path) -> Path:
    return next(run_dir.glob("run-*.wandb"))


def read_whole(path: Path, chunk: int | None = None) -> tuple[Parsed, WandbState, int]:
    """Read a file as the loader does: chunks from the last consumed offset."""
    data = path.read_bytes()
    state = WandbState()
    merged = Parsed()
    offset = 0
    step = chunk or len(data) or 1
    while offset < len(data):
        got = read_wandb(data[offset : offset + step], offset, str(path), state)
        merge(merged, got.parsed)
        if got.consumed == 0:
            if offset + step >= len(data):
                break
            step *= 2
            continue
        offset += got.consumed
        step = chunk or len(data)
    return merged, state, offset


def merge(into: Parsed, parsed: Parsed) -> None:
    for tag, cols in parsed.scalars.items():
        old = into.scalars.get(tag)
        if old is None:
            into.scalars[tag] = cols
            continue
        old.step = np.concatenate([old.step, cols.step])
        old.wall_time = np.concatenate([old.wall_time, cols.wall_time])
        old.value = np.concatenate([old.value, cols.value])
        old.seq = np.concatenate([old.seq, cols.seq])
    into.values.extend(parsed.values)
    into.warnings.extend(parsed.warnings)
    into.records += parsed.records


def same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


# -- real runs -----------------------------------------------------------------------------------


def test_every_logged_number_and_text_is_read_exactly(runs: WandbRuns) -> None:
    exp = runs.expected["kinds"]
    parsed, _, _ = read_whole(wandb_file(runs.run_dir(exp["id"])))
    assert parsed.warnings == []
    texts = {(tag, rec.step): rec.text for kind, tag, _, rec in parsed.values if kind == TEXT}
    numbers: set[str] = set()
    for tag, step, value in exp["points"]:
        if isinstance(value, dict):
            assert texts[(tag, step)] == value["text"]
            continue
        numbers.add(tag)
        cols = parsed.scalars[tag]
        at = np.flatnonzero(cols.step == step)
        assert at.size == 1, (tag, step)
        assert same_float(float(cols.value[at[0]]), float(value)), (tag, step, value)
    user_tags = {t for t in parsed.scalars if not t.startswith("system/")}
    assert user_tags == numbers  # nothing extra: no _runtime, no _wandb, no media fields
    assert sum(len(c) for t, c in parsed.scalars.items() if t in numbers) == sum(
        1 for p in exp["points"] if not isinstance(p[2], dict)
    )


def test_nested_keys_bools_and_special_numbers(runs: WandbRuns) -> None:
    parsed, _, _ = read_whole(wandb_file(runs.run_dir(runs.expected["kinds"]["id"])))
    s = parsed.scalars
    assert s["train/deep/x"].value.tolist() == [0, 1, 2, 3, 4, 5]
    assert s["flag"].value.tolist() == [1, 0, 1, 0, 1, 0]  # bools are 1 / 0
    assert math.isnan(s["nan"].value[0]) and s["inf"].value[0] == math.inf
    assert s["ninf"].value[0] == -math.inf
    assert math.copysign(1, s["negzero"].value[0]) == -1
    assert s["big"].value[0] == float(2**53 + 1) and s["huge"].value[0] == 2.0**63
    assert s["f32"].value[0] == float(np.float32(0.1))  # widened, as wandb writes it
    assert [int(x) for x in s["explicit"].step] == [20, 25]
    long = [r for k, t, _, r in parsed.values if t == "long"]
    assert len(long) == 1 and isinstance(long[0], TextValue) and len(long[0].text) == 70003
    # wall times are the rows' _timestamp: increasing unix seconds
    walls = s["loss"].wall_time
    assert bool((np.diff(walls) >= 0).all()) and 1.7e9 < walls[0] < 2.2e9


def test_histogram_image_and_table(runs: WandbRuns) -> None:
    exp = runs.expected["kinds"]
    run_dir = runs.run_dir(exp["id"])
    parsed, _, _ = read_whole(wandb_file(run_dir))
    by_tag = {tag: (kind, rec) for kind, tag, _, rec in parsed.values}
    kind, hist = by_tag["hist"]
    assert kind == HISTOGRAMS and isinstance(hist, HistogramValue)
    assert hist.step == exp["hist"]["step"]
    assert hist.counts.tolist() == exp["hist"]["counts"]
    assert hist.left.tolist() == exp["hist"]["edges"][:-1]
    assert hist.right.tolist() == exp["hist"]["edges"][1:]
    kind, image = by_tag["media/img"]
    assert kind == IMAGES and isinstance(image, ImageValue)
    assert image.step == exp["image"]["step"]
    assert (image.width, image.height, image.content_type) == (8, 6, "image/png")
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(image.images[0])).convert("RGB"))
    assert pixels.tolist() == exp["image"]["pixels"]
    kind, table = by_tag["tbl"]
    assert kind == "table" and isinstance(table, TensorValue)
    assert table.step == exp["table"]["step"]
    assert [c.decode() for c in table.data] == exp["table"]["columns"]
    kind, gallery = by_tag["gallery"]  # a list of images under one key
    assert kind == IMAGES and isinstance(gallery, ImageValue)
    assert gallery.step == exp["gallery"]["step"] and len(gallery.images) == 3
    decoded = [
        np.asarray(Image.open(io.BytesIO(b)).convert("RGB")).tolist() for b in gallery.images
    ]
    assert sorted(decoded) == sorted(exp["gallery"]["pixels"])
    # each image keeps its own caption (wandb wrote caption=f"c{i}" for gallery[i])
    assert [f"c{exp['gallery']['pixels'].index(d)}" for d in decoded] == list(gallery.captions)
    assert image.captions == ()  # logged without a caption
    kind, sound = by_tag["sound"]
    assert kind == AUDIO and isinstance(sound, AudioValue)
    assert (sound.step, sound.sample_rate, sound.num_channels, sound.length_frames) == (
        exp["audio"]["step"],
        exp["audio"]["rate"],
        1,
        exp["audio"]["frames"],
    )
    assert sound.labels == ("beep",) and sound.clips[0][:4] == b"RIFF"
    # the media objects' fields are not scalar series
    assert not any(
        t.startswith(("media/img/", "hist/", "tbl/", "gallery/", "sound/")) for t in parsed.scalars
    )


def test_a_missing_media_file_is_a_warning(runs: WandbRuns, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(runs.run_dir(runs.expected["kinds"]["id"]), run_dir)
    for png in run_dir.rglob("*.png"):
        png.unlink()
    parsed, _, _ = read_whole(wandb_file(run_dir))
    assert not [r for k, _, _, r in parsed.values if k == IMAGES]
    assert any("media/img" in w.message for w in parsed.warnings)
    assert "loss" in parsed.scalars  # the rest is kept


def test_run_facts_config_and_summary(runs: WandbRuns) -> None:
    exp = runs.expected["kinds"]
    run_dir = runs.run_dir(exp["id"])
    logdir = tuiboard.open(str(run_dir))
    (run,) = logdir.runs
    meta = run.meta
    assert meta.display_name == "my run"  # renamed after init
    assert meta.tags == ("t1", "t2") and meta.notes == "some notes"
    assert (meta.run_id, meta.project, meta.resumed) == (exp["id"], "proj", False)
    assert meta.exit_code == 3 and meta.runtime is not None and meta.runtime >= 3
    assert meta.start_time is not None and 1.7e9 < meta.start_time < 2.2e9
    assert meta.summary["loss2"] == 0.25 and meta.summary["manual"] == 7
    assert meta.summary["val/acc"] == {"max": 0.7}  # define_metric(summary="max")
    assert meta.summary["big"] == 2**53 + 1  # exact in the summary
    assert meta.summary["train/deep/x"] == 5
    assert meta.summary["media/img"]["_type"] == "image-file"
    assert not any(k.startswith("_") for k in meta.summary)
    assert meta.step_metrics == {"val/acc": "epoch"}
    assert meta.console == (str(run_dir / "files" / "output.log"),)
    assert "hello console" in Path(meta.console[0]).read_text()
    config = run.config
    assert config["lr"] == 0.1 and config["arch/depth"] == 4 and config["arch/name"] == "resnet"
    assert config["later"] == 5 and config["batch"] == 32  # config.update after init
    assert not any("_wandb" in k for k in config)
    assert run.formats == ("wandb",)
    assert run.warnings == ()


def test_agrees_with_wandbs_own_reader(runs: WandbRuns) -> None:
    exe = shutil.which("wandb")
    if exe is None:
        pytest.skip("the wandb command is not installed")
    run_dir = runs.run_dir(runs.expected["kinds"]["id"])
    got = subprocess.run(
        [exe, "leet", "inspect", "--summary", "--json", str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(got.stdout, parse_constant=lambda c: float(c))
    (run,) = tuiboard.open(str(run_dir)).runs
    meta = run.meta
    assert meta.display_name == theirs["name"] and meta.exit_code == theirs["exit_code"]
    assert meta.notes == theirs["notes"] and meta.run_id == theirs["run_id"]
    assert theirs["state"] == "failed"
    for key, value in theirs["config"].items():
        if not isinstance(value, dict):
            assert run.config[key] == value
    compared = 0
    for key, value in theirs["summary"].items():
        if key.startswith("_") or isinstance(value, dict) or key not in meta.summary:
            continue
        ours = meta.summary[key]
        if value in ("NaN", "Infinity", "-Infinity"):  # leet's JSON spells them so
            value = float(value)
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(ours, float) and math.isnan(ours)
        else:
            assert ours == value, key
        compared += 1
    assert compared >= 8


def test_system_metrics(runs: WandbRuns) -> None:
    parsed, _, _ = read_whole(wandb_file(runs.run_dir(runs.expected["kinds"]["id"])))
    system = {t: c for t, c in parsed.scalars.items() if t.startswith("system/")}
    assert "system/memory_percent" in system and "system/cpu" in system
    mem = system["system/memory_percent"]
    assert len(mem) >= 3  # sampled every second for 3 s
    # a sample's step is the latest history row's before it (0 before the first row)
    history_steps = {0} | {r.step for _, _, _, r in parsed.values}
    for tag, cols in parsed.scalars.items():
        if not tag.startswith("system/"):
            history_steps |= set(cols.step.tolist())
    assert set(mem.step.tolist()) <= history_steps
    assert bool((np.diff(mem.step) >= 0).all())
    assert bool((np.diff(mem.wall_time) > 0).all())
    assert bool(((mem.value > 0) & (mem.value < 100)).all())
    loss_wall = parsed.scalars["loss"].wall_time
    assert abs(mem.wall_time[0] - loss_wall[0]) < 60


def test_latest_run_link_and_resumed_runs(runs: WandbRuns) -> None:
    assert (runs.root / "wandb" / "latest-run").is_symlink()
    logdir = tuiboard.open(str(runs.root))
    names = [r.name for r in logdir.runs]
    dirs = sorted(p.name for p in (runs.root / "wandb").glob("offline-run-*"))
    assert names == [f"wandb/{d}" for d in dirs]  # three runs, no latest-run
    parts = runs.expected["resumed"]["parts"]
    first, second = (logdir.run(f"wandb/{runs.run_dir('resumeme1', i).name}") for i in range(2))
    assert first is not None and second is not None
    # offline wandb cannot know whether the id existed: both ask to resume (RunRecord.resume)
    assert first.meta.resumed and second.meta.resumed
    for run, pts in zip((first, second), parts, strict=True):
        s = run.scalars("r")
        assert [[int(a), float(b)] for a, b in zip(s.step, s.value, strict=True)] == [
            [step, float(v)] for _, step, v in pts
        ]
        assert run.meta.run_id == "resumeme1" and run.meta.exit_code == 0


def test_a_killed_run(runs: WandbRuns, tmp_path: Path) -> None:
    """No exit record; every step read is right; a file cut at a block boundary (what a live
    or killed run leaves: a FIRST whose LAST was never written) is not damage, and the rest
    appended later reads as if read at once."""
    path = next(runs.killed.glob("wandb/offline-run-*/run-*.wandb"))
    parsed, state, consumed = read_whole(path)
    data = path.read_bytes()
    # wandb-core either wrote whole blocks only (the spec's measurement) or flushed its tail
    assert parsed.warnings == []
    assert consumed == len(data) or (len(data) % BLOCK == 0 and len(data) - consumed < BLOCK)
    loss = parsed.scalars["loss"]
    n = len(loss)
    assert n >= 20 and loss.step.tolist() == list(range(n))
    assert loss.value.tolist() == [1 / (i + 1) for i in range(n)]
    assert state.exit_code is None
    (run,) = tuiboard.open(str(runs.killed)).runs
    assert run.meta.exit_code is None and run.warnings == ()
    cut = tmp_path / "cut.wandb"
    blocks = len(data) // BLOCK - (1 if len(data) % BLOCK == 0 else 0)
    cut.write_bytes(data[: blocks * BLOCK])
    part, part_state, part_consumed = read_whole(cut)
    assert part.warnings == [] and 0 < part_consumed < blocks * BLOCK
    k = len(part.scalars["loss"])
    assert 0 < k < n and part.scalars["loss"].value.tolist() == loss.value[:k].tolist()
    # growth: the rest arrives; reading on from where we stopped gives the whole file
    with open(cut, "ab") as fh:
        fh.write(data[blocks * BLOCK :])
    rest = read_wandb(cut.read_bytes()[part_consumed:], part_consumed, str(cut), part_state)
    merge(part, rest.parsed)
    assert part.scalars["loss"].value.tolist() == loss.value.tolist()
    assert rest.consumed + part_consumed == consumed


def test_a_header_only_file_is_a_run_without_data(runs: WandbRuns) -> None:
    path = next(runs.header_only.glob("wandb/offline-run-*/run-*.wandb"))
    assert path.read_bytes() == HEADER
    (run,) = tuiboard.open(str(runs.header_only)).runs
    assert run.kinds() == {} and run.warnings == ()


def test_bulk_and_python_paths_agree(runs: WandbRuns) -> None:
    """The bulk decoder is only an acceleration: with every record sent to the Python path the
    result is the same."""
    path = wandb_file(runs.run_dir(runs.expected["kinds"]["id"]))
    fast, fast_state, _ = read_whole(path)

    def nothing_bulk(u8: np.ndarray, start: np.ndarray, end: np.ndarray) -> Any:
        kinds = classify(u8, start, end)
        e = np.empty(0, np.int64)
        return wandb_items.Kinds(e, e, np.arange(start.shape[0]), kinds.sub_start)

    classify = wandb_items.classify
    with patch.object(wandb_reader.wi, "classify", nothing_bulk):
        slow, slow_state, _ = read_whole(path)
    assert_same(fast, slow)
    assert fast_state.meta("") == slow_state.meta("")


def assert_same(a: Parsed, b: Parsed) -> None:
    assert sorted(a.scalars) == sorted(b.scalars)
    for tag, ca in a.scalars.items():
        cb = b.scalars[tag]
        order_a, order_b = np.argsort(ca.seq, kind="stable"), np.argsort(cb.seq, kind="stable")
        assert ca.step[order_a].tolist() == cb.step[order_b].tolist(), tag
        assert np.array_equal(ca.value[order_a], cb.value[order_b], equal_nan=True), tag
        assert np.array_equal(ca.wall_time[order_a], cb.wall_time[order_b], equal_nan=True)
    key = [(k, t, s) for k, t, s, _ in a.values]
    assert key == [(k, t, s) for k, t, s, _ in b.values]
    assert [w.message for w in a.warnings] == [w.message for w in b.warnings]


# -- framing, with a writer of the spec ----------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def history_record(num: int, step: int, items: dict[str, str]) -> bytes:
    body = b"".join(
        field(1, b"".join(field(2, part.encode()) for part in k.split("|")) + field(16, v.encode()))
        for k, v in {"_step": str(step), "_timestamp": f"{1.7e9 + step}", **items}.items()
    )
    body += field(2, varint(1 << 3) + varint(step) if step else b"")
    return varint(1 << 3) + varint(num) + field(2, body)


def write_log(records: list[bytes], start: int = 0) -> bytes:
    """The spec's writer: 32 KiB blocks from offset 0 (the header in block 0), 7-byte chunk
    headers, plain CRC-32 over type + payload, a zero-length FIRST where exactly 7 are left."""
    out = bytearray(HEADER)
    for rec in records:
        data, begin = rec, True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < 7:
                out += bytes(left)
                left = BLOCK
            frag, data = data[: left - 7], data[left - 7 :]
            end = not data
            kind = 1 if begin and end else 2 if begin else 4 if end else 3
            crc = zlib.crc32(bytes([kind]) + frag)
            out += struct.pack("<IHB", crc, len(frag), kind) + frag
            begin = False
            if end:
                break
    return bytes(out)


def synthetic(n: int, pad: int = 0) -> tuple[list[bytes], dict[int, float]]:
    records = [
        history_record(i + 1, i, {"loss": repr(1 / (i + 1)), "pad": json.dumps("p" * pad)})
        for i in range(n)
    ]
    return records, {i: 1 / (i + 1) for i in range(n)}


def loss_points(parsed: Parsed) -> dict[int, float]:
    cols = parsed.scalars.get("loss")
    if cols is None:
        return {}
    return dict(zip(cols.step.tolist(), cols.value.tolist(), strict=True))


def test_spec_writer_file_reads_back(tmp_path: Path) -> None:
    records, expected = synthetic(400, pad=300)
    path = tmp_path / "run-x.wandb"
    path.write_bytes(write_log(records))
    parsed, _, consumed = read_whole(path)
    assert parsed.warnings == [] and consumed == path.stat().st_size
    assert loss_points(parsed) == expected


def test_exactly_seven_bytes_left_and_a_record_over_blocks(tmp_path: Path) -> None:
    # the first record leaves exactly 7 bytes in block 0: the next starts with a zero-length
    # FIRST there and continues in block 1; the third spans three blocks
    pad = BLOCK // 2
    # adjust the pad until exactly 7 bytes are left after the first record
    while True:
        first = history_record(1, 0, {"loss": "1", "pad": json.dumps("y" * pad)})
        left = BLOCK - (len(HEADER) + 7 + len(first))
        if left == 7:
            break
        pad += 1 if left > 7 else -1
    second = history_record(2, 1, {"loss": "0.5"})
    third = history_record(3, 2, {"loss": "0.25", "long": json.dumps("z" * 70000)})
    data = write_log([first, second, third])
    assert data[BLOCK - 7 : BLOCK - 7 + 7][4:7] == b"\x00\x00\x02"  # zero-length FIRST
    path = tmp_path / "run-x.wandb"
    path.write_bytes(data)
    parsed, _, consumed = read_whole(path)
    assert parsed.warnings == [] and consumed == len(data)
    assert loss_points(parsed) == {0: 1.0, 1: 0.5, 2: 0.25}
    (long,) = [r for _, t, _, r in parsed.values if t == "long"]
    assert isinstance(long, TextValue) and long.text == "z" * 70000


def test_a_bad_crc_skips_the_rest_of_its_block(tmp_path: Path) -> None:
    records, expected = synthetic(600, pad=200)
    data = bytearray(write_log(records))
    # damage one payload byte in block 1 (offsets past its first chunk)
    at = BLOCK + 5000
    data[at] ^= 0xFF
    path = tmp_path / "run-x.wandb"
    path.write_bytes(bytes(data))
    parsed, _, consumed = read_whole(path)
    assert consumed == len(data)
    assert "CRC" in parsed.warnings[0].message
    # the record running from the damaged block into the next loses its start: said so too
    assert {w.message for w in parsed.warnings[1:]} <= {
        "record continuation without its start; dropped"
    }
    bad_at = parsed.warnings[0].offset
    assert bad_at is not None and BLOCK <= bad_at < 2 * BLOCK
    got = loss_points(parsed)
    assert got and all(expected[s] == v for s, v in got.items())
    missing = sorted(set(expected) - set(got))
    # only records whose chunks lay in block 1 from the damaged chunk on are lost
    assert missing and missing == list(range(missing[0], missing[-1] + 1))
    assert max(got) == max(expected)  # later blocks are read


def test_not_a_wandb_file(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"not a wandb file at all")
    got = read_wandb(path.read_bytes(), 0, str(path), WandbState())
    assert got.fatal and "not a W&B file" in got.parsed.warnings[0].message


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40_000), min_size=1, max_size=8))
def test_incremental_reads_equal_a_whole_read(cuts: list[int]) -> None:
    """The file appears in pieces (a live run); reading whatever is there each time, resuming
    at the offset consumed, gives what one read of the whole file gives."""
    records, expected = synthetic(300, pad=250)
    records.insert(150, history_record(10_000, 10_000, {"long": json.dumps("q" * 50_000)}))
    data = write_log(records)
    state = WandbState()
    total = Parsed()
    offset = 0
    ends = [*sorted({min(len(data), c * 7) for c in cuts}), len(data)]
    for end in ends:
        got = read_wandb(data[offset:end], offset, "f", state)
        merge(total, got.parsed)
        offset += got.consumed
    assert offset == len(data) and total.warnings == []
    assert loss_points(total) == expected
    assert [r.text for k, t, s, r in total.values if t == "long"] == ["q" * 50_000]


def test_discovery_and_loader_with_a_live_file(tmp_path: Path) -> None:
    """The loader reads a growing .wandb file block by block; a record cut at the end shows
    nothing until its end arrives."""
    records, expected = synthetic(500, pad=300)
    data = write_log(records)
    run_dir = tmp_path / "wandb" / "run-20260101_000000-abc"
    run_dir.mkdir(parents=True)
    path = run_dir / "run-abc.wandb"
    path.write_bytes(data[:BLOCK])
    logdir = tuiboard.open(str(tmp_path))
    (run,) = logdir.runs
    first = len(run.scalars("loss"))
    assert 0 < first < 500 and run.warnings == ()
    for end in range(2 * BLOCK, len(data) + BLOCK, BLOCK):
        with open(path, "r+b") as fh:
            fh.seek(0, os.SEEK_END)
            fh.write(data[fh.tell() : end])
        logdir.refresh()
    s = run.scalars("loss")
    assert dict(zip(s.step.tolist(), s.value.tolist(), strict=True)) == expected
    assert run.warnings == ()


def test_old_wandb_files_keep_working(tmp_path: Path) -> None:
    """wandb before 0.17 (files/ as it wrote them): wandb-history.jsonl, wandb-summary.json,
    config.yaml with {desc, value} wrappers."""
    files = tmp_path / "wandb" / "run-20200101_000000-abc" / "files"
    files.mkdir(parents=True)
    rows = [
        {"_step": i, "_timestamp": 1.6e9 + i, "_runtime": i, "loss": 1 / (i + 1)} for i in range(4)
    ]
    (files / "wandb-history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"loss": 0.25, "_runtime": 3, "_wandb": {"runtime": 3}, "val": {"acc": 0.9}}
    (files / "wandb-summary.json").write_text(json.dumps(summary))
    (files / "config.yaml").write_text(
        "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.12.0\n"
        "lr:\n  desc: null\n  value: 0.01\n"
    )
    (run,) = tuiboard.open(str(tmp_path)).runs
    assert run.name == "wandb/run-20200101_000000-abc/files"
    assert run.scalars("loss").value.tolist() == [1 / (i + 1) for i in range(4)]
    assert run.meta.summary == {"loss": 0.25, "val": {"acc": 0.9}}
    assert run.config == {"lr": 0.01}


def test_a_link_to_a_sibling_is_not_a_second_run(tmp_path: Path) -> None:
    records, _ = synthetic(3)
    for name in ("offline-run-1-a", "offline-run-2-b"):
        (tmp_path / "wandb" / name).mkdir(parents=True)
        (tmp_path / "wandb" / name / f"run-{name[-1]}.wandb").write_bytes(write_log(records))
    os.symlink("offline-run-2-b", tmp_path / "wandb" / "latest-run")
    other = tmp_path / "elsewhere" / "run"
    other.mkdir(parents=True)
    (other / "run-c.wandb").write_bytes(write_log(records))
    os.symlink(other, tmp_path / "wandb" / "linked")  # not a sibling: followed as before
    names = [r.name for r in tuiboard.open(str(tmp_path / "wandb")).runs]
    assert names == ["linked", "offline-run-1-a", "offline-run-2-b"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**9), st.integers(0, 255)),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=0, max_value=10**9),
)
def test_damaged_bytes_never_crash(flips: list[tuple[int, int]], cut: int) -> None:
    """Bytes changed anywhere (framing, protobuf, JSON) and the file cut anywhere: the reader
    returns warnings and what it could read, never an exception."""
    records, _ = synthetic(120, pad=200)
    records.insert(
        60, history_record(500, 500, {"img|_type": '"image-file"', "img|path": '"../x"'})
    )
    records.append(history_record(999, 999, {"h": '{"_type":"histogram","values":[1],"bins":[0]}'}))
    if cut % 2:  # damage the records themselves (framed with right CRCs) ...
        payload = bytearray(b"".join(records))
        for at, value in flips:
            payload[at % len(payload)] = value
        pieces, p = [], 0
        for r in records:
            pieces.append(bytes(payload[p : p + len(r)]))
            p += len(r)
        data = bytearray(write_log(pieces))
    else:  # ... or the framed bytes
        data = bytearray(write_log(records))
        for at, value in flips:
            data[7 + at % (len(data) - 7)] = value
    data = data[: max(7, cut % (len(data) + 1))]
    state = WandbState()
    offset = 0
    for _ in range(4):  # as the loader would call it again on the rest
        got = read_wandb(bytes(data[offset:]), offset, "f", state)
        assert 0 <= got.consumed <= len(data) - offset
        offset += got.consumed
        if got.consumed == 0:
            break
    state.meta("")


def test_a_media_path_never_leaves_the_run(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not yours")
    run_dir = tmp_path / "run"
    (run_dir / "files").mkdir(parents=True)
    record = history_record(1, 0, {"img|_type": '"image-file"', "img|path": '"../../secret.png"'})
    path = run_dir / "run-x.wandb"
    path.write_bytes(write_log([record]))
    parsed, _, _ = read_whole(path)
    assert not [r for k, _, _, r in parsed.values if k == IMAGES]
    assert any("leaves the run" in w.message for w in parsed.warnings)


def summary_record(num: int, items: dict[str, str]) -> bytes:
    body = b"".join(
        field(1, b"".join(field(2, p.encode()) for p in k.split("|")) + field(16, v.encode()))
        for k, v in items.items()
    )
    return varint(1 << 3) + varint(num) + field(3, body)


@pytest.mark.parametrize("change", ["none", "extra", "missing"])
def test_summary_from_paired_records(tmp_path: Path, change: str) -> None:
    """wandb-core writes each history row's summary right before it; the reader decodes only the
    ones that can matter (the last pair of each key, and every unpaired record). A decoded pair
    whose keys are not its row's (a key with define_metric(summary="none"), or one more key)
    makes it decode every summary record: the result is the merged state either way."""
    records: list[bytes] = []
    num = 1
    last = 299
    for step in range(last + 1):
        row = {"loss": repr(1 / (step + 1)), "acc": repr(step / 300)}
        if step % 100 == 0:
            row["eval"] = repr(float(step))
        paired = {"_step": str(step), "_timestamp": f"{1.7e9 + step}", **row}
        if step == last and change == "extra":
            paired["sneaky"] = "42"
        if step == last and change == "missing":
            del paired["acc"]
        records.append(summary_record(num, {"_runtime": "0"}))
        records.append(summary_record(num + 1, paired))
        records.append(history_record(num + 2, step, row))
        num += 3
    records.append(summary_record(num, {"manual": '"set by hand"'}))
    path = tmp_path / "run-x.wandb"
    path.write_bytes(write_log(records))
    _, state, _ = read_whole(path)
    summary = state.meta("").summary
    expected: dict[str, Any] = {"loss": 1 / 300, "acc": 299 / 300, "eval": 200.0}
    expected["manual"] = "set by hand"
    if change == "extra":
        expected["sneaky"] = 42
    if change == "missing":
        expected["acc"] = 298 / 300  # the last pair holding it
    assert summary == expected


def stats_record(num: int, seconds: int, items: dict[str, str]) -> bytes:
    stamp = varint(1 << 3) + varint(seconds)
    body = field(2, stamp) + b"".join(
        field(3, field(1, k.encode()) + field(16, v.encode())) for k, v in items.items()
    )
    return varint(1 << 3) + varint(num) + field(7, body)


@pytest.mark.parametrize("bulk", [True, False])
def test_system_metrics_take_the_latest_history_step(tmp_path: Path, bulk: bool) -> None:
    records = [stats_record(1, 1_700_000_000, {"cpu": "1.0"})]
    num = 2
    for step in range(0, 50, 10):
        records.append(history_record(num, step, {"loss": "0.5"}))
        records.append(stats_record(num + 1, 1_700_000_001 + step, {"cpu": f"{step}.5"}))
        num += 2
    path = tmp_path / "run-x.wandb"
    path.write_bytes(write_log(records))
    if bulk:
        parsed, state, _ = read_whole(path)
    else:
        with patch.object(wandb_reader.wi, "classify", everything_slow):
            parsed, state, _ = read_whole(path)
    cpu = parsed.scalars["system/cpu"]
    assert cpu.step.tolist() == [0, 0, 10, 20, 30, 40]
    assert cpu.value.tolist() == [1.0, 0.5, 10.5, 20.5, 30.5, 40.5]
    assert cpu.wall_time[0] == 1_700_000_000 and state.last_step == 40
    # read in two parts: the second part's first sample takes the first part's last row
    data = path.read_bytes()
    state = WandbState()
    first = read_wandb(data[: len(data) // 2], 0, "f", state)
    rest = read_wandb(data[first.consumed :], first.consumed, "f", state)
    steps = first.parsed.scalars["system/cpu"].step.tolist()
    steps += rest.parsed.scalars["system/cpu"].step.tolist()
    assert steps == [0, 0, 10, 20, 30, 40]


def everything_slow(u8: np.ndarray, start: np.ndarray, end: np.ndarray) -> Any:
    """wandb_items.classify that sends every record to the Python path."""
    kinds = _classify(u8, start, end)
    e = np.empty(0, np.int64)
    return wandb_items.Kinds(e, e, np.arange(start.shape[0]), kinds.sub_start)


_classify = wandb_items.classify


def test_values_and_keys_at_the_very_end_of_a_buffer(tmp_path: Path) -> None:
    """The last record of a buffer: a short value right at its end while a long value elsewhere
    sets the width of the bulk parse, and a key length damaged to point far past the end."""
    long_value = repr(-1.2345678901234567e-300)
    records = [history_record(i + 1, i, {"a": long_value if i == 0 else "1"}) for i in range(20)]
    data = write_log(records)
    parsed = read_wandb(data, 0, "f", WandbState()).parsed
    assert parsed.scalars["a"].value.tolist() == [float(long_value)] + [1.0] * 19
    # the last record's "a" key length byte (after `0a L 12`) set to 127
    record = records[-1]
    at = record.rindex(b"\x12\x01a")
    broken = record[: at + 1] + b"\x7f" + record[at + 2 :]
    # keep the chunk CRC right: re-frame the records with the damaged one
    data = write_log([*records[:-1], broken])
    got = read_wandb(data, 0, "f", WandbState())
    assert got.consumed == len(data)
    assert len(got.parsed.scalars["a"]) >= 19


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=400), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_damage_near_the_end_of_a_buffer_never_crashes(flips: list[tuple[int, int]]) -> None:
    """The bulk decoder reads a few bytes past fields; near the end of the bytes at hand a
    damaged length must not send it past them. The records are damaged before framing, so
    their CRCs are right and the decoder sees the damage."""
    records = [
        history_record(i + 1, i, {"a|b": repr(i / 7), "long": repr(-1.2345678901234567e-300)})
        for i in range(30)
    ]
    tail = bytearray(b"".join(records[-3:]))
    for back, value in flips:
        tail[max(0, len(tail) - back)] = value
    sizes = [len(r) for r in records[-3:]]
    damaged = [bytes(tail[: sizes[0]]), bytes(tail[sizes[0] : sizes[0] + sizes[1]])]
    damaged.append(bytes(tail[sizes[0] + sizes[1] :]))
    data = write_log([*records[:-3], *damaged])
    got = read_wandb(data, 0, "f", WandbState())
    assert got.consumed == len(data)
    assert len(got.parsed.scalars["a/b"]) >= 27


def test_hostile_values_in_history(tmp_path: Path) -> None:
    """A step beyond int64, an object nested as deep as JSON allows, a key with control
    characters: warnings or plain data, never an exception."""
    records = [
        history_record(1, 0, {"loss": "1"}),
        history_record(2, 1, {"_step": "9" * 400, "loss": "2"}),
        history_record(
            3, 2, {"deep": "[" * 900 + "]" * 900, "obj": '{"a":' * 400 + "1" + "}" * 400}
        ),
        history_record(4, 3, {"\x1b[31mred": "3", "loss": "4"}),
    ]
    path = tmp_path / "run-x.wandb"
    path.write_bytes(write_log(records))
    parsed, _, consumed = read_whole(path)
    assert consumed == path.stat().st_size
    assert parsed.scalars["loss"].value.tolist() == [1.0, 2.0, 4.0]
    assert parsed.scalars["\x1b[31mred"].value.tolist() == [3.0]  # kept literally
