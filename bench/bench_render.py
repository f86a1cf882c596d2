"""Benchmark of the pure renderers (not a test).

A full redraw of the scalars grid: 16 charts x 8 runs x 10,000 steps, each chart ~40x12 cells
(a 160x50 terminal), smoothing (TensorBoard's debiased EMA, weight 0.6) included and the raw line
drawn faint under the smoothed one. Prints the median and best of several repetitions, and the
parts (smoothing, chart drawing, Text -> terminal segments).

    python bench/bench_render.py [--runs 8] [--tags 16] [--steps 10000] [--width 40] [--height 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuiboard.core.types import HistogramValue
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.histogram import distribution_chart, histogram_bars, ridge_chart
from tuiboard.render.smoothing import ema_debiased
from tuiboard.render.sparkline import sparkline
from tuiboard.render.theme import default_theme, run_color


def make_data(runs: int, tags: int, steps: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(0)
    x = np.arange(steps, dtype=np.float64)
    out = []
    for t in range(tags):
        per_tag = []
        for r in range(runs):
            y = np.exp(-x / (2000 + 300 * r)) * (1 + t) + rng.normal(0, 0.05, steps)
            y[rng.integers(0, steps, 3)] *= 5  # spikes
            per_tag.append((x, y.astype(np.float32).astype(np.float64)))
        out.append(per_tag)
    return out


def timed(fn, reps: int) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """(wall ms, process CPU ms) of each repetition: CPU time is steadier on a busy machine."""
    times = []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3))
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--tags", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--width", type=int, default=40)
    ap.add_argument("--height", type=int, default=12)
    ap.add_argument("--reps", type=int, default=15)
    a = ap.parse_args()
    data = make_data(a.runs, a.tags, a.steps)
    theme = default_theme()

    def smooth_all() -> list[list[ChartSeries]]:
        return [
            [
                ChartSeries(f"run{r}", run_color(theme, r), x, ema_debiased(y, 0.6), y)
                for r, (x, y) in enumerate(per_tag)
            ]
            for per_tag in data
        ]

    prepared = smooth_all()

    def draw_all() -> list:  # type: ignore[type-arg]
        return [
            render_chart(s, ChartOptions(title=f"tag{i}"), a.width, a.height, theme)
            for i, s in enumerate(prepared)
        ]

    def full() -> None:
        nonlocal prepared
        prepared = smooth_all()
        draw_all()

    for fn in (full,):
        fn()  # warm up
    t_smooth = timed(smooth_all, a.reps)
    t_draw = timed(draw_all, a.reps)
    t_full = timed(full, a.reps)
    texts = draw_all()
    with open(os.devnull, "w") as sink:
        console = Console(width=a.width, color_system="256", force_terminal=True, file=sink)
        t_seg = timed(lambda: [list(console.render(t)) for t in texts], a.reps)

    def report(name: str, ts: list[tuple[float, float]]) -> None:
        wall = min(t[0] for t in ts)
        cpu = statistics.median(t[1] for t in ts)
        print(f"{name:<44} wall best {wall:7.2f} ms   cpu median {cpu:7.2f} ms")

    pts = a.runs * a.tags * a.steps
    print(f"{a.tags} charts x {a.runs} runs x {a.steps} steps ({pts:,} points),", end=" ")
    print(f"{a.width}x{a.height} cells each; wall ms (best) and process CPU ms (median)")
    report("smoothing (ema_debiased, all series)", t_smooth)
    report("drawing (render_chart, raw + smoothed)", t_draw)
    report("full redraw (smoothing + drawing)", t_full)
    report("Rich segments of the 16 Texts (terminal)", t_seg)

    one = prepared[0]
    t_one = timed(lambda: render_chart(one, ChartOptions(), a.width, a.height, theme), 50)
    report("one chart, 8 runs (live append redraw)", t_one)
    big = timed(lambda: render_chart(one, ChartOptions(), 300, 78, theme), 20)
    report("one chart full screen 300x78", big)

    y100k = np.random.default_rng(1).normal(size=100_000)
    report("ema_debiased 100k points", timed(lambda: ema_debiased(y100k, 0.6), 50))
    report("sparkline 10k points, 20 cells", timed(lambda: sparkline(one[0].y, 20), 200))

    rng = np.random.default_rng(2)
    hs = []
    for s in range(500):
        v = rng.normal(s / 100, 1, 1000)
        c, e = np.histogram(v, bins=60)
        hs.append(
            HistogramValue(
                s, float(s), e[:-1], e[1:], c.astype(float), 1000.0, float(v.min()), float(v.max())
            )
        )
    report(
        "distribution_chart 500 steps 80x20",
        timed(lambda: distribution_chart(hs, 80, 20, theme, "red"), 20),
    )
    report("histogram_bars 80x20", timed(lambda: histogram_bars(hs[-1], 80, 20, theme, "red"), 50))
    report("ridge_chart 6 ridges 80x20", timed(lambda: ridge_chart(hs, 80, 20, theme, "red"), 50))


if __name__ == "__main__":
    main()
