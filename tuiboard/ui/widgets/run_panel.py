"""The side panel of runs: run filter, a tree of runs with swatch, checkbox, pin, step, age, marks.

Owns: `RunPanel` (filter input + summary + tree) and `RunTree`. Labels are virtual: a node
holds only its short name, and a run's full line (swatch, checkbox, step, age, marks) is built
when the line is drawn, so only the rows on screen are built; a store change or the clock's tick
relabels nothing, it repaints the visible lines (10,000 runs: bench/bench_scale.py).
It shows the app's `RunSelection`; it never changes it itself, it posts `RunToggled` /
`RunFilterChanged` / `RunHighlighted` / `RunPinned` / `ShowWarnings` and the app decides; a bad
query's error is shown under the filter (`show_filter_error`), the previous filter kept.
Must not import: tuiboard.core internals (it reads the Run objects it is handed), tuiboard.render
beyond clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static, Tree
from textual.widgets._tree import TOGGLE_STYLE
from textual.widgets.tree import TreeNode

from tuiboard.render.sanitize import clean
from tuiboard.ui.messages import (
    RunFilterChanged,
    RunHighlighted,
    RunPinned,
    RunToggled,
    ShowWarnings,
)

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run
    from tuiboard.ui.view_state import RunSelection

LIVE_SECONDS = 120.0
"""A run that wrote within this many seconds gets the live marker."""


PIN_MARK = "▲ "
"""Before a pinned run's name (drawn on top of every chart)."""

WARNING_MARK_STYLE = Style(color="yellow") + Style.from_meta({"run_warnings": True})
"""The style of a run's warning mark; its meta tells a click on the mark from one on the row."""


def format_age(seconds: float) -> str:
    """Compact age: 4s, 12m, 3h, 5d."""
    if seconds < 0:
        seconds = 0.0
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def format_step(step: int | None) -> str:
    if step is None:
        return "-"
    if abs(step) < 10_000:
        return str(step)
    if abs(step) < 10_000_000:
        return f"{step / 1000:.0f}k"
    return f"{step / 1_000_000:.0f}M"


def run_label(
    label: str,
    run: Run | None,
    *,
    visible: bool,
    colour: str,
    now: float,
    pinned: bool = False,
) -> Text:
    """The tree line of a run. Every log string goes through clean() into a plain Text."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if run is None:
        text.append(clean(label), style="bold")
        return text
    text.append("■ ", style=colour)
    text.append("☑ " if visible else "☐ ", style="" if visible else "dim")
    if pinned:
        text.append(PIN_MARK, style=f"bold {colour}")
    display_name = run.meta.display_name
    if display_name and display_name not in (label, run.name):
        # The name the user gave the run (W&B's display name) first, then the path's name dim:
        # W&B names its directories offline-run-<date>_<time>-<id>, which fills the panel alone.
        text.append(clean(display_name), style="" if visible else "dim")
        text.append(f" {clean(label)}", style="dim")
    else:
        text.append(clean(label), style="" if visible else "dim")
    text.append(f" {format_step(run.last_step)}", style="dim")
    if run.last_write > 0:
        age = now - run.last_write
        text.append(f" {format_age(age)}", style="dim")
        if age <= LIVE_SECONDS:
            text.append(" ●", style="green")
    if run.warnings:
        text.append(" ")
        # The mark carries meta the tree's click handler reads: a click on it opens the warnings.
        text.append(f"⚠{len(run.warnings)}", style=WARNING_MARK_STYLE)
    return text


class RunNode(TreeNode[str]):
    """A node whose `label` is its full line, built on demand from the run (see RunTree)."""

    @property
    def label(self) -> Text:
        tree = self._tree
        assert isinstance(tree, RunTree)
        return tree.full_label(self)

    @label.setter
    def label(self, new_label: Text) -> None:
        self.set_label(new_label)


class RunTree(Tree[str]):
    """Runs by path. Node data is the run name (None for a folder that is not a run)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_run", "Show/hide run", show=False),
        Binding("w", "warnings", "Run warnings (or click its ⚠ mark)", show=False),
        Binding("P", "pin_run", "Pin / unpin the run: drawn on top of every chart", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__("runs", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._run_nodes: dict[str, TreeNode[str]] = {}
        """Tree path ("a", "a/b") -> node; run names are their own paths."""
        self.labeller: Callable[[TreeNode[str]], Text] | None = None
        """Builds a node's full line (the panel's); None: the node's own label."""
        self.labels_built = 0
        """How many full lines were built (tests: only the visible rows are)."""
        self.short_names: dict[int, str] = {}
        """Node id -> its last path part as logged (untrusted: cleaned when drawn)."""

    def _add_node(
        self,
        parent: TreeNode[str] | None,
        label: Text,
        data: str | None,
        expand: bool = False,
    ) -> TreeNode[str]:
        node = RunNode(self, parent, self._new_id(), label, data, expanded=expand)
        self._tree_nodes[node._id] = node
        self._updates += 1
        return node

    def full_label(self, node: TreeNode[str]) -> Text:
        """The node's whole line: built now from the run, never stored."""
        if self.labeller is None:
            return node._label.copy()
        self.labels_built += 1
        return self.labeller(node)

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        label = self.full_label(node)
        label.stylize(style)
        if node._allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
            return Text.assemble((icon, base_style + TOGGLE_STYLE), label)
        return Text.assemble(("", base_style), label)

    def get_label_width(self, node: TreeNode[str]) -> int:
        """The tree's virtual width without building the line: the name and room for the marks
        (Tree builds every line's label to measure it, 10,000 of them on each change)."""
        return node._label.cell_len + 16

    def repaint_labels(self) -> None:
        """The lines on screen are built again (the runs moved, or the clock); nothing else."""
        self._line_cache.clear()
        self._updates += 1
        self.refresh()

    def run_count(self) -> int:
        """How many runs the tree lists."""
        return sum(1 for path, node in self._run_nodes.items() if node.data == path)

    def _runs_under(self, node: TreeNode[str]) -> tuple[str, ...]:
        out: list[str] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.data is not None:
                out.append(n.data)
            stack.extend(n.children)
        return tuple(sorted(out))

    def action_toggle_run(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        runs = self._runs_under(node)
        if runs:
            panel = self.panel
            visible = not all(panel.is_visible(r) for r in runs)
            self.post_message(RunToggled(runs, visible))

    def action_pin_run(self) -> None:
        node = self.cursor_node
        runs = self._runs_under(node) if node is not None else ()
        if runs:
            self.post_message(RunPinned(runs))

    def action_warnings(self) -> None:
        node = self.cursor_node
        self.post_message(ShowWarnings(node.data if node is not None else None))

    def _on_click(self, event: events.Click) -> None:
        """A click on a run's warning mark opens its warnings. Elsewhere Tree's own handler
        runs next (Textual calls each class's handler unless the default is prevented)."""
        meta = event.style.meta
        if meta.get("run_warnings") and "line" in meta:
            node = self.get_node_at_line(meta["line"])
            if node is not None and node.data is not None:
                event.prevent_default()
                event.stop()
                self.move_cursor(node)
                self.post_message(ShowWarnings(node.data))

    @property
    def panel(self) -> RunPanel:
        return self.query_ancestor(RunPanel)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        if event.node.data is not None and not event.node.children:
            self.action_toggle_run()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        self.post_message(RunHighlighted(event.node.data))

    def ensure_node(self, name: str, nested: bool) -> TreeNode[str]:
        """The node of a run, creating folders on the way (tree by path when nested)."""
        node = self._run_nodes.get(name)
        if node is not None:
            if node.data is None:
                node.data = name
            return node
        parts = name.split("/") if nested else [name]
        parent = self.root
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            child = self._run_nodes.get(path)
            if child is None:
                leaf = depth == len(parts)
                child = parent.add(
                    Text(clean(parts[depth - 1]), no_wrap=True),
                    data=name if leaf else None,
                    expand=True,
                    allow_expand=not leaf,
                )
                self.short_names[child._id] = parts[depth - 1]
                self._run_nodes[path] = child
            elif not child.allow_expand and depth < len(parts):
                child.allow_expand = True
            parent = child
        return parent

    def remove_run(self, name: str) -> None:
        node = self._run_nodes.get(name)
        if node is None:
            return
        if node.children:
            node.data = None
            return
        del self._run_nodes[name]
        self.short_names.pop(node._id, None)
        node.remove()


class RunPanel(Vertical):
    """Filter input, a one-line summary, and the run tree."""

    def __init__(self, selection: RunSelection, colour_of: Callable[[str], str], **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.selection = selection
        self._colour_of = colour_of
        self._nested = False
        self._runs: dict[str, Run] = {}
        self._now = 0.0
        self._filter_error: str | None = None
        """Why the text in the filter box is not in force (a bad query), or None."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter runs (regex)", id="run-filter")
        yield Static(id="run-summary")
        yield RunTree(id="run-tree")

    @property
    def run_tree(self) -> RunTree:
        return self.query_one(RunTree)

    def is_visible(self, name: str) -> bool:
        return self.selection.is_visible(name)

    @on(Input.Changed, "#run-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(RunFilterChanged(event.value))

    def key_escape(self) -> None:
        if self.query_one("#run-filter", Input).has_focus:
            self.run_tree.focus()

    @on(Input.Submitted, "#run-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_tree.focus()

    def on_mount(self) -> None:
        self.run_tree.labeller = self._label

    def _label(self, node: TreeNode[str]) -> Text:
        """A node's line from the run as it is now (built only for the lines drawn)."""
        short = self.run_tree.short_names.get(node._id, "")
        name = node.data
        run = self._runs.get(name) if name is not None else None
        if run is None:
            return run_label(short, None, visible=True, colour="", now=self._now)
        return run_label(
            short,
            run,
            visible=self.selection.is_visible(run.name),
            colour=self._colour_of(run.name),
            now=self._now,
            pinned=run.name in self.selection.pinned,
        )

    def sync(self, runs: Sequence[Run], now: float, changed: set[str] | None = None) -> None:
        """Bring the tree in line with the store: add new runs, drop removed ones, and repaint
        the lines on screen (labels are built when drawn, so `changed` needs no per-run work;
        it is kept for callers that know it)."""
        tree = self.run_tree
        names = [r.name for r in runs]
        self._runs = {r.name: r for r in runs}
        self._now = now
        nested = any("/" in n for n in names)
        if nested != self._nested:
            self._nested = nested
            tree.clear()
            tree._run_nodes.clear()
            tree.short_names.clear()
        known = self._runs
        for name in [n for n, node in tree._run_nodes.items() if node.data == n and n not in known]:
            tree.remove_run(name)
        run_nodes = tree._run_nodes
        for name in names:
            node = run_nodes.get(name)
            if node is None or node.data != name:
                tree.ensure_node(name, nested)
        tree.repaint_labels()
        shown = len(self.selection.visible(names))
        summary = Text(f"{shown}/{len(names)} runs shown", style="dim", no_wrap=True)
        if self.selection.only is not None:
            summary.append(" · only ", style="dim")
            summary.append(clean(self.selection.only), style="bold")
        pinned = sum(1 for n in self.selection.pinned if n in known)
        if pinned:
            summary.append(f" · {pinned} pinned", style="dim")
        if self._filter_error is not None:
            summary = _error_line(self._filter_error)
        self.query_one("#run-summary", Static).update(summary)

    def show_filter_error(self, error: str | None) -> None:
        """Say why the typed filter is not in force (None: it is); the summary line shows it
        until the filter compiles again."""
        self._filter_error = error
        if error is not None:
            self.query_one("#run-summary", Static).update(_error_line(error))


def _error_line(error: str) -> Text:
    line = Text(f"✗ {clean(error)}", style="red")  # wraps: up to 4 lines (tuiboard.tcss)
    line.append(" (previous filter kept)", style="dim")
    return line
