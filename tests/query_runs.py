"""Test helper: a logdir for the run query language, written by real writers.

- `sdk/base-adam`, `sdk/base-sgd`, `sdk/wide`: tuiboard.init runs (our logging API, in a
  subprocess: it installs exit hooks) with W&B-style tags, notes and nested configs.
- `tbx/nan`: a tensorboardX run whose loss turns NaN (diverged) with a config.yaml beside it.
- `tbx/hp`: a tensorboardX add_hparams run (its hparams sub-run holds lr and optimizer).
- `plain_run`: our EventWriter, no config, only `acc`.
What each was given is in `EXPECTED`; tests compute what a query keeps from it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tensorboardX import SummaryWriter

from tuiboard.writer import EventWriter

SDK_RUNS: dict[str, dict[str, Any]] = {
    "base-adam": {
        "config": {"lr": 0.001, "optimizer": "adam", "model": {"depth": 4}},
        "tags": ["baseline", "adam"],
        "notes": "first try",
    },
    "base-sgd": {
        "config": {"lr": 0.01, "optimizer": "SGD", "model": {"depth": 8}},
        "tags": ["baseline"],
        "notes": "momentum 0.9",
    },
    "wide": {
        "config": {"lr": 0.1, "optimizer": "adam", "model": {"depth": 2, "width": 1024}},
        "tags": ["wide net"],
        "notes": "compare with the baseline",
    },
}

SCRIPT = """
import json, sys, tuiboard
runs = json.loads(sys.argv[1])
for name, spec in runs.items():
    run = tuiboard.init(project="sdk", name=name, dir=sys.argv[2], config=spec["config"],
                        tags=spec["tags"], notes=spec["notes"])
    for step in range(5):
        tuiboard.log({"loss": 1.0 / (step + 1), "val": {"acc": step / 10}})
    tuiboard.finish()
"""


def write_query_runs(root: Path) -> None:
    """The logdir described in the module docstring, under `root`."""
    import json

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(SDK_RUNS), str(root)],
        check=True,
        env=env,
        cwd=root.parent,
        capture_output=True,
    )
    # tuiboard.init writes <dir>/<project>/<name>/
    with SummaryWriter(str(root / "tbx" / "nan"), flush_secs=1) as w:
        for step in range(6):
            w.add_scalar("loss", 1.0 / (step + 1) if step < 4 else math.nan, step)
    (root / "tbx" / "nan" / "config.yaml").write_text("lr: 0.5\noptimizer: adam\n")
    with SummaryWriter(str(root / "tbx" / "hp"), flush_secs=1) as w:
        for step in range(3):
            w.add_scalar("train/loss", 0.5 / (step + 1), step)
        w.add_hparams({"lr": 0.003, "optimizer": "rmsprop"}, {"hp/acc": 0.7}, name="session")
    ew = EventWriter(str(root / "plain_run"))
    for step in range(3):
        ew.add_scalar("acc", step / 3, step)
    ew.close()


def query_runs_dir(factory: pytest.TempPathFactory, name: str) -> Path:
    """A new `logs` folder in a temp directory of the run's, holding write_query_runs' runs
    (each test module makes its own: statuses depend on the files' ages)."""
    root = factory.mktemp(name) / "logs"
    root.mkdir()
    write_query_runs(root)
    return root
