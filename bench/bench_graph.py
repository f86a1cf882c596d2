"""Benchmark of the Graph tab on a 10,000-node graph, against TensorBoard's graphs plugin.

Owns: writing the graph (tests/core/graph_writers.big_graph, the one the tests read: PyTorch's
add_graph shape, scoped names `ResNet/Sequential[layerK]/Bottleneck[B]/op.N`, each node with the
`attr` string and `_output_shapes`, data inputs from the previous node, a skip connection every
block, a control input now and then; TensorBoard's EventFileWriter)
to bench/data/graph/, and measuring
  1. tuiboard: `load_graph` (wire decoding + the scope tree with series: "tree ready"), then
     what the tab draws next: the first tree level's labels, the root's detail (op histogram),
     a search, a trace of the last node's inputs, the summary line; and, with --ui, the app
     itself (headless): from opening the Graph tab to the tree painted, the tab opened at
     the first frame (the graph still being read) and a second later (read ahead while the
     tab was hidden), next to the Overview tab's own switch for scale (Textual's part);
  2. TensorBoard: the graphs plugin's `graph_impl` for the run graph (what its /graph route
     serves: the GraphDef parsed, large attributes filtered, printed as pbtxt for the browser,
     which then builds its hierarchy in JavaScript), through its MultiplexerDataProvider; and
     protobuf's own (C) `GraphDef.FromString` alone, for scale.
Target: tree ready under 0.5 s. Prints figures and ratios; never a test.

Usage: python bench/bench_graph.py [--nodes 10000] [--repeat 5] [--ui] [--skip-tb]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tuiboard  # noqa: E402
from tuiboard.core.run_graphs import graph_sources, load_graph  # noqa: E402
from tuiboard.core.types import GRAPH  # noqa: E402
from tuiboard.render.graph import group_detail, group_label, summary_text  # noqa: E402
from tuiboard.render.theme import default_theme  # noqa: E402


def generate(root: str, nodes: int) -> str:
    """The run directory holding one graph of `nodes` nodes (kept when already written): the
    ResNet-like graph the tests read (tests/core/graph_writers.big_graph), written with
    TensorBoard's EventFileWriter."""
    from tests.core.graph_writers import big_graph, graph_event, write_events

    run = os.path.join(root, f"resnet_{nodes}")
    done = os.path.join(run, ".complete")
    if os.path.exists(done):
        return run
    write_events(Path(run), [graph_event(big_graph(nodes))])
    open(done, "w").close()
    return run


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bench_tuiboard(root: str, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    logdir = tuiboard.open(root)
    out["open logdir (read the event file)"] = time.perf_counter() - t0
    run = logdir.runs[0]
    source = graph_sources(run)[0]
    out["tree ready (decode + scope tree + series)"], lg = timed(
        lambda: load_graph(run, source), repeat
    )
    theme = default_theme()
    h = lg.hierarchy

    def first_level() -> list[Any]:
        return [group_label(h, -e - 1, theme) for e in h.children(0) if e < 0] + [
            group_label(h, -e - 1, theme) for e in h.children(-h.children(0)[0] - 1) if e < 0
        ]

    out["first two tree levels' labels"], _ = timed(first_level, repeat)
    out["root detail (op histogram)"], _ = timed(lambda: group_detail(lg, 0, 60, theme), repeat)
    out["summary line"], _ = timed(lambda: summary_text(lg, 120, theme), repeat)
    out["search /batch_norm"], hits = timed(lambda: h.search("batch_norm"), repeat)
    out["trace inputs of the last node"], traced = timed(
        lambda: h.trace_inputs([len(lg.graph) - 1]), repeat
    )
    print(
        f"  {len(lg.graph):,} nodes, {lg.graph.edge_count:,} edges, {len(h.groups):,} scopes "
        f"and series, {len(hits):,} search hits, {len(traced):,} traced"
    )
    return out


def bench_ui(root: str, settle: float) -> tuple[float, float]:
    """Seconds from opening the Graph tab (headless app, 160x50) to the tree painted, the tab
    opened `settle` seconds after the first frame (the hidden tab reads the graph ahead); and,
    for scale, from opening the Overview tab to it painted, in the same app just before."""
    from tuiboard.ui.app import TuiboardApp
    from tuiboard.ui.widgets.graph_view import GraphView

    async def run() -> tuple[float, float]:
        app = TuiboardApp(tuiboard.open(root), watch=False)
        async with app.run_test(size=(160, 50)) as pilot:
            for _ in range(50):
                await pilot.pause()
                if app.applied:
                    break
            await asyncio.sleep(settle)
            await pilot.pause()
            t = time.perf_counter()
            app.action_show_tab("overview")
            await pilot.pause()
            overview = time.perf_counter() - t
            app.action_show_tab("scalars")
            await pilot.pause()
            view = app.query_one(GraphView)
            t = time.perf_counter()
            app.action_show_tab("graph")
            while view.loads == 0 or not view.tree.root.children:
                await pilot.pause(0.005)
            await pilot.pause()
            return time.perf_counter() - t, overview

    return asyncio.run(run())


def bench_tensorboard(root: str, repeat: int) -> dict[str, float]:
    from tensorboard import context
    from tensorboard.backend.event_processing import (
        data_provider,
        plugin_event_multiplexer,
    )
    from tensorboard.compat.proto import graph_pb2
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.graph import graphs_plugin

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(root)
    mux.Reload()
    out["load (EventMultiplexer.Reload)"] = time.perf_counter() - t0
    provider = data_provider.MultiplexerDataProvider(mux, root)
    plugin = graphs_plugin.GraphsPlugin(base_plugin.TBContext(data_provider=provider))
    run = next(iter(mux.Runs()))
    ctx = context.RequestContext()

    def route() -> int:
        body, _ = plugin.graph_impl(ctx, run, None, False, "", 1024, "_too_large_attrs")
        return len(body)

    out["graph route (parse, filter attrs, pbtxt)"], size = timed(route, repeat)
    blob = mux.GetAccumulator(run).Graph().SerializeToString()
    out["GraphDef.FromString alone (C protobuf)"], _ = timed(
        lambda: graph_pb2.GraphDef.FromString(blob), repeat
    )
    print(f"  pbtxt served to the browser: {size / 1e6:.1f} MB")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", default=os.path.join(HERE, "data", "graph"))
    p.add_argument("--ui", action="store_true", help="also time the headless app")
    p.add_argument("--skip-tb", action="store_true")
    args = p.parse_args()
    root = generate(args.out, args.nodes)
    size = sum(len(v.data) for r in tuiboard.open(root).runs for v in r.values(GRAPH, "graph_def"))
    print(f"graph: {args.nodes:,} nodes, {size / 1e6:.1f} MB GraphDef ({root})")
    print("tuiboard:")
    ours = bench_tuiboard(root, args.repeat)
    for k, v in ours.items():
        print(f"  {k:<46} {v * 1000:8.1f} ms")
    if args.ui:
        at_once, _ = bench_ui(root, 0.0)
        later, overview = bench_ui(root, 1.0)
        print(f"  {'app: Graph tab at the first frame -> painted':<46} {at_once * 1000:8.1f} ms")
        print(f"  {'app: Graph tab a second later -> painted':<46} {later * 1000:8.1f} ms")
        print(f"  {'app: (Overview tab -> painted, for scale)':<46} {overview * 1000:8.1f} ms")
    if args.skip_tb:
        return
    print("TensorBoard:")
    tb = bench_tensorboard(root, args.repeat)
    for k, v in tb.items():
        print(f"  {k:<46} {v * 1000:8.1f} ms")
    ready = ours["tree ready (decode + scope tree + series)"]
    route = tb["graph route (parse, filter attrs, pbtxt)"]
    print(
        f"ratio: TensorBoard's graph route / tuiboard's tree ready = {route / ready:.1f}x "
        f"(the browser then still parses the pbtxt and builds its hierarchy)"
    )
    print(f"target: tree ready under 500 ms: {'met' if ready < 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
