"""The Graph tab's scope tree: a Textual Tree that adds a scope's children only when it is first
opened, at most CHUNK at a time, so a 10,000-node graph never makes 10,000 tree nodes at once.

Owns: `GraphTree` and `TreeOwner` (what it asks of the view that holds it: the graph shown and
how an entry is labelled, which depends on the view's trace and search). Entries are ints: node i
is i, group g is -(g + 1) (core/graph_tree.py).
Must not import: tuiboard.core readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tuiboard.core.graph_tree import entry_of_group, group_of_entry

if TYPE_CHECKING:
    from tuiboard.core.run_graphs import LoadedGraph

CHUNK = 500
"""Children added to the tree at a time; a "… more" line adds the next ones."""


class TreeOwner(Protocol):
    @property
    def loaded(self) -> LoadedGraph | None: ...

    def entry_label(self, entry: int | None) -> Text | None: ...


class GraphTree(Tree[int]):
    """Entries are ints (node i is i, group g is -(g + 1)); labels are drawn from the view's
    state (trace, matches) whenever a line is drawn, so they never go stale."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right", "open_scope", "Open the scope (again: its first child)", show=False),
        Binding("left", "close_scope", "Close the scope (again: go to its parent)", show=False),
    ]

    def __init__(self, view: TreeOwner, **kw: Any) -> None:
        super().__init__("graph", data=entry_of_group(0), **kw)
        self.view = view
        self.show_root = False
        self.auto_expand = True
        self.guide_depth = 2
        self.nodes_by_entry: dict[int, TreeNode[int]] = {}
        """Tree nodes made so far, by entry."""
        self.filled: dict[int, int] = {}
        """Group id -> how many of its children are in the tree."""
        self.more: dict[int, TreeNode[int]] = {}
        """Group id -> its "… more" tree node, while it has one."""

    def show(self, lg: LoadedGraph | None) -> None:
        self.clear()
        self.nodes_by_entry = {}
        self.filled = {}
        self.more = {}
        if lg is None:
            return
        self.fill(self.root, 0)
        self.root.expand()
        top = self.root.children
        if len(top) == 1 and top[0].allow_expand:
            top[0].expand()  # one top scope (a PyTorch model, a Keras model): open it
        if top:
            self.move_cursor(top[0])

    def fill(self, parent: TreeNode[int], gid: int, upto: int = 0) -> None:
        """Add the next CHUNK children of group `gid` under `parent` (at least `upto` + 1)."""
        lg = self.view.loaded
        if lg is None:
            return
        h = lg.hierarchy
        children = h.children(gid)
        start = self.filled.get(gid, 0)
        stop = min(len(children), max(start + CHUNK, upto + 1))
        if start >= stop:
            return
        more = self.more.pop(gid, None)
        if more is not None:
            more.remove()
        for e in children[start:stop]:
            if e < 0:
                node = parent.add(h.groups[group_of_entry(e)].label, data=e)
            else:
                node = parent.add_leaf(h.leaf_label[e], data=e)
            self.nodes_by_entry[e] = node
        self.filled[gid] = stop
        if stop < len(children):
            self.more[gid] = parent.add_leaf(f"… {len(children) - stop} more", data=None)

    def render_label(self, node: TreeNode[int], base_style: Style, style: Style) -> Text:
        label = self.view.entry_label(node.data)
        if label is None:
            label = Text(str(node.label), style="dim italic")
        label = label.copy()
        label.stylize(style)
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
            return Text.assemble((icon, base_style), label)
        return label

    def redraw_labels(self) -> None:
        """Labels depend on the view's state: draw every line again (every line's path starts
        at a top-level node, whose update count is in the line cache's key)."""
        for child in self.root.children:
            child.refresh()
        self.refresh()

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[int]) -> None:
        entry = event.node.data
        if entry is not None and entry < 0 and group_of_entry(entry) not in self.filled:
            self.fill(event.node, group_of_entry(entry))

    def reveal(self, entry: int) -> TreeNode[int] | None:
        """Open every scope down to an entry, add it to the tree and put the cursor on it."""
        lg = self.view.loaded
        if lg is None:
            return None
        h = lg.hierarchy
        path = h.path(entry) if entry >= 0 else h.group_path(group_of_entry(entry))[:-1]
        parent = self.root
        for gid in path:
            if gid != 0:
                node = self.nodes_by_entry.get(entry_of_group(gid))
                if node is None:
                    return None
                parent = node
                if gid not in self.filled:
                    self.fill(parent, gid)
                parent.expand()
            if entry not in self.nodes_by_entry:
                siblings = h.children(gid)
                target = entry if gid == path[-1] else entry_of_group(path[path.index(gid) + 1])
                if target in siblings:
                    self.fill(parent, gid, upto=siblings.index(target))
        node = self.nodes_by_entry.get(entry)
        if node is not None:
            _ = self.last_line  # lays the lines out, so the node knows its line
            self.move_cursor(node)
            self.scroll_to_node(node, animate=False)
        return node

    def action_open_scope(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            _ = self.last_line
            self.move_cursor(node.children[0])

    def action_close_scope(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)
