"""`tuiboard check`: what it prints and its exit codes (0 ok, 1 unhealthy per --fail-on, 2 error),
the latter also from a real process as cron and CI see them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.headless.runs import JsonlRun
from tuiboard.cli import main


def jsonl_run(root: Path, name: str, age: float, nan: bool = False, bad: bool = False) -> None:
    """A run whose last line was written `age` seconds ago (real clock)."""
    now = time.time()
    run = JsonlRun(root / name)
    for s in range(5):
        loss = math.nan if nan and s == 3 else 1.0 / (s + 1)
        run.log(step=s, loss=loss, time=now - age - 4 + s)
    if bad:
        run.raw("oops\n")
    os.utime(run.file, (now - age, now - age))


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    root = tmp_path / "healthy"
    jsonl_run(root, "a", 5)
    jsonl_run(root, "b", 30)
    return root


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    jsonl_run(root, "ok", 5)
    jsonl_run(root, "nan", 5, nan=True)
    jsonl_run(root, "old", 2 * 86400)
    jsonl_run(root, "bad", 5, bad=True)
    return root


def check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def test_healthy_exits_0(healthy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([str(healthy)], capsys)
    assert code == 0
    assert out == "ok: 2 runs (2 live); failing on diverged,failed,damaged,stalled\n"
    assert check([str(healthy), "--quiet"], capsys) == (0, "")


def test_unhealthy_exits_1_and_lists_them(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([str(mixed)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines[:3]] == [
        ["FAIL", "diverged", "nan"],
        ["FAIL", "damaged", "bad"],
        ["FAIL", "stalled", "old"],
    ]
    assert "NaN in loss at step 3" in lines[0]
    assert lines[3] == (
        "3 failing: 4 runs (1 diverged, 1 damaged, 1 stalled, 1 live); "
        "failing on diverged,failed,damaged,stalled"
    )


def test_fail_on_selects_what_counts(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([str(mixed), "--fail-on", "diverged"], capsys)
    assert code == 1
    marks = {line.split()[2]: line.split()[0] for line in out.splitlines()[:-1]}
    assert marks == {"nan": "FAIL", "bad": "warn", "old": "warn"}
    # only the stalled run, filtered by --runs: not failing on stalled -> 0
    code, out = check([str(mixed), "--runs", "^old$", "--fail-on", "damaged,diverged"], capsys)
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["warn", "stalled", "old"]
    # a long --stall-after makes the old run live again
    code, _ = check([str(mixed), "--runs", "^old$", "--stall-after", "3d"], capsys)
    assert code == 0


def test_json(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([str(mixed), "--json", "--fail-on", "stalled"], capsys)
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["run"]: (r["status"], r["fail"]) for r in rows} == {
        "nan": ("diverged", False),
        "bad": ("damaged", False),
        "old": ("stalled", True),
    }


def test_usage_errors_exit_2(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(mixed), "--fail-on", "stalled,sad"]) == 2
    assert "unknown status sad" in capsys.readouterr().err
    assert main(["check", str(mixed / "nope")]) == 2
    assert "no such logdir" in capsys.readouterr().err
    assert main(["check", str(mixed), "--runs", "[a-"]) == 2


def test_empty_logdir_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 0
    assert "no runs found" in capsys.readouterr().err


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiboard", "check", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_exit_codes_of_the_process(mixed: Path, healthy: Path) -> None:
    assert run_process(str(healthy)).returncode == 0
    p = run_process(str(mixed))
    assert p.returncode == 1 and "FAIL  diverged" in p.stdout
    assert run_process(str(mixed), "--fail-on", "finished").returncode == 0
    p = run_process(str(mixed), "--fail-on", "bogus")
    assert p.returncode == 2 and p.stdout == ""
    assert run_process(str(mixed), "--stall-after", "soon").returncode == 2  # argparse
    assert run_process(str(mixed / "missing")).returncode == 2


def test_since_leaves_out_old_runs(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([str(mixed), "--since", "1d", "--fail-on", "stalled"], capsys)
    assert code == 0  # the two-day-old stalled run is left out
    assert out.splitlines()[-1].startswith("ok: 3 runs (")
    code, _ = check([str(mixed), "--since", "3d", "--fail-on", "stalled"], capsys)
    assert code == 1


def test_a_line_names_the_status_that_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl_run(tmp_path, "both", 2 * 86400, nan=True)  # diverged, and stalled for two days
    code, out = check([str(tmp_path), "--fail-on", "stalled"], capsys)
    assert code == 1
    first = out.splitlines()[0]
    assert first.split()[:3] == ["FAIL", "stalled", "both"]
    assert first.endswith("(also diverged)") and "no new data for 2d00h" in first
    code, out = check([str(tmp_path), "--fail-on", "damaged"], capsys)
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["warn", "diverged", "both"]
    assert out.splitlines()[0].endswith("NaN in loss at step 3 (also stalled)")
