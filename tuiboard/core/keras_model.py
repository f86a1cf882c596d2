"""Keras model configs (the `graph_keras_model` summary: `model.to_json()` as a string tensor, as
the Keras TensorBoard callback writes it) as a graph and as a layer table.

Owns: `KerasModel`, `KerasLayer` and `parse_keras_model`. The graph follows TensorBoard's
keras_util.keras_model_to_graph_def (its "conceptual graph"): a node per layer named by its
nested model scopes, inputs from `inbound_nodes` (Keras 3's `keras_history`) or, in a Sequential
model, the previous layer; nested models are scopes whose inputs and outputs are wired through.
Two additions: Keras 2's list form of `inbound_nodes` (`[[["dense", 0, 0, {}]]]`, which
TensorBoard skips, leaving such layers unconnected) is read too, and output shapes and parameter
counts are worked out for the common layers when the input shape is in the config (InputLayer's
`batch_shape`, `batch_input_shape`, Keras 3's `build_config`); other layers leave them blank.
Untrusted JSON: anything of the wrong type is skipped and said in `problems`, never raised.
Must not import: textual, rich.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tuiboard.core.graph import Graph, graph_from_nodes
from tuiboard.core.graph_attrs import DTYPE_NAMES, AttrValue

KerasShape = tuple[int | None, ...]
"""Keras' shape convention: None for the batch and other unknown sizes."""

_DTYPES = {name: name for name in DTYPE_NAMES.values()}
_DTYPES.update({"float": "float32", "double": "float64", "half": "float16"})
_IDENTITY = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "Rescaling",
    "Normalization",
    "ActivityRegularization",
    "Masking",
}
_MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


@dataclass(frozen=True, slots=True)
class KerasLayer:
    name: str
    """Scoped like its graph node (`outer_model/dense`)."""
    class_name: str
    inputs: tuple[str, ...]
    """Names of the layers it reads (graph node names)."""
    output_shape: KerasShape | None
    """None when not worked out."""
    params: int | None
    """Trainable and non-trainable weights, when worked out."""
    config: dict[str, Any]


@dataclass(slots=True)
class KerasModel:
    name: str
    class_name: str
    layers: list[KerasLayer]
    graph: Graph
    problems: list[str] = field(default_factory=list)

    @property
    def total_params(self) -> int | None:
        """The sum of the layers' parameters when every layer with weights was worked out."""
        counts = [la.params for la in self.layers]
        if not counts or any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)


def _d(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _config(layer: Any) -> dict[str, Any]:
    return _d(_d(layer).get("config"))


def _walk(layer: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """keras_util._walk_layers: (name scope, layer config) in preorder."""
    yield "", layer
    sub = _config(layer).get("layers")
    if isinstance(sub, list) and sub:
        scope = str(_config(layer).get("name", ""))
        for child in sub:
            if not isinstance(child, dict):
                continue
            for child_scope, found in _walk(child):
                yield (f"{scope}/{child_scope}" if child_scope else scope), found


def _scoped(scope: str, name: str) -> str:
    return f"{scope}/{name}" if scope else name


def _is_model(layer: dict[str, Any]) -> bool:
    return _config(layer).get("layers") is not None


def _as_layer_list(x: Any) -> list[list[Any]]:
    """keras_util._norm_to_list_of_layers: `["a", 0, 0]` or `[["a", 0, 0], ...]`."""
    if not isinstance(x, list) or not x:
        return []
    rows = x if isinstance(x[0], list) else [x]
    return [r for r in rows if isinstance(r, list) and r and isinstance(r[0], str)]


def _inbound(layer: dict[str, Any]) -> list[tuple[str, int, int]]:
    """[name, node index, tensor index] of every inbound tensor: Keras 3's
    `{"args": [{"config": {"keras_history": [...]}}]}` (keras_util._get_inbound_nodes) and
    Keras 2's `[[["name", 0, 0, {}], ...]]`."""
    out: list[tuple[str, int, int]] = []
    nodes = layer.get("inbound_nodes")
    if not isinstance(nodes, list):
        return out
    for node in nodes:
        if isinstance(node, dict):
            args = node.get("args", [])
            for arg in args if isinstance(args, list) else []:
                for a in arg if isinstance(arg, list) else [arg]:
                    hist = _d(_d(a).get("config")).get("keras_history", [])
                    if isinstance(hist, list) and len(hist) >= 3 and isinstance(hist[0], str):
                        out.append((hist[0], _int(hist[1]), _int(hist[2])))
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str):
                    out.append((item[0], _int(item[1]), _int(item[2])))
    return out


def _int(x: Any) -> int:
    return x if isinstance(x, int) and not isinstance(x, bool) else 0


def _model_links(
    scope: str,
    layer: dict[str, Any],
    input_to_layer: dict[str, str],
    model_outputs: dict[str, list[str]],
    prev: str | None,
) -> str | None:
    """keras_util._update_dicts for a (nested) model; returns the new previous node name."""
    cfg = _config(layer)
    node_name = _scoped(scope, str(cfg.get("name", "")))
    input_layers = _as_layer_list(cfg.get("input_layers"))
    output_layers = cfg.get("output_layers")
    inbound = _inbound(layer)
    functional = bool(input_layers and output_layers)
    parent_functional = bool(inbound)
    if parent_functional and functional:
        for inp, ib in zip(input_layers, inbound, strict=False):
            input_to_layer[_scoped(node_name, inp[0])] = _scoped(scope, ib[0])
    elif parent_functional and not functional:
        prev = _scoped(scope, inbound[0][0])
    elif not parent_functional and prev and functional and len(input_layers) == 1:
        input_to_layer[_scoped(node_name, input_layers[0][0])] = prev
    outs = _as_layer_list(output_layers)
    if functional and outs:
        model_outputs[node_name] = [_scoped(node_name, o[0]) for o in outs]
    else:
        layers = cfg.get("layers")
        last = layers[-1] if isinstance(layers, list) and layers else {}
        model_outputs[node_name] = [_scoped(node_name, str(_config(last).get("name", "")))]
    return prev


def parse_keras_model(text: str | bytes) -> KerasModel:
    """A KerasModel from `model.to_json()`. Raises ValueError when it is not JSON of a model."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ValueError("not a Keras model config (no 'config' object)")
    problems: list[str] = []
    nodes: list[tuple[str, str, list[str], dict[str, AttrValue]]] = []
    configs: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    input_to_layer: dict[str, str] = {}
    model_outputs: dict[str, list[str]] = {}
    prev: str | None = None
    for scope, layer in _walk(data):
        if _is_model(layer):
            prev = _model_links(scope, layer, input_to_layer, model_outputs, prev)
            continue
        cfg = _config(layer)
        name = _scoped(scope, str(cfg.get("name", "")))
        cls = layer.get("class_name")
        attrs: dict[str, AttrValue] = {}
        if isinstance(cls, str):
            attrs["keras_class"] = AttrValue("s", cls.encode("utf-8", "replace"))
        dtype = cfg.get("dtype")
        if isinstance(dtype, dict) and "config" in dtype:
            dtype = _d(dtype.get("config")).get("name")
        if isinstance(dtype, str) and dtype in _DTYPES:
            attrs["dtype"] = AttrValue("type", _DTYPES[dtype])
        elif dtype is not None:
            problems.append(f"layer {name}: dtype {str(dtype)[:40]!r} not shown")
        attrs.update(_config_attrs(cfg))
        inputs: list[str] = []
        if layer.get("inbound_nodes") is not None:
            for ib_name, _, index in _inbound(layer):
                scoped = _scoped(scope, ib_name)
                names = model_outputs.get(scoped, [scoped])
                inputs.append(names[index] if index < len(names) else names[-1])
        elif prev is not None:
            inputs.append(prev)
        if name in input_to_layer:
            inputs.append(input_to_layer[name])
        prev = name
        nodes.append((name, cls if isinstance(cls, str) else "", inputs, attrs))
        configs.append((name, cls if isinstance(cls, str) else "", cfg, layer))
    graph = graph_from_nodes(nodes)
    layers = _layer_table(configs, nodes)
    root_cfg = _config(data)
    cls = data.get("class_name")
    return KerasModel(
        name=str(root_cfg.get("name", "")),
        class_name=cls if isinstance(cls, str) else "",
        layers=layers,
        graph=graph,
        problems=problems,
    )


def _config_attrs(cfg: dict[str, Any]) -> dict[str, AttrValue]:
    """The layer's plain settings (units, activation, kernel_size, ...) shown as attributes."""
    out: dict[str, AttrValue] = {}
    for key, value in cfg.items():
        if key in ("name", "dtype") or value is None:
            continue
        if isinstance(value, bool):
            out[key] = AttrValue("b", value)
        elif isinstance(value, int):
            out[key] = AttrValue("i", value)
        elif isinstance(value, float):
            out[key] = AttrValue("f", value)
        elif isinstance(value, str):
            out[key] = AttrValue("s", value.encode("utf-8", "replace"))
        elif isinstance(value, list) and all(
            isinstance(v, int | float | str) or v is None for v in value
        ):
            out[key] = AttrValue("s", json.dumps(value).encode())
    return out


# -- shapes and parameters ----------------------------------------------------------------------


def _shape(x: Any) -> KerasShape | None:
    if not isinstance(x, list | tuple):
        return None
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in x):
        return None
    return tuple(v if v is None or v >= 0 else None for v in x)


def _declared_input(cfg: dict[str, Any], layer: dict[str, Any]) -> KerasShape | None:
    """An input shape the JSON states: the config's batch shape (InputLayer, or a first layer
    given `input_shape` in Keras 2) or Keras 3's `build_config` next to the config."""
    for key in ("batch_shape", "batch_input_shape"):
        s = _shape(cfg.get(key))
        if s is not None:
            return s
    return _shape(_d(layer.get("build_config")).get("input_shape"))


def _tuple(x: Any, n: int, default: int) -> tuple[int, ...] | None:
    if isinstance(x, int) and not isinstance(x, bool):
        return (x,) * n
    if isinstance(x, list | tuple) and len(x) == n and all(isinstance(v, int) for v in x):
        return tuple(x)
    if x is None:
        return (default,) * n
    return None


def _spatial(size: int | None, k: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / stride)
    eff = (k - 1) * dilation + 1
    return max(0, (size - eff) // stride + 1)


def _conv_dims(cls: str) -> int:
    for n in (1, 2, 3):
        if cls.endswith(f"{n}D"):
            return n
    return 0


def _layer_shape(
    cls: str, cfg: dict[str, Any], ins: list[KerasShape | None]
) -> tuple[KerasShape | None, int | None]:
    """(output shape, parameter count) for the layers we know; (None, None) otherwise."""
    x = ins[0] if ins else None
    if cls == "InputLayer":
        return x, 0
    if x is None:
        return None, None
    bias = bool(cfg.get("use_bias", True))
    if cls == "Dense":
        units = cfg.get("units")
        if not isinstance(units, int) or x[-1] is None:
            return None, None
        return (*x[:-1], units), x[-1] * units + (units if bias else 0)
    params: int | None
    if cls in _IDENTITY:
        params = 0
        ch = x[-1]
        if cls == "BatchNormalization" and ch is not None:
            params = (bool(cfg.get("center", True)) + bool(cfg.get("scale", True)) + 2) * ch
        elif cls == "LayerNormalization" and ch is not None:
            params = (bool(cfg.get("center", True)) + bool(cfg.get("scale", True))) * ch
        elif cls in ("PReLU", "GroupNormalization", "Normalization"):
            return x, None
        return x, params
    if cls == "Flatten":
        rest = x[1:]
        if any(v is None for v in rest):
            return (x[0], None), 0
        return (x[0], math.prod(v for v in rest if v is not None)), 0
    if cls == "Embedding":
        dim, out = cfg.get("input_dim"), cfg.get("output_dim")
        if not isinstance(dim, int) or not isinstance(out, int):
            return None, None
        return (*x, out), dim * out
    if cls == "Reshape":
        target = _shape(cfg.get("target_shape"))
        return (None if target is None else (x[0], *target)), 0
    if cls in _MERGE:
        return x, 0
    if cls == "Concatenate":
        axis = cfg.get("axis", -1)
        if axis != -1 or any(s is None or s[-1] is None for s in ins):
            return None, 0
        return (*x[:-1], sum(s[-1] for s in ins if s is not None and s[-1] is not None)), 0
    if cls in ("LSTM", "GRU", "SimpleRNN"):
        units = cfg.get("units")
        if not isinstance(units, int) or x[-1] is None:
            return None, None
        seq: KerasShape = (x[0], x[1], units) if cfg.get("return_sequences") else (x[0], units)
        n_in = x[-1]
        if cls == "LSTM":
            params = 4 * (units * (n_in + units) + (units if bias else 0))
        elif cls == "GRU":
            per_bias = (2 if cfg.get("reset_after", True) else 1) * units if bias else 0
            params = 3 * (units * (n_in + units) + per_bias)
        else:
            params = units * (n_in + units) + (units if bias else 0)
        return seq, params
    n = _conv_dims(cls)
    if not n or cfg.get("data_format") == "channels_first" or len(x) != n + 2:
        return None, None
    spatial = x[1:-1]
    padding = str(cfg.get("padding", "valid")).lower()
    if cls.startswith(("Conv", "SeparableConv", "DepthwiseConv")) and "Transpose" not in cls:
        if cls.startswith(("Separable", "Depthwise")):
            return None, None
        k = _tuple(cfg.get("kernel_size"), n, 1)
        s = _tuple(cfg.get("strides"), n, 1)
        d = _tuple(cfg.get("dilation_rate"), n, 1)
        filters = cfg.get("filters")
        groups = cfg.get("groups", 1)
        if k is None or s is None or d is None or not isinstance(filters, int):
            return None, None
        if not isinstance(groups, int) or groups < 1:
            groups = 1
        dims = tuple(_spatial(spatial[j], k[j], s[j], padding, d[j]) for j in range(n))
        ch = x[-1]
        params = None
        if ch is not None:
            params = math.prod(k) * (ch // groups) * filters + (filters if bias else 0)
        return (x[0], *dims, filters), params
    if "Pooling" in cls:
        if cls.startswith("Global"):
            if cfg.get("keepdims"):
                return (x[0], *(1 for _ in spatial), x[-1]), 0
            return (x[0], x[-1]), 0
        pool = _tuple(cfg.get("pool_size"), n, 2)
        if pool is None:
            return None, 0
        strides = _tuple(cfg.get("strides"), n, 0) if cfg.get("strides") is not None else pool
        if strides is None:
            return None, 0
        dims = tuple(_spatial(spatial[j], pool[j], strides[j], padding) for j in range(n))
        return (x[0], *dims, x[-1]), 0
    return None, None


def _layer_table(
    configs: list[tuple[str, str, dict[str, Any], dict[str, Any]]],
    nodes: list[tuple[str, str, list[str], dict[str, AttrValue]]],
) -> list[KerasLayer]:
    shapes: dict[str, KerasShape | None] = {}
    out: list[KerasLayer] = []
    for (name, cls, cfg, layer), (_, _, inputs, _) in zip(configs, nodes, strict=True):
        declared = _declared_input(cfg, layer)
        ins: list[KerasShape | None] = (
            [declared] if declared is not None else [shapes.get(i) for i in inputs]
        )
        try:
            shape, params = _layer_shape(cls, cfg, ins)
        except (TypeError, ValueError, ZeroDivisionError):  # odd values in untrusted JSON
            shape, params = None, None
        shapes[name] = shape
        out.append(KerasLayer(name, cls, tuple(inputs), shape, params, cfg))
    return out
