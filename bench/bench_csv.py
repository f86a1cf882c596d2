"""Benchmark: read a 100,000-row Lightning-style metrics.csv with tuiboard's CSV reader.

Run: python bench/bench_csv.py [ROWS]. The file is what Lightning's CSVLogger writes (the csv
module's DictWriter, `\\r\\n`, sorted keys, empty cells): per step `epoch`, `step`, `lr-Adam`,
`train_loss_step`, `train_acc_step`; every 50th row the epoch metrics instead (`val_loss`,
`val_acc`, `train_loss_epoch`). Prints rows/s and points/s for read_csv over the whole file
(CPU time, best of 5, interleaved), and for the obvious pure-Python reader for scale
(csv.DictReader, float() of every non-empty cell).
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time

from tuiboard.core.csvlog import CsvState, read_csv

NAMES = [
    "epoch",
    "lr-Adam",
    "step",
    "train_acc_step",
    "train_loss_epoch",
    "train_loss_step",
    "val_acc",
    "val_loss",
]


def make(rows: int) -> tuple[bytes, int]:
    rng = random.Random(0)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=NAMES)
    writer.writeheader()
    points = 0
    for i in range(rows):
        if i % 50 == 49:
            row = {"val_loss": rng.random(), "val_acc": rng.random(), "train_loss_epoch": 0.5}
        else:
            row = {"lr-Adam": 1e-3, "train_loss_step": rng.random(), "train_acc_step": rng.random()}
        row.update(epoch=i // 1000, step=i)
        writer.writerow(row)
        points += len(row) - 1  # `step` is the step, every other cell a point
    return buffer.getvalue().encode(), points


def naive(data: bytes) -> int:
    points = 0
    for row in csv.DictReader(io.StringIO(data.decode())):
        for key, cell in row.items():
            if key != "step" and cell:
                float(cell)
                points += 1
    return points


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data, points = make(rows)
    best = {"read_csv": float("inf"), "naive": float("inf")}
    for _ in range(5):
        start = time.process_time()
        consumed, parsed = read_csv(data, 0, "metrics.csv", CsvState())
        best["read_csv"] = min(best["read_csv"], time.process_time() - start)
        assert consumed == len(data)
        got = sum(len(c) for c in parsed.scalars.values())
        assert got == points, (got, points)
        start = time.process_time()
        assert naive(data) == points
        best["naive"] = min(best["naive"], time.process_time() - start)
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB, {points} points")
    for name, label in (("read_csv", "read_csv"), ("naive", "csv.DictReader + float()")):
        took = best[name]
        print(
            f"{label}: {took * 1e3:.0f} ms = {rows / took / 1e3:.0f}k rows/s, "
            f"{points / took / 1e6:.2f}M points/s"
        )
    print(f"read_csv takes {best['read_csv'] / best['naive']:.2f}x the naive reader's time")


if __name__ == "__main__":
    main()
