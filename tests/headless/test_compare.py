"""`tuiboard compare`: config side by side with the differing keys first, then the last and best
value of each shared scalar tag, checked against TensorBoard's own reader."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboardX import SummaryWriter

from tests.headless.runs import T0
from tests.reference import accumulate
from tuiboard.cli import main


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    configs = {
        "a": {"lr": 0.1, "batch": 32, "model": {"depth": 4, "act": "relu"}, "seed": 1},
        "b": {"lr": 0.01, "batch": 32, "model": {"depth": 4}, "seed": 1.0},
    }
    for name, cfg in configs.items():
        w = SummaryWriter(str(tmp_path / name))
        for s in range(30):
            w.add_scalar("loss", float(rng.uniform(0.1, 1)), s, walltime=T0 + s)
            w.add_scalar("acc", float(rng.uniform(0, 1)), s, walltime=T0 + s)
            if name == "a":
                w.add_scalar("only_a", 1.0, s, walltime=T0 + s)
        w.close()
        (tmp_path / name / "config.json").write_text(json.dumps(cfg))
    return tmp_path / "a", tmp_path / "b"


def compare_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["compare", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_params_differing_first(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = runs
    c = compare_json([str(a), str(b)], capsys)
    assert c["runs"] == [{"run": "a", "path": str(a)}, {"run": "b", "path": str(b)}]
    assert c["params"] == [
        {"key": "lr", "differs": True, "values": {"a": 0.1, "b": 0.01}},
        {"key": "model/act", "differs": True, "values": {"a": "relu"}},
        {"key": "batch", "differs": False, "values": {"a": 32, "b": 32}},
        {"key": "model/depth", "differs": False, "values": {"a": 4, "b": 4}},
        {"key": "seed", "differs": False, "values": {"a": 1, "b": 1.0}},  # 1 == 1.0
    ]
    assert c["unshared"] == ["only_a"]
    assert [s["tag"] for s in c["scalars"]] == ["acc", "loss"]
    for entry in c["scalars"]:
        for name, path in (("a", a), ("b", b)):
            events = accumulate(path).Scalars(entry["tag"])
            values = np.array([e.value for e in events])
            got = entry["runs"][name]
            assert (got["last"], got["last_step"]) == (events[-1].value, events[-1].step)
            i = int(np.argmin(values) if entry["family"] == "loss" else np.argmax(values))
            assert (got["best"], got["best_step"]) == (values[i], events[i].step)
            assert got["points"] == len(events)


def test_plain_text(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs
    assert main(["compare", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hyper-parameters and config (* = differs)"
    assert lines[1].split() == ["KEY", "a", "b"]
    assert lines[2].split() == ["*", "lr", "0.1", "0.01"]
    assert lines[3].split() == ["*", "model/act", "relu", "-"]
    assert lines[4].split() == ["batch", "32", "32"]
    i = lines.index("scalars: last@step (best@step)")
    assert lines[i + 1].split() == ["TAG", "a", "b"]
    assert lines[i + 3].startswith("loss ") and "(min " in lines[i + 3]
    assert lines[-1] == "not in every run: only_a"
    assert main(["compare", str(a), str(b), "--only-diff"]) == 0
    out = capsys.readouterr().out
    assert "batch" not in out and "model/act" in out


def test_a_logdir_compares_all_its_runs(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = runs[0].parent
    c = compare_json([str(root)], capsys)
    assert [r["run"] for r in c["runs"]] == ["a", "b"]
    c = compare_json([str(root), "--runs", "a|b"], capsys)
    assert len(c["runs"]) == 2


def test_fewer_than_two_runs_is_a_usage_error(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(runs[0])]) == 2
    assert "at least two runs" in capsys.readouterr().err
    assert main(["compare", str(runs[0].parent), "--runs", "^a$"]) == 2


def test_nan_values_are_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("x", "y"):
        w = SummaryWriter(str(tmp_path / name))
        w.add_scalar("loss", math.nan if name == "x" else 1.0, 0, walltime=T0)
        w.close()
    c = compare_json([str(tmp_path / "x"), str(tmp_path / "y")], capsys)
    (entry,) = c["scalars"]
    assert entry["runs"]["x"] == {
        "last": "NaN", "last_step": 0, "best": None, "best_step": None, "points": 1
    }  # fmt: skip
    assert entry["runs"]["y"]["best"] == 1.0
