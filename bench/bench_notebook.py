"""Benchmark of the `%tuiboard` board (tuiboard/notebook_board.py): what one notebook update
costs, and how big its HTML is.

Owns: measuring, on the built-in demo logdir and on N small runs (bench_summary.generate: 4 tags
x 50 steps each), the median and minimum wall time of
  1. the first board (summary table + charts) exported to HTML, a fresh Summarizer;
  2. a live update after one run grew by one point (the live view's kept Summarizer), which is
     what a notebook pays every `--interval` seconds while training writes;
and the HTML's size. Prints the figures; never part of the test run.

Usage: python bench/bench_notebook.py [--runs 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_summary import generate  # noqa: E402

import tuiboard  # noqa: E402
from tuiboard.demo import write_demo  # noqa: E402
from tuiboard.headless.summary import Summarizer  # noqa: E402
from tuiboard.notebook_board import BoardOptions, make_board, to_html  # noqa: E402
from tuiboard.writer import EventWriter  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> str:
    """ "median ms (min ms)" of `repeat` calls after a warm-up: on a shared machine the minimum
    is the cost, the median what a busy machine pays."""
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return f"{statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f})"


def measure(name: str, root: str, repeat: int) -> None:
    """Print the figures of one logdir."""
    logdir = tuiboard.open(root)
    opts = BoardOptions(logdirs=(root,))
    runs = logdir.runs

    def first() -> str:
        return to_html(make_board(logdir, opts, live=5.0, kernel=True).renderable, opts.width)

    html = first()
    summarizer = Summarizer()
    make_board(logdir, opts, live=5.0, kernel=True, summarizer=summarizer)
    grower = EventWriter(os.path.join(root, "zz-growing"))
    step = [0]

    def update() -> str:
        step[0] += 1
        grower.add_scalar("train/loss", 1.0 / step[0], step[0])
        grower.flush()
        logdir.refresh()
        board = make_board(logdir, opts, live=5.0, kernel=True, summarizer=summarizer)
        return to_html(board.renderable, opts.width)

    t_first = timed(first, repeat)
    t_update = timed(update, repeat)
    grower.close()
    print(
        f"{name}: {len(runs)} runs; first board {t_first}; live update {t_update}; "
        f"HTML {len(html) / 1024:.0f} KiB"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        demo = os.path.join(d, "demo")
        write_demo(demo, live=False)
        measure("demo", demo, args.repeat)
        many = os.path.join(d, "many")
        generate(many, args.runs)
        measure(f"{args.runs} runs", many, args.repeat)


if __name__ == "__main__":
    main()
