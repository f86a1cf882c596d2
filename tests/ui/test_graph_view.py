"""The Graph tab through Pilot, on graphs written with TensorBoard's protos as PyTorch, Keras and
TF write them: the lazy scope tree (10,000 nodes), search and jumps, following an input, trace
inputs, series grouping, switching graphs, Keras layers, step stats, live updates."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.compat.proto import graph_pb2
from textual.widgets import OptionList, Static, TabbedContent

import tuiboard
from tests.core import graph_writers as W
from tests.ui.conftest import make_app, started
from tests.ui.test_live import wait_for
from tuiboard.core.graph_tree import SERIES, group_of_entry
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.graph_view import GraphView
from tuiboard.ui.widgets.scope_tree import CHUNK

pytestmark = pytest.mark.anyio
SIZE = (160, 50)


def graph_view(app: TuiboardApp) -> GraphView:
    v = app.view("graph")
    assert isinstance(v, GraphView)
    return v


async def open_graph(pilot: object, app: TuiboardApp, run: str | None = None) -> GraphView:
    """The Graph tab, showing `run`'s first graph once it is loaded."""
    view = graph_view(app)
    app.action_show_tab("graph")
    await wait_for(pilot, lambda: view.loaded is not None)  # type: ignore[arg-type]
    while run is not None and view.current is not None and view.current.run != run:
        view.action_cycle_graph(1)
        await wait_for(
            pilot,  # type: ignore[arg-type]
            lambda: view.loaded is not None and view.loaded.source == view.current,
        )
    return view


def detail_text(view: GraphView) -> str:
    body = view.query_one("#graph-detail", Static).render()
    return str(getattr(body, "plain", body))


def cursor_name(view: GraphView) -> str:
    node = view.tree.cursor_node
    assert node is not None and node.data is not None and view.loaded is not None
    e = node.data
    h = view.loaded.hierarchy
    return h.graph.names[e] if e >= 0 else h.groups[group_of_entry(e)].name


@pytest.fixture
def torch_root(tmp_path: Path) -> Path:
    W.write_events(
        tmp_path / "torch",
        [
            W.graph_event(W.torch_cnn_graph()),
            W.run_metadata_event("prof", W.profiled_run_metadata()),
            W.run_metadata_event("later", W.profiled_run_metadata(), step=5),
        ],
    )
    return tmp_path


async def test_the_tree_is_built_lazily_for_ten_thousand_nodes(tmp_path: Path) -> None:
    W.write_events(tmp_path / "big", [W.graph_event(W.big_graph())])
    async with make_app(tuiboard.open(str(tmp_path))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert "graph" in app.shown_tabs()
        view = await open_graph(pilot, app)
        tree = view.tree
        assert len(view.loaded.graph) == 10_000  # type: ignore[union-attr]
        # The one top scope opens by itself: ResNet and its 25 stages, nothing deeper.
        assert cursor_name(view) == "ResNet"
        assert len(tree.nodes_by_entry) == 26
        await pilot.press("down", "right")
        assert cursor_name(view) == "ResNet/Sequential[layer0]"
        await pilot.pause()
        assert len(tree.nodes_by_entry) == 26 + 50
        assert "400 nodes" in detail_text(view)
        view.follow(view.loaded.graph.index[view.loaded.graph.names[-1]])  # type: ignore[union-attr]
        await pilot.pause()
        assert cursor_name(view).endswith("/relu.9999")
        assert len(tree.nodes_by_entry) < 200
        assert app.focused is tree


async def test_a_long_scope_is_added_in_chunks(tmp_path: Path) -> None:
    gd = graph_pb2.GraphDef()
    for k in range(1_200):
        gd.node.add(name=f"flat/n{k}x", op="Op")
    W.write_events(tmp_path / "flat", [W.graph_event(gd)])
    async with make_app(tuiboard.open(str(tmp_path))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        scope = view.tree.root.children[0]
        assert len(scope.children) == CHUNK + 1
        assert str(scope.children[-1].label) == f"… {1_200 - CHUNK} more"
        view.tree.move_cursor(scope.children[-1])
        await pilot.press("enter")
        assert len(scope.children) == 2 * CHUNK + 1
        view.follow(view.loaded.graph.index["flat/n1150x"])  # type: ignore[union-attr]
        await pilot.pause()
        assert cursor_name(view) == "flat/n1150x"
        assert len(scope.children) == 1_200


async def test_search_jumps_to_matches(torch_root: Path) -> None:
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        await pilot.press("slash", *"linear", "enter")
        assert view.pattern == "linear" and len(view.matches) == 3
        assert cursor_name(view) == "Net/Linear[fc1]/input.11"
        assert app.focused is view.tree
        await pilot.press("n")
        assert cursor_name(view) == "Net/Linear[fc2]/input.12"
        await pilot.press("N", "N")
        assert cursor_name(view) == "Net/Linear[fc3]/input.13"  # wraps around
        hint = view.query_one("#graph-hint", Static).render()
        assert "/linear 3/3 matches" in str(getattr(hint, "plain", hint))
        label = view.entry_label(view.loaded.graph.index["Net/Linear[fc2]/input.12"])  # type: ignore[union-attr]
        assert label is not None and "reverse" in str(label.spans[0].style)
        await pilot.press("slash", *"io node", "enter")  # by op
        assert cursor_name(view) == "input/input.1"
        await pilot.press("slash", *"conv1]/26", "enter")  # inside a folded series
        assert cursor_name(view) == "Net/Conv2d[conv1]/26"
        series = view.tree.cursor_node.parent  # type: ignore[union-attr]
        assert series is not None and str(series.label) == "[23-28]" and series.is_expanded
        await pilot.press("slash", "escape")  # Esc clears the search box
        assert not view.query_one("#graph-search").display


async def test_enter_follows_an_input(torch_root: Path) -> None:
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        g = view.loaded.graph  # type: ignore[union-attr]
        view.follow(g.index["Net/input.5"])
        await pilot.pause()
        assert detail_text(view).startswith("Net/input.5\nop aten::relu")
        await pilot.press("enter")  # on a node: to its inputs and outputs
        links = view.query_one("#graph-links", OptionList)
        assert app.focused is links
        first = str(links.get_option_at_index(links.highlighted or 0).prompt.plain)
        assert first.endswith("/input.3\u00a0\u00a0aten::_convolution")  # cut at the left
        await pilot.press("enter")
        assert cursor_name(view) == "Net/Conv2d[conv1]/input.3"
        assert app.focused is view.tree
        assert "Inputs (9)" in [str(o.prompt.plain) for o in links.options if o.disabled]
        await pilot.press("enter", "down", "down", "enter")  # third input: the conv's bias
        assert cursor_name(view) == "Net/Conv2d[conv1]/bias/bias.1"
        await pilot.press("enter")  # bias has no inputs: the list starts at its outputs
        await pilot.press("enter")
        assert cursor_name(view) == "Net/Conv2d[conv1]/input.3"


async def test_trace_inputs_highlights_and_lists(torch_root: Path) -> None:
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        g = view.loaded.graph  # type: ignore[union-attr]
        view.follow(g.index["Net/Linear[fc3]/input.13"])
        await pilot.press("t")
        traced = {g.names[i] for i in view.traced}
        assert traced == set(g.names) - {"output/output.1"}  # everything before the output
        root_label = view.entry_label(view.tree.root.children[0].data)
        assert root_label is not None and "◆16" in root_label.plain  # 16 of Net's nodes
        links = view.query_one("#graph-links", OptionList)
        heads = [str(o.prompt.plain) for o in links.options if o.disabled]
        assert "Traced inputs (17)" in heads
        h = view.loaded.hierarchy  # type: ignore[union-attr]
        conv1 = next(gid for gid, grp in enumerate(h.groups) if grp.name == "Net/Conv2d[conv1]")
        line = view.tree.nodes_by_entry[-(conv1 + 1)].line
        assert view.tree.scroll_offset.y == 0
        assert "Conv2d[conv1] ◆9  9 ·" in view.tree.render_line(line).text
        await pilot.press("t")  # again: off
        assert view.trace_from is None and len(view.traced) == 0


async def test_series_can_be_ungrouped(torch_root: Path) -> None:
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)

        def series() -> list[str]:
            h = view.loaded.hierarchy  # type: ignore[union-attr]
            return [g.name for g in h.groups if g.kind == SERIES]

        assert series() == ["Net/Conv2d[conv1]/[23-28]"]
        await pilot.press("g")
        await wait_for(pilot, lambda: not view.series and series() == [])
        await pilot.press("g")
        await wait_for(pilot, lambda: series() == ["Net/Conv2d[conv1]/[23-28]"])


async def test_graphs_of_the_shown_runs(torch_root: Path) -> None:
    W.write_events(torch_root / "keras", [W.keras_event(W.keras3_mnist_convnet())])
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        assert [(s.run, s.label) for s in view.sources] == [
            ("keras", "Keras model keras"),
            ("torch", "op graph"),
        ]
        assert view.loaded.source.run == "keras"  # type: ignore[union-attr]
        # Keras: the model opens; its detail is the layer table.
        assert cursor_name(view) == "functional"
        assert "Total params: 34,826" in detail_text(view)
        await pilot.press("down", "down")
        assert cursor_name(view) == "functional/conv2d"
        text = detail_text(view)
        assert "output shape (None, 26, 26, 32)" in text and "params 320" in text
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: view.loaded.source.run == "torch")  # type: ignore[union-attr]
        app.board.selection.hidden.add("torch")
        app.view_changed(runs_changed=True)
        await pilot.pause()
        assert [s.run for s in view.sources] == ["keras"]
        await wait_for(pilot, lambda: view.loaded.source.run == "keras")  # type: ignore[union-attr]


async def test_node_stats_from_run_metadata(torch_root: Path) -> None:
    async with make_app(tuiboard.open(str(torch_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        assert view.stats_tag == "later"  # tags sorted; both carry node stats
        view.follow(view.loaded.graph.index["Net/Conv2d[conv1]/input.3"])  # type: ignore[union-attr]
        await pilot.pause()
        assert "Node stats (later)\ncompute time 350 µs\nmemory 55.0 KiB" in detail_text(view)
        await pilot.press("m")
        assert view.stats_tag == "prof" and "Node stats (prof)" in detail_text(view)


async def test_a_new_graph_replaces_the_shown_one_keeping_the_selection(tmp_path: Path) -> None:
    W.write_events(tmp_path / "torch", [W.graph_event(W.torch_cnn_graph())])
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        view = await open_graph(pilot, app)
        view.follow(view.loaded.graph.index["Net/x.1"])  # type: ignore[union-attr]
        bigger = W.torch_cnn_graph()
        bigger.node.add(name="Net/extra.1", op="aten::relu", input=["Net/x.1"])
        W.write_events(tmp_path / "torch", [W.graph_event(bigger, step=1)])
        app.apply_changes(logdir.refresh())
        await wait_for(pilot, lambda: len(view.loaded.graph) == 19)  # type: ignore[union-attr]
        assert cursor_name(view) == "Net/x.1"
        assert view.loaded.step == 1  # type: ignore[union-attr]


async def test_no_graph_no_tab(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    with SummaryWriter(str(tmp_path / "run")) as w:
        w.add_scalar("loss", 1.0, 0)
    async with make_app(tuiboard.open(str(tmp_path))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert "graph" not in app.shown_tabs()
        app.action_show_tab("graph")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "scalars"
