"""`summary` and `check` read by several processes (headless/oneshot.py) print what one process
prints (TUIBOARD_WORKERS=1), byte for byte, exit code and stderr included: on a varied logdir
written by tensorboardX and JsonlWriter (damaged files among them), through the real command in
a subprocess at a fixed clock; with a worker killed or failing mid-way (its runs are read by the
main process, which says so), and with links that make the split walk unsafe (read again as
one walk)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.headless.varied import CLOCK, make_varied

RUNNER = """
import os, sys, time
time.time = lambda: {clock!r}
from tuiboard.headless import commands, oneshot
real = commands.one_shot
def counted(logdir, summarizer):
    got = real(logdir, summarizer)
    with open({report!r}, "a") as fh:
        fh.write(f"{{got.processes}}\\n")
    return got
commands.one_shot = counted
{patch}
from tuiboard.cli import main
sys.exit(main(sys.argv[1:]))
"""

KILL_SECOND_PART = """
PARENT = os.getpid()
real_part = oneshot._read_part
seen = []
def part(logdir, summarizer, plan, i, share):
    seen.append(i)
    if os.getpid() == PARENT and len(seen) == 1:
        import time as t
        t.sleep(1.0)  # the workers take the first parts
    if os.getpid() != PARENT and len(seen) == 2:
        {action}
    real_part(logdir, summarizer, plan, i, share)
oneshot._read_part = part
"""

FAIL_IN_ROWS = """
PARENT = os.getpid()
from tuiboard.headless.summary import Summarizer
real_rows = Summarizer.make_rows
def rows(self, runs, entries, tags, now):
    if os.getpid() != PARENT:
        os.kill(os.getpid(), 9)
    return real_rows(self, runs, entries, tags, now)
Summarizer.make_rows = rows
"""


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("varied")
    make_varied(root, runs=60)
    return root


def run(
    args: list[str], workers: str, tmp_path: Path, patch: str = ""
) -> tuple[int, str, str, list[int]]:
    """(exit code, stdout, stderr, processes one_shot used) of `tuiboard ARGS` at CLOCK."""
    report = tmp_path / f"processes-{os.urandom(4).hex()}"
    code = RUNNER.format(clock=CLOCK, report=str(report), patch=patch)
    env = {k: v for k, v in os.environ.items() if k != "TUIBOARD_WORKERS"}
    env["TUIBOARD_WORKERS"] = workers
    p = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    used = [int(x) for x in report.read_text().split()] if report.exists() else []
    return p.returncode, p.stdout, p.stderr, used


@pytest.mark.parametrize(
    "args",
    [
        ["summary"],
        ["summary", "--json"],
        ["check"],
        ["check", "--json", "--fail-on", "diverged,damaged"],
        ["summary", "--runs", "exp_0[2-5]|run_001", "--sort", "status"],
        ["summary", "--since", "1h", "--tags", "acc|lr"],
        ["summary", "--runs", "has:val/acc -g1 OR cfg.lr>0.01"],
    ],
    ids=lambda a: " ".join(a),
)
def test_processes_print_what_one_process_prints(
    varied: Path, tmp_path: Path, args: list[str]
) -> None:
    cmd = [args[0], str(varied), *args[1:]]
    one = run(cmd, "1", tmp_path)
    assert one[3] == [1]
    assert one[0] in (0, 1) and one[1].count("\n") > 10, one[2]
    for workers in ("2", "3"):
        many = run(cmd, workers, tmp_path)
        assert many[3] == [int(workers)]  # split (walked in parts), not one process
        assert many[:3] == one[:3]


def test_runs_of_several_roots_read_in_parts(varied: Path, tmp_path: Path) -> None:
    """Two roots: one walk here, the runs found read by the processes in parts."""
    cmd = ["summary", f"a:{varied}", f"b:{varied / 'exp_01'}", "--json"]
    one = run(cmd, "1", tmp_path)
    many = run(cmd, "3", tmp_path)
    assert many[3] == [3] and one[3] == [1]
    assert many[:3] == one[:3]
    assert one[1].count("\n") > 64


@pytest.mark.parametrize(
    "action",
    ["os.kill(os.getpid(), 9)", "raise RuntimeError('disk on fire')", "os._exit(3)"],
    ids=["killed", "raises", "exits"],
)
def test_a_worker_failing_mid_way_loses_no_run(varied: Path, tmp_path: Path, action: str) -> None:
    one = run(["summary", str(varied), "--json"], "1", tmp_path)
    patch = KILL_SECOND_PART.format(action=action)
    code, out, err, _ = run(["summary", str(varied), "--json"], "3", tmp_path, patch)
    assert (code, out) == one[:2]
    warned = [line for line in err.splitlines() if "worker process failed" in line]
    assert 1 <= len(warned) <= 2 and "read in the main process" in warned[0]
    if "RuntimeError" in action:
        assert "disk on fire" in warned[0]


def test_a_worker_killed_while_making_rows_loses_no_run(varied: Path, tmp_path: Path) -> None:
    one = run(["check", str(varied)], "1", tmp_path)
    code, out, err, _ = run(["check", str(varied)], "2", tmp_path, FAIL_IN_ROWS)
    assert (code, out) == one[:2]
    assert "worker process failed" in err


def test_links_in_two_parts_are_read_as_one_walk(tmp_path: Path) -> None:
    """The whole walk follows two links to one directory once; parts would each follow
    theirs: one_shot drops the parts and reads the logdir as one walk. A link met by one
    part only is walked by it as the whole walk would."""
    root = tmp_path / "logs"
    make_varied(root, runs=24)
    (root / "exp_03" / "g0" / "only").symlink_to(root / "exp_04" / "g1")
    cmd = ["summary", str(root), "--json"]
    one = run(cmd, "1", tmp_path)
    many = run(cmd, "2", tmp_path)
    assert many[3] == [2]
    assert many[:3] == one[:3]
    assert '"run": "exp_03/g0/only/' in one[1]

    (root / "exp_01" / "latest").symlink_to(root / "exp_07" / "g0")
    (root / "exp_06" / "also").symlink_to(root / "exp_07" / "g0")
    one = run(cmd, "1", tmp_path)
    many = run(cmd, "2", tmp_path)
    assert many[3] == [1]  # the parts were dropped
    assert many[:3] == one[:3]
    names = [line.split('"run": "')[1].split('"')[0] for line in one[1].splitlines()]
    assert any(n.startswith("exp_01/latest/") for n in names)
    assert not any(n.startswith("exp_06/also/") for n in names)
