"""Benchmark of the Textual app, headless (not a test).

On the medium bench logdir (8 runs x 16 scalar tags x 10,000 steps; `python bench/gen_logdir.py
medium`), copied to a temporary directory so a point can be appended:

- first frame: start -> the run panel lists every run (target 0.5 s)
- all charts filled: start -> every scalar chart drew all 8 runs (target 2 s)
- full redraw: 16 charts x 8 runs at their 160x50 size, series cached (target 50 ms), and the
  same after a smoothing change (every series re-smoothed)
- live append: one point appended with tensorboardX -> only the touched chart redraws; its draw
  time (target 10 ms) and the write-to-screen latency (watcher + debounce included)
- idle CPU over a few seconds with nothing written (target 1 %)

    python bench/bench_ui.py [--logdir bench/data/medium] [--size 160x50] [--idle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tuiboard
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart, chart_series

DRAW_TIMES: list[tuple[str, float]] = []
"""(tag, seconds) of every chart draw that missed the cache (instrumented below)."""


def instrument() -> None:
    original = ScalarChart.draw

    def timed_draw(self: ScalarChart, width: int, height: int):  # type: ignore[no-untyped-def]
        before = self.renders
        t0 = time.perf_counter()
        out = original(self, width, height)
        if self.renders != before:
            DRAW_TIMES.append((self.tag, time.perf_counter() - t0))
        return out

    ScalarChart.draw = timed_draw  # type: ignore[method-assign]


def charts(app: TuiboardApp) -> list[ScalarChart]:
    return [c for c in app.query(ScalarChart) if c.id != "full-chart"]


async def wait_until(pilot: object, predicate: object, timeout: float = 60.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if predicate():  # type: ignore[operator]
            return time.perf_counter()
        await pilot.pause(0.005)  # type: ignore[attr-defined]
    raise TimeoutError("condition not reached")


async def run(root: Path, size: tuple[int, int], idle: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    start = time.perf_counter()
    logdir = tuiboard.open(str(root), load=False)
    app = TuiboardApp(logdir)
    async with app.run_test(size=size) as pilot:
        figures["first frame, empty (s)"] = time.perf_counter() - start
        tree = app.query_one(RunTree)
        n_runs = len([p for p in root.iterdir() if p.is_dir()])

        def runs_listed() -> bool:
            return sum(1 for n, node in tree._run_nodes.items() if node.data == n) >= n_runs

        figures["first frame with runs (s)"] = await wait_until(pilot, runs_listed) - start

        def filled() -> bool:
            cs = charts(app)
            if len(cs) < 16 or logdir.stats.points < 16 * n_runs * 10_000:
                return False
            return all(len(chart_series(app.board, c.tag)[0]) == n_runs for c in cs)

        await wait_until(pilot, filled)
        await pilot.pause(0.2)  # let the layout give every chart its size
        # Draw every chart at its laid-out size (the ones off screen too) to count them filled.
        for c in charts(app):
            c.draw(max(c.content_size.width, 40), max(c.content_size.height, 12))
        figures["all charts filled (s)"] = time.perf_counter() - start

        sizes = [(c, c.content_size.width or 40, c.content_size.height or 12) for c in charts(app)]

        def full_redraw() -> float:
            t0 = time.perf_counter()
            for c, w, h in sizes:
                c._key = None  # drop the drawn Text, keep the prepared series
                c.draw(w, h)
            return time.perf_counter() - t0

        reps = [full_redraw() for _ in range(7)]
        figures["full redraw 16x8, series cached (ms)"] = statistics.median(reps) * 1e3
        smooth_reps = []
        for k in range(5):
            app.board.options = app.board.options.with_smoothing(0.5 + 0.05 * k)
            smooth_reps.append(full_redraw())
        figures["full redraw 16x8 after a smoothing change (ms)"] = (
            statistics.median(smooth_reps) * 1e3
        )
        # The same as the user sees it: an option change, then Textual lays out and paints the
        # charts on screen (off-screen charts are drawn when scrolled to).
        app_reps = []
        for k in range(5):
            t0 = time.perf_counter()
            app.set_smoothing(0.6 + 0.05 * k)
            await pilot.pause()
            app_reps.append(time.perf_counter() - t0)
        figures["smoothing key -> screen painted (ms)"] = statistics.median(app_reps) * 1e3
        w, h = sizes[0][1], sizes[0][2]
        figures["chart size (cells)"] = float(w * 1000 + h)

        # Live append: one point to one run's first tag.
        from tensorboardX import SummaryWriter

        await pilot.pause(0.5)
        target = sorted(c.tag for c in charts(app))[0]
        DRAW_TIMES.clear()
        before = {c.tag: c.renders for c in charts(app)}
        run_dir = sorted(p for p in root.iterdir() if p.is_dir())[0]
        t_write = time.perf_counter()
        with SummaryWriter(str(run_dir), flush_secs=1, filename_suffix=".bench") as writer:
            writer.add_scalar(target, 1.0, 10_000_000)
        chart = next(c for c in charts(app) if c.tag == target)
        await wait_until(pilot, lambda: chart.renders > before[target])
        figures["live append: write -> redrawn (ms)"] = (time.perf_counter() - t_write) * 1e3
        await pilot.pause(0.5)
        touched = [t for t, _ in DRAW_TIMES]
        figures["live append: charts redrawn"] = float(len(set(touched)))
        figures["live append: touched chart draw (ms)"] = (
            max((s for t, s in DRAW_TIMES if t == target), default=float("nan")) * 1e3
        )

        # Idle CPU: nothing written, nothing pressed.
        await pilot.pause(1.0)
        c0 = time.process_time()
        t0 = time.perf_counter()
        await pilot.pause(idle)
        figures["idle CPU (%)"] = (time.process_time() - c0) / (time.perf_counter() - t0) * 100
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "data" / "medium"
    parser.add_argument("--logdir", default=str(default))
    parser.add_argument("--size", default="160x50")
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    source = Path(args.logdir)
    if not source.is_dir():
        sys.exit(f"no logdir at {source}: python bench/gen_logdir.py medium")
    width, height = (int(v) for v in args.size.lower().split("x"))
    instrument()
    with tempfile.TemporaryDirectory(prefix="tuiboard-bench-ui-") as tmp:
        root = Path(tmp) / "logs"
        shutil.copytree(source, root)
        figures = asyncio.run(run(root, (width, height), args.idle))
    print(f"tuiboard app, headless, {args.size}, logdir {source}")
    for name, value in figures.items():
        if name == "chart size (cells)":
            print(f"  {name:48s} {int(value) // 1000}x{int(value) % 1000}")
        else:
            print(f"  {name:48s} {value:9.2f}")


if __name__ == "__main__":
    main()
