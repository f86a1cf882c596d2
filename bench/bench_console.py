"""Benchmark of the Logs pane's reading (not a test): a console log as a training job writes it
(plain lines, ANSI-coloured lines, and a tqdm bar of 100 `\\r` states every 50 lines), read by
`ConsoleTail` the way the pane's worker does.

- open: the first poll of a log of --mb megabytes (only its last 4 MiB is read);
- append: a poll after 1,000 more lines (only the new bytes are read);
- idle: a poll when nothing changed (one stat);
- rewrite: a poll after the last line is rewritten in place (as wandb does with output.log);
- console_lines: the pure conversion on 4 MiB of that text, in MB/s.
Median of --reps repetitions, wall time. (wandb's own viewer `wandb beta leet` has no reading
API to time from outside: nothing to compare with.)

    python bench/bench_console.py [--mb 100] [--reps 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuiboard.core.console import console_lines
from tuiboard.core.console_tail import TAIL_BYTES, ConsoleTail


def chunk(start: int, lines: int) -> bytes:
    """`lines` lines of job output numbered from `start`."""
    out: list[str] = []
    for i in range(start, start + lines):
        if i % 50 == 0:
            bar = "".join(
                f"\repoch {i // 50}: {k:3d}%|{'█' * (k // 5)}{' ' * (20 - k // 5)}| loss=0.{k:03d}"
                for k in range(100)
            )
            out.append(bar + "\n")
        elif i % 7 == 0:
            out.append(f"\x1b[1;32mINFO\x1b[0m step {i} loss=\x1b[33m0.{i % 1000:03d}\x1b[0m\n")
        else:
            out.append(f"step {i}: loss=0.{i % 1000:03d} lr=3e-4 grad_norm=1.{i % 97:02d}\n")
    return "".join(out).encode()


def median_ms(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "output.log"
        block = chunk(0, 10_000)
        with open(log, "wb") as f:
            while f.tell() < args.mb * 1e6:
                f.write(block)
        size = log.stat().st_size
        n = 10_000

        def open_poll() -> ConsoleTail:
            tail = ConsoleTail((str(log),))
            tail.poll()
            return tail

        t_open = median_ms(open_poll, args.reps)
        tail = open_poll()
        kept = len(tail.snapshot().lines)

        appends = []
        for r in range(args.reps):
            with open(log, "ab") as f:
                f.write(chunk(n + r * 1000, 1000))
            t = time.perf_counter()
            tail.poll()
            appends.append(time.perf_counter() - t)
        t_append = statistics.median(appends) * 1000
        t_idle = median_ms(tail.poll, args.reps * 20)

        rewrites = []
        for r in range(args.reps):
            with open(log, "r+b") as f:
                f.seek(-8, os.SEEK_END)
                f.write(f"{r:07d}\n".encode())
            os.utime(log, ns=(r + 1, r + 1))
            t = time.perf_counter()
            tail.poll()
            rewrites.append(time.perf_counter() - t)
        t_rewrite = statistics.median(rewrites) * 1000

        text = log.read_bytes()[-TAIL_BYTES:].decode(errors="replace")
        t_pure = median_ms(lambda: console_lines(text), args.reps)
        per_line = len(block) / 10_000
        print(f"log: {size / 1e6:.0f} MB ({per_line:.0f} B/line); the pane keeps {kept} lines")
        print(f"open (first poll, last 4 MiB read): {t_open:8.1f} ms")
        print(f"append 1,000 lines then poll:       {t_append:8.2f} ms")
        print(f"poll with nothing new (one stat):   {t_idle:8.3f} ms")
        print(f"last line rewritten in place:       {t_rewrite:8.2f} ms")
        mbps = len(text.encode()) / 1e6 / (t_pure / 1000)
        print(f"console_lines on 4 MiB:             {t_pure:8.1f} ms ({mbps:.0f} MB/s)")


if __name__ == "__main__":
    main()
