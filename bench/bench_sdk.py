"""Benchmark: what `run.log` costs the training loop, and what the flusher costs behind it.

Run: python bench/bench_sdk.py [STEPS]. Prints, best of 5 (CPU time of the logging thread):
- `log` of 10 scalars (committed, W&B's implicit step), of 10 scalars with `commit=False` then
  a commit, and of a nested dict, in microseconds per call;
- the same 10 scalars through wandb 0.31 offline (`wandb.log`) when wandb is installed
  (--skip-wandb to leave it out), in a subprocess, for comparison;
- the flusher: JSON encoding and writing per row (what the daemon thread spends a second).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import tuiboard
from tuiboard import sdk

BUDGET_US = 20.0


def per_call(fn: object, steps: int, repeat: int = 5) -> float:
    """Best CPU microseconds per call of fn(i) over `steps` calls (the wall-clock figure, which
    also holds the flusher's turns at the GIL, goes to WALL)."""
    best = wall = float("inf")
    for _ in range(repeat):
        t0, w0 = time.thread_time(), time.perf_counter()
        for i in range(steps):
            fn(i)  # type: ignore[operator]
        best = min(best, (time.thread_time() - t0) / steps * 1e6)
        wall = min(wall, (time.perf_counter() - w0) / steps * 1e6)
    WALL.append(wall)
    return best


WALL: list[float] = []


def bench_tuiboard(steps: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run = tuiboard.init(project="bench", dir=tmp)
        keys = [f"train/metric_{k:02d}" for k in range(10)]
        values = [0.1 * k for k in range(10)]

        def ten(i: int) -> None:
            run.log(dict(zip(keys, values, strict=True)))

        out["log 10 scalars"] = per_call(ten, steps)

        def split(i: int) -> None:
            run.log({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0}, commit=False)
            run.log({"f": 1.0, "g": 2.0, "h": 3.0, "i": 4.0, "j": 5.0})

        out["2 x log 5 scalars (commit=False, then commit)"] = per_call(split, steps)

        def nested(i: int) -> None:
            run.log({"train": {"loss": 0.1, "acc": 0.9}, "val": {"loss": 0.2, "acc": 0.8}})

        out["log nested {train: {2}, val: {2}}"] = per_call(nested, steps)

        # The flusher's side: rows committed, then one flush timed.
        with run._lock:
            run._rows.clear()
        for _ in range(steps):
            run.log(dict(zip(keys, values, strict=True)))
        with run._lock:
            n = len(run._rows)
        t0 = time.thread_time()
        run.flush()
        out["flusher: encode + write, per row"] = (time.thread_time() - t0) / n * 1e6
        run.finish()
        size = os.path.getsize(os.path.join(run.dir, sdk.METRICS))
        with open(os.path.join(run.dir, sdk.METRICS), "rb") as fh:
            lines = sum(1 for _ in fh)
        out["bytes per 10-scalar line"] = size / lines
    return out


WANDB_SCRIPT = """
import json, os, sys, time
import wandb
steps = int(sys.argv[1])
run = wandb.init(project="bench")
keys = [f"train/metric_{k:02d}" for k in range(10)]
values = [0.1 * k for k in range(10)]
best = float("inf")
for _ in range(5):
    t0 = time.thread_time()
    for i in range(steps):
        run.log(dict(zip(keys, values)))
    best = min(best, (time.thread_time() - t0) / steps * 1e6)
run.finish()
print(json.dumps(best))
"""


def bench_wandb(steps: int) -> float | None:
    try:
        import importlib.util

        if importlib.util.find_spec("wandb") is None:
            return None
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", HOME=tmp)
        for var in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
            env[var] = tmp
        script = os.path.join(tmp, "w.py")
        with open(script, "w") as fh:
            fh.write(textwrap.dedent(WANDB_SCRIPT))
        done = subprocess.run(
            [sys.executable, script, str(steps)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
            timeout=600,
        )
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return None
        return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20_000
    print(f"tuiboard.log, {steps} calls a round, best of 5 (CPU time of the logging thread)")
    results = bench_tuiboard(steps)
    walls = iter(WALL)
    for name, value in results.items():
        unit = "B" if name.startswith("bytes") else "us"
        wall = f"  (wall {next(walls):.2f} us)" if name.startswith(("log", "2 x")) else ""
        print(f"  {name:48s} {value:8.2f} {unit}{wall}")
    if "--skip-wandb" not in sys.argv:
        wb = bench_wandb(min(steps, 5_000))
        if wb is not None:
            print(f"  {'wandb 0.31 offline: log 10 scalars':48s} {wb:8.2f} us")
    print(f"budget: {BUDGET_US} us for 10 scalars")


if __name__ == "__main__":
    main()
