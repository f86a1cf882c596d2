"""Benchmark: discover() on a logdir of 1,000 run directories, one event file each.

Run: python bench/bench_discovery.py [RUNS]. Prints the best and median of 20 walks (warm page
cache), for a flat logdir, a nested one (sweep/seed/run, plus checkpoint directories that are not
runs and a metrics.jsonl in every tenth run) and one of JSONL runs (also with the sniff cache
empty, as on the first walk).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from tuiboard.core.discovery import discover


def make_flat(root: str, runs: int) -> None:
    for i in range(runs):
        run = os.path.join(root, f"run_{i:04d}")
        os.makedirs(run)
        open(os.path.join(run, f"events.out.tfevents.1700000000.host.{i}.0"), "wb").close()


def make_nested(root: str, runs: int) -> None:
    for i in range(runs):
        run = os.path.join(root, f"sweep_{i // 100}", f"seed_{i // 10 % 10}", f"run_{i % 10}")
        os.makedirs(os.path.join(run, "checkpoints"))
        open(os.path.join(run, f"events.out.tfevents.1700000000.host.{i}.0"), "wb").close()
        open(os.path.join(run, "checkpoints", "last.ckpt"), "wb").close()
        with open(os.path.join(run, "hparams.yaml"), "w") as handle:
            handle.write("lr: 0.1\n")
        if i % 10 == 0:
            with open(os.path.join(run, "metrics.jsonl"), "w") as handle:
                handle.write('{"step": 1, "loss": 1}\n')


def make_jsonl(root: str, runs: int) -> None:
    for i in range(runs):
        run = os.path.join(root, f"run_{i:04d}")
        os.makedirs(run)
        with open(os.path.join(run, "metrics.jsonl"), "w") as handle:
            handle.writelines(f'{{"step": {s}, "loss": 1.0}}\n' for s in range(50))


def timed_cold(root: str) -> float:
    """Best of 5 walks with an empty sniff cache: every metric log's first line is read."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        discover(root, {})
        best = min(best, time.perf_counter() - start)
    return best


def timed(root: str, runs: int) -> tuple[float, float]:
    cache: dict[str, bool] = {}
    found, warnings = discover(root, cache)
    assert len(found) == runs and not warnings, (len(found), warnings)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        discover(root, cache)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for label, make in (("flat", make_flat), ("nested", make_nested), ("jsonl", make_jsonl)):
        with tempfile.TemporaryDirectory() as root:
            make(root, runs)
            best, median = timed(root, runs)
            if label == "jsonl":
                cold = timed_cold(root)
                print(f"jsonl: {runs} runs, sniff cache empty: best {cold * 1e3:.1f} ms")
        print(
            f"{label}: {runs} runs: best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms "
            f"(target: well under 50 ms)"
        )


if __name__ == "__main__":
    main()
