"""Benchmark of the HParams table on a sweep of 1,000 sessions, against TensorBoard's hparams
plugin backend on the same logdir.

Owns: generating the logdir (tuiboard.writer.EventWriter, which writes the hparams plugin's
experiment / session_start / session_end tags as TensorBoard's summaries do: 1,000 runs
`sweep_XX/trial_YYYY`, each with 24 hparams (numbers, ints, strings, bools; 3 constant),
6 metric scalars x 20 steps, a session_end with a mix of statuses), and measuring
  1. tuiboard: loading the logdir, `build_table`, `order` by every column both ways, `filter`
     (regex + ranges + statuses), `to_csv`, and drawing (the table of every row, parallel
     coordinates and a scatter of 1,000 polylines / points);
  2. TensorBoard: `EventMultiplexer` load + `MultiplexerDataProvider`, then its plugin's
     `list_session_groups.Handler(...).run()` (what the dashboard asks for every sort, filter
     and page) without a sort, sorted by an hparam, and filtered; printed next to ours with
     the ratio.
Targets: sort or filter of a 1,000-run table under 50 ms. Prints figures; never a test.

Usage: python bench/bench_hparams.py [--runs 1000] [--repeat 5] [--out DIR] [--skip-tb]
"""

from __future__ import annotations

import argparse
import io
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
from tuiboard.core.hparams import build_table, to_csv  # noqa: E402
from tuiboard.writer import EventWriter  # noqa: E402

METRICS = ("val/loss", "val/acc", "train/loss", "train/acc", "test/f1", "throughput")
STEPS = 20


def trial_hparams(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "lr": float(10 ** rng.uniform(-5, -1)),
        "weight_decay": float(10 ** rng.uniform(-6, -2)),
        "dropout": float(rng.uniform(0, 0.5)),
        "label_smoothing": float(rng.choice([0.0, 0.05, 0.1])),
        "warmup_steps": int(rng.choice([0, 500, 1000, 2000])),
        "batch_size": int(rng.choice([32, 64, 128, 256])),
        "layers": int(rng.integers(2, 25)),
        "hidden": int(rng.choice([256, 512, 768, 1024])),
        "heads": int(rng.choice([4, 8, 16])),
        "beta1": float(rng.uniform(0.8, 0.95)),
        "beta2": float(rng.choice([0.98, 0.99, 0.999])),
        "grad_clip": float(rng.choice([0.5, 1.0, 5.0])),
        "ema_decay": float(rng.uniform(0.99, 0.9999)),
        "mixup_alpha": float(rng.uniform(0, 1)),
        "optimizer": str(rng.choice(["adam", "adamw", "sgd", "lamb", "lion"])),
        "scheduler": str(rng.choice(["cosine", "linear", "step", "constant"])),
        "activation": str(rng.choice(["relu", "gelu", "silu"])),
        "init": str(rng.choice(["xavier", "kaiming", "normal"])),
        "amp": bool(rng.integers(2)),
        "nesterov": bool(rng.integers(2)),
        "tie_embeddings": bool(rng.integers(2)),
        "dataset": "imagenet-1k",
        "seed": 0,
        "epochs": 90,
    }


def generate(root: str, runs: int, seed: int = 0) -> None:
    """`runs` sessions under root/sweep_XX/trial_YYYY (idempotent: an existing root is kept)."""
    done = os.path.join(root, ".complete")
    if os.path.exists(done):
        return
    rng = np.random.default_rng(seed)
    start = time.time() - 86400
    for i in range(runs):
        d = os.path.join(root, f"sweep_{i // 50:02d}", f"trial_{i:04d}")
        w = EventWriter(d, filename="events.out.tfevents.0000000000.bench.0.0", start_time=start)
        w.add_hparams(trial_hparams(rng), METRICS, group_name=f"trial-{i}", wall_time=start)
        curve = np.exp(-np.linspace(0, rng.uniform(1, 4), STEPS))
        for s in range(STEPS):
            t = start + s
            w.add_scalar("val/loss", float(curve[s] + rng.uniform(0, 0.1)), s, wall_time=t)
            w.add_scalar("val/acc", float(1 - curve[s] / 2), s, wall_time=t)
            w.add_scalar("train/loss", float(curve[s]), s, wall_time=t)
            w.add_scalar("train/acc", float(1 - curve[s] / 3), s, wall_time=t)
            w.add_scalar("test/f1", float(rng.uniform(0.3, 0.9)), s, wall_time=t)
            w.add_scalar("throughput", float(rng.uniform(800, 1200)), s, wall_time=t)
        status = 1 if i % 10 else int(rng.choice([2, 3, 0]))
        w.end_hparams(status, wall_time=start + STEPS)
        w.close()
    open(done, "w").close()


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median, min) seconds of `fn` over `repeat` calls, and its last result."""
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), out


def ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


def bench_tuiboard(root: str, repeat: int) -> tuple[dict[str, float], set[str]]:
    from tuiboard.render.hparams import hparams_table_text, parallel_coordinates, scatter
    from tuiboard.render.theme import default_theme

    figures: dict[str, float] = {}
    t = time.perf_counter()
    ld = tuiboard.open(root)
    figures["load"] = time.perf_counter() - t
    print(f"tuiboard load ({len(ld.runs)} runs): {figures['load']:.3f} s")
    med, best, table = timed(lambda: build_table(ld), repeat)
    figures["build"] = med
    print(
        f"build_table: {ms(med)} (min {ms(best)}), {len(table)} rows x "
        f"{len(table.columns)} columns ({len(table.hparam_columns)} hparams)"
    )
    sorts = []
    for c in (table.run_column, table.status_column, *table.columns):
        for desc in (False, True):
            sorts.append(timed(lambda c=c, d=desc: table.order(c.name, d), repeat)[0])
    figures["sort"] = max(sorts)
    typical = statistics.median(sorts)
    print(f"order, {len(sorts)} sorts (every column both ways): median {ms(typical)}, "
          f"slowest {ms(max(sorts))}")  # fmt: skip

    def filt() -> np.ndarray:
        # The same filter as TensorBoard's below.
        return table.filter({"optimizer": "^adam"}, {"lr": (1e-4, 1e-2), "val/acc": (0.6, None)})

    med, best, mask = timed(filt, repeat)
    figures["filter"] = med
    passed = {table.rows[i].run for i in np.flatnonzero(mask)}
    print(f"filter (a regex, 2 ranges): {ms(med)} (min {ms(best)}), {len(passed)} rows pass")
    med, best, mask = timed(
        lambda: table.filter(
            {"optimizer": "^adam", "run": "sweep_0[0-4]"},
            {"lr": (1e-4, 1e-2), "val/acc": (0.6, None)},
            {"success", "running"},
        ),
        repeat,
    )
    print(f"filter (2 regexes, 2 ranges, statuses): {ms(med)} (min {ms(best)}), "
          f"{int(mask.sum())} rows pass")  # fmt: skip
    order = table.order("val/loss")
    med, best, _ = timed(lambda: order[filt()[order]], repeat)
    print(f"filter + sorted view: {ms(med)} (min {ms(best)})")
    med, best, _ = timed(lambda: to_csv(table, order, io.StringIO()), repeat)
    print(f"to_csv of every row: {ms(med)} (min {ms(best)})")
    theme = default_theme(True)
    rows = np.arange(len(table))
    med, _, _ = timed(lambda: hparams_table_text(table, rows[:50], 200, theme, colours={}), repeat)
    print(f"hparams_table_text, 50 visible rows at 200 cells: {ms(med)}")
    med, _, _ = timed(lambda: hparams_table_text(table, rows, 200, theme, colours={}), repeat)
    print(f"hparams_table_text, all {len(rows)} rows: {ms(med)}")
    cols = [c.name for c in table.hparam_columns[:7]] + ["val/loss"]
    med, _, _ = timed(lambda: parallel_coordinates(table, rows, cols, 200, 50, theme, {}), repeat)
    print(f"parallel_coordinates, {len(rows)} rows x {len(cols)} axes at 200x50: {ms(med)}")
    med, _, _ = timed(lambda: scatter(table, rows, "lr", "val/loss", 120, 30, theme, {}), repeat)
    print(f"scatter, {len(rows)} points at 120x30: {ms(med)}")
    return figures, passed


def bench_tensorboard(root: str, repeat: int) -> tuple[dict[str, float], set[str]]:
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups

    figures: dict[str, float] = {}
    t = time.perf_counter()
    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(root)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, root)
    ctx = backend_context.Context(base_plugin.TBContext(data_provider=provider, logdir=root))
    figures["load"] = time.perf_counter() - t
    print(f"TensorBoard EventMultiplexer load: {figures['load']:.3f} s")
    statuses = [0, 1, 2, 3]

    def run(col_params: list[Any]) -> Any:
        request = api_pb2.ListSessionGroupsRequest(
            allowed_statuses=statuses, col_params=col_params, start_index=0, slice_size=100_000
        )
        return list_session_groups.Handler(context.RequestContext(), ctx, "", request).run()

    med, best, response = timed(lambda: run([]), repeat)
    figures["build"] = med
    print(f"TensorBoard list_session_groups, no sort: {ms(med)} (min {ms(best)}), "
          f"{len(response.session_groups)} groups")  # fmt: skip
    desc = api_pb2.ORDER_DESC
    by_lr = [api_pb2.ColParams(hparam="lr", order=desc)]
    med, best, _ = timed(lambda: run(by_lr), repeat)
    figures["sort"] = med
    print(f"TensorBoard list_session_groups, sorted by lr: {ms(med)} (min {ms(best)})")
    by_metric = [api_pb2.ColParams(metric=api_pb2.MetricName(tag="val/loss"), order=desc)]
    med, best, _ = timed(lambda: run(by_metric), repeat)
    print(f"TensorBoard list_session_groups, sorted by a metric: {ms(med)} (min {ms(best)})")
    filt = [
        api_pb2.ColParams(hparam="optimizer", filter_regexp="^adam"),
        api_pb2.ColParams(
            hparam="lr", filter_interval=api_pb2.Interval(min_value=1e-4, max_value=1e-2)
        ),
        api_pb2.ColParams(
            metric=api_pb2.MetricName(tag="val/acc"),
            filter_interval=api_pb2.Interval(min_value=0.6, max_value=1e9),
        ),
    ]
    med, best, response = timed(lambda: run(filt), repeat)
    figures["filter"] = med
    print(f"TensorBoard list_session_groups, filtered: {ms(med)} (min {ms(best)}), "
          f"{len(response.session_groups)} groups")  # fmt: skip
    return figures, {s.name for g in response.session_groups for s in g.sessions}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", help="where to write the logdir (default: a temporary directory)")
    ap.add_argument("--skip-tb", action="store_true", help="don't time TensorBoard's backend")
    args = ap.parse_args()

    root = args.out or tempfile.mkdtemp(prefix="tuiboard-bench-hparams-")
    try:
        t = time.perf_counter()
        generate(root, args.runs)
        print(f"logdir: {args.runs} sessions x 24 hparams x {len(METRICS)} metrics "
              f"({time.perf_counter() - t:.1f} s to write): {root}")  # fmt: skip
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        ours, our_rows = bench_tuiboard(root, args.repeat)
        verdict = "ok" if max(ours["sort"], ours["filter"]) < 0.05 else "OVER the 50 ms target"
        print(f"sort / filter against the 50 ms target: {verdict}")
        if args.skip_tb:
            return
        tb, tb_rows = bench_tensorboard(root, args.repeat)
        print("ratios (TensorBoard / tuiboard):")
        print(f"  load: {tb['load'] / ours['load']:.1f}x")
        print(f"  table (list_session_groups vs build_table): {tb['build'] / ours['build']:.1f}x")
        print(f"  sort (sorted list_session_groups vs slowest order): "
              f"{tb['sort'] / ours['sort']:.0f}x")  # fmt: skip
        print(f"  filter: {tb['filter'] / ours['filter']:.0f}x")
        same = "the same" if tb_rows == our_rows else "DIFFERENT"
        print(f"rows passing the filter: {same} sessions in both")
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
