"""End to end in a real terminal: the installed `tuiboard` in tmux on a real wandb run shows its
console output in the Logs pane, tails lines appended to files/output.log while it runs, shows a
`\\r` progress bar as its last state only, and lets no escape sequence through (the OSC title the
script printed never becomes the pane's title)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Tmux, tmux  # noqa: F401 (the fixture)
from tests.wandb_console import WandbConsole, make_wandb_console


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_wandb_console(tmp_path_factory.mktemp("wandb-e2e"))


def console_runs(logs: Path) -> list[str]:
    """Runs `tuiboard ls --json` finds in `logs` (the same code the app runs)."""
    out = subprocess.run(
        [sys.executable, "-m", "tuiboard", "ls", "--json", str(logs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [r["name"] for r in json.loads(out.stdout)["runs"]]


def test_logs_pane_tails_a_real_wandb_run(
    wb: WandbConsole,
    tmux: Tmux,  # noqa: F811
    tmp_path: Path,
) -> None:
    exe = shutil.which("tuiboard")
    assert exe, "install the package (pip install -e .) so the tuiboard command exists"
    logs = wb.run_dir.parent.parent  # the directory wandb was given: it holds wandb/
    run = os.path.relpath(wb.run_dir, logs)
    if run not in console_runs(logs):
        pytest.skip("this tuiboard does not read .wandb runs yet (the reader of issue 10)")
    status_file = tmp_path / "status"
    command = (
        f"{shlex.quote(exe)} {shlex.quote(str(logs))}; echo $? > {shlex.quote(str(status_file))}"
    )
    tmux.run(
        "new-session", "-d", "-s", tmux.session, "-x", "120", "-y", "36",
        "-e", "TERM=xterm-256color", command,
    )  # fmt: skip
    screen = tmux.wait_for(lambda s: "Logs" in s and "following" in s and "done" in s)
    # The pane follows the tail: its last lines, as the script printed them.
    assert "typX fixed" in screen and "warning on stderr" in screen
    assert "[bold]not markup[/bold] evil" in screen
    assert "train: 40/40 |█" in screen
    assert "window title" not in screen
    assert "window title" not in tmux.run("display-message", "-p", "-t", tmux.session, "#T")

    with open(wb.output_log, "ab") as f:  # the job goes on printing
        f.write(b"epoch 7 \x1b[32mdone\x1b[0m\n")
        f.flush()
        screen = tmux.wait_for(lambda s: "epoch 7 done" in s)
        for pct in (10, 60, 100):
            f.write(f"\rvalid {pct:3d}%".encode())
            f.flush()
            time.sleep(0.4)
    screen = tmux.wait_for(lambda s: "valid 100%" in s)
    assert "valid  10%" not in screen and "valid  60%" not in screen
    assert screen.count("valid") == 1

    tmux.run("send-keys", "-t", tmux.session, "q")
    deadline = time.monotonic() + 30
    while not status_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_file.read_text().strip() == "0"
