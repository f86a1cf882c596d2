"""What the tests make once per run and only read: made once for all pytest-xdist workers.

Owns: `made_once`. Must not import: tuiboard (a helper of the tests and nothing else).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A directory holding what `make(directory)` wrote, made once per test run.

    Run serially: a new directory of the session's. Under pytest-xdist: a directory that every
    worker of the run shares (the parent of their own temp directories), made by the first
    worker that asks while the others wait on a file lock, then read by all: an expensive
    fixture (real wandb runs, ~30 s) is made once, not once per worker. `make` writes
    everything under its directory, and the tests only read it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        target = factory.mktemp(name)
        make(target)
        return target
    shared = factory.getbasetemp().parent
    target = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (target / ".made").exists():
            if target.exists():  # a worker failed half-way: start again
                shutil.rmtree(target)
            target.mkdir()
            make(target)
            (target / ".made").touch()
    return target
