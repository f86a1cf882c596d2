"""`tuiboard logs/` while a tuiboard.init run trains in another process: the run is listed from
init on, its charts fill as it logs, the images tab appears with its first image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tuiboard
from tests.ui.test_live import charts, wait_for
from tuiboard.ui.app import TuiboardApp

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent.parent

TRAINING = """
import sys, time
import numpy as np
import tuiboard
run = tuiboard.init(project="live", name="train", dir=sys.argv[1])
print("started", flush=True)
sys.stdin.readline()
for step in range(20):
    run.log({"loss": 1.0 / (step + 1)})
print("scalars", flush=True)
sys.stdin.readline()
run.log({"sample": tuiboard.Image(np.full((4, 6, 3), 200, dtype=np.uint8))})
print("image", flush=True)
sys.stdin.readline()
run.finish()
"""


async def test_a_training_run_shows_live(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    script = tmp_path / "train.py"
    script.write_text(TRAINING)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(logs)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def step(expect: str) -> None:
        """Wait for the child to reach `expect` (it then waits for a line on its stdin)."""
        assert proc.stdout is not None and proc.stdout.readline().strip() == expect

    app = TuiboardApp(tuiboard.open(str(logs), load=False), poll=0.2)
    try:
        async with app.run_test(size=(140, 45)) as pilot:
            step("started")
            await wait_for(pilot, lambda: app.logdir.run("live/train") is not None)
            run = app.logdir.run("live/train")
            assert run is not None and run.meta.display_name == "train"
            proc.stdin.write("\n")
            proc.stdin.flush()
            step("scalars")
            await wait_for(pilot, lambda: "loss" in charts(app), timeout=15)
            await wait_for(
                pilot,
                lambda: len(app.logdir.run("live/train").scalars("loss")) == 20,  # type: ignore[union-attr]
                timeout=15,
            )
            assert "images" not in app.shown_tabs()
            proc.stdin.write("\n")
            proc.stdin.flush()
            step("image")
            await wait_for(pilot, lambda: "images" in app.shown_tabs(), timeout=15)
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.wait(timeout=30) == 0
            await wait_for(
                pilot,
                lambda: app.logdir.run("live/train").meta.exit_code == 0,  # type: ignore[union-attr]
                timeout=15,
            )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
