"""Test helpers for grouped runs: seeds written by tensorboardX, and the straightforward
reference aggregation (a Python loop per x and per run) the tests compare against."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def reference(
    series: list[tuple[list[float], list[float]]], centre: str, band: str
) -> tuple[list[float], list[tuple[float, float, float, int]]]:
    runs = []
    for xs, ys in series:
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
        pts.sort(key=lambda p: p[0])  # stable: the last written of equal x stays last
        if pts:
            runs.append(pts)
    union = sorted({x for pts in runs for x, _ in pts})
    out = []
    for x in union:
        values = []
        for pts in runs:
            if not (pts[0][0] <= x <= pts[-1][0]):
                continue
            value = None
            for px, py in pts:
                if px <= x:
                    value = py
            assert value is not None
            values.append(value)
        v = np.array(values)
        mean = float(np.mean(v))
        mid = mean if centre == "mean" else float(np.median(v))
        if band == "minmax":
            lo, hi = float(v.min()), float(v.max())
        elif band == "std":
            s = float(np.std(v))
            lo, hi = mean - s, mean + s
        else:
            lo, hi = (float(q) for q in np.percentile(v, [25, 75]))
        out.append((mid, lo, hi, len(values)))
    return union, out


def write_seeds(root: Path, seeds: int = 4) -> dict[str, tuple[float, str]]:
    """Runs `lr=<lr>_seed=<s>` with different lengths and step grids; a config.json each."""
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(42)
    settings_of: dict[str, tuple[float, str]] = {}
    for lr, opt in ((0.1, "adam"), (0.01, "sgd")):
        for s in range(seeds):
            name = f"lr={lr}_seed={s}"
            w = SummaryWriter(str(root / name))
            n = 40 + 15 * s
            stride = 1 + s % 3
            for i in range(n):
                w.add_scalar("loss", float(rng.normal(1.0 / (1 + i * lr), 0.1)), i * stride)
            w.close()
            (root / name / "config.json").write_text(json.dumps({"lr": lr, "optimizer": opt}))
            settings_of[name] = (lr, opt)
    return settings_of


def ema_loop(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing as its frontend writes it (vz_line_chart2, resmoothDataset)."""
    out = []
    last = 0.0
    n = 0
    constant = all(v == values[0] for v in values) if values else True
    for v in values:
        if constant or not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight**n) if weight < 1 else last)
    return out


UI_T0 = 1_795_690_000.0
RUNS = {  # name -> (optimizer, steps, stride)
    "lr=0.1_seed=0": ("adam", 30, 2),
    "lr=0.1_seed=1": ("adam", 22, 3),
    "lr=0.1_seed=2": ("adam", 40, 1),
    "lr=0.01_seed=0": ("sgd", 35, 2),
    "lr=0.01_seed=1": ("sgd", 28, 2),
}


def write_ui_seeds(root: Path) -> Path:
    """RUNS written by tensorboardX (fixed wall times, pinned file times), a config.json each."""
    from tensorboardX import SummaryWriter

    from tests.ui.conftest import pin_mtimes

    for k, (name, (opt, n, stride)) in enumerate(RUNS.items()):
        rng = np.random.default_rng(k)
        with SummaryWriter(str(root / name), flush_secs=1) as w:
            for i in range(n):
                value = 2.0 * np.exp(-i / (8 + k)) + float(rng.normal(0, 0.05))
                w.add_scalar("loss", value, i * stride, walltime=UI_T0 + i * 2.0 + k)
        (root / name / "config.json").write_text(json.dumps({"optimizer": opt}))
    pin_mtimes(root)
    return root
