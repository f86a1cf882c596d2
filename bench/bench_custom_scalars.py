"""Benchmark of the Custom scalars dashboard on a sweep, against TensorBoard's custom_scalars
plugin backend on the same logdir. Prints figures; never a test.

Owns: generating the logdir (tuiboard.writer.EventWriter: R runs `sweep_XX/trial_YYYY`, each
with 40 scalar tags x S steps, a margin triple acc / acc_lo / acc_hi, and a layout; every run
writes the same "Losses" / "Metrics" / "Accuracy" categories, so merging skips duplicates, and
one run in ten adds a category of its own), and measuring
  1. the merged layout: tuiboard's `layout_of` over every run's layout tag, next to the plugin's
     `layout_impl` (what the dashboard asks for on load);
  2. one multiline chart's data ("loss/": 4 tags a run, so 4 R lines): tuiboard's
     MultilineSource.lines over every run, cold (regexes matched, series read from the store,
     smoothed) and warm (cached: what a redraw costs), next to the plugin's `scalars_impl`
     called once per run (the /scalars route the multiline card fetches run by run);
  3. one margin chart's data (R bands, value / lower / upper paired by step) cold and warm;
  4. drawing: the multiline chart (4 R lines) and the margin chart (R bands) at full-screen size
     (160x45 minus the table), through render/chart.py's draw_chart;
  5. `tuiboard plot --kind custom_scalars` (plot_blocks over every chart, 100x15).
Targets: a chart's data, warm (what every redraw asks), under 10 ms at R = 100; a full draw
costs what a Scalars chart of as many lines costs (the same render/chart.py; the UI thread draws
it only when a series it shows moved, a cursor move repaints one column); the layout is merged
once per change of a layout tag.

Usage: python bench/bench_custom_scalars.py [--runs 200] [--steps 500] [--repeat 5]
                                            [--out DIR] [--skip-tb]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tuiboard  # noqa: E402
from tuiboard.core.custom_scalars import CONFIG_TAG, layout_of  # noqa: E402
from tuiboard.core.types import CUSTOM_SCALARS  # noqa: E402
from tuiboard.render.chart import ChartOptions, draw_chart  # noqa: E402
from tuiboard.render.custom_scalars import plot_blocks  # noqa: E402
from tuiboard.render.plot_request import PlotRequest  # noqa: E402
from tuiboard.render.theme import default_theme, run_color  # noqa: E402
from tuiboard.writer import EventWriter  # noqa: E402

THEME = default_theme()
TAGS = (
    [f"loss/{k}" for k in ("train", "val", "aux0", "aux1")]
    + [f"metric_{i:02d}" for i in range(30)]
    + [f"sys/{k}" for k in ("gpu", "mem", "io", "net", "cpu", "temp")]
)
LAYOUT: dict[str, dict[str, tuple[str, list[str]]]] = {
    "Losses": {"all losses": ("Multiline", ["loss/"]), "train": ("Multiline", ["loss/train$"])},
    "Metrics": {"first ten": ("Multiline", [r"metric_0\d"]), "system": ("Multiline", ["sys/"])},
    "Accuracy": {"acc with interval": ("Margin", ["acc", "acc_lo", "acc_hi"])},
}


def generate(root: str, runs: int, steps: int) -> None:
    rng = np.random.default_rng(0)
    for r in range(runs):
        run_dir = os.path.join(root, f"sweep_{r // 50:02d}", f"trial_{r:04d}")
        layout = dict(LAYOUT)
        if r % 10 == 0:
            layout[f"Trial {r}"] = {"own": ("Multiline", ["metric_1"])}
        with EventWriter(run_dir, filename="events.out.tfevents.1.bench", start_time=1.7e9) as w:
            w.add_custom_scalars(layout, 1.7e9)
            t = np.arange(steps)
            base = np.exp(-t / (50 + r % 40))
            noise = rng.normal(0, 0.02, (len(TAGS), steps))
            for step in range(steps):
                wall = 1.7e9 + step
                for k, tag in enumerate(TAGS):
                    w.add_scalar(tag, float(base[step] * (1 + k / 40) + noise[k, step]), step, wall)
                acc = 1 - base[step]
                w.add_scalar("acc", float(acc), step, wall)
                w.add_scalar("acc_lo", float(acc - 0.05), step, wall)
                w.add_scalar("acc_hi", float(acc + 0.04), step, wall)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last result."""
    times = []
    out: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ms(s: float) -> str:
    return f"{s * 1000:9.1f} ms"


def tuiboard_figures(root: str, repeat: int) -> dict[str, float]:
    from tuiboard.ui.board import Board
    from tuiboard.ui.widgets.custom_scalars_view import chart_source

    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    logdir = tuiboard.open(root)
    figures["load (tuiboard.open)"] = time.perf_counter() - t0
    runs = logdir.runs

    def merge() -> Any:
        return layout_of((r.name, r.values(CUSTOM_SCALARS, CONFIG_TAG)) for r in runs).layout

    figures["merged layout"], layout = timed(merge, repeat)
    cats = {c.title: c for c in layout.categories}
    print(f"  layout: {len(layout.categories)} categories, {len(runs)} runs")

    def source_for(cat: str, title: str) -> Any:
        c = cats[cat]
        chart = next(ch for ch in c.charts if ch.title == title)
        return chart_source(c, chart)

    for name, (cat, title) in {
        "multiline 'loss/'": ("Losses", "all losses"),
        "margin": ("Accuracy", "acc with interval"),
    }.items():
        colds = []
        for _ in range(repeat):
            board = Board(logdir, THEME)
            source = source_for(cat, title)
            t0 = time.perf_counter()
            lines = source.lines(board)
            colds.append(time.perf_counter() - t0)
        figures[f"{name}: data, cold"] = statistics.median(colds)
        figures[f"{name}: data, warm"], lines = timed(lambda s=source, b=board: s.lines(b), repeat)
        print(f"  {name}: {len(lines)} lines")
        series = [line.series for line in lines]
        opts = ChartOptions(title=title)
        figures[f"{name}: full draw 158x35"], _ = timed(
            lambda s=series, o=opts: draw_chart(s, o, 158, 35, THEME), repeat
        )
    theme = default_theme(color=False)
    req = PlotRequest(
        runs=runs,
        tag_re=None,
        step=None,
        width=100,
        height=15,
        theme=theme,
        colours={r.name: run_color(theme, i) for i, r in enumerate(runs)},
    )
    figures["plot --kind custom_scalars"], blocks = timed(lambda: plot_blocks(req), 1)
    lines = sum(b.plain.count("Matches (") for b in blocks)
    total = sum(int(b.plain.split("Matches (")[1].split(")")[0]) for b in blocks)
    print(f"  plot: {len(blocks)} charts, {total} lines ({lines} matches lists)")
    return figures


def tensorboard_figures(root: str, repeat: int) -> dict[str, float]:
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.custom_scalar import custom_scalars_plugin
    from tensorboard.plugins.scalar import scalars_plugin

    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    multiplexer = pem.EventMultiplexer(tensor_size_guidance={"scalars": 0, "tensors": 0})
    multiplexer.AddRunsFromDirectory(root)
    multiplexer.Reload()
    figures["load (EventMultiplexer)"] = time.perf_counter() - t0
    provider = data_provider.MultiplexerDataProvider(multiplexer, root)
    instances: dict[str, Any] = {}
    ctx = base_plugin.TBContext(
        logdir=root, data_provider=provider, multiplexer=multiplexer,
        plugin_name_to_instance=instances,
    )  # fmt: skip
    instances["scalars"] = scalars_plugin.ScalarsPlugin(ctx)
    plugin = custom_scalars_plugin.CustomScalarsPlugin(ctx)
    request = context.RequestContext()
    figures["merged layout"], _ = timed(lambda: plugin.layout_impl(request, ""), repeat)
    runs = sorted(multiplexer.Runs())

    def per_run(regex: str) -> int:
        return sum(
            len(plugin.scalars_impl(request, run, regex, "")["tag_to_events"]) for run in runs
        )

    figures["multiline 'loss/': data"], n = timed(lambda: per_run("loss/"), repeat)
    print(f"  TensorBoard multiline: {n} series")
    figures["margin: data"], n = timed(lambda: per_run(r"(acc)|(acc_lo)|(acc_hi)"), repeat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", help="keep the generated logdir here (default: a temp dir)")
    parser.add_argument("--skip-tb", action="store_true")
    args = parser.parse_args()
    root = args.out or tempfile.mkdtemp(prefix="tuiboard-bench-cs-")
    try:
        if not os.path.isdir(root) or not os.listdir(root):
            t0 = time.perf_counter()
            generate(root, args.runs, args.steps)
            print(f"wrote {args.runs} runs x {len(TAGS) + 3} tags x {args.steps} steps "
                  f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        print(f"load average: {os.getloadavg()[0]:.1f}")
        ours = tuiboard_figures(root, args.repeat)
        for k, v in ours.items():
            print(f"tuiboard     {k:34s}{ms(v)}")
        if args.skip_tb:
            return
        theirs = tensorboard_figures(root, args.repeat)
        for k, v in theirs.items():
            print(f"TensorBoard  {k:34s}{ms(v)}")
        pairs = {
            "merged layout": ("merged layout", "merged layout"),
            "multiline data (cold)": ("multiline 'loss/': data, cold", "multiline 'loss/': data"),
            "multiline data (warm)": ("multiline 'loss/': data, warm", "multiline 'loss/': data"),
            "margin data (cold)": ("margin: data, cold", "margin: data"),
            "margin data (warm)": ("margin: data, warm", "margin: data"),
        }
        for name, (a, b) in pairs.items():
            r = theirs[b] / ours[a]
            say = f"{r:9.1f}x faster" if r >= 1 else f"{1 / r:9.1f}x slower"
            print(f"ratio        {name:34s}{say} than TensorBoard")
    finally:
        if not args.out:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
