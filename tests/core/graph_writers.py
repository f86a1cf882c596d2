"""Graphs written as their writers write them, with TensorBoard's own protos and EventFileWriter:
PyTorch's `add_graph` (torch.utils.tensorboard._pytorch_graph: scoped names, IO nodes,
`_output_shapes` and the `attr` string, then a tagged_run_metadata "step1"), a 10,000-node graph,
a MetaGraphDef, TF2's `trace_export` (graph_run_metadata_graph) and the Keras callback's
`graph_keras_model` summary (summary_ops_v2.keras_model: the model's JSON as a string tensor,
plugin content b"1"). tensorboardX's add_graph needs torch, which the tests do not have.

Must not import textual or rich.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tensorboard.compat.proto import (
    attr_value_pb2,
    config_pb2,
    event_pb2,
    graph_pb2,
    meta_graph_pb2,
    step_stats_pb2,
    summary_pb2,
    tensor_shape_pb2,
    types_pb2,
    versions_pb2,
)
from tensorboard.summary.writer.event_file_writer import EventFileWriter

WALL = 1_795_690_000.0


def _shape(dims: list[int]) -> tensor_shape_pb2.TensorShapeProto:
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims]
    )


def torch_node(
    name: str, op: str, inputs: list[str], shape: list[int] | None, attributes: str = ""
) -> Any:
    """torch.utils.tensorboard._proto_graph.node_proto as _pytorch_graph calls it."""
    from tensorboard.compat.proto import node_def_pb2

    attr = {"attr": attr_value_pb2.AttrValue(s=attributes.encode("utf-8"))}
    if shape is not None:
        attr["_output_shapes"] = attr_value_pb2.AttrValue(
            list=attr_value_pb2.AttrValue.ListValue(shape=[_shape(shape)])
        )
    return node_def_pb2.NodeDef(name=name, op=op, input=inputs, attr=attr)


def torch_cnn_graph() -> graph_pb2.GraphDef:
    """PyTorch's graph of a LeNet-like Net(conv1, pool, conv2, fc1..fc3) as add_graph writes
    it: prim::Constant leaves numbered 23.., GetAttr parameter nodes, aten ops, IO nodes."""
    nodes = []
    consts = [f"Net/Conv2d[conv1]/{k}" for k in range(23, 29)]
    for k, c in enumerate(consts):
        nodes.append(torch_node(c, "prim::Constant", [], [], f"{{ value : {k % 2}}}"))
    nodes.append(
        torch_node(
            "Net/Conv2d[conv1]/weight/weight.1", "prim::GetAttr", [], None, "{ name :  weight }"
        )
    )
    nodes.append(
        torch_node("Net/Conv2d[conv1]/bias/bias.1", "prim::GetAttr", [], None, "{ name :  bias }")
    )
    nodes.append(
        torch_node(
            "Net/Conv2d[conv1]/input.3",
            "aten::_convolution",
            [
                "input/input.1",
                "Net/Conv2d[conv1]/weight/weight.1",
                "Net/Conv2d[conv1]/bias/bias.1",
                *consts,
            ],
            [4, 6, 24, 24],
            "{}",
        )
    )
    nodes.append(
        torch_node("Net/input.5", "aten::relu", ["Net/Conv2d[conv1]/input.3"], [4, 6, 24, 24], "{}")
    )
    nodes.append(
        torch_node(
            "Net/MaxPool2d[pool]/input.7", "aten::max_pool2d", ["Net/input.5"], [4, 6, 12, 12], "{}"
        )
    )
    nodes.append(
        torch_node(
            "Net/Conv2d[conv2]/input.9",
            "aten::_convolution",
            ["Net/MaxPool2d[pool]/input.7"],
            [4, 16, 8, 8],
            "{}",
        )
    )
    nodes.append(
        torch_node("Net/x.1", "aten::view", ["Net/Conv2d[conv2]/input.9"], [4, 1024], "{}")
    )
    prev = "Net/x.1"
    for k, (width, out) in enumerate(((1024, 120), (120, 84), (84, 10)), start=1):
        name = f"Net/Linear[fc{k}]/input.{10 + k}"
        nodes.append(torch_node(name, "aten::linear", [prev], [4, out], "{}"))
        prev = name
        del width
    nodes.append(torch_node("input/input.1", "IO Node", [], [4, 1, 28, 28]))
    nodes.append(torch_node("output/output.1", "IO Node", [prev], [4, 10]))
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))


def torch_step_stats() -> config_pb2.RunMetadata:
    """What PyTorch's add_graph writes as tagged run metadata: one device, no node stats."""
    return config_pb2.RunMetadata(
        step_stats=step_stats_pb2.StepStats(
            dev_stats=[step_stats_pb2.DeviceStepStats(device="/device:CPU:0")]
        )
    )


def profiled_run_metadata() -> config_pb2.RunMetadata:
    """A TF1 session's RunMetadata with node stats (two entries for one node)."""
    stats = step_stats_pb2.StepStats()
    dev = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:CPU:0")
    conv = dev.node_stats.add(
        node_name="Net/Conv2d[conv1]/input.3", all_start_micros=1000, all_end_rel_micros=250
    )
    conv.memory.add(allocator_name="cpu", total_bytes=55296, peak_bytes=55296)
    out = conv.output.add(slot=0)
    out.tensor_description.dtype = types_pb2.DT_FLOAT
    out.tensor_description.shape.CopyFrom(_shape([4, 6, 24, 24]))
    dev2 = stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:GPU:0")
    again = dev2.node_stats.add(
        node_name="Net/Conv2d[conv1]/input.3", all_start_micros=900, all_end_rel_micros=50
    )
    again.memory.add(allocator_name="gpu", total_bytes=1000)
    dev2.node_stats.add(node_name="Net/input.5", all_start_micros=1300, all_end_rel_micros=20)
    return config_pb2.RunMetadata(step_stats=stats)


def big_graph(n: int = 10_000) -> graph_pb2.GraphDef:
    """A ResNet-like graph of n nodes: 25 stages x blocks of 8 ops, each reading the previous
    node and a skip connection, constants numbered like PyTorch's."""
    g = graph_pb2.GraphDef()
    ops = (
        "aten::_convolution",
        "aten::batch_norm",
        "aten::relu",
        "prim::Constant",
        "aten::_convolution",
        "aten::batch_norm",
        "aten::add",
        "aten::relu",
    )
    names: list[str] = []
    for i in range(n):
        stage, block, k = i // 400, (i // 8) % 50, i % 8
        name = f"ResNet/Sequential[layer{stage}]/Bottleneck[{block}]/{ops[k].split('::')[1]}.{i}"
        node = g.node.add(name=name, op=ops[k])
        if names:
            node.input.append(names[-1])
        if k == 6 and len(names) >= 8:
            node.input.append(names[-8])
        if k == 0 and len(names) >= 3:
            node.input.append("^" + names[-3])
        node.attr["attr"].s = b"{}"
        node.attr["_output_shapes"].list.shape.add().CopyFrom(_shape([32, 64, 56, 56]))
        names.append(name)
    return g


def library_graph() -> graph_pb2.GraphDef:
    """A TF graph calling a library function (StatefulPartitionedCall with attr f)."""
    g = graph_pb2.GraphDef()
    g.node.add(name="x", op="Placeholder").attr["dtype"].type = types_pb2.DT_FLOAT
    call = g.node.add(name="model/call", op="StatefulPartitionedCall", input=["x"])
    call.attr["f"].func.name = "__inference_dense_12"
    g.node.add(name="Identity", op="Identity", input=["model/call:0"])
    f = g.library.function.add()
    f.signature.name = "__inference_dense_12"
    f.signature.input_arg.add(name="inputs", type=types_pb2.DT_FLOAT)
    f.signature.output_arg.add(name="identity", type=types_pb2.DT_FLOAT)
    f.node_def.add(name="MatMul", op="MatMul", input=["inputs", "MatMul/ReadVariableOp:value:0"])
    f.node_def.add(name="MatMul/ReadVariableOp", op="ReadVariableOp")
    f.node_def.add(name="Identity", op="Identity", input=["MatMul:product:0"])
    return g


def attrs_graph() -> graph_pb2.GraphDef:
    """One node per AttrValue kind, plus a Const with a small tensor."""
    from tensorboard.util import tensor_util

    g = graph_pb2.GraphDef()
    c = g.node.add(name="c", op="Const", device="/device:GPU:0")
    c.attr["dtype"].type = types_pb2.DT_FLOAT
    c.attr["value"].tensor.CopyFrom(
        tensor_util.make_tensor_proto([[1.5, 2.0], [3.0, -4.25]], dtype="float32")
    )
    n = g.node.add(name="n", op="Custom", input=["c", "^c"])
    n.attr["i"].i = -7
    n.attr["f"].f = 0.25
    n.attr["b"].b = True
    n.attr["s"].s = b"SAME"
    n.attr["T"].type = types_pb2.DT_HALF
    n.attr["ref"].type = types_pb2.DT_FLOAT_REF
    n.attr["shape"].shape.CopyFrom(_shape([-1, 3]))
    n.attr["unknown"].shape.unknown_rank = True
    n.attr["ints"].list.i.extend([1, 2, 2, 1])
    n.attr["floats"].list.f.extend([0.5, 1.5])
    n.attr["types"].list.type.extend([types_pb2.DT_INT32, types_pb2.DT_STRING])
    n.attr["empty"].list.SetInParent()
    n.attr["ph"].placeholder = "T"
    n.attr["fn"].func.name = "body"
    n.attr["fn"].func.attr["k"].i = 3
    return g


def write_events(run_dir: Path, events: list[event_pb2.Event]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    w = EventFileWriter(str(run_dir))
    for ev in events:
        w.add_event(ev)
    w.close()


def graph_event(g: graph_pb2.GraphDef, step: int = 0) -> event_pb2.Event:
    return event_pb2.Event(wall_time=WALL, step=step, graph_def=g.SerializeToString())


def run_metadata_event(tag: str, rm: config_pb2.RunMetadata, step: int = 0) -> event_pb2.Event:
    ev = event_pb2.Event(wall_time=WALL, step=step)
    ev.tagged_run_metadata.tag = tag
    ev.tagged_run_metadata.run_metadata = rm.SerializeToString()
    return ev


def meta_graph_event(g: graph_pb2.GraphDef) -> event_pb2.Event:
    mg = meta_graph_pb2.MetaGraphDef(graph_def=g)
    mg.meta_info_def.tags.append("serve")
    return event_pb2.Event(wall_time=WALL, step=0, meta_graph_def=mg.SerializeToString())


def string_summary(tag: str, data: bytes, plugin: str, step: int = 0) -> event_pb2.Event:
    """A rank-0 string tensor summary with plugin content b"1" (summary_ops_v2's graph ops)."""
    from tensorboard.util import tensor_util

    v = summary_pb2.Summary.Value(tag=tag)
    v.tensor.CopyFrom(tensor_util.make_tensor_proto(data))
    v.metadata.plugin_data.plugin_name = plugin
    v.metadata.plugin_data.content = b"1"
    return event_pb2.Event(wall_time=WALL, step=step, summary=summary_pb2.Summary(value=[v]))


def trace_run_metadata(graphs: list[graph_pb2.GraphDef]) -> config_pb2.RunMetadata:
    """What tf.summary.trace_export(profiler=False) puts in its graph_run_metadata_graph."""
    rm = config_pb2.RunMetadata()
    for gd in graphs:
        fg = rm.function_graphs.add()
        fg.pre_optimization_graph.CopyFrom(gd)
    return rm


def keras3_layer(
    cls: str,
    name: str,
    config: dict[str, Any],
    inbound: list[str] | None,
    in_shape: list[int | None] | None = None,
) -> dict[str, Any]:
    """A layer as Keras 3's Functional.to_json writes it (module/class_name/config,
    build_config and inbound_nodes with keras_history)."""
    cfg: dict[str, Any] = {
        "name": name,
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
        **config,
    }
    layer: dict[str, Any] = {
        "module": "keras.layers",
        "class_name": cls,
        "config": cfg,
        "registered_name": None,
        "name": name,
    }
    if in_shape is not None:
        layer["build_config"] = {"input_shape": in_shape}
    if inbound is not None:
        layer["inbound_nodes"] = [
            {
                "args": [
                    {
                        "class_name": "__keras_tensor__",
                        "config": {
                            "shape": in_shape,
                            "dtype": "float32",
                            "keras_history": [src, 0, 0],
                        },
                    }
                    for src in inbound
                ],
                "kwargs": {},
            }
        ]
    return layer


def keras3_mnist_convnet() -> dict[str, Any]:
    """keras.io's "Simple MNIST convnet" as a Keras 3 Functional model's to_json()."""
    inp = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {
            "batch_shape": [None, 28, 28, 1],
            "dtype": "float32",
            "sparse": False,
            "name": "input_layer",
        },
        "registered_name": None,
        "name": "input_layer",
        "inbound_nodes": [],
    }
    conv = {
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "valid",
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "groups": 1,
        "activation": "relu",
        "use_bias": True,
    }
    pool = {
        "pool_size": [2, 2],
        "padding": "valid",
        "strides": [2, 2],
        "data_format": "channels_last",
    }
    layers = [
        inp,
        keras3_layer(
            "Conv2D", "conv2d", {"filters": 32, **conv}, ["input_layer"], [None, 28, 28, 1]
        ),
        keras3_layer("MaxPooling2D", "max_pooling2d", pool, ["conv2d"], [None, 26, 26, 32]),
        keras3_layer(
            "Conv2D", "conv2d_1", {"filters": 64, **conv}, ["max_pooling2d"], [None, 13, 13, 32]
        ),
        keras3_layer("MaxPooling2D", "max_pooling2d_1", pool, ["conv2d_1"], [None, 11, 11, 64]),
        keras3_layer(
            "Flatten",
            "flatten",
            {"data_format": "channels_last"},
            ["max_pooling2d_1"],
            [None, 5, 5, 64],
        ),
        keras3_layer("Dropout", "dropout", {"rate": 0.5, "seed": None}, ["flatten"], [None, 1600]),
        keras3_layer(
            "Dense",
            "dense",
            {"units": 10, "activation": "softmax", "use_bias": True},
            ["dropout"],
            [None, 1600],
        ),
    ]
    return {
        "module": "keras",
        "class_name": "Functional",
        "config": {
            "name": "functional",
            "trainable": True,
            "layers": layers,
            "input_layers": [["input_layer", 0, 0]],
            "output_layers": [["dense", 0, 0]],
        },
        "registered_name": "Functional",
        "build_config": {"input_shape": None},
    }


def keras2_sequential_mlp() -> dict[str, Any]:
    """A Keras 2 (tf.keras 2.x) Sequential MLP's to_json(): no inbound_nodes, the first layer
    carries batch_input_shape."""

    def dense(name: str, units: int, act: str, first: bool = False) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "units": units,
            "activation": act,
            "use_bias": True,
        }
        if first:
            cfg["batch_input_shape"] = [None, 784]
        return {"class_name": "Dense", "config": cfg}

    return {
        "class_name": "Sequential",
        "config": {
            "name": "sequential",
            "layers": [
                dense("dense", 512, "relu", first=True),
                {
                    "class_name": "Dropout",
                    "config": {
                        "name": "dropout",
                        "trainable": True,
                        "dtype": "float32",
                        "rate": 0.2,
                    },
                },
                dense("dense_1", 10, "softmax"),
            ],
        },
        "keras_version": "2.15.0",
        "backend": "tensorflow",
    }


def keras2_functional_residual() -> dict[str, Any]:
    """A Keras 2 Functional model with a nested Sequential and an Add, in Keras 2's list form
    of inbound_nodes (which TensorBoard's keras_util does not read)."""

    def layer(cls: str, name: str, cfg: dict[str, Any], inbound: list[str]) -> dict[str, Any]:
        return {
            "class_name": cls,
            "config": {"name": name, "trainable": True, "dtype": "float32", **cfg},
            "name": name,
            "inbound_nodes": [[[src, 0, 0, {}] for src in inbound]] if inbound else [],
        }

    block = {
        "class_name": "Sequential",
        "config": {
            "name": "block",
            "layers": [
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "inner_a",
                        "dtype": "float32",
                        "units": 32,
                        "use_bias": True,
                    },
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "inner_b",
                        "dtype": "float32",
                        "units": 32,
                        "use_bias": True,
                    },
                },
            ],
        },
        "name": "block",
        "inbound_nodes": [[["stem", 0, 0, {}]]],
    }
    return {
        "class_name": "Functional",
        "config": {
            "name": "resnet_mini",
            "layers": [
                layer("InputLayer", "inputs", {"batch_input_shape": [None, 16]}, []),
                layer("Dense", "stem", {"units": 32, "use_bias": True}, ["inputs"]),
                block,
                layer("Add", "add", {}, ["stem", "block"]),
                layer("Dense", "head", {"units": 3, "use_bias": True}, ["add"]),
            ],
            "input_layers": [["inputs", 0, 0]],
            "output_layers": [["head", 0, 0]],
        },
        "keras_version": "2.15.0",
        "backend": "tensorflow",
    }


def keras_event(model: dict[str, Any], tag: str = "keras", step: int = 0) -> event_pb2.Event:
    return string_summary(tag, json.dumps(model).encode("utf-8"), "graph_keras_model", step)
