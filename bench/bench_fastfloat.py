"""Benchmark: the numbers of bench_scale's 5,000 JSONL runs, fastfloat against np.fromstring.

Run: python bench/bench_fastfloat.py [--logdir /tmp/tuiboard-bench-scale-10000] [--repeat 7]
(the logdir is bench_scale.py's: `python bench/bench_scale.py --runs 10000` writes it once).
Prints CPU seconds (median of --repeat, interleaved) of:
- the joins as jsonl_uniform makes them (the files joined up to JOIN_BYTES): every number
  parsed as before session 6 (keys dropped by splitting at quotes, the rest blanked, one
  np.fromstring) and by fastfloat.parse_numbers over the raw join; checked equal bit for bit;
- the layout check of the same joins, `sub` (Python 3.10's way) and the possessive fullmatch;
- the JSONL runs alone as a first load reads them (loader.read_group: preread_small, then each
  run's refresh), garbage collector off: the figure to compare between trees, with PYTHONPATH.
"""

from __future__ import annotations

import argparse
import gc
import glob
import os
import re
import statistics
import sys
import time

import numpy as np

from tuiboard.core import jsonl_uniform, loader
from tuiboard.core.fastfloat import parse_numbers
from tuiboard.core.logdir import Logdir


def _joins(chunks: list[bytes]) -> list[bytes]:
    joins: list[bytes] = []
    cur: list[bytes] = []
    size = 0
    for chunk in chunks:
        cur.append(chunk)
        size += len(chunk)
        if size >= jsonl_uniform.JOIN_BYTES:
            joins.append(b"".join(cur))
            cur, size = [], 0
    if cur:
        joins.append(b"".join(cur))
    return joins


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logdir", default="/tmp/tuiboard-bench-scale-10000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.logdir, "**", "*.jsonl"), recursive=True))
    if not files:
        sys.exit(f"no JSONL files in {args.logdir}: run python bench/bench_scale.py first")
    chunks = []
    for path in files:
        with open(path, "rb") as fh:
            chunks.append(fh.read())
    known = jsonl_uniform._known(chunks[0])
    if known is None:
        sys.exit("the first file is not of one layout")
    pattern, keys, _ = known
    every, picks = jsonl_uniform._tokens(keys)
    joins = _joins(chunks)
    counts = [j.count(b"\n") * len(keys) for j in joins]
    line = pattern.pattern
    if line.startswith(b"(?:") and line.endswith(b")*+"):
        line = line[3:-3]
    sub = re.compile(b"^" + line, re.MULTILINE)
    possessive = re.compile(b"(?:" + line + b")*+")

    def fromstring() -> list[np.ndarray]:
        return [
            np.fromstring(
                b"".join(j.split(b'"')[::2]).translate(jsonl_uniform._BLANK), np.float64, sep=" "
            )
            for j in joins
        ]

    def fast() -> list[np.ndarray | None]:
        return [parse_numbers(j, c, every, picks) for j, c in zip(joins, counts, strict=True)]

    def check_sub() -> bool:
        return all(not sub.sub(b"", j) for j in joins)

    def check_possessive() -> bool:
        return all(possessive.fullmatch(j) is not None for j in joins)

    for a, b in zip(fromstring(), fast(), strict=True):
        assert b is not None and a.view(np.uint64).tolist() == b.view(np.uint64).tolist()
    assert check_sub() and check_possessive()
    group = [rf for rf in Logdir([args.logdir]).discover().values() if not rf.event_files]

    def jsonl_runs() -> None:
        gc.disable()
        try:
            loader.read_group(group)
        finally:
            gc.enable()

    tasks = {
        "numbers, np.fromstring (keys split off, blanked)": fromstring,
        "numbers, fastfloat.parse_numbers (raw joins)": fast,
        "layout check, sub": check_sub,
        "layout check, possessive fullmatch": check_possessive,
        f"the {len(group)} JSONL runs alone (read_group, GC off)": jsonl_runs,
    }
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(args.repeat):
        for name, task in tasks.items():
            start = time.process_time()
            task()
            times[name].append(time.process_time() - start)
    print(f"{len(files)} files, {len(joins)} joins, {sum(counts):,} numbers; CPU seconds:")
    for name, values in times.items():
        print(f"  {name:55s} median {statistics.median(values):.3f}  min {min(values):.3f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
