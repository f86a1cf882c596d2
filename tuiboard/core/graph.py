"""Model graphs decoded from the wire: GraphDef (alone, inside a MetaGraphDef, or as the function
graphs of a RunMetadata).

Owns: `Graph` (the nodes of one graph, their inputs resolved to node indices and the reverse
"who consumes it" index), `decode_graph_def`, `graph_from_meta_graph`,
`graph_from_run_metadata`. A node's attributes are decoded only when asked for
(`Graph.attrs`, by core/graph_attrs.py) from the bytes the graph was read from; step stats are
core/step_stats.py.
Input names follow TensorBoard's parser (tf_graph_common/graph.ts): `^name` is a control input,
`name:1` is output 1 of `name`, `name:out:0` an output of a function call. Library functions are
added as TensorBoard adds them (`__function_library__F`, its input args and its nodes under it).
Must not import: textual, rich, protobuf, or tuiboard modules other than core.wire and
core.graph_attrs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tuiboard.core import wire
from tuiboard.core.graph_attrs import AttrValue, Shape, decode_node_attrs, dtype_name
from tuiboard.core.wire import LEN, VARINT, DecodeError

FUNCTION_LIBRARY_PREFIX = "__function_library__"
"""TensorBoard's name prefix for a library function's node (graph.ts)."""
OUTPUT_SHAPES = "_output_shapes"

_INPUT_PART = re.compile(r"^([^:]+):((\w+:|)\d+)$")
"""TensorBoard's INPUT_NAME_PART_MATCHER: `name:1` or `name:tensor:1`."""


@dataclass(slots=True)
class Graph:
    """One graph's nodes. Node i is `names[i]`; lists are parallel, in GraphDef order.

    Invariant: `in_ptr[i]:in_ptr[i+1]` are node i's inputs in the flat input arrays (as written,
    in order); `in_src[k]` is the index of input k's node, or -1 when no node has that name.
    `out_ptr`/`out_input` list, per node, the flat input slots that read it (its consumers).
    """

    names: list[str]
    ops: list[str]
    devices: list[str]
    in_ptr: np.ndarray
    in_src: np.ndarray
    in_name: list[str]
    """Input k's node name (without `^` and `:port`)."""
    in_key: list[str]
    """Input k's output key ("0" when not written, "1", "out:0")."""
    in_control: np.ndarray
    """bool: input k is a control dependency (`^name`)."""
    spans: np.ndarray
    """int64 (n, 2): byte range of node i's NodeDef in `blob`, (-1, -1) when made up."""
    blob: bytes = b""
    made_attrs: dict[int, dict[str, AttrValue]] = field(default_factory=dict)
    """Attributes of nodes that have no NodeDef of their own (Keras layers, function args)."""
    index: dict[str, int] = field(default_factory=dict)
    """Name -> node index (the last node of that name, as a dict of names keeps it)."""
    out_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    out_input: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Flat input k belongs to node owner[k]."""
    problems: list[str] = field(default_factory=list)
    """What could not be read (shown with the graph; the rest is still shown)."""

    def __len__(self) -> int:
        return len(self.names)

    @property
    def edge_count(self) -> int:
        """Inputs that name a node of the graph; consecutive repeats of one input count once
        (TensorBoard's normalizeInputs) and self loops not at all (its addEdgeToGraph)."""
        return int(self.edges_mask().sum())

    @property
    def control_edge_count(self) -> int:
        return int((self.edges_mask() & self.in_control).sum())

    def edges_mask(self) -> np.ndarray:
        src = self.in_src
        mask = (src >= 0) & (src != self.owner)
        if src.shape[0] > 1:
            # TensorBoard's normalizeInputs drops an input naming the node the one before named.
            same = np.zeros(src.shape[0], dtype=bool)
            same[1:] = src[1:] == src[:-1]
            starts = self.in_ptr[:-1]
            same[starts[starts < src.shape[0]]] = False
            mask &= ~same
        return mask

    def inputs(self, i: int) -> range:
        return range(int(self.in_ptr[i]), int(self.in_ptr[i + 1]))

    def input_nodes(self, i: int) -> np.ndarray:
        return self.in_src[int(self.in_ptr[i]) : int(self.in_ptr[i + 1])]

    def consumers(self, i: int) -> np.ndarray:
        """Flat input slots (of other nodes) that read node i, in node order."""
        return self.out_input[int(self.out_ptr[i]) : int(self.out_ptr[i + 1])]

    def attrs(self, i: int) -> dict[str, AttrValue]:
        """Node i's attributes, decoded now (DecodeError: damaged bytes)."""
        made = self.made_attrs.get(i)
        if made is not None:
            return made
        a, c = int(self.spans[i, 0]), int(self.spans[i, 1])
        if a < 0:
            return {}
        return decode_node_attrs(self.blob, a, c)

    def output_shapes(self, i: int) -> list[Shape] | None:
        """The `_output_shapes` attribute as PyTorch and TF write it; None when absent."""
        try:
            v = self.attrs(i).get(OUTPUT_SHAPES)
        except DecodeError:
            return None
        if v is None or v.kind != "list":
            return None
        item_kind, items = v.value
        if item_kind not in ("shape", ""):
            return None
        return list(items)


# -- GraphDef -----------------------------------------------------------------------------------


class _Builder:
    """Collects nodes from one or more GraphDefs (and their libraries) before indexing."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.names: list[str] = []
        self.ops: list[str] = []
        self.devices: list[str] = []
        self.raw_inputs: list[list[str]] = []
        self.spans: list[tuple[int, int]] = []
        self.made: dict[int, dict[str, AttrValue]] = {}
        self.problems: list[str] = []
        self.libraries: list[tuple[int, int, str]] = []
        """Function libraries found, added after every graph's nodes (as graph.ts does)."""

    def node(
        self,
        name: str,
        op: str,
        inputs: list[str],
        device: str = "",
        span: tuple[int, int] = (-1, -1),
        attrs: dict[str, AttrValue] | None = None,
    ) -> int:
        self.names.append(name)
        self.ops.append(op)
        self.devices.append(device)
        self.raw_inputs.append(inputs)
        self.spans.append(span)
        if attrs is not None:
            self.made[len(self.names) - 1] = attrs
        return len(self.names) - 1

    def graph_def(self, a: int, c: int, prefix: str = "") -> None:
        """Add a GraphDef found at blob[a:c]; `prefix/` before every name (merged graphs)."""
        b = self.blob
        try:
            for fno, wt, a2, c2 in wire.fields(b, a, c):
                if fno == 1 and wt == LEN:
                    name, op, device, inputs = _scan_node(b, a2, c2)
                    if prefix:
                        name = f"{prefix}/{name}"
                        inputs = [_prefixed_input(prefix, x) for x in inputs]
                    self.node(name, op, inputs, device, (a2, c2))
                elif fno == 2 and wt == LEN:
                    self.libraries.append((a2, c2, prefix))
        except DecodeError as e:
            self.problems.append(f"GraphDef damaged after {len(self.names)} nodes: {e}")

    def _library(self, a: int, c: int, prefix: str) -> None:
        b = self.blob
        for fno, wt, a2, c2 in wire.fields(b, a, c):
            if fno == 1 and wt == LEN:
                self._function(a2, c2, prefix)

    def _function(self, a: int, c: int, prefix: str) -> None:
        """TensorBoard's processFunction: a node for the function, one per input arg (op
        input_arg), and its node_defs under it with their inputs prefixed likewise."""
        b = self.blob
        fname = ""
        args: list[tuple[str, int]] = []
        node_spans: list[tuple[int, int]] = []
        for fno, wt, a2, c2 in wire.fields(b, a, c):
            if fno == 1 and wt == LEN:
                for f3, w3, a3, c3 in wire.fields(b, a2, c2):
                    if f3 == 1 and w3 == LEN:
                        fname = wire.text_at(b, a3, c3)
                    elif f3 == 2 and w3 == LEN:
                        arg_name, arg_type = "", 0
                        for f4, w4, a4, c4 in wire.fields(b, a3, c3):
                            if f4 == 1 and w4 == LEN:
                                arg_name = wire.text_at(b, a4, c4)
                            elif f4 == 3 and w4 == VARINT:
                                arg_type = a4
                        args.append((arg_name, arg_type))
            elif fno == 3 and wt == LEN:
                node_spans.append((a2, c2))
        if prefix:
            fname = f"{prefix}_{fname}"  # graph_util._prefixed_func_name
        head = FUNCTION_LIBRARY_PREFIX + fname
        self.node(head, "", [], attrs={})
        for arg_name, arg_type in args:
            self.node(f"{head}/{arg_name}", "input_arg", [], attrs={"T": _type_attr(arg_type)})
        for a2, c2 in node_spans:
            name, op, device, inputs = _scan_node(b, a2, c2)
            self.node(
                f"{head}/{name}", op, [_prefixed_input(head, x) for x in inputs], device, (a2, c2)
            )

    def build(self) -> Graph:
        for a, c, prefix in self.libraries:
            try:
                self._library(a, c, prefix)
            except DecodeError as e:
                self.problems.append(f"function library damaged: {e}")
        self.libraries = []
        return _index(
            Graph(
                names=self.names,
                ops=self.ops,
                devices=self.devices,
                in_ptr=np.zeros(1, dtype=np.int64),
                in_src=np.zeros(0, dtype=np.int32),
                in_name=[],
                in_key=[],
                in_control=np.zeros(0, dtype=bool),
                spans=np.asarray(self.spans, dtype=np.int64).reshape(-1, 2),
                blob=self.blob,
                made_attrs=self.made,
                problems=self.problems,
            ),
            self.raw_inputs,
        )


def _prefixed_input(prefix: str, raw: str) -> str:
    if raw.startswith("^"):
        return f"^{prefix}/{raw[1:]}"
    return f"{prefix}/{raw}"


def _type_attr(code: int) -> AttrValue:
    return AttrValue("type", dtype_name(code))


def _scan_node(b: bytes, p: int, end: int) -> tuple[str, str, str, list[str]]:
    """(name, op, device, inputs) of the NodeDef at b[p:end]; attributes are skipped (read
    later from the span). A hand-unrolled field loop: this runs once per node of a graph."""
    name = op = device = ""
    inputs: list[str] = []
    while p < end:
        key = b[p]
        p += 1
        if key >= 0x80:
            key, p = wire.varint(b, p - 1, end)
        wt = key & 7
        if wt == LEN:
            n = b[p] if p < end else 0x80
            if n < 0x80:
                p += 1
            else:
                n, p = wire.varint(b, p, end)
            q = p + n
            if q > end:
                raise DecodeError("length past end")
            fno = key >> 3
            if fno == 3:
                inputs.append(b[p:q].decode("utf-8", "replace"))
            elif fno == 1:
                name = b[p:q].decode("utf-8", "replace")
            elif fno == 2:
                op = b[p:q].decode("utf-8", "replace")
            elif fno == 4:
                device = b[p:q].decode("utf-8", "replace")
            p = q
        elif wt == VARINT:
            _, p = wire.varint(b, p, end)
        elif wt == 1:
            p += 8
        elif wt == 5:
            p += 4
        else:
            raise DecodeError(f"wire type {wt}")
        if key >> 3 == 0:
            raise DecodeError("field number 0")
    if p != end:
        raise DecodeError("node overruns its end")
    return name, op, device, inputs


def _index(g: Graph, raw_inputs: list[list[str]]) -> Graph:
    """Resolve inputs to node indices and build the consumer index."""
    n = len(g.names)
    g.index = {name: i for i, name in enumerate(g.names)}
    counts = np.fromiter((len(x) for x in raw_inputs), dtype=np.int64, count=n)
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=in_ptr[1:])
    total = int(in_ptr[-1])
    names: list[str] = []
    keys: list[str] = []
    control = np.zeros(total, dtype=bool)
    k = 0
    match = _INPUT_PART.match
    for row in raw_inputs:
        for raw in row:
            if raw.startswith("^"):
                control[k] = True
                raw = raw[1:]
            key = "0"
            if ":" in raw:
                m = match(raw)
                if m is not None:
                    raw, key = m.group(1), m.group(2)
            names.append(raw)
            keys.append(key)
            k += 1
    get = g.index.get
    src = np.fromiter((get(x, -1) for x in names), dtype=np.int32, count=total)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    valid = np.flatnonzero(src >= 0)
    order = valid[np.argsort(src[valid], kind="stable")]
    out_counts = np.bincount(src[valid], minlength=n) if n else np.zeros(0, dtype=np.int64)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_counts, out=out_ptr[1:])
    g.in_ptr, g.in_src, g.in_name, g.in_key, g.in_control = in_ptr, src, names, keys, control
    g.owner = owner
    g.out_ptr, g.out_input = out_ptr, order.astype(np.int64)
    return g


def decode_graph_def(blob: bytes) -> Graph:
    """A serialized GraphDef (Event.graph_def). A damaged tail is a problem, not an error: the
    nodes read before it are kept."""
    builder = _Builder(blob)
    builder.graph_def(0, len(blob))
    return builder.build()


def graph_from_meta_graph(blob: bytes) -> Graph:
    """The graph_def (field 2) of a MetaGraphDef (Event.meta_graph_def)."""
    builder = _Builder(blob)
    try:
        spans = [
            (a, c) for fno, wt, a, c in wire.fields(blob, 0, len(blob)) if fno == 2 and wt == LEN
        ]
    except DecodeError as e:
        spans = []
        builder.problems.append(f"MetaGraphDef damaged: {e}")
    for a, c in spans[-1:]:
        builder.graph_def(a, c)
    return builder.build()


def function_graph_spans(blob: bytes) -> list[tuple[int, int]]:
    """Byte ranges of RunMetadata.function_graphs[].pre_optimization_graph, in order."""
    out: list[tuple[int, int]] = []
    for fno, wt, a, c in wire.fields(blob, 0, len(blob)):
        if fno == 4 and wt == LEN:
            pre = (-1, -1)
            for f2, w2, a2, c2 in wire.fields(blob, a, c):
                if f2 == 2 and w2 == LEN:
                    pre = (a2, c2)
            out.append(pre if pre[0] >= 0 else (a, a))
    return out


def graph_from_run_metadata(blob: bytes) -> Graph:
    """The op graph of a TF2 `graph_run_metadata(_graph)` summary: the pre-optimization graphs
    of its function graphs, merged as TensorBoard's graph_util.merge_graph_defs merges them
    (one graph as is; several under `graph_1/`, `graph_2/`, ...)."""
    builder = _Builder(blob)
    try:
        spans = function_graph_spans(blob)
    except DecodeError as e:
        spans = []
        builder.problems.append(f"RunMetadata damaged: {e}")
    for k, (a, c) in enumerate(spans):
        builder.graph_def(a, c, prefix="" if len(spans) == 1 else f"graph_{k + 1}")
    return builder.build()


def graph_from_names(names: list[str], ops: list[str], devices: list[str]) -> Graph:
    """A graph of nodes without inputs (the node names of step stats when no graph was logged,
    Keras layers before their inputs are known)."""
    builder = _Builder(b"")
    for name, op, device in zip(names, ops, devices, strict=True):
        builder.node(name, op, [], device, attrs={})
    return builder.build()


def graph_from_nodes(
    nodes: list[tuple[str, str, list[str], dict[str, AttrValue]]],
) -> Graph:
    """A graph from (name, op, inputs, attributes) tuples (Keras models)."""
    builder = _Builder(b"")
    for name, op, inputs, attrs in nodes:
        builder.node(name, op, inputs, attrs=attrs)
    return builder.build()
