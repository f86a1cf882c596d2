"""`tuiboard ls` and `tuiboard export`: their stable output contracts, checked against values read
by TensorBoard's own reader."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboardX import SummaryWriter

from tests.reference import accumulate
from tuiboard.cli import main

T0 = 1_700_000_000.0


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    for name, n in (("b/run,1", 40), ("a", 25)):
        w = SummaryWriter(str(tmp_path / name))
        for s in range(n):
            v = float(rng.normal())
            if s == 7:
                v = math.nan
            if s == 8:
                v = math.inf
            if s == 9:
                v = -math.inf
            w.add_scalar("loss", v, s, walltime=T0 + s * 1.5)
            w.add_scalar("metrics/acc", 0.1 + s / 100, s, walltime=T0 + s * 1.5)
        w.add_histogram("w", rng.normal(size=100), 3, walltime=T0 + 3)
        w.add_text("note", "hello [bold]x[/]", 1, walltime=T0 + 1)
        w.add_image("img", rng.random((3, 8, 5)), 2, walltime=T0 + 2)
        w.add_mesh(
            "shape",
            vertices=rng.random((1, 7, 3)),
            faces=np.array([[[0, 1, 2], [2, 3, 4]]]),
            global_step=4,
            walltime=T0 + 4,
        )
        w.close()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "model.pt").write_bytes(b"\0" * 100)
    return tmp_path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


def test_ls_json_contract(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = json.loads(run_cli(["ls", str(logdir), "--json"], capsys))
    names = [r["name"] for r in out["runs"]]
    assert names == ["a", "b/run,1"]  # checkpoints/ is not a run
    for r in out["runs"]:
        assert set(r) == {"name", "path", "formats", "tags", "config", "warnings"}
        assert r["formats"] == ["tfevents"]
        acc = accumulate(r["path"])
        assert r["tags"]["scalars"] == sorted(acc.Tags()["scalars"])
        assert r["tags"]["histograms"] == sorted(acc.Tags()["histograms"])
        assert r["tags"]["text"] == ["note/text_summary"]
        assert r["warnings"] == []


def test_export_csv_matches_tensorboard(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run_cli(["export", str(logdir)], capsys)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["run", "tag", "step", "wall_time", "value"]
    expected = []
    for run in ("a", "b/run,1"):
        acc = accumulate(str(logdir / run))
        for tag in sorted(acc.Tags()["scalars"]):
            for e in acc.Scalars(tag):
                expected.append([run, tag, str(e.step), repr(e.wall_time), repr(e.value)])
    assert rows[1:] == expected
    assert ["a", "loss", "7", repr(T0 + 7 * 1.5), "nan"] in rows
    assert ["a", "loss", "8", repr(T0 + 8 * 1.5), "inf"] in rows
    assert ["a", "loss", "9", repr(T0 + 9 * 1.5), "-inf"] in rows


def test_export_filters_jsonl_and_file(
    logdir: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path_factory.mktemp("out") / "x.jsonl"
    args = ["export", str(logdir), "--format", "jsonl", "--runs", "^a$", "--tags", "acc"]
    assert main([*args, "-o", str(out_file)]) == 0
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    acc = accumulate(str(logdir / "a")).Scalars("metrics/acc")
    assert [(d["run"], d["tag"], d["step"], d["wall_time"], d["value"]) for d in lines] == [
        ("a", "metrics/acc", e.step, e.wall_time, e.value) for e in acc
    ]


def test_export_histograms(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli(["export", str(logdir), "--kind", "histograms"], capsys))
        )
    )
    assert [r["run"] for r in rows] == ["a", "b/run,1"]
    h = accumulate(str(logdir / "a")).Histograms("w")[0].histogram_value
    r = rows[0]
    assert (float(r["count"]), float(r["min"]), float(r["max"]), float(r["sum"])) == (
        h.num,
        h.min,
        h.max,
        h.sum,
    )
    buckets = json.loads(r["buckets"])
    assert [b[1] for b in buckets] == list(h.bucket_limit)
    assert [b[2] for b in buckets] == list(h.bucket)


def test_installed_command_ls(logdir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tuiboard", "ls", str(logdir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.splitlines()[0].startswith("a  [tfevents]  last step 24")


def test_export_other_kinds_match_tensorboard(
    logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = list(
        csv.DictReader(io.StringIO(run_cli(["export", str(logdir), "--kind", "images"], capsys)))
    )
    texts = list(
        csv.DictReader(io.StringIO(run_cli(["export", str(logdir), "--kind", "text"], capsys)))
    )
    meshes = list(
        csv.DictReader(
            io.StringIO(run_cli(["export", str(logdir), "--kind", "mesh", "--runs", "^a$"], capsys))
        )
    )
    acc = accumulate(str(logdir / "a"))
    (img,) = acc.Images("img")
    a_img = next(r for r in images if r["run"] == "a")
    assert (int(a_img["width"]), int(a_img["height"]), int(a_img["bytes"])) == (
        img.width,
        img.height,
        len(img.encoded_image_string),
    )
    assert a_img["format"] == "image/png" and int(a_img["step"]) == img.step
    (note,) = acc.Tensors("note/text_summary")
    a_text = next(r for r in texts if r["run"] == "a")
    want = note.tensor_proto.string_val[0].decode()
    assert a_text["text"] == want and int(a_text["length"]) == len(want)
    counts = {r["tag"]: int(r["count"]) for r in meshes}
    by_tag = {t: acc.Tensors(t)[0].tensor_proto for t in acc.Tags()["tensors"] if "shape" in t}
    assert by_tag and set(by_tag) == set(counts)  # vertices and faces, as tensorboardX tags them
    for tag, proto in by_tag.items():
        assert counts[tag] == proto.tensor_shape.dim[-2].size
