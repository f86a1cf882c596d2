"""Graphs read by tuiboard against TensorBoard's own reading of the same files: node names, ops,
devices, inputs and attributes one by one (EventAccumulator.Graph() and protobuf), TF2 traces
against graph_util.merge_graph_defs, Keras models against keras_util.keras_model_to_graph_def,
step stats against the RunMetadata protos. The scope tree and series follow TensorBoard's
hierarchy.ts rules, checked on hand-built cases whose answers are worked out here."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.compat.proto import attr_value_pb2, config_pb2, graph_pb2, types_pb2
from tensorboard.plugins.graph import graph_util, keras_util
from tensorboard.util import tensor_util

import tuiboard
from tests.core import graph_writers as W
from tests.reference import accumulate
from tuiboard.core import graph as G
from tuiboard.core.graph_attrs import AttrValue, dtype_name
from tuiboard.core.graph_tree import SERIES, build_hierarchy, group_of_entry
from tuiboard.core.keras_model import parse_keras_model
from tuiboard.core.logdir import Run
from tuiboard.core.run_graphs import (
    GRAPH_KINDS,
    KERAS,
    OP,
    PROFILE,
    LoadedGraph,
    graph_sources,
    load_graph,
)
from tuiboard.core.step_stats import decode_step_stats
from tuiboard.dashboards import BY_NAME


def _run(root: Path, name: str) -> Run:
    run = tuiboard.open(str(root)).run(name)
    assert run is not None
    return run


def _load(root: Path, name: str, kind: str = OP) -> LoadedGraph:
    run = _run(root, name)
    source = next(s for s in graph_sources(run) if s.kind == kind)
    return load_graph(run, source)


def _split_input(s: str) -> tuple[str, str, bool]:
    """(node name, output key, control) of a GraphDef input, worked out for the inputs the
    fixtures write: `^name`, `name`, `name:1`, `name:out:0`."""
    control = s.startswith("^")
    s = s.removeprefix("^")
    parts = s.split(":")
    if len(parts) == 1:
        return s, "0", control
    return parts[0], ":".join(parts[1:]), control


def _expected_attr(v: attr_value_pb2.AttrValue) -> tuple[str, Any]:
    """The attribute as protobuf reads it, in tuiboard's representation."""
    kind = v.WhichOneof("value")
    dtype = _dtype_name
    if kind == "s":
        return "s", v.s
    if kind in ("i", "b", "placeholder"):
        return kind, getattr(v, kind)
    if kind == "f":
        return "f", v.f
    if kind == "type":
        return "type", dtype(v.type)
    if kind == "shape":
        return "shape", None if v.shape.unknown_rank else tuple(d.size for d in v.shape.dim)
    if kind == "func":
        return "func", v.func.name
    if kind == "tensor":
        arr = tensor_util.make_ndarray(v.tensor)
        return "tensor", (dtype(v.tensor.dtype), arr.shape, tuple(arr.reshape(-1).tolist()))
    assert kind == "list"
    lv = v.list
    for name in ("s", "i", "f", "b", "type", "shape"):
        items = list(getattr(lv, name))
        if items:
            if name == "type":
                items = [dtype(t) for t in items]
            if name == "shape":
                items = [tuple(d.size for d in s.dim) for s in items]
            return "list", (name, tuple(items))
    return "list", ("", ())


def _dtype_name(code: int) -> str:
    """TensorFlow's DT_* name turned into numpy style, independently of tuiboard's table."""
    name = types_pb2.DataType.Name(code)
    ref = name.endswith("_REF")
    base = name.removeprefix("DT_").removesuffix("_REF").lower()
    base = {"float": "float32", "double": "float64", "half": "float16"}.get(base, base)
    return base + ("_ref" if ref else "")


def _ours(v: AttrValue) -> tuple[str, Any]:
    if v.kind == "func":
        return "func", v.value[0]
    if v.kind == "tensor":
        t = v.value
        return "tensor", (t.dtype, t.shape, t.values)
    if v.kind == "list":
        kind, items = v.value
        return "list", (kind, tuple(items))
    return v.kind, v.value


def assert_same_nodes(
    lg: LoadedGraph, gd: graph_pb2.GraphDef, skip_attrs: frozenset[str] = frozenset()
) -> None:
    g = lg.graph
    assert g.names == [n.name for n in gd.node]
    assert g.ops == [n.op for n in gd.node]
    assert g.devices == [n.device for n in gd.node]
    for i, node in enumerate(gd.node):
        got = [(g.in_name[k], g.in_key[k], bool(g.in_control[k])) for k in g.inputs(i)]
        assert got == [_split_input(s) for s in node.input], node.name
        for k in g.inputs(i):
            src = int(g.in_src[k])
            assert (g.names[src] if src >= 0 else None) == (
                g.in_name[k] if g.in_name[k] in g.index else None
            )
        attrs = g.attrs(i)
        assert set(attrs) == set(node.attr), node.name
        for key, value in node.attr.items():
            if key not in skip_attrs:
                assert _ours(attrs[key]) == _expected_attr(value), (node.name, key)


# -- PyTorch's add_graph ---------------------------------------------------------------------


@pytest.fixture
def torch_root(tmp_path: Path) -> Path:
    W.write_events(
        tmp_path / "torch",
        [W.graph_event(W.torch_cnn_graph()), W.run_metadata_event("step1", W.torch_step_stats())],
    )
    return tmp_path


def test_pytorch_graph_node_by_node(torch_root: Path) -> None:
    lg = _load(torch_root, "torch")
    reference = accumulate(torch_root / "torch").Graph()
    assert len(reference.node) == 18
    assert_same_nodes(lg, reference)
    assert lg.problems == []
    shapes = {
        n.name: [tuple(d.size for d in s.dim) for s in n.attr["_output_shapes"].list.shape]
        for n in reference.node
        if "_output_shapes" in n.attr
    }
    for name, expected in shapes.items():
        assert lg.graph.output_shapes(lg.graph.index[name]) == expected
    assert lg.graph.output_shapes(lg.graph.index["Net/Conv2d[conv1]/weight/weight.1"]) is None


def test_pytorch_run_metadata_without_node_stats_is_not_offered(torch_root: Path) -> None:
    run = _run(torch_root, "torch")
    assert [(s.kind, s.tag) for s in graph_sources(run)] == [(OP, "graph_def")]
    lg = load_graph(run, graph_sources(run)[0])
    assert set(lg.stats) == {"step1"}
    assert lg.stats["step1"] == {}
    assert lg.stats_tags == []


def test_edges_and_consumers(torch_root: Path) -> None:
    g = _load(torch_root, "torch").graph
    reference = accumulate(torch_root / "torch").Graph()
    names = {n.name for n in reference.node}
    expected_edges = sum(1 for n in reference.node for s in n.input if _split_input(s)[0] in names)
    assert g.edge_count == expected_edges == 17
    assert g.control_edge_count == 0
    for node in reference.node:
        readers = [
            n.name for n in reference.node if any(_split_input(s)[0] == node.name for s in n.input)
        ]
        got = [g.names[int(g.owner[k])] for k in g.consumers(g.index[node.name])]
        assert got == readers, node.name


def test_scope_tree_counts_as_tensorboard_groups(torch_root: Path) -> None:
    lg = _load(torch_root, "torch")
    h = lg.hierarchy
    reference = accumulate(torch_root / "torch").Graph()
    top = [h.groups[group_of_entry(e)].label for e in h.children(0)]
    assert top == ["Net", "input", "output"]  # first appearance in the GraphDef
    scopes = {g.name: gid for gid, g in enumerate(h.groups) if g.kind == "scope"}
    assert set(scopes) == {
        "Net",
        "Net/Conv2d[conv1]",
        "Net/Conv2d[conv1]/weight",
        "Net/Conv2d[conv1]/bias",
        "Net/MaxPool2d[pool]",
        "Net/Conv2d[conv2]",
        "Net/Linear[fc1]",
        "Net/Linear[fc2]",
        "Net/Linear[fc3]",
        "input",
        "output",
    }
    for name, gid in scopes.items():
        inside = [n for n in reference.node if n.name.startswith(name + "/")]
        assert h.count(gid) == len(inside), name
        expected = Counter(n.op for n in inside)
        assert dict(h.op_counts(gid)) == dict(expected), name
        assert h.op_counts(gid) == sorted(h.op_counts(gid), key=lambda p: (-p[1], p[0]))
    assert h.count(0) == 18


def test_pytorch_constants_fold_into_a_series(torch_root: Path) -> None:
    h = _load(torch_root, "torch").hierarchy
    series = [g for g in h.groups if g.kind == SERIES]
    assert [(g.name, g.label, g.op) for g in series] == [
        ("Net/Conv2d[conv1]/[23-28]", "[23-28]", "prim::Constant")
    ]
    members = [h.graph.names[i] for i in series[0].nodes]
    assert members == [f"Net/Conv2d[conv1]/{k}" for k in range(23, 29)]
    conv1 = next(gid for gid, g in enumerate(h.groups) if g.name == "Net/Conv2d[conv1]")
    labels = [
        h.groups[group_of_entry(e)].label if e < 0 else h.leaf_label[e] for e in h.children(conv1)
    ]
    assert labels == ["[23-28]", "weight", "bias", "input.3"]
    assert h.count(conv1) == 9  # series members still count in their scope
    unfolded = build_hierarchy(h.graph, series_min=0)
    assert not any(g.kind == SERIES for g in unfolded.groups)


# -- series rules (hierarchy.ts) --------------------------------------------------------------


def _graph(nodes: list[tuple[str, str]]) -> G.Graph:
    gd = graph_pb2.GraphDef()
    for name, op in nodes:
        gd.node.add(name=name, op=op)
    return G.decode_graph_def(gd.SerializeToString())


def _series(nodes: list[tuple[str, str]]) -> list[tuple[str, int]]:
    h = build_hierarchy(_graph(nodes))
    return [(g.name, len(g.nodes)) for g in h.groups if g.kind == SERIES]


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([(f"s/add_{k}", "Add") for k in range(1, 6)], [("s/add_[1-5]", 5)]),
        ([(f"s/add_{k}", "Add") for k in range(1, 5)], []),  # 4 < seriesNodeMinSize
        (
            [(f"add_{k}", "Add") for k in (1, 2, 3, 5, 6, 7, 8, 9)],
            [("add_[5-9]", 5)],  # the gap cuts the run; 1..3 is too short
        ),
        ([(f"x{k}", "Add" if k < 4 else "Mul") for k in range(1, 7)], []),  # ops split it
        ([("conv", "Conv2D")] + [(f"conv{k}", "Conv2D") for k in range(1, 5)], [("conv[0-4]", 5)]),
        ([(f"conv2d_{k}", "Conv2D") for k in range(1, 7)], []),  # a digit in the prefix
        ([(f"a/b/r{k:02d}", "Relu") for k in range(8, 14)], [("a/b/r[8-13]", 6)]),
        ([(f"n{k}", "") for k in range(6)], []),  # no op, no cluster
    ],
)
def test_series_detection(nodes: list[tuple[str, str]], expected: list[tuple[str, int]]) -> None:
    assert _series(nodes) == expected


def test_a_node_that_is_also_a_scope_is_renamed_inside_it() -> None:
    h = build_hierarchy(_graph([("A", "Op"), ("A/B", "Op"), ("A/C/D", "Op"), ("E", "Op")]))
    scope_a = next(gid for gid, g in enumerate(h.groups) if g.name == "A")
    a = h.graph.index["A"]
    assert h.node_parent[a] == scope_a
    assert h.leaf_label[a] == "(A)"  # TensorBoard's getStrictName: A/(A)
    assert h.count(scope_a) == 3
    assert [
        h.groups[group_of_entry(e)].label if e < 0 else h.leaf_label[e] for e in h.children(0)
    ] == ["A", "E"]
    assert h.path(h.graph.index["A/C/D"]) == [0, scope_a, scope_a + 1]


def test_search_by_name_or_op_in_tree_order(torch_root: Path) -> None:
    h = _load(torch_root, "torch").hierarchy
    names = h.graph.names
    assert [names[i] for i in h.search("LINEAR")] == [
        "Net/Linear[fc1]/input.11",
        "Net/Linear[fc2]/input.12",
        "Net/Linear[fc3]/input.13",
    ]
    assert [names[i] for i in h.search("io node")] == ["input/input.1", "output/output.1"]
    assert [names[i] for i in h.search("conv1]/2[4-5]")] == [
        "Net/Conv2d[conv1]/24",
        "Net/Conv2d[conv1]/25",
    ]
    # An invalid regex is searched as text.
    assert [names[i] for i in h.search("Conv2d[conv2")] == ["Net/Conv2d[conv2]/input.9"]
    assert h.search("(") == [] and len(h.search("x.1")) == 1
    order = [int(h.display_rank()[i]) for i in h.search("input")]
    assert order == sorted(order)


def test_trace_inputs_follows_data_and_control_inputs() -> None:
    gd = graph_pb2.GraphDef()
    gd.node.add(name="a", op="Const")
    gd.node.add(name="b", op="Const")
    gd.node.add(name="c", op="Add", input=["a", "b:0"])
    gd.node.add(name="d", op="NoOp")
    gd.node.add(name="e", op="Mul", input=["c", "^d"])
    gd.node.add(name="f", op="Sub", input=["e", "missing:1"])
    gd.node.add(name="g", op="Neg", input=["a"])
    g = G.decode_graph_def(gd.SerializeToString())
    h = build_hierarchy(g)
    traced = [g.names[i] for i in h.trace_inputs([g.index["f"]])]
    assert traced == ["a", "b", "c", "d", "e", "f"]
    assert [g.names[i] for i in h.trace_inputs([g.index["g"]])] == ["a", "g"]
    assert g.edge_count == 6 and g.control_edge_count == 1  # missing:1 names no node
    assert g.in_src[g.inputs(g.index["f"])[1]] == -1


# -- a 10,000-node graph -----------------------------------------------------------------------


def test_ten_thousand_nodes(tmp_path: Path) -> None:
    gd = W.big_graph()
    W.write_events(tmp_path / "big", [W.graph_event(gd)])
    lg = _load(tmp_path, "big")
    reference = accumulate(tmp_path / "big").Graph()
    assert len(reference.node) == 10_000
    g = lg.graph
    assert g.names == [n.name for n in reference.node]
    assert g.ops == [n.op for n in reference.node]
    for i in (0, 1, 8, 4_321, 9_999):
        node = reference.node[i]
        assert [(g.in_name[k], g.in_key[k], bool(g.in_control[k])) for k in g.inputs(i)] == [
            _split_input(s) for s in node.input
        ]
        assert _ours(g.attrs(i)["attr"]) == _expected_attr(node.attr["attr"])
    data = sum(1 for n in reference.node for s in n.input if not s.startswith("^"))
    control = sum(1 for n in reference.node for s in n.input if s.startswith("^"))
    assert (g.edge_count, g.control_edge_count) == (data + control, control)
    h = lg.hierarchy
    assert h.count(0) == 10_000
    resnet = group_of_entry(h.children(0)[0])
    stages = h.children(resnet)
    assert len(stages) == 25 and all(h.count(group_of_entry(e)) == 400 for e in stages)
    first_block = group_of_entry(h.children(group_of_entry(stages[0]))[0])
    assert h.groups[first_block].name == "ResNet/Sequential[layer0]/Bottleneck[0]"
    assert dict(h.op_counts(first_block)) == {
        "aten::_convolution": 2,
        "aten::batch_norm": 2,
        "aten::relu": 2,
        "aten::add": 1,
        "prim::Constant": 1,
    }


# -- other containers: MetaGraphDef, TF2 traces, function libraries ----------------------------


def test_meta_graph_def_is_the_run_graph_when_there_is_no_graph_def(tmp_path: Path) -> None:
    W.write_events(tmp_path / "meta", [W.meta_graph_event(W.attrs_graph())])
    run = _run(tmp_path, "meta")
    assert [(s.kind, s.tag) for s in graph_sources(run)] == [(OP, "meta_graph_def")]
    lg = load_graph(run, graph_sources(run)[0])
    assert_same_nodes(lg, accumulate(tmp_path / "meta").Graph())


def test_attributes_decoded_like_protobuf(tmp_path: Path) -> None:
    gd = W.attrs_graph()
    W.write_events(tmp_path / "attrs", [W.graph_event(gd)])
    lg = _load(tmp_path, "attrs")
    assert_same_nodes(lg, accumulate(tmp_path / "attrs").Graph())
    n = lg.graph.attrs(lg.graph.index["n"])
    assert n["T"].value == "float16" and n["ref"].value == "float32_ref"
    assert n["unknown"].value is None and n["shape"].value == (-1, 3)
    assert n["fn"].value[1]["k"].value == 3
    assert n["empty"].kind == "list" and n["empty"].value == ("", ())
    c = lg.graph.attrs(lg.graph.index["c"])["value"].value
    assert (c.dtype, c.shape, c.values, c.size) == ("float32", (2, 2), (1.5, 2.0, 3.0, -4.25), 4)
    assert lg.graph.devices[lg.graph.index["c"]] == "/device:GPU:0"


def test_dtype_names_follow_tensorflows_enum() -> None:
    for code in types_pb2.DataType.values():
        assert dtype_name(code) == _dtype_name(code), types_pb2.DataType.Name(code)


def test_tf2_trace_merged_like_graph_util(tmp_path: Path) -> None:
    graphs = [W.library_graph(), W.attrs_graph()]
    rm = W.trace_run_metadata(graphs)
    W.write_events(
        tmp_path / "tf2",
        [W.string_summary("trace", rm.SerializeToString(), "graph_run_metadata_graph")],
    )
    run = _run(tmp_path, "tf2")
    assert [(s.kind, s.data_kind, s.tag) for s in graph_sources(run)] == [
        (OP, "graph_run_metadata_graph", "trace")
    ]
    lg = load_graph(run, graph_sources(run)[0])
    tensor = accumulate(tmp_path / "tf2").Tensors("trace")[0].tensor_proto
    read = config_pb2.RunMetadata.FromString(tensor.string_val[0])
    merged = graph_util.merge_graph_defs([fg.pre_optimization_graph for fg in read.function_graphs])
    g = lg.graph
    top = len(merged.node)
    assert g.names[:top] == [n.name for n in merged.node]
    assert g.ops[:top] == [n.op for n in merged.node]
    for i, node in enumerate(merged.node):
        got = [(g.in_name[k], g.in_key[k], bool(g.in_control[k])) for k in g.inputs(i)]
        # merge_graph_defs prefixes "^c" into "graph_2/^c" (which names no node); we keep the
        # caret first, so the control edge survives the merge.
        fixed = ["^" + s.replace("/^", "/") if "/^" in s else s for s in node.input]
        assert got == [_split_input(s) for s in fixed], node.name
    # The function library, as tf_graph_common/graph.ts adds it: a node per function, its
    # input args (op input_arg), its nodes under it.
    expected: list[tuple[str, str]] = []
    for f in merged.library.function:
        head = G.FUNCTION_LIBRARY_PREFIX + f.signature.name
        expected.append((head, ""))
        expected += [(f"{head}/{a.name}", "input_arg") for a in f.signature.input_arg]
        expected += [(f"{head}/{nd.name}", nd.op) for nd in f.node_def]
    assert list(zip(g.names[top:], g.ops[top:], strict=True)) == expected
    head = G.FUNCTION_LIBRARY_PREFIX + "graph_1___inference_dense_12"
    matmul = g.index[f"{head}/MatMul"]
    assert [g.names[int(s)] for s in g.input_nodes(matmul)] == [
        f"{head}/inputs",
        f"{head}/MatMul/ReadVariableOp",
    ]
    ident = g.index[f"{head}/Identity"]
    assert g.in_key[g.inputs(ident)[0]] == "product:0"
    assert g.attrs(g.index[f"{head}/inputs"])["T"].value == "float32"


def test_single_function_graph_is_not_prefixed(tmp_path: Path) -> None:
    rm = W.trace_run_metadata([W.attrs_graph()])
    W.write_events(
        tmp_path / "tf2", [W.string_summary("t", rm.SerializeToString(), "graph_run_metadata")]
    )
    lg = _load(tmp_path, "tf2")
    assert lg.graph.names == ["c", "n"]


# -- step stats ----------------------------------------------------------------------------------


def test_step_stats_combined_as_tensorboard_does(tmp_path: Path) -> None:
    W.write_events(
        tmp_path / "prof",
        [
            W.graph_event(W.torch_cnn_graph()),
            W.run_metadata_event("prof", W.profiled_run_metadata(), step=3),
        ],
    )
    lg = _load(tmp_path, "prof")
    assert lg.stats_tags == ["prof"]
    reference = accumulate(tmp_path / "prof").RunMetadata("prof")
    entries: dict[str, list[Any]] = {}
    for dev in reference.step_stats.dev_stats:
        for ns in dev.node_stats:
            entries.setdefault(ns.node_name, []).append(ns)
    assert set(lg.stats["prof"]) == set(entries)
    for name, found in entries.items():
        got = lg.stats["prof"][name]
        assert got.start_micros == min(e.all_start_micros for e in found)
        assert got.end_micros == max(e.all_start_micros + e.all_end_rel_micros for e in found)
        assert got.memory_bytes == sum(m.total_bytes for e in found for m in e.memory)
    conv = lg.stats["prof"]["Net/Conv2d[conv1]/input.3"]
    assert (conv.compute_micros, conv.memory_bytes, conv.output_shapes) == (
        350,
        56296,
        [(4, 6, 24, 24)],
    )


def test_run_metadata_alone_shows_the_nodes_it_names(tmp_path: Path) -> None:
    W.write_events(tmp_path / "only", [W.run_metadata_event("session", W.profiled_run_metadata())])
    run = _run(tmp_path, "only")
    assert [(s.kind, s.tag) for s in graph_sources(run)] == [(PROFILE, "session")]
    lg = load_graph(run, graph_sources(run)[0])
    assert lg.graph.names == ["Net/Conv2d[conv1]/input.3", "Net/input.5"]
    assert lg.stats_tags == ["session"]
    assert lg.graph.devices[1] == "/job:localhost/replica:0/task:0/device:GPU:0"


# -- Keras models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [W.keras3_mnist_convnet(), W.keras2_sequential_mlp()], ids=["keras3", "keras2"]
)
def test_keras_graph_matches_keras_util(tmp_path: Path, model: dict[str, Any]) -> None:
    W.write_events(tmp_path / "k", [W.keras_event(model)])
    run = _run(tmp_path, "k")
    assert [(s.kind, s.tag) for s in graph_sources(run)] == [(KERAS, "keras")]
    lg = load_graph(run, graph_sources(run)[0])
    tensor = accumulate(tmp_path / "k").Tensors("keras")[0].tensor_proto
    reference = keras_util.keras_model_to_graph_def(json.loads(tensor.string_val[0]))
    g = lg.graph
    assert g.names == [n.name for n in reference.node]
    assert [g.input_nodes(i).tolist() for i in range(len(g))] == [
        [g.index[s] for s in n.input] for n in reference.node
    ]
    for i, node in enumerate(reference.node):
        attrs = g.attrs(i)
        assert attrs["keras_class"].value == node.attr["keras_class"].s
        assert g.ops[i] == node.attr["keras_class"].s.decode()
        if "dtype" in node.attr:
            assert attrs["dtype"].value == _dtype_name(node.attr["dtype"].type)


def test_keras_layer_table_as_keras_summary_prints_it() -> None:
    """keras.io's "Simple MNIST convnet" summary: 320, 18,496 and 16,010 params (34,826)."""
    m = parse_keras_model(json.dumps(W.keras3_mnist_convnet()))
    assert [(la.name, la.class_name, la.output_shape, la.params) for la in m.layers] == [
        ("functional/input_layer", "InputLayer", (None, 28, 28, 1), 0),
        ("functional/conv2d", "Conv2D", (None, 26, 26, 32), 320),
        ("functional/max_pooling2d", "MaxPooling2D", (None, 13, 13, 32), 0),
        ("functional/conv2d_1", "Conv2D", (None, 11, 11, 64), 18_496),
        ("functional/max_pooling2d_1", "MaxPooling2D", (None, 5, 5, 64), 0),
        ("functional/flatten", "Flatten", (None, 1600), 0),
        ("functional/dropout", "Dropout", (None, 1600), 0),
        ("functional/dense", "Dense", (None, 10), 16_010),
    ]
    assert m.total_params == 34_826
    mlp = parse_keras_model(json.dumps(W.keras2_sequential_mlp()))
    assert [(la.output_shape, la.params) for la in mlp.layers] == [
        ((None, 512), 401_920),
        ((None, 512), 0),
        ((None, 10), 5_130),
    ]


def test_keras2_inbound_nodes_are_read() -> None:
    """Keras 2's list form, which keras_util skips: only the nested Sequential's layers (linked
    by order) come out connected there."""
    model = W.keras2_functional_residual()
    reference = keras_util.keras_model_to_graph_def(model)
    assert [list(n.input) for n in reference.node] == [
        [],
        [],
        ["resnet_mini/stem"],
        ["resnet_mini/block/inner_a"],
        [],
        [],
    ]
    m = parse_keras_model(json.dumps(model))
    g = m.graph
    inputs = {g.names[i]: [g.names[int(s)] for s in g.input_nodes(i)] for i in range(len(g))}
    assert inputs == {
        "resnet_mini/inputs": [],
        "resnet_mini/stem": ["resnet_mini/inputs"],
        "resnet_mini/block/inner_a": ["resnet_mini/stem"],
        "resnet_mini/block/inner_b": ["resnet_mini/block/inner_a"],
        "resnet_mini/add": ["resnet_mini/stem", "resnet_mini/block/inner_b"],
        "resnet_mini/head": ["resnet_mini/add"],
    }
    params = {la.name.rsplit("/", 1)[-1]: la.params for la in m.layers}
    assert params == {
        "inputs": 0,
        "stem": 544,
        "inner_a": 1_056,
        "inner_b": 1_056,
        "add": 0,
        "head": 99,
    }


# -- damage ----------------------------------------------------------------------------------------


def test_a_damaged_graph_keeps_the_nodes_before_the_damage() -> None:
    blob = W.torch_cnn_graph().SerializeToString()
    g = G.decode_graph_def(blob[: len(blob) // 2])
    assert 0 < len(g) < 18 and g.problems
    assert g.names == [n.name for n in W.torch_cnn_graph().node][: len(g)]
    build_hierarchy(g)


@pytest.mark.parametrize("text", [b"{not json", b"[1, 2]", b'{"config": 3}', b"\xff\xfe"])
def test_a_bad_keras_config_is_a_problem_not_an_error(tmp_path: Path, text: bytes) -> None:
    W.write_events(tmp_path / "k", [W.string_summary("keras", text, "graph_keras_model")])
    lg = _load(tmp_path, "k", KERAS)
    assert len(lg.graph) == 0 and lg.problems


def test_odd_keras_values_are_skipped() -> None:
    model = W.keras3_mnist_convnet()
    model["config"]["layers"][1]["config"]["kernel_size"] = "three"
    model["config"]["layers"][2]["inbound_nodes"] = [{"args": [{"config": None}]}, 5, "x"]
    model["config"]["layers"].append(7)
    m = parse_keras_model(json.dumps(model))
    assert m.layers[1].params is None and m.layers[1].output_shape is None
    assert len(m.graph) == 8


def test_the_tab_shows_for_every_graph_kind() -> None:
    assert BY_NAME["graph"].shown_by == GRAPH_KINDS


def test_graph_arrays_are_consistent(torch_root: Path) -> None:
    g = _load(torch_root, "torch").graph
    assert g.in_ptr[-1] == len(g.in_name) == g.in_src.shape[0] == g.owner.shape[0]
    assert np.all(np.diff(g.in_ptr) >= 0)
    assert sorted(g.out_input.tolist()) == np.flatnonzero(g.in_src >= 0).tolist()


def test_our_writer_writes_graphs_tensorboard_reads(tmp_path: Path) -> None:
    from tuiboard.demo import resnet50_graph
    from tuiboard.writer import EventWriter

    nodes = resnet50_graph(batch=8)
    with EventWriter(str(tmp_path / "demo")) as w:
        w.add_graph(nodes, 0, 1.7e9)
    reference = accumulate(tmp_path / "demo").Graph()
    assert [(n.name, n.op, list(n.input)) for n in reference.node] == [
        (name, op, list(inputs)) for name, op, inputs, _ in nodes
    ]
    for n, (_, _, _, shape) in zip(reference.node, nodes, strict=True):
        assert ("_output_shapes" in n.attr) == (shape is not None)
        if shape is not None:
            got = [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]
            assert got == [list(shape)]
        assert n.attr["attr"].s == b"{}"
    assert reference.versions.producer == 22
    lg = _load(tmp_path, "demo")
    assert_same_nodes(lg, reference)
    h = lg.hierarchy
    conv1 = next(gid for gid, g in enumerate(h.groups) if g.name == "ResNet/Conv2d[conv1]")
    assert [h.groups[group_of_entry(e)].kind if e < 0 else "node" for e in h.children(conv1)] == [
        "scope",
        SERIES,
        "node",  # weight, its five numbered constants, the convolution
    ]


def test_graph_modules_do_not_import_textual_or_rich(torch_root: Path) -> None:
    import subprocess
    import sys

    code = f"""
import sys
import tuiboard
from tuiboard.core.run_graphs import graph_sources, load_graph
run = tuiboard.open({str(torch_root)!r}).run("torch")
lg = load_graph(run, graph_sources(run)[0])
lg.hierarchy.search("conv"); lg.hierarchy.trace_inputs([3]); lg.graph.attrs(3)
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_mangled_bytes_never_raise() -> None:
    """Bit flips and cuts anywhere in a GraphDef (and a RunMetadata): what decodes is shown,
    the rest is a problem; attributes of a damaged node raise DecodeError, which the detail
    panel reports."""
    from tuiboard.core.run_graphs import OP, GraphSource
    from tuiboard.core.wire import DecodeError
    from tuiboard.render.graph import node_detail
    from tuiboard.render.theme import default_theme

    rng = np.random.default_rng(7)
    blob = bytearray(W.torch_cnn_graph().SerializeToString())
    stats = bytearray(W.profiled_run_metadata().SerializeToString())
    for _ in range(300):
        bad = bytearray(blob)
        for k in rng.integers(0, len(bad), 3):
            bad[int(k)] ^= int(rng.integers(1, 256))
        bad = bad[: int(rng.integers(1, len(bad) + 1))]
        g = G.decode_graph_def(bytes(bad))
        h = build_hierarchy(g)
        lg = LoadedGraph(GraphSource("r", OP, "graph", "graph_def"), g, h, 0)
        for i in range(len(g)):
            node_detail(lg, i, default_theme())  # a damaged node says so in its detail
        h.search("conv")
        h.trace_inputs(list(range(len(g))))
        cut = bytes(stats[: int(rng.integers(0, len(stats) + 1))])
        G.graph_from_run_metadata(cut)  # a problem, not an error
        with contextlib.suppress(DecodeError):  # load_graph records it as a problem
            decode_step_stats(cut)


def test_deeply_nested_keras_json_is_a_problem(tmp_path: Path) -> None:
    deep = b'{"config": {"layers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    W.write_events(tmp_path / "k", [W.string_summary("keras", deep, "graph_keras_model")])
    lg = _load(tmp_path, "k", KERAS)
    assert lg.problems and len(lg.graph) == 0
