"""A logdir for the W&B side of the app until the .wandb reader is merged: a run written by
tensorboardX with what a W&B run logs (loss, train/acc, an `epoch` step metric for `val/*`, system
metrics as `system/...`), whose RunMeta (what the reader will fill) is set here directly, with
its console log a REAL wandb output.log (tests/wandb_console.py)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from tensorboardX import SummaryWriter

import tuiboard
from tests.ui.conftest import T0, pin_mtimes
from tests.wandb_console import WandbConsole
from tuiboard.core.logdir import Logdir
from tuiboard.core.types import RunMeta

WB_RUN = "wandb/offline-run-20261207_050222-y3a7zrb7"
"""The run's name: a W&B run directory's path (the reader names runs so)."""
PLAIN_RUN = "tb/baseline"
"""A tfevents run with no console output."""
EPOCHS = (0, 1, 2, 3)
STEPS_PER_EPOCH = 10


def epoch_at(step: int) -> int:
    return step // STEPS_PER_EPOCH


def write_runs(root: Path) -> None:
    """Both runs. The W&B-like run logs loss and train/acc every step, `epoch` every step (its
    value: step // 10), val/loss and val/acc at the last step of each epoch, and system/cpu and
    system/memory_percent every 5 steps; the plain run logs loss and train/acc."""
    with SummaryWriter(str(root / WB_RUN), flush_secs=1) as w:
        for step in range(len(EPOCHS) * STEPS_PER_EPOCH):
            wall = T0 + step * 2.0
            w.add_scalar("loss", 2.0 / (step + 1), step, walltime=wall)
            w.add_scalar("train/acc", step / 40, step, walltime=wall)
            w.add_scalar("epoch", float(epoch_at(step)), step, walltime=wall)
            if step % STEPS_PER_EPOCH == STEPS_PER_EPOCH - 1:
                w.add_scalar("val/loss", 1.0 / (epoch_at(step) + 1), step, walltime=wall)
                w.add_scalar("val/acc", 0.5 + 0.1 * epoch_at(step), step, walltime=wall)
            if step % 5 == 0:
                w.add_scalar("system/cpu", 20.0 + step, step, walltime=wall)
                w.add_scalar("system/memory_percent", 40.0 + step / 2, step, walltime=wall)
    with SummaryWriter(str(root / PLAIN_RUN), flush_secs=1) as w:
        for step in range(40):
            wall = T0 + step * 2.0
            w.add_scalar("loss", 1.5 / (step + 1), step, walltime=wall)
            w.add_scalar("train/acc", step / 50, step, walltime=wall)


def wandb_meta(console: tuple[str, ...], **changes: Any) -> RunMeta:
    """What the reader gives the fixture's run (the values the wandb script passed to init)."""
    meta = RunMeta(
        display_name="resnet [bold]baseline[/bold]",
        run_id="y3a7zrb7",
        project="console-proj",
        group="sweep-\x1b[31m1",
        tags=("ui", "[red]tag"),
        notes="first line\nsecond \x1b[31mline",
        host="gpu-box",
        start_time=T0,
        exit_code=1,
        runtime=80.0,
        summary={"loss": 0.05, "val/acc": {"max": 0.8}, "note": "[i]literal[/i]"},
        step_metrics={"val/loss": "epoch", "val/acc": "epoch"},
        console=console,
    )
    return dataclasses.replace(meta, **changes)


def set_meta(logdir: Logdir, run: str, meta: RunMeta) -> None:
    """Give a run its RunMeta as the loader will (replaced whole, the run's version and the
    store's moved: the app's caches key on them)."""
    found = logdir.run(run)
    assert found is not None, run
    found._data.meta = meta
    found._data.version += 1
    logdir.store.version += 1


def wandb_logdir(root: Path, wb: WandbConsole) -> tuple[Logdir, Path]:
    """The two runs, the W&B-like one with a copy of the real output.log in its files/ (at the
    path wandb gives it) and its RunMeta set. Returns the logdir and that output.log."""
    write_runs(root)
    output = root / WB_RUN / "files" / "output.log"
    output.parent.mkdir(parents=True)
    shutil.copyfile(wb.output_log, output)
    pin_mtimes(root)
    logdir = tuiboard.open(str(root))
    set_meta(logdir, WB_RUN, wandb_meta((str(output),)))
    return logdir, output
