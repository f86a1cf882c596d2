"""The Graph dashboard's drawings as strings at fixed widths: the scope tree `plot --kind graph`
prints, a node's and a scope's detail, attribute values, the op histogram, the Keras layer
table; hostile names stay inert."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from tensorboard.compat.proto import graph_pb2

import tuiboard
from tests.core import graph_writers as W
from tuiboard.core.graph_attrs import AttrValue, Shape, TensorSummary
from tuiboard.core.keras_model import parse_keras_model
from tuiboard.core.run_graphs import LoadedGraph, graph_sources, load_graph
from tuiboard.render import graph as R
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.theme import default_theme

PLAIN = default_theme(color=False)


@pytest.fixture
def torch_graph(tmp_path: Path) -> LoadedGraph:
    W.write_events(
        tmp_path / "torch",
        [
            W.graph_event(W.torch_cnn_graph()),
            W.run_metadata_event("prof", W.profiled_run_metadata()),
        ],
    )
    run = tuiboard.open(str(tmp_path)).run("torch")
    assert run is not None
    return load_graph(run, graph_sources(run)[0])


def test_scope_tree_to_a_depth(torch_graph: LoadedGraph) -> None:
    text = R.scope_tree(torch_graph, 2, 80, PLAIN).plain
    assert text.split("\n") == [
        line.ljust(80)
        for line in [
            "torch · op graph · 18 nodes · 17 edges · step 0 · ops: prim::Constant 6, aten::…",
            "├─ Net  16 · prim::Constant 6, aten::linear 3, aten::_convolution 2, +4 ops",
            "│  ├─ Conv2d[conv1]  9 · prim::Constant 6, prim::GetAttr 2, aten::_convolution 1",
            "│  ├─ input.5  aten::relu",
            "│  ├─ MaxPool2d[pool]  1 · aten::max_pool2d 1",
            "│  ├─ Conv2d[conv2]  1 · aten::_convolution 1",
            "│  ├─ x.1  aten::view",
            "│  ├─ Linear[fc1]  1 · aten::linear 1",
            "│  ├─ Linear[fc2]  1 · aten::linear 1",
            "│  └─ Linear[fc3]  1 · aten::linear 1",
            "├─ input  1 · IO Node 1",
            "│  └─ input.1  IO Node",
            "└─ output  1 · IO Node 1",
            "   └─ output.1  IO Node",
        ]
    ]
    deeper = R.scope_tree(torch_graph, 3, 80, PLAIN).plain.split("\n")
    assert deeper[3:8] == [
        line.ljust(80)
        for line in [
            "│  │  ├─ [23-28]  6 × prim::Constant",
            "│  │  ├─ weight  1 · prim::GetAttr 1",
            "│  │  ├─ bias  1 · prim::GetAttr 1",
            "│  │  └─ input.3  aten::_convolution",
            "│  ├─ input.5  aten::relu",
        ]
    ]
    assert R.scope_tree(torch_graph, 0, 80, PLAIN).plain.count("\n") == 0


def test_scope_tree_lists_a_few_ops_per_scope() -> None:
    gd = graph_pb2.GraphDef()
    for k in range(12):
        gd.node.add(name=f"s/n{k}x", op="Op")
    from tuiboard.core.graph import decode_graph_def
    from tuiboard.core.graph_tree import build_hierarchy
    from tuiboard.core.run_graphs import OP, GraphSource

    g = decode_graph_def(gd.SerializeToString())
    lg = LoadedGraph(GraphSource("r", OP, "graph", "graph_def"), g, build_hierarchy(g), 0)
    lines = R.scope_tree(lg, 2, 40, PLAIN, ops_shown=3).plain.split("\n")
    assert [line.rstrip() for line in lines[1:]] == [
        "└─ s  12 · Op 12",
        "   ├─ n0x  Op",
        "   ├─ n1x  Op",
        "   ├─ n2x  Op",
        "   └─ … 9 more ops",
    ]


def test_node_detail_and_links(torch_graph: LoadedGraph) -> None:
    g = torch_graph.graph
    i = g.index["Net/Conv2d[conv1]/input.3"]
    assert R.node_detail(torch_graph, i, PLAIN, "prof").plain.split("\n") == [
        "Net/Conv2d[conv1]/input.3",
        "op aten::_convolution",
        "output shapes 4×6×24×24",
        "Attributes",
        "  attr '{}'",
        "Node stats (prof)",
        "compute time 350 µs",
        "memory 55.0 KiB",
        "device /job:localhost/replica:0/task:0/device:CPU:0",
        "outputs 4×6×24×24",
    ]
    assert "Node stats" not in R.node_detail(torch_graph, i, PLAIN, None).plain
    ins, outs = R.link_rows(torch_graph, i)
    assert ins[:3] == [
        (g.index["input/input.1"], "input/input.1  IO Node"),
        (
            g.index["Net/Conv2d[conv1]/weight/weight.1"],
            "Net/Conv2d[conv1]/weight/weight.1  prim::GetAttr",
        ),
        (g.index["Net/Conv2d[conv1]/bias/bias.1"], "Net/Conv2d[conv1]/bias/bias.1  prim::GetAttr"),
    ]
    assert len(ins) == 9
    assert outs == [(g.index["Net/input.5"], "Net/input.5  aten::relu")]


def test_links_show_ports_control_and_missing_inputs() -> None:
    gd = graph_pb2.GraphDef()
    gd.node.add(name="a", op="Split")
    gd.node.add(name="b", op="Add", input=["a:1", "^a", "gone:0", "a"])
    from tuiboard.core.graph import decode_graph_def
    from tuiboard.core.graph_tree import build_hierarchy
    from tuiboard.core.run_graphs import OP, GraphSource

    g = decode_graph_def(gd.SerializeToString())
    lg = LoadedGraph(GraphSource("r", OP, "graph", "graph_def"), g, build_hierarchy(g), 0)
    ins, _ = R.link_rows(lg, 1)
    assert ins == [
        (0, "a:1  Split"),
        (0, "^a  Split"),
        (-1, "gone  (not in the graph)"),
        (0, "a  Split"),
    ]
    assert R.link_rows(lg, 0)[1] == [(1, "b ← :1  Add"), (1, "^b  Add"), (1, "b  Add")]


def test_scope_detail(torch_graph: LoadedGraph) -> None:
    h = torch_graph.hierarchy
    conv1 = next(gid for gid, g in enumerate(h.groups) if g.name == "Net/Conv2d[conv1]")
    assert R.group_detail(torch_graph, conv1, 40, PLAIN, "prof").plain.split("\n") == [
        "Net/Conv2d[conv1]",
        "name scope 9 nodes",
        "Node stats (prof)",
        "compute time 350 µs",
        "memory 55.0 KiB",
        "Op types",
        "prim::Consta… ███████████████████████ 6 ",
        "prim::GetAttr ███████▋                2 ",
        "aten::_convo… ███▉                    1 ",
    ]
    series = next(gid for gid, g in enumerate(h.groups) if g.kind == "series")
    assert R.group_detail(torch_graph, series, 40, PLAIN).plain.split("\n")[:2] == [
        "Net/Conv2d[conv1]/[23-28]",
        "series of prim::Constant 6 nodes",
    ]
    root = R.group_detail(torch_graph, 0, 40, PLAIN).plain.split("\n")
    assert root[:3] == ["torch · op graph", "graph 18 nodes", "edges 17 (0 control)"]


def test_summary_line_fits_the_width(torch_graph: LoadedGraph) -> None:
    for width in (20, 60, 200):
        line = R.summary_text(torch_graph, width, default_theme())
        assert cell_len(line.plain) == width and "\n" not in line.plain
    assert R.summary_text(torch_graph, 200, PLAIN).plain.rstrip() == (
        "torch · op graph · 18 nodes · 17 edges · step 0 · ops: prim::Constant 6, "
        "aten::linear 3, IO Node 2, aten::_convolution 2, +4 ops"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (AttrValue("s", b"SAME"), "'SAME'"),
        (AttrValue("s", b"\xff\x00"), "<2 bytes>"),
        (AttrValue("i", -7), "-7"),
        (AttrValue("f", 0.1), "0.1"),
        (AttrValue("b", True), "true"),
        (AttrValue("type", "float16"), "float16"),
        (AttrValue("shape", (-1, 3)), "?×3"),
        (AttrValue("shape", ()), "scalar"),
        (AttrValue("shape", None), "?"),
        (AttrValue("placeholder", "T"), "$T"),
        (AttrValue("func", ("body", {"k": AttrValue("i", 3)})), "body(k=3)"),
        (AttrValue("list", ("i", (1, 2, 2, 1))), "[1, 2, 2, 1]"),
        (AttrValue("list", ("", ())), "[]"),
        (AttrValue("list", ("i", tuple(range(10)))), "[0, 1, 2, 3, 4, 5, 6, 7, … 2 more]"),
        (AttrValue("list", ("shape", ((4, 6), None))), "[4×6, ?]"),
        (
            AttrValue("tensor", TensorSummary("float32", (2, 2), (1.5, 2.0, 3.0, -4.25), 4)),
            "float32 2×2 [1.5, 2, 3, -4.25]",
        ),
        (
            AttrValue("tensor", TensorSummary("int64", (100,), tuple(range(16)), 100)),
            "int64 100 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, … 84 more]",
        ),
        (AttrValue("tensor", TensorSummary("string", (), (b"hi",), 1)), "string scalar ['hi']"),
        (AttrValue("", None), "(unset)"),
    ],
)
def test_attribute_text(value: AttrValue, text: str) -> None:
    assert R.attr_text(value) == text


def test_long_attributes_are_cut_and_escapes_removed() -> None:
    long = R.attr_text(AttrValue("s", b"x" * 5000))
    assert len(long) == R.ATTR_LIMIT and long.endswith("…")
    assert "\x1b" not in R.attr_text(AttrValue("s", b"\x1b[31mred\x1b[0m"))


@pytest.mark.parametrize(
    ("shape", "text"), [((4, 6, 24, 24), "4×6×24×24"), ((-1,), "?"), ((), "scalar"), (None, "?")]
)
def test_shape_text(shape: Shape, text: str) -> None:
    assert R.shape_text(shape) == text


def test_numbers() -> None:
    assert [R.fmt_bytes(n) for n in (0, 1023, 1024, 56296, 3 << 30, 5 << 40)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "55.0 KiB",
        "3.0 GiB",
        "5.0 TiB",
    ]
    assert [R.fmt_micros(u) for u in (5, 1500, 2_500_000)] == ["5 µs", "1.5 ms", "2.50 s"]


def test_histogram_lines() -> None:
    pairs = [(f"op{k}", 10 - k) for k in range(5)]
    lines = R.histogram_lines(pairs, 30, PLAIN, rows=3)
    assert [t.plain for t in lines] == [
        "op0      █████████████████ 10 ",
        "op1      ███████████████▎   9 ",
        "op2      █████████████▋     8 ",
        "(2 more)                   13 ",
    ]
    assert R.histogram_lines([], 30, PLAIN) == []


def test_keras_table_as_model_summary() -> None:
    m = parse_keras_model(json.dumps(W.keras3_mnist_convnet()))
    lines = [t.plain.rstrip() for t in R.keras_table(m.layers, 90, PLAIN)]
    assert lines == [
        "Layer (type)                    Output Shape        Param #  Connected to",
        "input_layer (InputLayer)        (None, 28, 28, 1)         0",
        "conv2d (Conv2D)                 (None, 26, 26, 32)      320  input_layer",
        "max_pooling2d (MaxPooling2D)    (None, 13, 13, 32)        0  conv2d",
        "conv2d_1 (Conv2D)               (None, 11, 11, 64)   18,496  max_pooling2d",
        "max_pooling2d_1 (MaxPooling2D)  (None, 5, 5, 64)          0  conv2d_1",
        "flatten (Flatten)               (None, 1600)              0  max_pooling2d_1",
        "dropout (Dropout)               (None, 1600)              0  flatten",
        "dense (Dense)                   (None, 10)           16,010  dropout",
        "Total params: 34,826",
    ]


def test_hostile_names_stay_inert() -> None:
    gd = graph_pb2.GraphDef()
    gd.node.add(name="evil/\x1b]52;c;cm0gLXJm\x07name", op="[bold red]Op\x1b[2J", device="\x9b31m")
    gd.node.add(name="evil/b", op="Add", input=["evil/\x1b]52;c;cm0gLXJm\x07name"])
    from tuiboard.core.graph import decode_graph_def
    from tuiboard.core.graph_tree import build_hierarchy
    from tuiboard.core.run_graphs import OP, GraphSource

    g = decode_graph_def(gd.SerializeToString())
    lg = LoadedGraph(GraphSource("r\x1b[2J", OP, "graph", "graph_def"), g, build_hierarchy(g), 0)
    texts = [
        R.scope_tree(lg, 3, 80, default_theme()),
        R.node_detail(lg, 0, default_theme()),
        R.group_detail(lg, 0, 60, default_theme()),
        R.summary_text(lg, 80, default_theme()),
        R.node_label(lg.hierarchy, 0, default_theme()),
    ]
    for t in texts:
        assert not re.search("[\x00-\x1f\x7f-\x9f]", t.plain.replace("\n", ""))
        assert "[bold red]Op" in t.plain or "Op" not in t.plain  # markup shown, not applied
    assert "[bold red]Op" in R.node_detail(lg, 0, PLAIN).plain


def test_plot_blocks_per_graph(tmp_path: Path) -> None:
    W.write_events(tmp_path / "torch", [W.graph_event(W.torch_cnn_graph())])
    W.write_events(tmp_path / "keras", [W.keras_event(W.keras2_sequential_mlp(), "mlp")])
    logdir = tuiboard.open(str(tmp_path))

    def blocks(tags: str | None, depth: int = 2) -> list[str]:
        req = PlotRequest(
            runs=logdir.runs,
            tag_re=None if tags is None else re.compile(tags),
            step=None,
            width=70,
            height=15,
            theme=PLAIN,
            colours={},
            depth=depth,
        )
        return [b.plain for b in R.plot_blocks(req)]

    both = blocks(None)
    assert [b.split(" · ")[:2] for b in both] == [
        ["keras", "Keras model mlp"],
        ["torch", "op graph"],
    ]
    assert "Total params: 407,050" in both[0]
    assert all(cell_len(line) == 70 for b in both for line in b.split("\n"))
    assert [b.split(" · ")[0] for b in blocks("op graph")] == ["torch"]
    assert [b.split(" · ")[0] for b in blocks("^mlp$")] == ["keras"]
    assert blocks("nothing") == []
    assert len(blocks(None, depth=1)[1].split("\n")) == 4


def test_render_graph_does_not_import_textual() -> None:
    code = """
import sys
import tuiboard.render.graph, tuiboard.headless.plot
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] == "textual")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
