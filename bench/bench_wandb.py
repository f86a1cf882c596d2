"""Benchmark: cold load of a 1M-point W&B run (`run-<id>.wandb`, ~80 MB) against wandb's own reader.

Run: python bench/bench_wandb.py [STEPS]   (default 100,000 steps x 10 keys = 1M points)

The run is written once by real wandb (offline, in a subprocess: about 80 s for 100k steps)
and cached under /tmp/tuiboard-bench-wandb-<STEPS>/. Then, in one run, side by side:
- tuiboard: `tuiboard.open(run_dir)` in a fresh process (cold: imports excluded, the file in the
  page cache), wall time and the memory held per point (RSS after the load minus RSS before);
- wandb's own Go reader: `wandb leet inspect --summary --json RUN_DIR` (reads every record of the
  file to print the run's state; the same reader LEET's charts are fed by), wall time;
- optionally LEET's time to draw the whole history (`--leet`): `wandb leet RUN_DIR` in a detached
  tmux session (200x60), polling the screen until its run summary shows the last step (LEET
  replays the file and redraws its charts as it goes: its first chart shows after about a second
  with the first thousand steps; the time quoted is until every point is drawn).
Figures are the best of 3 (the machine is shared and noisy); ratios are printed.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

GEN = r"""
import random, sys
import wandb
steps = int(sys.argv[1])
run = wandb.init(project="bench", name="bench-1m", config={"lr": 0.1, "steps": steps})
rng = random.Random(0)
for i in range(steps):
    run.log({f"k{j}": rng.random() for j in range(10)})
run.finish()
"""

LOAD = r"""
import os, sys, time
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
import tuiboard
from tuiboard.core import logdir as _  # imports before the clock
before = rss()
t = time.perf_counter()
c = time.process_time()
ld = tuiboard.open(sys.argv[1])
elapsed = time.perf_counter() - t
cpu = time.process_time() - c
after = rss()
run = ld.runs[0]
points = run.point_count
print(elapsed, points, after - before, cpu)
"""


def wandb_env(root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        HOME=os.path.join(root, "home"),
        WANDB_DIR=root,
        WANDB_CONFIG_DIR=os.path.join(root, "config"),
        WANDB_CACHE_DIR=os.path.join(root, "cache"),
        WANDB_DATA_DIR=os.path.join(root, "data"),
    )
    return env


def ensure_run(steps: int) -> str:
    root = f"/tmp/tuiboard-bench-wandb-{steps}"
    found = glob.glob(os.path.join(root, "wandb", "offline-run-*", "run-*.wandb"))
    if found and os.path.exists(os.path.join(root, "done")):
        return os.path.dirname(found[0])
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    print(f"writing {steps} steps x 10 keys with wandb (once, cached in {root}) ...", flush=True)
    t = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(GEN)
    subprocess.run([sys.executable, fh.name, str(steps)], env=wandb_env(root), cwd=root, check=True)
    os.unlink(fh.name)
    open(os.path.join(root, "done"), "w").close()
    print(f"  written in {time.perf_counter() - t:.0f} s", flush=True)
    found = glob.glob(os.path.join(root, "wandb", "offline-run-*", "run-*.wandb"))
    return os.path.dirname(found[0])


def ours(run_dir: str) -> tuple[float, int, int, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", LOAD, run_dir], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), float(out[3])


def theirs(run_dir: str) -> float | None:
    exe = shutil.which("wandb")
    if exe is None:
        return None
    t = time.perf_counter()
    got = subprocess.run(
        [exe, "leet", "inspect", "--summary", "--json", run_dir], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t
    if got.returncode != 0:
        return None
    json.loads(got.stdout)
    return elapsed


def leet_full_draw(run_dir: str, last_step: int) -> float | None:
    """Seconds until LEET's screen shows the run's last step (tmux, 200x60)."""
    exe = shutil.which("wandb")
    if exe is None or shutil.which("tmux") is None:
        return None
    name = f"leet-bench-{os.getpid()}"
    t = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "60", exe, "leet", run_dir],
        check=True,
    )
    try:
        while time.perf_counter() - t < 300:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            for line in screen.splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] == "_step" and words[1] == str(last_step):
                    return time.perf_counter() - t
            time.sleep(0.1)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    steps = int(args[0]) if args else 100_000
    run_dir = ensure_run(steps)
    path = glob.glob(os.path.join(run_dir, "run-*.wandb"))[0]
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.read()  # into the page cache: both readers start warm
    print(f"{path}: {size / 1e6:.1f} MB")
    best_ours = best_theirs = best_cpu = float("inf")
    points = held = 0
    for _ in range(3):
        elapsed, points, held, cpu = ours(run_dir)
        best_ours = min(best_ours, elapsed)
        best_cpu = min(best_cpu, cpu)
        got = theirs(run_dir)
        if got is not None:
            best_theirs = min(best_theirs, got)
    print(
        f"tuiboard.open: {best_ours:.3f} s for {points:,} points "
        f"({points / best_ours / 1e6:.2f} M points/s; CPU {best_cpu:.3f} s), "
        f"{held / max(points, 1):.1f} B/point held"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if best_theirs < float("inf"):
        print(
            f"wandb leet inspect --summary (wandb's Go reader): {best_theirs:.3f} s "
            f"-> tuiboard is {best_theirs / best_ours:.1f}x faster"
        )
    else:
        print("wandb not installed: no side-by-side figure")
    if "--leet" in sys.argv:
        draw = leet_full_draw(run_dir, steps - 1)
        if draw is not None:
            print(
                f"wandb leet, time until every point is drawn: {draw:.1f} s "
                f"-> tuiboard is {draw / best_ours:.1f}x faster"
            )
        else:
            print("wandb leet: the last step was not shown within 300 s")


if __name__ == "__main__":
    main()
