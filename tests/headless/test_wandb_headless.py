"""The headless commands on W&B runs (written by real wandb, tests/wandb_runs.py) mixed with a
tfevents run in one logdir: ls, summary, check, export (every kind), plot and compare."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.headless.runs import T0, TbRun
from tests.wandb_runs import WandbRuns, wandb_runs
from tuiboard.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> WandbRuns:
    return wandb_runs(tmp_path_factory)


@pytest.fixture
def logdir(runs: WandbRuns, tmp_path: Path) -> Path:
    """The W&B runs (latest-run link included) beside a tfevents run."""
    root = tmp_path / "logs"
    shutil.copytree(runs.root / "wandb", root / "wandb", symlinks=True)
    tb = TbRun(root / "tb")
    for s in range(10):
        tb.scalar("loss", s, 1.0 / (s + 1), T0 + s)
    tb.close()
    return root


def kinds_name(runs: WandbRuns) -> str:
    return f"wandb/{runs.run_dir(runs.expected['kinds']['id']).name}"


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_ls_json_lists_every_run_once_with_its_facts(
    runs: WandbRuns, logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_main(["ls", str(logdir), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    by_name = {r["name"]: r for r in data["runs"]}
    wandb_dirs = sorted(p.name for p in (logdir / "wandb").glob("offline-run-*"))
    assert sorted(by_name) == sorted(["tb", *(f"wandb/{d}" for d in wandb_dirs)])
    kinds = by_name[kinds_name(runs)]
    assert kinds["formats"] == ["wandb"]
    meta = kinds["meta"]
    assert meta["display_name"] == "my run" and meta["tags"] == ["t1", "t2"]
    assert meta["exit_code"] == 3 and meta["summary"]["val/acc"] == {"max": 0.7}
    assert meta["step_metrics"] == {"val/acc": "epoch"}
    assert kinds["config"]["later"] == 5
    assert set(kinds["tags"]) >= {"scalars", "histograms", "images", "text", "table"}
    assert "meta" not in by_name["tb"]  # additive: only runs that say something
    for name, run in by_name.items():
        if name.startswith("wandb/") and name != kinds_name(runs):
            assert run["meta"]["exit_code"] == 0  # an exit code 0 is shown
    code, out = run_main(["ls", str(logdir)], capsys)
    lines = out.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith(f"{kinds_name(runs)}  [wandb]")]
    assert lines[at + 1] == "  name 'my run'; tags t1, t2; exit code 3"


def test_summary_and_check(
    runs: WandbRuns, logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_main(["summary", str(logdir), "--json"], capsys)
    assert code == 0
    rows = {r["run"]: r for r in map(json.loads, out.splitlines())}
    kinds = rows[kinds_name(runs)]
    assert kinds["status"] == "failed" and kinds["statuses"] == ["failed", "finished"]
    assert kinds["reason"] == "exit code 3"
    assert kinds["exit_code"] == 3 and kinds["display_name"] == "my run"
    assert kinds["summary"]["loss2"] == 0.25 and kinds["summary"]["inf"] == "Infinity"
    assert kinds["tags"]["loss"]["last"] == 1 / 6
    for name, row in rows.items():
        if name.startswith("wandb/") and name != kinds_name(runs):
            assert row["status"] == "finished" and row["exit_code"] == 0
    assert rows["tb"]["exit_code"] is None and rows["tb"]["summary"] == {}
    code, out = run_main(["check", str(logdir)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["FAIL", "failed", kinds_name(runs), "exit", "code", "3"]
    code, out = run_main(["check", str(logdir), "--fail-on", "diverged"], capsys)
    assert code == 0 and out.startswith("warn  failed")


def test_export_every_kind(
    runs: WandbRuns, logdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = kinds_name(runs)
    exp = runs.expected["kinds"]
    code, out = run_main(["export", str(logdir), "--tags", "^loss$"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    wandb_rows = [r for r in rows if r["run"] == name]
    assert [float(r["value"]) for r in wandb_rows] == [1 / (i + 1) for i in range(6)]
    assert {r["run"] for r in rows} >= {"tb", name}
    expected_kinds = {
        "histograms": "hist",
        "images": "media/img",
        "text": "note",
        "table": "tbl",
        "audio": "sound",
    }
    for kind, tag in expected_kinds.items():
        code, out = run_main(
            ["export", str(logdir), "--kind", kind, "--format", "jsonl", "--runs", "offline"],
            capsys,
        )
        assert code == 0
        got = [json.loads(line) for line in out.splitlines()]
        assert any(r["run"] == name and r["tag"] == tag for r in got), kind
    save = tmp_path / "saved"
    code, _ = run_main(["export", str(logdir), "--kind", "images", "--save", str(save)], capsys)
    assert code == 0
    saved = sorted(p.read_bytes() for p in save.rglob("*.png"))
    originals = sorted(p.read_bytes() for p in runs.run_dir(exp["id"]).rglob("*.png"))
    assert saved == originals  # media/img and the three of gallery, byte for byte
    (single,) = [p for p in save.rglob("*.png") if p.parent.name == "img"]
    assert single.parent.parent.name == "media"
    assert single.name.startswith(f"{exp['image']['step']}_")


def test_plot_and_compare(
    runs: WandbRuns, logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = kinds_name(runs)
    code, out = run_main(
        ["plot", str(logdir), "--tags", "^loss$", "--width", "60", "--height", "10", "--no-color"],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0].strip() == "loss" and name in out and "tb" in out
    code, out = run_main(["plot", str(logdir), "--kind", "histograms", "--width", "60"], capsys)
    assert code == 0 and "hist" in out
    wandb_dir = logdir / "wandb"
    a = runs.run_dir(runs.expected["kinds"]["id"]).name
    b = runs.run_dir("resumeme1").name
    code, out = run_main(
        ["compare", str(wandb_dir / a), str(wandb_dir / b), str(logdir / "tb"), "--json"], capsys
    )
    assert code == 0
    data: dict[str, Any] = json.loads(out)
    params = {p["key"]: p for p in data["params"]}
    assert params["lr"]["values"] == {a: 0.1} and params["lr"]["differs"]
    summary = {p["key"]: p for p in data["summary"]}
    assert summary["val/acc"]["values"] == {a: {"max": 0.7}}
    assert summary["r"]["values"] == {b: 2}
    assert {s["tag"] for s in data["scalars"]} == set()  # no scalar tag in all three
    code, out = run_main(["compare", str(wandb_dir / a), str(logdir / "tb")], capsys)
    assert code == 0 and "run summaries" in out and "val/acc" in out


def test_plot_x_metric_draws_a_tag_against_its_step_metric(
    runs: WandbRuns, logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """wandb's define_metric("val/*", step_metric="epoch"): with --x metric, val/acc's x axis
    is epoch (0..2 over its six steps 0..5) and is named so; loss, without a step metric, keeps
    its steps (named "step"); without --x metric both are drawn against steps, unnamed."""
    args = ["plot", str(logdir), "--runs", re.escape(kinds_name(runs)), "--no-color"]
    args += ["--tags", "^(val/acc|loss)$", "--width", "60", "--height", "10"]
    code, out = run_main([*args, "--x", "metric"], capsys)
    assert code == 0
    axes = [line.split() for line in out.splitlines() if line.lstrip().startswith("0 ")]
    assert axes == [["0", "1", "2", "3", "4", "5", "step"], ["0", "0.5", "1", "1.5", "2", "epoch"]]
    code, out = run_main(args, capsys)
    axes = [line.split() for line in out.splitlines() if line.lstrip().startswith("0 ")]
    assert code == 0 and axes == [["0", "1", "2", "3", "4", "5"]] * 2
