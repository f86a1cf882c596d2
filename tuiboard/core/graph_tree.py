"""A graph's name-scope tree, grouped as TensorBoard's graph dashboard groups it.

Owns: `Hierarchy` (scopes, series, per-scope node and op counts, search, trace inputs) and
`build_hierarchy`. TensorBoard's rules (tf_graph_common/graph.ts and hierarchy.ts):
- names split on `/` into scopes (`Net/Conv2d[conv1]/input.1` is under `Net` > `Conv2d[conv1]`);
- a node whose name is also a scope is renamed `A/(A)` and shown inside that scope;
- in each scope, sibling op nodes of one op whose last name part is `prefix<N>` (N digits at the
  end, no digit in the prefix; a name without digits counts as N = 0) with consecutive N form a
  series `prefix[first-last]`, folded into one entry when it has SERIES_MIN (5) members or more;
  two series of one name from different ops: the later op's wins, as in TensorBoard's dict.
Unlike TensorBoard's picture, Const and *Summary nodes are not folded into their consumers: a
text tree has room for them, and every node of the GraphDef is counted.

Every list here is in GraphDef order; a scope's children are listed in the order their first
node appears in the GraphDef (model definition order), computed when a scope is first opened.
Must not import: textual, rich.
"""

from __future__ import annotations

import bisect
import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from tuiboard.core.graph import Graph

SERIES_MIN = 5
"""TensorBoard's seriesNodeMinSize."""
ROOT, SCOPE, SERIES = "root", "scope", "series"
_SERIES_NAME = re.compile(r"^([^0-9]*)([0-9]+)$")
"""TensorBoard's `^(\\D*)(\\d+)$` (ASCII digits, as JavaScript's \\d)."""


@dataclass(slots=True)
class Group:
    """A scope, a series or the root. Children are encoded as ints: node i is i, group g is
    -(g + 1) (see `Hierarchy.children`)."""

    name: str
    """Full path ("" for the root); a series: `scope/prefix[first-last]suffix`."""
    label: str
    """What the tree shows: the last part of the path, or `prefix[first-last]suffix`."""
    kind: str
    parent: int
    """Group id of the parent; -1 for the root."""
    first: int
    """Lowest GraphDef index of a node inside (its place among its siblings)."""
    groups: list[int] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    """Op nodes directly inside (series members are inside their series, not here)."""
    op: str = ""
    """A series' op."""


def entry_of_group(gid: int) -> int:
    return -(gid + 1)


def group_of_entry(entry: int) -> int:
    """The group id of a child entry (entry < 0)."""
    return -entry - 1


@dataclass(slots=True)
class Hierarchy:
    graph: Graph
    groups: list[Group]
    node_parent: np.ndarray
    """int64: group id holding node i (a scope, a series or the root)."""
    leaf_label: list[str]
    """Node i's label in the tree: its last name part, or `(A)` for a renamed node."""
    sorted_names: list[str]
    """The strict names (renamed `A/(A)`), sorted: a scope is one contiguous run of them."""
    sorted_nodes: np.ndarray
    """Node index at each position of sorted_names."""
    op_names: list[str]
    op_codes: np.ndarray
    """int32: node i's op as an index into op_names."""
    _children: dict[int, list[int]] = field(default_factory=dict)
    _display_rank: np.ndarray | None = None

    # -- structure --------------------------------------------------------------------------

    @property
    def root(self) -> Group:
        return self.groups[0]

    def children(self, gid: int) -> list[int]:
        """Entries under a group (nodes >= 0, groups < 0), by their first GraphDef index."""
        got = self._children.get(gid)
        if got is None:
            g = self.groups[gid]
            keyed = [(self.groups[c].first, entry_of_group(c)) for c in g.groups]
            keyed += [(n, n) for n in g.nodes]
            keyed.sort()
            got = [e for _, e in keyed]
            self._children[gid] = got
        return got

    def range(self, gid: int) -> tuple[int, int]:
        """Positions [lo, hi) in sorted_names of a scope's (or the root's) nodes."""
        g = self.groups[gid]
        if g.kind == ROOT:
            return 0, len(self.sorted_names)
        prefix = g.name + "/"
        lo = bisect.bisect_left(self.sorted_names, prefix)
        hi = bisect.bisect_left(self.sorted_names, g.name + "0")  # "0" follows "/"
        return lo, hi

    def nodes_in(self, gid: int) -> np.ndarray:
        """Every op node inside a group (sorted by name for scopes, GraphDef order for series)."""
        g = self.groups[gid]
        if g.kind == SERIES:
            return np.asarray(g.nodes, dtype=np.int64)
        lo, hi = self.range(gid)
        return self.sorted_nodes[lo:hi]

    def count(self, gid: int) -> int:
        g = self.groups[gid]
        if g.kind == SERIES:
            return len(g.nodes)
        lo, hi = self.range(gid)
        return hi - lo

    def op_counts(self, gid: int) -> list[tuple[str, int]]:
        """(op, nodes) inside a group, most frequent first (ties by op name)."""
        codes = self.op_codes[self.nodes_in(gid)]
        if codes.shape[0] == 0:
            return []
        counts = np.bincount(codes, minlength=len(self.op_names))
        found = np.flatnonzero(counts)
        pairs = [(self.op_names[int(k)], int(counts[k])) for k in found]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return pairs

    def path(self, node: int) -> list[int]:
        """Group ids from the root down to the group holding `node`."""
        out: list[int] = []
        gid = int(self.node_parent[node])
        while gid >= 0:
            out.append(gid)
            gid = self.groups[gid].parent
        out.reverse()
        return out

    def group_path(self, gid: int) -> list[int]:
        """Group ids from the root down to `gid` itself."""
        out: list[int] = []
        while gid >= 0:
            out.append(gid)
            gid = self.groups[gid].parent
        out.reverse()
        return out

    def depth_first(self, gid: int = 0) -> list[int]:
        """Every entry under a group in tree order (what expanding everything shows)."""
        out: list[int] = []
        stack = list(reversed(self.children(gid)))
        while stack:
            e = stack.pop()
            out.append(e)
            if e < 0:
                stack.extend(reversed(self.children(group_of_entry(e))))
        return out

    def display_rank(self) -> np.ndarray:
        """Node i's position in the fully expanded tree (search results follow the tree)."""
        if self._display_rank is None:
            rank = np.zeros(len(self.graph), dtype=np.int64)
            nodes = [e for e in self.depth_first() if e >= 0]
            rank[np.asarray(nodes, dtype=np.int64)] = np.arange(len(nodes))
            self._display_rank = rank
        return self._display_rank

    # -- queries ----------------------------------------------------------------------------

    def search(self, pattern: str) -> list[int]:
        """Nodes whose name or op the regex (case-insensitive) is found in, in tree order.
        An invalid regex is searched as plain text (as the tag filter does)."""
        if not pattern:
            return []
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error:
            rx = re.compile(re.escape(pattern), re.IGNORECASE)
        search = rx.search
        g = self.graph
        op_hit = {op for op in self.op_names if search(op)}
        hits = [i for i, name in enumerate(g.names) if g.ops[i] in op_hit or search(name)]
        rank = self.display_rank()
        hits.sort(key=lambda i: int(rank[i]))
        return hits

    def trace_inputs(self, start: np.ndarray | list[int]) -> np.ndarray:
        """Every node the start nodes transitively read (data and control inputs, as
        TensorBoard's "trace inputs"), the start nodes included; sorted node indices."""
        g = self.graph
        seen = np.zeros(len(g), dtype=bool)
        queue: deque[int] = deque()
        for s in np.asarray(start, dtype=np.int64).tolist():
            if not seen[s]:
                seen[s] = True
                queue.append(s)
        in_ptr, in_src = g.in_ptr, g.in_src
        while queue:
            i = queue.popleft()
            for s in in_src[in_ptr[i] : in_ptr[i + 1]].tolist():
                if s >= 0 and not seen[s]:
                    seen[s] = True
                    queue.append(s)
        return np.flatnonzero(seen)


def strict_names(names: list[str], scopes: set[str]) -> list[str]:
    """TensorBoard's getStrictName for every node whose name is also a scope: `A` -> `A/(A)`."""
    out = list(names)
    for i, name in enumerate(names):
        if name in scopes:
            out[i] = f"{name}/({name.rsplit('/', 1)[-1]})"
    return out


def build_hierarchy(graph: Graph, series_min: int = SERIES_MIN) -> Hierarchy:
    """The scope tree of a graph; series of fewer than `series_min` nodes stay unfolded
    (0: no series at all)."""
    names = graph.names
    n = len(names)
    groups = [Group("", "", ROOT, -1, 0)]
    scope_id: dict[str, int] = {}

    def scope(path: str, first: int) -> int:
        gid = scope_id.get(path)
        if gid is not None:
            return gid
        cut = path.rfind("/")
        parent = scope(path[:cut], first) if cut >= 0 else 0
        gid = len(groups)
        groups.append(Group(path, path[cut + 1 :], SCOPE, parent, first))
        groups[parent].groups.append(gid)
        scope_id[path] = gid
        return gid

    parent_path = [""] * n
    for i, name in enumerate(names):
        cut = name.rfind("/")
        if cut >= 0:
            path = name[:cut]
            parent_path[i] = path
            scope(path, i)
    strict = strict_names(names, set(scope_id))
    node_parent = np.zeros(n, dtype=np.int64)
    leaf = [""] * n
    for i, name in enumerate(names):
        if strict[i] != name:
            gid = scope_id[name]
            leaf[i] = strict[i][len(name) + 1 :]
        else:
            path = parent_path[i]
            gid = scope_id[path] if path else 0
            leaf[i] = name[len(path) + 1 :] if path else name
        node_parent[i] = gid
        groups[gid].nodes.append(i)
    op_names = sorted(set(graph.ops))
    code = {op: k for k, op in enumerate(op_names)}
    op_codes = np.fromiter((code[op] for op in graph.ops), dtype=np.int32, count=n)
    order = sorted(range(n), key=strict.__getitem__)
    h = Hierarchy(
        graph=graph,
        groups=groups,
        node_parent=node_parent,
        leaf_label=leaf,
        sorted_names=[strict[i] for i in order],
        sorted_nodes=np.asarray(order, dtype=np.int64),
        op_names=op_names,
        op_codes=op_codes,
    )
    if series_min > 0:
        for gid in range(len(groups)):
            _group_series(h, gid, series_min)
    return h


def _group_series(h: Hierarchy, gid: int, threshold: int) -> None:
    """TensorBoard's groupSeries + detectSeriesUsingNumericSuffixes for one scope."""
    g = h.groups[gid]
    if len(g.nodes) < 2:
        return
    ops = h.graph.ops
    clusters: dict[str, list[int]] = {}
    for i in g.nodes:
        op = ops[i]
        if op:
            clusters.setdefault(op, []).append(i)
    found: dict[str, tuple[str, list[int]]] = {}
    for op, members in clusters.items():
        if len(members) <= 1:
            continue
        candidates: dict[str, list[tuple[int, int, str, str]]] = {}
        for i in members:
            label = h.leaf_label[i]
            m = _SERIES_NAME.match(label)
            if m is not None:
                prefix, num, suffix = m.group(1), int(m.group(2)), ""
            elif label.endswith("*"):
                prefix, num, suffix = label[:-1], 0, "*"
            else:
                prefix, num, suffix = label, 0, ""
            candidates.setdefault(prefix + "#" + suffix, []).append((num, i, prefix, suffix))
        for items in candidates.values():
            if len(items) < 2:
                continue
            items.sort(key=lambda t: t[0])  # stable, as JavaScript's sort
            run = [items[0]]
            for item in items[1:]:
                if item[0] == run[-1][0] + 1:
                    run.append(item)
                    continue
                _add_series(run, g.name, op, found)
                run = [item]
            _add_series(run, g.name, op, found)
    if not found:
        return
    grouped: set[int] = set()
    for name, (op, members) in found.items():
        if len(members) < threshold:
            continue
        sid = len(h.groups)
        label = name.rsplit("/", 1)[-1] if g.name else name
        h.groups.append(Group(name, label, SERIES, gid, min(members), [], members, op))
        g.groups.append(sid)
        for i in members:
            h.node_parent[i] = sid
        grouped.update(members)
    if grouped:
        g.nodes = [i for i in g.nodes if i not in grouped]


def _add_series(
    run: list[tuple[int, int, str, str]],
    scope: str,
    op: str,
    found: dict[str, tuple[str, list[int]]],
) -> None:
    if len(run) <= 1:
        return
    _, _, prefix, suffix = run[0]
    pattern = f"{prefix}[{run[0][0]}-{run[-1][0]}]{suffix}"
    name = f"{scope}/{pattern}" if scope else pattern
    found[name] = (op, [item[1] for item in run])
