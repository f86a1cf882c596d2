"""Test helpers: W&B runs written by real wandb (offline, in subprocesses, everything inside one
temporary directory), with what each script passed to `wandb.log` written beside as JSON.

`wandb_runs(tmp_path_factory)` makes them once per test session (wandb takes seconds a run) and
returns a WandbRuns. wandb is never imported into the test process: it starts a service.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.shared import made_once

MAIN = textwrap.dedent(
    r"""
    import json, math, sys, time
    import numpy as np
    import wandb

    out = {}

    def leaves(prefix, obj, points, step):
        for k, v in obj.items():
            name = f"{prefix}{k}"
            if isinstance(v, dict):
                leaves(name + "/", v, points, step)
            elif isinstance(v, bool):
                points.append([name, step, 1.0 if v else 0.0])
            elif isinstance(v, (int, float, np.floating)):
                points.append([name, step, repr(float(v))])
            elif isinstance(v, str):
                points.append([name, step, {"text": v}])

    # -- run A: every kind of value, run facts changed after init, exit code 3 --------------
    run = wandb.init(
        project="proj",
        name="first name",
        tags=["t1"],
        config={"lr": 0.1, "arch": {"depth": 4, "name": "resnet"}},
        settings=wandb.Settings(x_stats_sampling_interval=1),
    )
    points = []
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch", summary="max")
    for i in range(6):
        row = {
            "loss": 1 / (i + 1),
            "train": {"acc": i / 10, "deep": {"x": i}},
            "flag": i % 2 == 0,
            "note": f"text {i}",
            "val/acc": 0.5 + 0.1 * (i % 3),
            "epoch": i // 2,
        }
        leaves("", row, points, run.step)
        run.log(row)
    step = run.step
    run.log({"extra": 5.0}, commit=False)
    run.log({"loss2": 0.25})
    leaves("", {"extra": 5.0, "loss2": 0.25}, points, step)
    run.log({"explicit": 1.5}, step=20)
    run.log({"explicit": 2.5}, step=25)
    leaves("", {"explicit": 1.5}, points, 20)
    leaves("", {"explicit": 2.5}, points, 25)
    special = {
        "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "negzero": -0.0,
        "big": 2**53 + 1, "huge": 9223372036854775807, "f32": np.float32(0.1),
    }
    step = run.step
    run.log(special)
    leaves("", special, points, step)
    long_text = "x" * 70000 + "end"
    step = run.step
    run.log({"long": long_text})
    leaves("", {"long": long_text}, points, step)
    samples = np.arange(200, dtype=np.float64) ** 1.5
    hist = wandb.Histogram(samples, num_bins=16)
    step = run.step
    run.log({"hist": hist})
    out_hist = {"step": step, "counts": [float(c) for c in hist.histogram],
                "edges": [float(e) for e in hist.bins]}
    pixels = (np.arange(6 * 8 * 3).reshape(6, 8, 3) * 5 % 256).astype(np.uint8)
    step = run.step
    run.log({"media/img": wandb.Image(pixels)})
    out_image = {"step": step, "pixels": pixels.tolist()}
    step = run.step
    run.log({"tbl": wandb.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])})
    out_table = {"step": step, "columns": ["a", "b"]}
    gallery = [(pixels // 2 + 10 * i).astype(np.uint8) for i in range(3)]
    step = run.step
    run.log({"gallery": [wandb.Image(g, caption=f"c{i}") for i, g in enumerate(gallery)]})
    out_gallery = {"step": step, "pixels": [g.tolist() for g in gallery]}
    step = run.step
    wave = np.sin(np.arange(800) / 10) * 0.5
    run.log({"sound": wandb.Audio(wave, sample_rate=8000, caption="beep")})
    out_audio = {"step": step, "rate": 8000, "frames": 800}
    run.config.update({"later": 5, "batch": 32})
    run.name = "my run"
    run.tags = ["t1", "t2"]
    run.notes = "some notes"
    run.summary["manual"] = 7
    print("hello console", flush=True)
    time.sleep(3)
    run.finish(exit_code=3)
    out["kinds"] = {
        "id": run.id, "points": points, "hist": out_hist, "image": out_image,
        "table": out_table, "gallery": out_gallery, "audio": out_audio,
    }

    # -- run B twice: the same id resumed (offline: a second directory) ---------------------
    ids = []
    for part in range(2):
        run = wandb.init(project="proj", id="resumeme1", resume="allow", name="resumed run")
        pts = []
        for i in range(3):
            leaves("", {"r": part * 10 + i}, pts, run.step)
            run.log({"r": part * 10 + i})
        run.finish()
        ids.append(pts)
    out["resumed"] = {"id": "resumeme1", "parts": ids}
    with open(sys.argv[1], "w") as fh:
        json.dump(out, fh)
    """
)

KILLED = textwrap.dedent(
    r"""
    import sys, time
    import wandb
    run = wandb.init(project="proj", name="killed")
    steps = int(sys.argv[1])
    pad = "p" * int(sys.argv[2])
    for i in range(steps):
        run.log({"loss": 1 / (i + 1), "pad": pad})
        print(f"READY {i}", flush=True)
    time.sleep(600)
    """
)


@dataclass(frozen=True)
class WandbRuns:
    root: Path
    """The logdir: root/wandb/offline-run-*/."""
    expected: dict[str, Any]
    killed: Path
    """A logdir holding one run SIGKILLed after its file grew past two blocks."""
    header_only: Path
    """A logdir holding one run SIGKILLed before its first block was written."""

    def run_dir(self, run_id: str, index: int = 0) -> Path:
        found = sorted(self.root.glob(f"wandb/offline-run-*-{run_id}*"))
        return found[index]


def wandb_env(root: Path) -> dict[str, str]:
    """The environment every test runs real wandb in: offline, silent, unbuffered (the console
    tests read its stdout as it is written), no API key, and every directory wandb touches
    (home, config, cache, data) made under `root`, so nothing is written outside the test's
    temp dir. `root` itself is WANDB_DIR: runs land in `root/wandb` unless `wandb.init(dir=)`.
    The one helper for tests/wandb_console.py, tests/test_sdk.py and this module."""
    env = dict(os.environ)
    for name in ("HOME", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        d = root / name.lower()
        d.mkdir(parents=True, exist_ok=True)
        env[name] = str(d)
    env.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(root), PYTHONUNBUFFERED="1")
    env.pop("WANDB_API_KEY", None)
    return env


def _killed_run(root: Path, steps: int, pad: int, min_size: int) -> None:
    """Run KILLED until its .wandb file is at least `min_size` bytes (or it printed READY for
    every step), then SIGKILL it."""
    root.mkdir(parents=True)
    script = root / "killed.py"
    script.write_text(KILLED)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(steps), str(pad)],
        cwd=root,
        env=wandb_env(root),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 120
        last = -1
        for line in proc.stdout:
            if line.startswith("READY"):
                last = int(line.split()[1])
            files = glob.glob(str(root / "wandb" / "offline-run-*" / "*.wandb"))
            size = os.path.getsize(files[0]) if files else 0
            if (size >= min_size and size >= 7) or last == steps - 1 or time.monotonic() > deadline:
                break
        if min_size <= 7:
            # wait for the header to be on disk, not for a block
            while time.monotonic() < deadline:
                files = glob.glob(str(root / "wandb" / "offline-run-*" / "*.wandb"))
                if files and os.path.getsize(files[0]) >= 7:
                    break
                time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(1.0)  # wandb-core notices its parent is gone and exits (without flushing)


_CACHE: dict[str, WandbRuns] = {}


def _make_wandb_runs(base: Path) -> None:
    root = base / "logs"
    root.mkdir()
    script = base / "main.py"
    script.write_text(MAIN)
    subprocess.run(
        [sys.executable, str(script), str(base / "expected.json")],
        cwd=root,
        env=wandb_env(root),
        check=True,
        timeout=240,
    )
    _killed_run(base / "killed", 100_000, 1000, 2 * 32768 + 1)
    _killed_run(base / "header_only", 1, 10, 7)


def wandb_runs(factory: pytest.TempPathFactory) -> WandbRuns:
    """The session's W&B fixtures (made on first use; once for all pytest-xdist workers)."""
    if "runs" in _CACHE:
        return _CACHE["runs"]
    pytest.importorskip("wandb")
    base = made_once(factory, "wandb-fixtures", _make_wandb_runs)
    expected = json.loads((base / "expected.json").read_text())
    runs = WandbRuns(base / "logs", expected, base / "killed", base / "header_only")
    _CACHE["runs"] = runs
    return runs
