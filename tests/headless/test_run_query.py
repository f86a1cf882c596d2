"""`--runs QUERY` in summary, check, compare, plot and export (headless/run_query.py) over runs
written by real writers: tests/query_runs.py (tuiboard.init with tags/notes/configs,
tensorboardX with a NaN loss and add_hparams, our EventWriter) and W&B offline runs written by
real wandb (tests/wandb_runs.py: tags, notes and a display name set after init)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.query_runs import SDK_RUNS, query_runs_dir
from tests.wandb_runs import WandbRuns, wandb_runs
from tuiboard.cli import main


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = query_runs_dir(tmp_path_factory, "runq")
    return root


def summary_names(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["summary", *args, "--json"]) == 0
    return [json.loads(line)["run"] for line in capsys.readouterr().out.splitlines()]


BASELINE = sorted(f"sdk/{n}" for n, s in SDK_RUNS.items() if "baseline" in s["tags"])


def test_summary_runs_query(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert summary_names([str(logdir), "--runs", "tag:baseline"], capsys) == BASELINE
    assert summary_names([str(logdir), "--runs", "status:diverged"], capsys) == ["tbx/nan"]
    adam = sorted(
        [f"sdk/{n}" for n, s in SDK_RUNS.items() if s["config"]["optimizer"] == "adam"]
        + ["tbx/nan"]
    )
    assert summary_names([str(logdir), "--runs", "cfg.optimizer=adam"], capsys) == adam
    # today's regex still works, on the name only
    assert summary_names([str(logdir), "--runs", "^sdk/base"], capsys) == BASELINE
    assert summary_names([str(logdir), "--runs", "re:tbx/hp$"], capsys) == ["tbx/hp"]


def test_check_runs_query(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # only the diverged run is checked: check fails on it (exit 1)
    assert main(["check", str(logdir), "--runs", "has:loss -sdk", "--json"]) == 1
    assert main(["check", str(logdir), "--runs", "sdk -status:diverged", "--json"]) == 0
    capsys.readouterr()


def test_compare_runs_query(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(logdir), "--runs", "cfg.model.depth>=4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    deep = sorted(f"sdk/{n}" for n, s in SDK_RUNS.items() if s["config"]["model"]["depth"] >= 4)
    assert sorted(r["run"] for r in data["runs"]) == deep


def test_export_runs_query(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(logdir), "--runs", "cfg.lr>=1e-2 OR has:acc"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    want = {f"sdk/{n}" for n, s in SDK_RUNS.items() if s["config"]["lr"] >= 1e-2}
    assert {r["run"] for r in rows} == want | {"tbx/nan", "plain_run"}
    # every point of the kept runs: the 5 steps of loss of each sdk run
    assert sum(r["run"].startswith("sdk/") and r["tag"] == "loss" for r in rows) == 5 * len(want)


def test_plot_runs_query(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plot", str(logdir), "-t", "^loss$", "--runs", "tag:adam OR status:diverged"]
    assert main([*args, "--width", "100"]) == 0
    out = capsys.readouterr().out
    legend = out.rstrip("\n").splitlines()[-1]
    assert "sdk/base-adam" in legend and "tbx/nan" in legend
    assert "base-sgd" not in out and "wide" not in out


@pytest.mark.parametrize("command", ["summary", "check", "compare", "plot", "export"])
def test_a_bad_query_is_a_usage_error_with_a_caret(
    logdir: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(logdir), "--runs", "tag:x OR (cfg.lr>"]) == 2
    err = capsys.readouterr().err
    assert "bad --runs query: cfg.lr> needs a value" in err
    line, caret = err.rstrip("\n").splitlines()[-2:]
    assert line.index("cfg.lr>") == caret.index("^")


def test_a_bad_regex_is_a_usage_error(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(logdir), "--runs", "a[b-"]) == 2
    err = capsys.readouterr().err
    assert "bad --runs regex: unterminated character set\n  a[b-\n   ^" in err


# --- W&B runs: tags, notes and display names -------------------------------------------------


@pytest.fixture(scope="module")
def wandb_logdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[WandbRuns, Path]:
    runs = wandb_runs(tmp_path_factory)
    root = tmp_path_factory.mktemp("runq-wandb") / "logs"
    shutil.copytree(runs.root / "wandb", root / "wandb", symlinks=True)
    return runs, root


def test_wandb_tags_notes_and_display_name(
    wandb_logdir: tuple[WandbRuns, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, root = wandb_logdir
    kinds = f"wandb/{runs.run_dir(runs.expected['kinds']['id']).name}"
    every: list[Any] = summary_names([str(root)], capsys)
    assert kinds in every and len(every) >= 3
    # the script set tags t1, t2, notes "some notes" and the name "my run" after wandb.init
    assert summary_names([str(root), "--runs", "tag:t2"], capsys) == [kinds]
    assert summary_names([str(root), "--runs", '"some notes"'], capsys) == [kinds]
    assert summary_names([str(root), "--runs", 'name:"my run"'], capsys) == [kinds]
    assert summary_names([str(root), "--runs=-tag:t1"], capsys) == [n for n in every if n != kinds]
    # the resumed run's display name, a word of it
    resumed = summary_names([str(root), "--runs", "resumed run"], capsys)
    assert resumed and kinds not in resumed
    assert summary_names([str(root), "--runs", "cfg.later=5 cfg.arch.depth=4"], capsys) == [kinds]
