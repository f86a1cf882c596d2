"""Benchmark of the headless commands on a logdir of many small runs.

Owns: generating the logdir (1,000 runs by default, written by tuiboard.writer: 4 scalar tags x
50 steps each, nested two deep, with wall times and file times spread so that the statuses are a
realistic mix), and measuring
  1. `tuiboard summary LOGDIR` end to end in a fresh process, stdout a pipe (target < 2 s),
     also with --json, and `tuiboard check`;
  2. the CPU cost of `tuiboard summary LOGDIR --watch --poll 1` while nothing changes, from
     /proc/<pid>/stat over an idle window (target < 5% of one core), and the same with inotify.
Prints the figures; never part of the test run.

Usage: python bench/bench_summary.py [--runs 1000] [--idle 20] [--out DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tuiboard.writer import EventWriter  # noqa: E402

TAGS = ("train/loss", "val/acc", "optim/lr", "grad_norm")
STEPS = 50


def generate(root: str, runs: int, seed: int = 0) -> None:
    """`runs` runs under root/sweep_XX/trial_YYYY. Run i finished writing i seconds ago... spread
    over two days, so a few are live and most are stalled; 1% have a NaN loss."""
    rng = np.random.default_rng(seed)
    now = time.time()
    per_sweep = 50
    for i in range(runs):
        d = os.path.join(root, f"sweep_{i // per_sweep:02d}", f"trial_{i:04d}")
        end = now - (i / runs) ** 3 * 2 * 86400  # a few recent, most old
        start = end - STEPS * 6.0
        w = EventWriter(d, filename="events.out.tfevents.0000000000.bench.0.0", start_time=start)
        loss = np.exp(-np.linspace(0, 3, STEPS)) + rng.uniform(0, 0.05, STEPS)
        if i % 100 == 7:
            loss[STEPS // 2 :] = np.nan
        for s in range(STEPS):
            t = start + s * 6.0
            w.add_scalar("train/loss", float(loss[s]), s * 10, wall_time=t)
            w.add_scalar("val/acc", float(1 - loss[s] / 2), s * 10, wall_time=t)
            w.add_scalar("optim/lr", 0.1 * 0.97**s, s * 10, wall_time=t)
            w.add_scalar("grad_norm", float(rng.uniform(0, 3)), s * 10, wall_time=t)
        w.close()
        os.utime(w.path, (end, end))


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """(median, min) wall seconds of `cmd` with stdout a pipe, after one warm-up run."""
    subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def idle_cpu(cmd: list[str], settle: float, idle: float) -> tuple[float, float, int]:
    """(CPU % of one core while idle, seconds to the first output, bytes printed while idle)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        first = None
        try:
            while time.perf_counter() - t0 < 60:
                if out.tell() or os.fstat(out.fileno()).st_size:
                    first = time.perf_counter() - t0
                    break
                time.sleep(0.02)
            time.sleep(settle)
            size0 = os.fstat(out.fileno()).st_size
            c0, w0 = cpu_seconds(proc.pid), time.perf_counter()
            time.sleep(idle)
            c1, w1 = cpu_seconds(proc.pid), time.perf_counter()
            grown = os.fstat(out.fileno()).st_size - size0
        finally:
            proc.terminate()
            proc.wait(10)
    return 100 * (c1 - c0) / (w1 - w0), first if first is not None else float("nan"), grown


def breakdown(root: str) -> None:
    """In-process: reading the logdir (the core) against what summary adds (rows + text)."""
    import tuiboard
    from tuiboard.headless.summary import Summarizer, plain_lines

    t0 = time.perf_counter()
    ld = tuiboard.open(root)
    t1 = time.perf_counter()
    summarizer = Summarizer()
    rows, tags = summarizer.rows(ld, time.time())
    t2 = time.perf_counter()
    plain_lines(rows, tags)
    t3 = time.perf_counter()
    summarizer.rows(ld, time.time())
    t4 = time.perf_counter()
    ld.refresh()
    t5 = time.perf_counter()
    print(f"in process: tuiboard.open {t1 - t0:.2f} s, summary rows {t2 - t1:.3f} s, text "
          f"{t3 - t2:.3f} s; a --watch tick with nothing new: rows {1000 * (t4 - t3):.0f} ms, "
          f"no-change refresh {1000 * (t5 - t4):.0f} ms")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=20.0, help="idle window, seconds")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", help="where to write the logdir (default: a temporary directory)")
    args = ap.parse_args()

    root = args.out or tempfile.mkdtemp(prefix="tuiboard-bench-summary-")
    try:
        t = time.perf_counter()
        generate(root, args.runs)
        print(f"generated {args.runs} runs x {len(TAGS)} tags x {STEPS} steps in "
              f"{time.perf_counter() - t:.1f} s: {root}")  # fmt: skip
        py = [sys.executable, "-m", "tuiboard"]
        med, best = timed([*py, "--version"], args.repeat)
        print(f"python -m tuiboard --version (startup floor): {med:.2f} s (min {best:.2f})")
        for extra in ([], ["--json"]):
            med, best = timed([*py, "summary", root, *extra], args.repeat)
            flag = " ".join(extra)
            verdict = "ok" if med < 2.0 else "OVER the 2 s target"
            print(f"summary {flag:6} end to end: {med:.2f} s (min {best:.2f}) -- {verdict}")
        med, best = timed([*py, "check", root], args.repeat)
        print(f"check end to end: {med:.2f} s (min {best:.2f})")
        breakdown(root)
        # --stall-after 3d: no run changes status during the window, so nothing at all changes
        for label, extra in (("--poll 1", ["--poll", "1"]), ("inotify", [])):
            cmd = [*py, "summary", root, "--watch", "--stall-after", "3d", *extra]
            pct, first, grown = idle_cpu(cmd, settle=3.0, idle=args.idle)
            verdict = "ok" if pct < 5.0 else "OVER the 5% target"
            print(f"summary --watch {label}: idle CPU {pct:.1f}% of one core over {args.idle:g} s "
                  f"(first block after {first:.2f} s, {grown} bytes printed while idle) "
                  f"-- {verdict}")  # fmt: skip
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
