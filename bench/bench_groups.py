"""Benchmark of run groups (not a test): 100 runs x 10,000 steps aggregated and drawn.

Cases, each the median of several repetitions:
- aggregate: core/aggregate.py on 100 runs that logged the same 10,000 steps (one group of
  100, and four groups of 25), for each centre/band; and on 100 runs with their own step grids
  (strides 1-4, offsets: a union of ~10,000 steps but no two runs alike).
- aggregate + draw: grouped_series (render/group_series.py) then draw_chart of the grouped
  chart at 158x35 (a full-screen chart on a 160x45 terminal), smoothing already done (the app
  caches each run's smoothed series; the smoothing of 100 runs is printed apart).
- app: a logdir of 100 tfevents runs x 10,000 steps (written by tuiboard's EventWriter); the
  Scalars chart's `lines` with grouping on (every run's prepared series cached, as after the
  first draw: what pressing `g` or changing the band costs) and the frame draw; then the same
  with the aggregate cached (a redraw with no new data).

    python bench/bench_groups.py [--runs 100] [--steps 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tuiboard
from tuiboard.core.aggregate import BANDS, CENTRES, aggregate
from tuiboard.core.grouping import GroupSpec, group_runs, key_function
from tuiboard.render.chart import ChartOptions, ChartSeries, draw_chart
from tuiboard.render.group_series import drawn, grouped_series
from tuiboard.render.smoothing import ema_debiased
from tuiboard.render.theme import default_theme, run_color
from tuiboard.writer import EventWriter

THEME = default_theme(color=True)
W, H = 158, 35


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run_values(r: int, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.exp(-x / (2000 + 40 * r)) + rng.normal(0, 0.05, x.shape[0])


def names(runs: int, groups: int) -> list[str]:
    return [f"cfg{r % groups}_seed={r // groups:03d}" for r in range(runs)]


def in_memory(runs: int, steps: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = np.arange(steps, dtype=np.float64)
    same = [(x, run_values(r, x, rng)) for r in range(runs)]
    own = []
    for r in range(runs):
        stride = 1 + r % 4
        xr = np.arange(r % 7, steps * stride // 4 + r % 7, stride, dtype=np.float64)
        own.append((xr, run_values(r, xr, rng)))
    figures: dict[str, float] = {}
    for centre in CENTRES:
        for band in BANDS:
            figures[f"aggregate {runs} runs, same steps, {centre}/{band}"], _ = timed(
                lambda c=centre, b=band: aggregate(same, c, b), repeat
            )
    t, agg = timed(lambda: aggregate(own, "mean", "minmax"), repeat)
    figures[f"aggregate {runs} runs, own steps (union {len(agg)}), mean/minmax"] = t
    figures[f"smoothing {runs} runs (EMA 0.6, cached by the app)"], smoothed = timed(
        lambda: [ema_debiased(y, 0.6) for _, y in same], repeat
    )
    for groups in (1, 4):
        labels = names(runs, groups)
        series = [
            ChartSeries(label, run_color(THEME, i), x, y)
            for i, (label, y) in enumerate(zip(labels, smoothed, strict=True))
        ]
        spec = GroupSpec(pattern=r"seed=\d+")
        found = group_runs(labels, key_function(spec, lambda n: None))
        assert len(found) == groups

        def both(s: list[ChartSeries] = series, f: Any = found, g: Any = spec) -> Any:
            chart = drawn(grouped_series(s, f, g))
            return draw_chart(chart, ChartOptions(title="loss"), W, H, THEME)

        figures[f"aggregate + draw {W}x{H}: {groups} group(s) of {runs // groups}"], _ = timed(
            both, repeat
        )
    return figures


def app_path(runs: int, steps: int, repeat: int) -> dict[str, float]:
    from tuiboard.ui.board import Board
    from tuiboard.ui.widgets.scalar_chart import ChartSource

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(1)
        x = np.arange(steps, dtype=np.float64)
        t0 = time.perf_counter()
        for r, name in enumerate(names(runs, 4)):
            with EventWriter(str(Path(tmp) / name)) as w:
                for step, value in zip(range(steps), run_values(r, x, rng), strict=True):
                    w.add_scalar("loss", float(value), step, wall_time=1.7e9 + step)
        print(f"  wrote {runs} runs x {steps} steps in {time.perf_counter() - t0:.1f} s")
        logdir = tuiboard.open(tmp)
        board = Board(logdir, THEME)
        source = ChartSource("loss")
        source.lines(board)  # every run's prepared (smoothed) series cached, as after a draw
        spec = GroupSpec(pattern=r"seed=\d+")

        def regroup() -> Any:
            board.grouping.set_spec(None)
            board.grouping.set_spec(spec)  # drops the cached aggregates
            lines = source.lines(board)
            return draw_chart([ln.series for ln in lines], ChartOptions(), W, H, THEME)

        figures[f"app: g pressed ({runs} runs -> 4 groups): lines + draw {W}x{H}"], _ = timed(
            regroup, repeat
        )
        figures["app: redraw, aggregates cached: lines + draw"], _ = timed(
            lambda: draw_chart(
                [ln.series for ln in source.lines(board)], ChartOptions(), W, H, THEME
            ),
            repeat,
        )
        figures["app: lines alone, aggregates cached (a cursor move)"], _ = timed(
            lambda: source.lines(board), repeat
        )
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--no-app", action="store_true", help="skip the logdir case")
    args = p.parse_args()
    print(f"run groups: {args.runs} runs x {args.steps} steps, median of {args.repeat}")
    figures = in_memory(args.runs, args.steps, args.repeat)
    if not args.no_app:
        figures.update(app_path(args.runs, args.steps, args.repeat))
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"  {k:<{width}}  {v * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
