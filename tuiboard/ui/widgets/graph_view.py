"""The Graph tab: one graph at a time (a run's op graph, a TF2 trace, a Keras model or run
metadata), as TensorBoard's name-scope tree with a detail panel.

Owns: `GraphView` (graph list, summary line, the scope tree of ui/widgets/scope_tree.py, detail,
the keys). Not card-based: a graph wants the whole
width. The graphs of the shown runs are listed on the left like the Histograms tab's list
(hidden at 80 columns; `[` `]` step through them anywhere). Graphs are decoded and their trees
built on a worker thread (core/run_graphs.py), cached per (run, source, version); while the tab
is hidden, the graph it would open on is read ahead.
Keys: `/` searches nodes (the tag filter does not apply here: TensorBoard's graph dashboard has
none), `n`/`N` go to the next/previous match as in less and vim (inside this tab they shadow the
app's "hide all runs"), `t` traces inputs, `g` (un)groups series, `m` picks the run metadata
whose step stats are shown, `[` `]` the graph.
Must not import: tuiboard.core readers (the store is read through the Board).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static, Tree
from textual.widgets.option_list import Option

from tuiboard.core.graph_tree import group_of_entry
from tuiboard.core.run_graphs import (
    GRAPH_KINDS,
    GraphSource,
    LoadedGraph,
    graph_sources,
    load_graph,
    source_version,
)
from tuiboard.render.canvas import fit_text
from tuiboard.render.graph import (
    fmt_int,
    group_detail,
    group_label,
    link_rows,
    node_detail,
    node_label,
    summary_text,
)
from tuiboard.render.sanitize import clean
from tuiboard.ui.widgets.lazy_tab import LazyTab
from tuiboard.ui.widgets.scope_tree import GraphTree

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board

TRACE_LISTED = 300
"""Traced inputs listed in the detail panel (all are highlighted in the tree)."""
CACHE = 4
"""Loaded graphs kept (a 10,000-node graph: a few MB)."""


def _one_line(text: str, width: int) -> Text:
    """An option on one line (OptionList folds long lines): cut at the left, where a node's
    scopes are, keeping its own name and op."""
    if cell_len(text) > width > 1:
        while cell_len(text) > width - 1:
            text = text[1:]
        text = "…" + text
    return Text(text.replace(" ", "\u00a0"), no_wrap=True)


def source_key(s: GraphSource) -> tuple[str, str, str]:
    return (s.run, s.data_kind, s.tag)


class GraphView(LazyTab, Horizontal):
    TAB = "graph"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "cycle_graph(-1)", "Previous graph"),
        Binding("right_square_bracket", "cycle_graph(1)", "Next graph"),
        Binding("slash", "search", "Search nodes by name or op (regex)"),
        Binding("n", "next_match(1)", "Next match"),
        Binding("N", "next_match(-1)", "Previous match"),
        Binding("t", "trace", "Trace inputs of the selection (again: clear)"),
        Binding("g", "toggle_series", "Group / ungroup series (prefix1..prefixN)"),
        Binding("m", "cycle_stats", "Next run metadata for node stats"),
        Binding("escape", "back_to_tree", "Back to the tree", show=False),
    ]

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(**kw)
        self.board = board
        self.sources: list[GraphSource] = []
        self.current: GraphSource | None = None
        self.loaded: LoadedGraph | None = None
        self._cache: OrderedDict[tuple[str, str, str, bool], LoadedGraph] = OrderedDict()
        self.series = True
        """Series folded (TensorBoard's default); `g` turns it off for every graph."""
        self.pattern = ""
        self.matches: list[int] = []
        self.match_set: set[int] = set()
        self.match_index = -1
        self.traced: np.ndarray = np.zeros(0, dtype=np.int64)
        self.traced_set: set[int] = set()
        self.trace_counts: dict[int, int] = {}
        self.trace_from: int | None = None
        """The entry whose inputs are traced (None: no trace)."""
        self.stats_tag: str | None = None
        self.selected: int | None = None
        """The entry the detail panel shows."""
        self.loads = 0
        """Graphs loaded and shown (tests wait on it)."""
        self._loading: tuple[str, str, str, bool] | None = None

    @classmethod
    def help_bindings(cls) -> list[BindingType]:
        extra: list[BindingType] = [
            Binding("enter", "", "Tree: open a scope; on a node, go to its inputs / outputs"),
            Binding("enter", "", "Inputs / outputs list: follow the highlighted node"),
        ]
        return list(cls.BINDINGS) + list(GraphTree.BINDINGS) + extra

    def compose(self) -> ComposeResult:
        yield OptionList(id="graph-list")
        with Vertical(id="graph-main"):
            yield Static(id="graph-summary")
            yield Input(
                placeholder="search: regex on names and ops · Enter keeps", id="graph-search"
            )
            yield Static(id="graph-hint")
            with Horizontal(id="graph-body"):
                yield GraphTree(self, id="graph-tree")
                with Vertical(id="graph-side"):
                    with VerticalScroll(id="graph-detail-scroll"):
                        yield Static(id="graph-detail")
                    yield OptionList(id="graph-links")

    def on_mount(self) -> None:
        self.query_one("#graph-search").display = False
        self.query_one("#graph-links").display = False

    @property
    def tree(self) -> GraphTree:
        return self.query_one(GraphTree)

    def focus_first(self) -> None:
        self.shown()
        self.tree.focus()

    def on_resize(self) -> None:
        self.query_one("#graph-body").set_class(self.size.width < 100, "stacked")
        if self._showing():
            self.call_after_refresh(self._redraw)

    def _redraw(self) -> None:
        """Widths moved: the summary, the detail and its lists are drawn to them again."""
        self._draw_summary()
        if self.loaded is not None and self.selected is not None:
            self.select(self.selected)

    # -- which graphs ---------------------------------------------------------------------------

    def list_sources(self) -> list[GraphSource]:
        """The graphs of the shown runs (the Board's per-version tag cache says which runs
        have any: a live logdir of 1,000 runs without graphs costs a set lookup per run)."""
        board = self.board
        out: list[GraphSource] = []
        if not any(k in board.kinds() for k in GRAPH_KINDS):
            return out
        for name in board.visible_runs():
            if not any(board.run_tags(name, k) for k in GRAPH_KINDS):
                continue
            run = board.logdir.run(name)
            if run is not None:
                out.extend(graph_sources(run))
        return out

    def rebuild(self) -> None:
        self._stale = False
        sources = self.list_sources()
        if sources != self.sources:
            self.sources = sources
            self._fill_list()
        if self.current not in sources:
            self.current = sources[0] if sources else None
        self._highlight_current()
        self.load_current()

    def _fill_list(self) -> None:
        option_list = self.query_one("#graph-list", OptionList)
        option_list.clear_options()
        width = max(8, (option_list.content_size.width or 26) - 1)
        options: list[Option] = []
        last_run = None
        for k, s in enumerate(self.sources):
            if s.run != last_run:
                head = Text(no_wrap=True, overflow="ellipsis")
                head.append("■ ", style=self.board.colour_of(s.run))
                head.append(clean(s.run).replace(" ", "\u00a0"), style="bold")
                head.truncate(width, overflow="ellipsis")
                options.append(Option(head, disabled=True))
                last_run = s.run
            label = Text("\u00a0\u00a0" + clean(s.label).replace(" ", "\u00a0"), no_wrap=True)
            label.truncate(width, overflow="ellipsis")
            options.append(Option(label, id=str(k)))
        option_list.add_options(options)

    def _highlight_current(self) -> None:
        if self.current is None:
            return
        option_list = self.query_one("#graph-list", OptionList)
        try:
            option_list.highlighted = option_list.get_option_index(
                str(self.sources.index(self.current))
            )
        except (ValueError, LookupError):
            return

    @on(OptionList.OptionHighlighted, "#graph-list")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is None:
            return
        source = self.sources[int(event.option.id)]
        if source != self.current:
            self.current = source
            self.load_current()

    def action_cycle_graph(self, delta: int) -> None:
        if not self.sources:
            return
        k = self.sources.index(self.current) if self.current in self.sources else -delta
        self.current = self.sources[(k + delta) % len(self.sources)]
        self._highlight_current()
        self.load_current()

    # -- loading --------------------------------------------------------------------------------

    def _cache_key(self, s: GraphSource) -> tuple[str, str, str, bool]:
        return (*source_key(s), self.series)

    def load_current(self) -> None:
        source = self.current
        if source is None:
            self._show(None)
            return
        run = self.board.logdir.run(source.run)
        if run is None:
            self._show(None)
            return
        key = self._cache_key(source)
        hit = self._cache.get(key)
        if hit is not None and hit.version == source_version(run, source):
            self._cache.move_to_end(key)
            if hit is not self.loaded:
                self._show(hit)
            return
        if self._loading == key:
            return
        self._loading = key
        self.query_one("#graph-summary", Static).update(
            Text(f"reading {clean(source.run)} · {clean(source.label)}…", style="dim")
        )
        self._load(source, key)

    @work(thread=True, exclusive=True, group="graph-load")
    def _load(self, source: GraphSource, key: tuple[str, str, str, bool]) -> None:
        run = self.board.logdir.run(source.run)
        if run is None:
            return
        lg = load_graph(run, source, series_min=None if key[3] else 0)
        self.app.call_from_thread(self._loaded, key, lg)

    def _loaded(self, key: tuple[str, str, str, bool], lg: LoadedGraph) -> None:
        self._loading = None
        self._cache[key] = lg
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        if self.current is not None and self._cache_key(self.current) == key:
            self._show(lg)

    def _show(self, lg: LoadedGraph | None) -> None:
        """Show a loaded graph, keeping the selected node (by name) when it is the same graph."""
        with self.app.batch_update():  # one repaint for the tree, summary, detail and lists
            self._show_now(lg)

    def _show_now(self, lg: LoadedGraph | None) -> None:
        previous = self.loaded
        keep_name = None
        same = (
            previous is not None
            and lg is not None
            and source_key(previous.source) == source_key(lg.source)
        )
        if same and previous is not None and self.selected is not None and self.selected >= 0:
            keep_name = previous.graph.names[self.selected]
        self.loaded = lg
        self.loads += 1
        self._clear_trace()
        self.matches, self.match_set, self.match_index = [], set(), -1
        if lg is not None and self.pattern:
            self._search(self.pattern)
        if lg is None or self.stats_tag not in lg.stats_tags:
            self.stats_tag = lg.stats_tags[0] if lg is not None and lg.stats_tags else None
        self.selected = None
        tree = self.tree
        tree.show(lg)
        if lg is not None and keep_name is not None and keep_name in lg.graph.index:
            self.follow(lg.graph.index[keep_name], focus=False)
        elif tree.cursor_node is not None:
            self.select(tree.cursor_node.data)
        self._draw_summary()
        if lg is None:
            self.query_one("#graph-detail", Static).update(
                Text("No graph in the shown runs.", style="dim")
            )
            self.query_one("#graph-links").display = False

    # -- drawing --------------------------------------------------------------------------------

    def entry_label(self, entry: int | None) -> Text | None:
        lg = self.loaded
        if lg is None or entry is None:
            return None
        theme = self.board.theme
        if entry < 0:
            gid = group_of_entry(entry)
            return group_label(lg.hierarchy, gid, theme, traced=self.trace_counts.get(gid, 0))
        return node_label(
            lg.hierarchy,
            entry,
            theme,
            traced=entry in self.traced_set,
            matched=entry in self.match_set,
        )

    def _draw_summary(self) -> None:
        width = max(20, self.query_one("#graph-main").size.width or 80)
        lg = self.loaded
        summary = self.query_one("#graph-summary", Static)
        if lg is None:
            summary.update(Text("No graph in the shown runs.", style="dim"))
        else:
            summary.update(summary_text(lg, width, self.board.theme))
        hint = Text(no_wrap=True, overflow="ellipsis")
        if self.sources:
            k = self.sources.index(self.current) + 1 if self.current in self.sources else 0
            hint.append(f"graph {k}/{len(self.sources)}", style="bold")
        if self.pattern:
            hint.append(" · /")
            hint.append(clean(self.pattern))
            at = f"{self.match_index + 1}/" if self.match_index >= 0 else ""
            hint.append(f" {at}{fmt_int(len(self.matches))} matches", style="bold")
        if self.trace_from is not None:
            hint.append(
                f" · ◆ {fmt_int(len(self.traced))} traced",
                style=f"bold {self.board.theme.highlight}",
            )
        if self.stats_tag is not None:
            hint.append(f" · stats {clean(self.stats_tag)}")
        if not self.series:
            hint.append(" · series ungrouped")
        hint.append("  [ ] graph · / search · n N · t trace · g series", style="dim")
        self.query_one("#graph-hint", Static).update(fit_text(hint, width))

    def select(self, entry: int | None) -> None:
        """Show an entry's detail (and, for a node, its inputs and outputs to follow)."""
        self.selected = entry
        lg = self.loaded
        detail = self.query_one("#graph-detail", Static)
        links = self.query_one("#graph-links", OptionList)
        if lg is None or entry is None:
            detail.update(Text(""))
            links.display = False
            return
        theme = self.board.theme
        width = max(20, detail.size.width or 40)
        # The side panel less its border, the list's padding and a scrollbar: one width
        # whatever the list showed before (drawn again when the panel is resized).
        line_w = max(10, (self.query_one("#graph-side").size.width or 44) - 4)
        options: list[Option] = []
        if entry < 0:
            detail.update(group_detail(lg, group_of_entry(entry), width, theme, self.stats_tag))
        else:
            detail.update(node_detail(lg, entry, theme, self.stats_tag))
            ins, outs = link_rows(lg, entry)
            for title, rows in (("Inputs", ins), ("Outputs", outs)):
                options.append(Option(Text(f"{title} ({len(rows)})", style="bold"), disabled=True))
                for target, text in rows:
                    options.append(
                        Option(
                            _one_line(text, line_w),
                            id=f"{len(options)}:{target}" if target >= 0 else None,
                            disabled=target < 0,
                        )
                    )
        if self.trace_from is not None and len(self.traced):
            names = lg.graph.names
            listed = [int(i) for i in self.traced[:TRACE_LISTED]]
            options.append(
                Option(
                    Text(
                        f"Traced inputs ({len(self.traced)})",
                        style=f"bold {self.board.theme.highlight}",
                    ),
                    disabled=True,
                )
            )
            for i in listed:
                options.append(Option(_one_line(clean(names[i]), line_w), id=f"{len(options)}:{i}"))
            if len(self.traced) > TRACE_LISTED:
                more = len(self.traced) - TRACE_LISTED
                options.append(
                    Option(Text(f"… {more} more (◆ in the tree)", style="dim"), disabled=True)
                )
        links.clear_options()
        links.add_options(options)
        links.display = bool(options)

    @on(Tree.NodeHighlighted, "#graph-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        event.stop()
        if event.node.data is not None:
            self.select(event.node.data)

    @on(Tree.NodeSelected, "#graph-tree")
    def _tree_selected(self, event: Tree.NodeSelected[int]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None:  # the "… more" line
            parent = event.node.parent
            if parent is not None and parent.data is not None:
                tree = self.tree
                tree.fill(parent, group_of_entry(parent.data))
            return
        if entry >= 0:
            links = self.query_one("#graph-links", OptionList)
            if links.display and links.option_count:
                links.focus()
                first = next(
                    (
                        k
                        for k in range(links.option_count)
                        if not links.get_option_at_index(k).disabled
                    ),
                    None,
                )
                if first is not None:
                    links.highlighted = first

    @on(OptionList.OptionSelected, "#graph-links")
    def _follow_link(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        oid = event.option.id  # "position:node" (one node may be listed twice)
        if oid:
            self.follow(int(oid.partition(":")[2]))

    def follow(self, node: int, focus: bool = True) -> None:
        """Put the tree's cursor on a node (opening the scopes above it) and show it."""
        tree = self.tree
        found = tree.reveal(node)
        if found is not None:
            self.select(node)
        if focus:
            tree.focus()

    def action_back_to_tree(self) -> None:
        box = self.query_one("#graph-search", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
        self.tree.focus()

    # -- search ---------------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#graph-search", Input)
        box.display = True
        box.value = self.pattern
        box.focus()

    def _search(self, pattern: str) -> None:
        self.pattern = pattern
        lg = self.loaded
        self.matches = [] if lg is None else lg.hierarchy.search(pattern)
        self.match_set = set(self.matches)
        self.match_index = -1

    @on(Input.Changed, "#graph-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._search(event.value.strip())
        self.tree.redraw_labels()
        self._draw_summary()

    @on(Input.Submitted, "#graph-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#graph-search", Input).display = False
        self.tree.focus()
        if self.matches:
            self.action_next_match(1)

    def action_next_match(self, delta: int) -> None:
        if not self.matches:
            return
        self.match_index = (self.match_index + delta) % len(self.matches)
        self.follow(self.matches[self.match_index])
        self._draw_summary()

    # -- trace, series, stats -------------------------------------------------------------------

    def _clear_trace(self) -> None:
        self.traced = np.zeros(0, dtype=np.int64)
        self.traced_set = set()
        self.trace_counts = {}
        self.trace_from = None

    def action_trace(self) -> None:
        lg = self.loaded
        entry = self.tree.cursor_node.data if self.tree.cursor_node is not None else None
        if lg is None or entry is None or entry == self.trace_from:
            self._clear_trace()
        else:
            h = lg.hierarchy
            start = [entry] if entry >= 0 else h.nodes_in(group_of_entry(entry)).tolist()
            self.traced = h.trace_inputs(start)
            self.traced_set = set(self.traced.tolist())
            counts: dict[int, int] = {}
            for i in self.traced.tolist():
                for gid in h.path(i):
                    counts[gid] = counts.get(gid, 0) + 1
            self.trace_counts = counts
            self.trace_from = entry
        self.tree.redraw_labels()
        self.select(self.selected)
        self._draw_summary()

    def action_toggle_series(self) -> None:
        self.series = not self.series
        self.load_current()

    def action_cycle_stats(self) -> None:
        lg = self.loaded
        if lg is None or not lg.stats_tags:
            return
        tags = lg.stats_tags
        k = tags.index(self.stats_tag) if self.stats_tag in tags else -1
        self.stats_tag = tags[(k + 1) % len(tags)]
        self.select(self.selected)
        self._draw_summary()

    # -- live data ------------------------------------------------------------------------------

    def _prefetch(self) -> None:
        """While the tab is hidden, read the graph it would open on (a worker thread, ~0.1 s
        for 10,000 nodes), so opening the tab shows it at once."""
        if self.loaded is not None or self._loading is not None:
            return
        sources = self.list_sources()
        if not sources:
            return
        source = sources[0]
        key = self._cache_key(source)
        if key not in self._cache:
            self._loading = key
            self._load(source, key)

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            self._prefetch()
            return
        if self.list_sources() != self.sources:
            self.rebuild()
            return
        if self.current is not None and self.current.run in changes.runs:
            self.load_current()
