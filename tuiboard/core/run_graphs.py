"""Which graphs a run holds and how to load one: what the Graph tab lists and `plot --kind graph`
prints, from what the store kept.

Owns: `GraphSource` (one graph of one run), `graph_sources`, `LoadedGraph` and `load_graph`.
A run's graphs, as TensorBoard's graphs plugin lists them (plugins/graph/graphs_plugin.py):
- its op graph: the last `Event.graph_def` (TensorBoard keeps the last), else the graph inside
  the last `Event.meta_graph_def`; the run's `Event.tagged_run_metadata` step stats (PyTorch
  writes one, tag "step1") attach to it;
- a TF2 `graph_run_metadata_graph` / `graph_run_metadata` summary per tag: the function graphs of
  its RunMetadata, merged, with that RunMetadata's own step stats;
- a Keras model per `graph_keras_model` tag (TensorBoard's conceptual graph), with its layers;
- tagged run metadata alone (no op graph): the nodes its step stats name.
Must not import: textual, rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tuiboard.core import graph as g
from tuiboard.core.graph_tree import Hierarchy, build_hierarchy
from tuiboard.core.keras_model import KerasModel, parse_keras_model
from tuiboard.core.step_stats import NodeStats, decode_step_stats
from tuiboard.core.types import GRAPH, GraphValue, TensorValue
from tuiboard.core.wire import DecodeError

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

KERAS_MODEL = "graph_keras_model"
RUN_METADATA = "graph_run_metadata"
RUN_METADATA_GRAPH = "graph_run_metadata_graph"
GRAPH_KINDS = (GRAPH, KERAS_MODEL, RUN_METADATA, RUN_METADATA_GRAPH)
"""Every data kind the Graph tab shows."""

OP, KERAS, PROFILE = "op", "keras", "profile"


@dataclass(frozen=True, slots=True)
class GraphSource:
    """One graph of one run."""

    run: str
    kind: str
    """OP (an op graph), KERAS (a model config) or PROFILE (step stats without a graph)."""
    data_kind: str
    """The store kind its values are under (graph, graph_keras_model, ...)."""
    tag: str
    """The store tag: graph_def, meta_graph_def, a summary tag or a run metadata tag."""

    @property
    def label(self) -> str:
        if self.kind == KERAS:
            return f"Keras model {self.tag}"
        if self.kind == PROFILE:
            return f"run metadata {self.tag}"
        if self.data_kind == GRAPH:
            return "op graph" if self.tag == "graph_def" else "op graph (meta graph)"
        return f"op graph {self.tag}"


def _of_source(values: tuple[object, ...], source: str) -> list[GraphValue]:
    return [v for v in values if isinstance(v, GraphValue) and v.source == source]


def graph_sources(run: Run) -> list[GraphSource]:
    """The graphs of a run, in the order the tab lists them."""
    out: list[GraphSource] = []
    graph_tags = run.tags(GRAPH)
    op_tag = next(
        (
            t
            for t in ("graph_def", "meta_graph_def")
            if t in graph_tags and _of_source(run.values(GRAPH, t), t)
        ),
        None,
    )
    if op_tag is not None:
        out.append(GraphSource(run.name, OP, GRAPH, op_tag))
    for kind in (RUN_METADATA_GRAPH, RUN_METADATA):
        out.extend(GraphSource(run.name, OP, kind, t) for t in run.tags(kind))
    out.extend(GraphSource(run.name, KERAS, KERAS_MODEL, t) for t in run.tags(KERAS_MODEL))
    if op_tag is None:
        for t in graph_tags:
            if _of_source(run.values(GRAPH, t), "tagged_run_metadata"):
                out.append(GraphSource(run.name, PROFILE, GRAPH, t))
    return out


def source_version(run: Run, source: GraphSource) -> int:
    """Changes when anything the loaded graph depends on changed (a new graph, new stats)."""
    v = run.series_version(source.data_kind, source.tag)
    if source.kind == OP and source.data_kind == GRAPH:
        v += sum(run.series_version(GRAPH, t) for t in run.tags(GRAPH))
    return v


@dataclass(slots=True)
class LoadedGraph:
    source: GraphSource
    graph: g.Graph
    hierarchy: Hierarchy
    step: int
    stats: dict[str, dict[str, NodeStats]] = field(default_factory=dict)
    """Run metadata tag -> node name -> stats (empty: no step stats)."""
    keras: KerasModel | None = None
    problems: list[str] = field(default_factory=list)
    version: int = -1

    @property
    def stats_tags(self) -> list[str]:
        """Run metadata tags whose step stats name at least one node (PyTorch's "step1" names
        none: it is not offered)."""
        return [t for t, table in self.stats.items() if table]


def _last_blob(values: tuple[object, ...], step: int | None) -> tuple[bytes, int] | None:
    """The bytes of the last value at or before `step` (None: the last value)."""
    for v in reversed(values):
        if not isinstance(v, GraphValue | TensorValue) or (step is not None and v.step > step):
            continue
        if isinstance(v, GraphValue):
            return v.data, v.step
        if isinstance(v.data, tuple) and v.data and isinstance(v.data[0], bytes):
            return v.data[0], v.step
    return None


def _tagged_stats(run: Run, problems: list[str]) -> dict[str, dict[str, NodeStats]]:
    out: dict[str, dict[str, NodeStats]] = {}
    for tag in run.tags(GRAPH):
        found = _of_source(run.values(GRAPH, tag), "tagged_run_metadata")
        if not found:
            continue
        try:
            out[tag] = decode_step_stats(found[-1].data)
        except DecodeError as e:
            problems.append(f"run metadata {tag!r} does not decode: {e}")
    return out


def load_graph(
    run: Run, source: GraphSource, series_min: int | None = None, step: int | None = None
) -> LoadedGraph:
    """Decode a source (its last value, or the last at or before `step`) and build its scope
    tree (10,000 nodes: ~0.1 s; call it off the UI thread). Damage is reported in `problems`;
    what could be read is still shown."""
    problems: list[str] = []
    version = source_version(run, source)
    found = _last_blob(run.values(source.data_kind, source.tag), step)
    data, step = found if found is not None else (b"", 0)
    keras: KerasModel | None = None
    stats: dict[str, dict[str, NodeStats]] = {}
    graph: g.Graph
    if source.kind == KERAS:
        try:
            keras = parse_keras_model(data)
            graph = keras.graph
            problems.extend(keras.problems)
        except (ValueError, RecursionError) as e:  # bad JSON, not a model, nested too deep
            problems.append(f"the Keras model config does not read: {e}")
            graph = g.graph_from_nodes([])
    elif source.kind == PROFILE:
        try:
            node_stats = decode_step_stats(data)
        except DecodeError as e:
            problems.append(f"run metadata does not decode: {e}")
            node_stats = {}
        stats[source.tag] = node_stats
        names = list(node_stats)
        graph = g.graph_from_names(
            names, [""] * len(names), [s.device for s in node_stats.values()]
        )
    elif source.data_kind == GRAPH:
        decode = g.decode_graph_def if source.tag == "graph_def" else g.graph_from_meta_graph
        graph = decode(data)
        stats = _tagged_stats(run, problems)
    else:
        graph = g.graph_from_run_metadata(data)
        try:
            own = decode_step_stats(data)
        except DecodeError as e:
            problems.append(f"step stats do not decode: {e}")
            own = {}
        if own:
            stats[source.tag] = own
    problems.extend(graph.problems)
    kwargs = {} if series_min is None else {"series_min": series_min}
    hierarchy = build_hierarchy(graph, **kwargs)
    return LoadedGraph(source, graph, hierarchy, step, stats, keras, problems, version)
