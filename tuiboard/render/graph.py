"""Drawing a model graph as text: tree labels, the summary line, a node's and a scope's detail,
the op-type histogram, the Keras layer table, and `plot --kind graph` (the scope tree to a depth).

Owns: pure functions from core/graph*.py records + width + theme to Rich Text. Every name, op,
device and attribute comes from a log: it goes through `clean()` into Text, never markup.
Must not import: textual.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text

from tuiboard.core.graph_attrs import AttrValue, Shape, TensorSummary
from tuiboard.core.graph_tree import ROOT, SERIES, Hierarchy, group_of_entry
from tuiboard.core.run_graphs import KERAS, LoadedGraph, graph_sources, load_graph
from tuiboard.core.step_stats import NodeStats
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

if TYPE_CHECKING:
    from tuiboard.core.keras_model import KerasLayer, KerasModel, KerasShape

ATTR_LIMIT = 160
"""Characters of one attribute value shown (TensorBoard hides attributes over 1024 bytes)."""
LIST_LIMIT = 8
"""Items of a list attribute shown."""


def _s(theme: Theme, style: str) -> str:
    return style if theme.color else ""


# -- values -------------------------------------------------------------------------------------


def fmt_int(n: int) -> str:
    return f"{n:,}"


def fmt_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    v = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        v /= 1024.0
        if v < 1024:
            return f"{v:.1f} {unit}"
    return f"{v / 1024.0:.1f} TiB"


def fmt_micros(us: int) -> str:
    if us < 1000:
        return f"{us} µs"
    if us < 1_000_000:
        return f"{us / 1000:.1f} ms"
    return f"{us / 1e6:.2f} s"


def shape_text(shape: Shape) -> str:
    """`4×6×24×24`, `?×3` (unknown size), `scalar`, `?` (unknown rank)."""
    if shape is None:
        return "?"
    if not shape:
        return "scalar"
    return "×".join("?" if d < 0 else str(d) for d in shape)


def keras_shape_text(shape: KerasShape | None) -> str:
    """Keras' own notation: `(None, 26, 26, 32)`; "" when unknown."""
    if shape is None:
        return ""
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _bytes_text(b: bytes) -> str:
    try:
        return repr(b.decode("utf-8"))
    except UnicodeDecodeError:
        return f"<{len(b)} bytes>"


def _number(x: Any) -> str:
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return f"{x:.6g}"
    return str(x)


def tensor_text(t: TensorSummary) -> str:
    """`float32 2×2 [1.5, 2, 3, -4.25]`: dtype, shape, and the values of a small tensor."""
    head = f"{t.dtype} {shape_text(t.shape)}"
    if not t.values:
        return head
    vals = [_bytes_text(v) if isinstance(v, bytes) else _number(v) for v in t.values]
    more = f", … {fmt_int(t.size - len(vals))} more" if t.size > len(vals) else ""
    return f"{head} [{', '.join(vals)}{more}]"


def _item_text(kind: str, item: Any) -> str:
    if kind == "s":
        return _bytes_text(item)
    if kind == "shape":
        return shape_text(item)
    if kind == "tensor":
        return tensor_text(item)
    if kind == "func":
        return item[0]
    if kind == "b":
        return "true" if item else "false"
    return _number(item)


def attr_text(v: AttrValue) -> str:
    """One attribute's value as text, cut to ATTR_LIMIT characters."""
    if v.kind == "list":
        kind, items = v.value
        shown = [_item_text(kind, x) for x in items[:LIST_LIMIT]]
        more = f", … {len(items) - LIST_LIMIT} more" if len(items) > LIST_LIMIT else ""
        out = "[" + ", ".join(shown) + more + "]"
    elif v.kind == "func":
        name, attrs = v.value
        inner = ", ".join(f"{k}={attr_text(a)}" for k, a in sorted(attrs.items()))
        out = f"{name}({inner})" if inner else name
    elif v.kind == "placeholder":
        out = f"${v.value}"
    elif v.kind == "":
        out = "(unset)"
    else:
        out = _item_text(v.kind, v.value)
    out = clean(out)
    if len(out) > ATTR_LIMIT:
        out = out[: ATTR_LIMIT - 1] + "…"
    return out


def op_summary(pairs: Sequence[tuple[str, int]], limit: int = 3) -> str:
    """`prim::Constant 6, aten::relu 2, +3 ops`: the most frequent op types of a scope."""
    shown = [f"{clean(op) or '(no op)'} {fmt_int(n)}" for op, n in pairs[:limit]]
    if len(pairs) > limit:
        shown.append(f"+{len(pairs) - limit} ops")
    return ", ".join(shown)


# -- tree labels --------------------------------------------------------------------------------


def group_label(
    h: Hierarchy, gid: int, theme: Theme, traced: int = 0, matched: bool = False
) -> Text:
    """A scope: `Conv2d[conv1]  9 · prim::Constant 6, prim::GetAttr 2, +1 ops`; a series:
    `[23-28]  6 × prim::Constant`. `traced`: how many traced nodes it holds (◆ n)."""
    g = h.groups[gid]
    label = Text(no_wrap=True, overflow="ellipsis")
    name_style = "bold" if g.kind != SERIES else "italic"
    if matched:
        name_style += " reverse"
    label.append(clean(g.label) or "(root)", style=_s(theme, name_style))
    if traced:
        label.append(f" ◆{fmt_int(traced)}", style=_s(theme, f"bold {theme.highlight}"))
    count = h.count(gid)
    if g.kind == SERIES:
        label.append(f"  {fmt_int(count)} × {clean(g.op)}", style=_s(theme, theme.faint))
    else:
        label.append(
            f"  {fmt_int(count)} · {op_summary(h.op_counts(gid))}", style=_s(theme, theme.faint)
        )
    return label


def node_label(
    h: Hierarchy, i: int, theme: Theme, traced: bool = False, matched: bool = False
) -> Text:
    """An op node: `input.3  aten::_convolution` (◆ when traced)."""
    label = Text(no_wrap=True, overflow="ellipsis")
    style = "reverse" if matched else ""
    if traced:
        style = f"{style} bold {theme.highlight}".strip()
    label.append(clean(h.leaf_label[i]) or "(unnamed)", style=_s(theme, style))
    if traced:
        label.append(" ◆", style=_s(theme, f"bold {theme.highlight}"))
    label.append(f"  {clean(h.graph.ops[i])}", style=_s(theme, theme.faint))
    return label


# -- summary and histograms ---------------------------------------------------------------------


def summary_text(lg: LoadedGraph, width: int, theme: Theme) -> Text:
    """One line: run · graph · nodes · edges (control) · step, then the most frequent ops."""
    g = lg.graph
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(clean(lg.source.run), style=_s(theme, "bold"))
    line.append(f" · {clean(lg.source.label)}")
    line.append(f" · {fmt_int(len(g))} nodes · {fmt_int(g.edge_count)} edges")
    control = g.control_edge_count
    if control:
        line.append(f" ({fmt_int(control)} control)")
    if lg.keras is not None and lg.keras.total_params is not None:
        line.append(f" · {fmt_int(lg.keras.total_params)} params")
    line.append(f" · step {lg.step}", style=_s(theme, theme.faint))
    ops = lg.hierarchy.op_counts(0)
    if ops:
        line.append(f" · ops: {op_summary(ops, 4)}", style=_s(theme, theme.faint))
    if lg.problems:
        line.append(f"  ⚠ {clean(lg.problems[0])}", style=_s(theme, "red"))
    return fit_text(line, width)


def histogram_lines(
    pairs: Sequence[tuple[str, int]], width: int, theme: Theme, rows: int = 12
) -> list[Text]:
    """A bar per op type (or device): `aten::relu  ██████▍ 120`, most frequent first; past
    `rows`, one `(n more)` line with their total and no bar."""
    if not pairs:
        return []
    shown = list(pairs[:rows])
    rest = (
        [(f"({len(pairs) - rows} more)", sum(n for _, n in pairs[rows:]))]
        if len(pairs) > rows
        else []
    )
    names = [clean(op) or "(no op)" for op, _ in shown + rest]
    name_w = min(max(len(n) for n in names), max(8, width // 3))
    num_w = max(len(fmt_int(n)) for _, n in shown + rest)
    bar_w = max(1, width - name_w - num_w - 3)
    top = max(n for _, n in shown) or 1
    out: list[Text] = []
    for k, (name, (_, n)) in enumerate(zip(names, shown + rest, strict=True)):
        line = Text(no_wrap=True, overflow="crop")
        name = name if len(name) <= name_w else name[: name_w - 1] + "…"
        line.append(name.ljust(name_w) + " ")
        bar = ""
        if k < len(shown):
            eighths = round(n / top * bar_w * 8)
            bar = "█" * (eighths // 8) + ("▏▎▍▌▋▊▉"[eighths % 8 - 1] if eighths % 8 else "")
        line.append(bar.ljust(bar_w), style=_s(theme, theme.bar))
        line.append(" " + fmt_int(n).rjust(num_w))
        out.append(fit_text(line, width))
    return out


def _heading(text: str, theme: Theme) -> Text:
    return Text(text, style=_s(theme, f"bold {theme.text}"))


def _field(name: str, value: str, theme: Theme) -> Text:
    line = Text()
    line.append(f"{name} ", style=_s(theme, theme.faint))
    line.append(value)
    return line


# -- detail -------------------------------------------------------------------------------------


def stats_lines(stats: NodeStats | None, tag: str, theme: Theme) -> list[Text]:
    if stats is None:
        return []
    lines = [_heading(f"Node stats ({clean(tag)})", theme)]
    lines.append(_field("compute time", fmt_micros(stats.compute_micros), theme))
    lines.append(_field("memory", fmt_bytes(stats.memory_bytes), theme))
    if stats.device:
        lines.append(_field("device", clean(stats.device), theme))
    if stats.output_shapes:
        shapes = ", ".join(shape_text(s) for s in stats.output_shapes)
        lines.append(_field("outputs", shapes, theme))
    return lines


def node_detail(lg: LoadedGraph, i: int, theme: Theme, stats_tag: str | None = None) -> Text:
    """A node: name, op, device, output shapes, attributes decoded, step stats, Keras layer.
    Its inputs and outputs are listed apart (`link_rows`): the view makes them selectable."""
    g = lg.graph
    lines = [Text(clean(g.names[i]), style=_s(theme, "bold"))]
    lines.append(_field("op", clean(g.ops[i]) or "(none)", theme))
    if g.devices[i]:
        lines.append(_field("device", clean(g.devices[i]), theme))
    layer = keras_layer(lg.keras, g.names[i])
    if layer is not None:
        if layer.output_shape is not None:
            lines.append(_field("output shape", keras_shape_text(layer.output_shape), theme))
        if layer.params is not None:
            lines.append(_field("params", fmt_int(layer.params), theme))
    shapes = g.output_shapes(i)
    if shapes is not None:
        lines.append(_field("output shapes", ", ".join(shape_text(s) for s in shapes), theme))
    try:
        attrs = g.attrs(i)
        problem = ""
    except ValueError as e:  # DecodeError: the node's attribute bytes are damaged
        attrs, problem = {}, str(e)
    shown = {k: v for k, v in attrs.items() if k != "_output_shapes"}
    if shown:
        lines.append(_heading("Attributes", theme))
        for key in sorted(shown):
            lines.append(_field(f"  {clean(key)}", attr_text(shown[key]), theme))
    if problem:
        lines.append(Text(f"⚠ attributes unreadable: {clean(problem)}", style=_s(theme, "red")))
    if stats_tag is not None:
        lines += stats_lines(lg.stats.get(stats_tag, {}).get(g.names[i]), stats_tag, theme)
    return join_lines(lines)


def link_rows(lg: LoadedGraph, i: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(inputs, outputs) of node i as (node index or -1, text): `name:1 (op)`, `^name` for a
    control input, outputs as the consumers reading it (`consumer ← :1`)."""
    g = lg.graph
    ins: list[tuple[int, str]] = []
    for k in g.inputs(i):
        src = int(g.in_src[k])
        key = g.in_key[k]
        text = ("^" if g.in_control[k] else "") + clean(g.in_name[k])
        if key != "0":
            text += f":{clean(key)}"
        text += f"  {clean(g.ops[src])}" if src >= 0 else "  (not in the graph)"
        ins.append((src, text))
    outs: list[tuple[int, str]] = []
    for k in g.consumers(i).tolist():
        dst = int(g.owner[k])
        text = ("^" if g.in_control[k] else "") + clean(g.names[dst])
        if g.in_key[k] != "0":
            text += f" ← :{clean(g.in_key[k])}"
        text += f"  {clean(g.ops[dst])}"
        outs.append((dst, text))
    return ins, outs


def keras_layer(model: KerasModel | None, name: str) -> KerasLayer | None:
    if model is None:
        return None
    return next((la for la in model.layers if la.name == name), None)


def group_stats(lg: LoadedGraph, nodes: Sequence[int], tag: str) -> NodeStats | None:
    """TensorBoard's NodeStats.combine over a scope: bytes summed, earliest start to latest end."""
    table = lg.stats.get(tag, {})
    found = [table[n] for n in (lg.graph.names[i] for i in nodes) if n in table]
    if not found:
        return None
    return NodeStats(
        "",
        min(s.start_micros for s in found),
        max(s.end_micros for s in found),
        sum(s.memory_bytes for s in found),
        [],
    )


def group_detail(
    lg: LoadedGraph, gid: int, width: int, theme: Theme, stats_tag: str | None = None
) -> Text:
    """A scope or series: its name, node count, op histogram, devices, combined step stats,
    and for a Keras model scope its layer table."""
    h = lg.hierarchy
    g = h.groups[gid]
    nodes = h.nodes_in(gid).tolist()
    title = clean(g.name) if g.kind != ROOT else clean(f"{lg.source.run} · {lg.source.label}")
    lines = [Text(title or "(root)", style=_s(theme, "bold"))]
    kind = {"root": "graph", "scope": "name scope", "series": f"series of {clean(g.op)}"}
    lines.append(_field(kind[g.kind], f"{fmt_int(len(nodes))} nodes", theme))
    if g.kind == ROOT:
        lines.append(
            _field(
                "edges",
                f"{fmt_int(lg.graph.edge_count)} ({fmt_int(lg.graph.control_edge_count)} control)",
                theme,
            )
        )
    devices = Counter(lg.graph.devices[i] for i in nodes if lg.graph.devices[i])
    if devices:
        lines.append(_heading("Devices", theme))
        lines += histogram_lines(devices.most_common(), width, theme, rows=6)
    if stats_tag is not None:
        combined = group_stats(lg, nodes, stats_tag)
        if combined is not None:
            lines += stats_lines(combined, stats_tag, theme)
    if lg.source.kind == KERAS and lg.keras is not None and g.kind != SERIES:
        prefix = "" if g.kind == ROOT else g.name + "/"
        layers = [la for la in lg.keras.layers if la.name.startswith(prefix)]
        if layers:
            lines.append(_heading("Layers", theme))
            lines += keras_table(layers, width, theme)
    lines.append(_heading("Op types", theme))
    lines += histogram_lines(h.op_counts(gid), width, theme)
    for problem in lg.problems if g.kind == ROOT else []:
        lines.append(Text(f"⚠ {clean(problem)}", style=_s(theme, "red")))
    return join_lines(lines)


def keras_table(layers: Sequence[KerasLayer], width: int, theme: Theme) -> list[Text]:
    """Keras' model.summary() columns: Layer (type), Output Shape, Param #, Connected to."""
    head = ("Layer (type)", "Output Shape", "Param #", "Connected to")
    rows = [
        (
            f"{clean(la.name.rsplit('/', 1)[-1])} ({clean(la.class_name)})",
            keras_shape_text(la.output_shape),
            "" if la.params is None else fmt_int(la.params),
            ", ".join(clean(x.rsplit("/", 1)[-1]) for x in la.inputs),
        )
        for la in layers
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(4)]
    widths[0] = min(widths[0], max(12, width // 3))
    out: list[Text] = []
    for k, row in enumerate([head, *rows]):
        cells = []
        for c, cell in enumerate(row):
            cell = cell if len(cell) <= widths[c] else cell[: widths[c] - 1] + "…"
            cells.append(cell.rjust(widths[c]) if c == 2 else cell.ljust(widths[c]))
        line = Text("  ".join(cells).rstrip(), style=_s(theme, "bold") if k == 0 else "")
        out.append(fit_text(line, width))
    total = sum(la.params for la in layers if la.params is not None)
    known = all(la.params is not None for la in layers)
    out.append(
        fit_text(
            Text(
                f"Total params: {fmt_int(total)}" + ("" if known else " (of the layers known)"),
                style=_s(theme, theme.faint),
            ),
            width,
        )
    )
    return out


# -- plot --kind graph --------------------------------------------------------------------------


def scope_tree(lg: LoadedGraph, depth: int, width: int, theme: Theme, ops_shown: int = 8) -> Text:
    """The scope tree to `depth` levels, each scope and series with its node count and op
    types; op nodes at those levels listed by name and op (ops_shown per scope, then "…")."""
    h = lg.hierarchy
    lines = [summary_text(lg, width, theme)]

    def walk(gid: int, prefix: str, level: int) -> None:
        entries = h.children(gid)
        groups = [e for e in entries if e < 0]
        nodes = [e for e in entries if e >= 0]
        shown_nodes = nodes[:ops_shown]
        items: list[int] = [e for e in entries if e < 0 or e in shown_nodes]
        hidden = len(nodes) - len(shown_nodes)
        for k, e in enumerate(items):
            last = k == len(items) - 1 and not hidden
            branch = "└─ " if last else "├─ "
            line = Text(prefix + branch, style=_s(theme, theme.faint), no_wrap=True)
            if e < 0:
                child = group_of_entry(e)
                line.append_text(group_label(h, child, theme))
                lines.append(fit_text(line, width))
                if level < depth and h.groups[child].kind != SERIES:
                    walk(child, prefix + ("   " if last else "│  "), level + 1)
            else:
                line.append_text(node_label(h, e, theme))
                lines.append(fit_text(line, width))
        if hidden:
            more = Text(prefix + "└─ ", style=_s(theme, theme.faint))
            more.append(f"… {fmt_int(hidden)} more ops", style=_s(theme, theme.faint))
            lines.append(fit_text(more, width))
        del groups

    if depth > 0:
        walk(0, "", 1)
    return join_lines(lines)


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per graph of each run (op graph, TF2 traces, Keras models, run metadata)
    whose label or tag --tags matches: the summary line and the scope tree to --depth, and a
    Keras model's layer table."""
    blocks: list[Text] = []
    for run in req.runs:
        for source in graph_sources(run):
            if not (req.tag_ok(source.tag) or req.tag_ok(source.label)):
                continue
            lg = load_graph(run, source, step=req.step)
            block = scope_tree(lg, req.depth, req.width, req.theme)
            if lg.keras is not None and lg.keras.layers:
                block = join_lines([block, *keras_table(lg.keras.layers, req.width, req.theme)])
            blocks.append(block)
    return blocks
