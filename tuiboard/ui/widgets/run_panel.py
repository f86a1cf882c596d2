"""The side panel of runs: regex filter, a tree of runs with swatch, checkbox, step, age, marks.

Owns: `RunPanel` (filter input + summary + tree) and `RunTree`. It shows the app's
`RunSelection`; it never changes it itself, it posts `RunToggled` / `RunFilterChanged` /
`RunHighlighted` / `ShowWarnings` and the app decides.
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
from textual.widgets.tree import TreeNode

from tuiboard.render.sanitize import clean
from tuiboard.ui.messages import RunFilterChanged, RunHighlighted, RunToggled, ShowWarnings

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run
    from tuiboard.ui.view_state import RunSelection

LIVE_SECONDS = 120.0
"""A run that wrote within this many seconds gets the live marker."""


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
) -> Text:
    """The tree line of a run. Every log string goes through clean() into a plain Text."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if run is None:
        text.append(clean(label), style="bold")
        return text
    text.append("■ ", style=colour)
    text.append("☑ " if visible else "☐ ", style="" if visible else "dim")
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


class RunTree(Tree[str]):
    """Runs by path. Node data is the run name (None for a folder that is not a run)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_run", "Show/hide run", show=False),
        Binding("w", "warnings", "Run warnings (or click its ⚠ mark)", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__("runs", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._run_nodes: dict[str, TreeNode[str]] = {}
        """Tree path ("a", "a/b") -> node; run names are their own paths."""

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
                    path, data=name if leaf else None, expand=True, allow_expand=not leaf
                )
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
        node.remove()


class RunPanel(Vertical):
    """Filter input, a one-line summary, and the run tree."""

    def __init__(self, selection: RunSelection, colour_of: Callable[[str], str], **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.selection = selection
        self._colour_of = colour_of
        self._nested = False

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

    def sync(self, runs: Sequence[Run], now: float, changed: set[str] | None = None) -> None:
        """Bring the tree in line with the store: add new runs, drop removed ones, relabel.

        `changed` limits relabelling to those runs (None relabels all: visibility or time moved).
        """
        tree = self.run_tree
        names = [r.name for r in runs]
        nested = any("/" in n for n in names)
        if nested != self._nested:
            self._nested = nested
            tree.clear()
            tree._run_nodes.clear()
            changed = None
        known = set(names)
        for name in [n for n, node in tree._run_nodes.items() if node.data == n and n not in known]:
            tree.remove_run(name)
        for run in runs:
            if changed is not None and run.name not in changed and run.name in tree._run_nodes:
                continue
            node = tree.ensure_node(run.name, nested)
            label = run.name.rsplit("/", 1)[-1] if nested else run.name
            node.set_label(
                run_label(
                    label,
                    run,
                    visible=self.selection.is_visible(run.name),
                    colour=self._colour_of(run.name),
                    now=now,
                )
            )
        for path, node in tree._run_nodes.items():
            if node.data is None:
                node.set_label(
                    run_label(path.rsplit("/", 1)[-1], None, visible=True, colour="", now=now)
                )
        shown = len(self.selection.visible(names))
        summary = Text(f"{shown}/{len(names)} runs shown", style="dim", no_wrap=True)
        if self.selection.only is not None:
            summary.append(" · only ", style="dim")
            summary.append(clean(self.selection.only), style="bold")
        self.query_one("#run-summary", Static).update(summary)
