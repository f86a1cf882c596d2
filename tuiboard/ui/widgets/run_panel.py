"""The side panel of runs: regex filter, a tree of runs with swatch, checkbox, step, age, marks.

Owns: `RunPanel` (filter input + summary + list) and `RunTree`, a virtual list on Textual's
Line API (`ScrollView.render_line`): a `RunRow` per run or folder holds only its place and short
name, the rows shown are a flat list built again only when runs come, go or a folder folds, and
a run's full line (swatch, checkbox, step, age, marks) is built when the line is drawn. So 10,000
runs cost 10,000 small objects. A store change touches the rows of the runs it added, removed
or replaced (Board.moved_since), and a change or the clock's tick draws again only the lines on
screen whose label moved (a line's cache key holds what its label is drawn from:
bench/bench_scale.py). It looks and acts as Textual's Tree did (guides, folders, keys, mouse),
with no Tree internals.
It shows the app's `RunSelection`; it never changes it itself, it posts `RunToggled` /
`RunFilterChanged` / `RunHighlighted` / `RunPinned` / `ShowWarnings` and the app decides; a bad
query's error is shown under the filter (`show_filter_error`), the previous filter kept.
Must not import: tuiboard.core internals (it reads the Run objects it is handed), tuiboard.render
beyond clean.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Region, Size, clamp
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from tuiboard.render.sanitize import clean
from tuiboard.ui.messages import (
    RunFilterChanged,
    RunHighlighted,
    RunPinned,
    RunToggled,
    ShowWarnings,
)
from tuiboard.ui.widgets.status_bar import same_text

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


@dataclass(frozen=True, slots=True)
class _TreeStyles:
    hidden: tuple[bool, bool, bool]
    """Guides hidden (transparent): plain, under the mouse, under the cursor."""
    guides: tuple[Style, Style, Style]
    highlight_line: Style
    label: Style
    highlight: Style
    cursor: Style


class RunRow:
    """One line of the run list: a folder of runs, a run, or both (a run with runs under it).

    Holds only its place in the tree and its short name; its full line is built when drawn."""

    __slots__ = (
        "_line",
        "_tree",
        "children",
        "data",
        "drawn",
        "expanded",
        "parent",
        "path",
        "short",
    )

    def __init__(self, tree: RunTree, parent: RunRow | None, path: str, short: str) -> None:
        self._tree = tree
        self.parent = parent
        self.path = path
        """The tree path ("a", "a/b"); a run's is its name."""
        self.short = short
        """The last path part as logged (untrusted: cleaned when drawn)."""
        self.data: str | None = None
        """The run's name, or None for a folder that is not a run."""
        self.children: list[RunRow] = []
        """In name order."""
        self.expanded = True
        self._line = -1
        self.drawn: Hashable = None
        """What its line was last drawn from (RunTree.label_key): a line whose key moved is
        drawn again, the others not."""

    def __repr__(self) -> str:
        return f"RunRow({self.path!r})"

    @property
    def line(self) -> int:
        """Its line in the list, or -1 while it is not listed (inside a folded folder)."""
        self._tree.built()
        return self._line

    @property
    def allow_expand(self) -> bool:
        """A folder (collapses and expands); a run without runs under it is a leaf."""
        return self.data is None or bool(self.children)

    @property
    def is_last(self) -> bool:
        parent = self.parent
        return parent is None or parent.children[-1] is self

    @property
    def label(self) -> Text:
        """The whole line as drawn now (swatch, checkbox, name, step, age, marks)."""
        return self._tree.full_label(self)


class RunTree(ScrollView, can_focus=True):
    """The runs by path, as a virtual list: a flat list of the rows shown (folders expanded)
    is kept, and a line is built only when it is drawn (Textual's Line API), so 10,000 runs cost
    a list of 10,000 small objects and ~height lines per repaint. It looks and behaves as
    Textual's Tree did here: guides, ▼/▶ folders, cursor, hover, keys and clicks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_run", "Show/hide run", show=False),
        Binding("w", "warnings", "Run warnings (or click its ⚠ mark)", show=False),
        Binding("P", "pin_run", "Pin / unpin the run: drawn on top of every chart", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("home", "scroll_home", "First run", show=False),
        Binding("end", "scroll_end", "Last run", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("shift+left", "cursor_parent", "Cursor to the folder", show=False),
        Binding("shift+up", "cursor_previous_sibling", "Previous sibling", show=False),
        Binding("shift+down", "cursor_next_sibling", "Next sibling", show=False),
        Binding("shift+space", "toggle_expand_all", "Expand or collapse all", show=False),
    ]
    HELP_BINDINGS: ClassVar[list[BindingType]] = BINDINGS[:3]
    """The keys the help screen lists for the run panel (the rest move the cursor)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tree--cursor",
        "tree--guides",
        "tree--guides-hover",
        "tree--guides-selected",
        "tree--highlight",
        "tree--highlight-line",
        "tree--label",
    }
    """Textual Tree's classes (and its look below), so themes style the run list as a tree."""

    DEFAULT_CSS = """
    RunTree {
        background: $surface;
        color: $foreground;
        & > .tree--label {}
        & > .tree--guides { color: $surface-lighten-2; }
        & > .tree--guides-hover { color: $surface-lighten-2; }
        & > .tree--guides-selected { color: $block-cursor-blurred-background; }
        & > .tree--cursor {
            text-style: $block-cursor-blurred-text-style;
            background: $block-cursor-blurred-background;
        }
        & > .tree--highlight {}
        & > .tree--highlight-line { background: $block-hover-background; }
        &:focus {
            background-tint: $foreground 5%;
            & > .tree--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
            & > .tree--guides { color: $surface-lighten-3; }
            & > .tree--guides-hover { color: $surface-lighten-3; }
            & > .tree--guides-selected { color: $block-cursor-background; }
        }
        &:light {
            & > .tree--guides { color: $surface-darken-1; }
            & > .tree--guides-hover { color: $block-cursor-background; }
            & > .tree--guides-selected { color: $block-cursor-background; }
        }
    }
    RunTree:ansi {
        color: ansi_default;
        & > .tree--guides { color: $ansi-background; }
        &:nocolor > .tree--cursor { text-style: reverse; }
    }
    """

    ICON_NODE = "▶ "
    ICON_NODE_EXPANDED = "▼ "
    GUIDES = ("  ", "│ ", "└ ", "├ ")
    """space, vertical, terminator, cross: Tree's default guides at guide depth 2."""
    BOLD_GUIDES = ("  ", "┃ ", "┗ ", "┣ ")
    DOUBLE_GUIDES = ("  ", "║ ", "╚ ", "╠ ")
    TOGGLE = Style.from_meta({"toggle": True})
    """The meta of a folder's ▼/▶: a click on it expands or collapses, nothing else."""

    cursor_line = var(-1, always_update=True)
    """The line with the cursor, or -1 for none."""
    hover_line = var(-1)
    """The line under the mouse, or -1."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.root = RunRow(self, None, "", "")
        self._run_nodes: dict[str, RunRow] = {}
        """Tree path ("a", "a/b") -> row; run names are their own paths."""
        self._lines: list[RunRow] | None = []
        """The rows shown, in order; None: to build again (a row was added, removed, folded)."""
        self._cursor_node: RunRow | None = None
        self._run_count = 0
        """How many rows are runs (folders are not)."""
        self._line_cache: dict[tuple[object, ...], Strip] = {}
        self._style_cache: dict[object, _TreeStyles] = {}
        self.labeller: Callable[[RunRow], Text] | None = None
        """Builds a row's full line (the panel's); None: its short name."""
        self.label_key: Callable[[RunRow], Hashable] | None = None
        """What a row's full line is built from (the panel's: the run, its version, age, ...):
        equal keys, equal lines. None: the line never changes."""
        self._base_style: Style | None = None
        """`rich_style` for the lines of one render pass (Textual works it out from every
        ancestor on each call: ~0.1 ms, once a line was a third of drawing the panel)."""
        self.labels_built = 0
        """How many full lines were built (tests: only the visible rows are)."""

    # -- rows --------------------------------------------------------------------------------

    @property
    def lines(self) -> list[RunRow]:
        """The rows shown, top to bottom (built again after a structural change)."""
        if self._lines is None:
            self._build()
        assert self._lines is not None
        return self._lines

    def built(self) -> None:
        """Build the list of rows shown now if a change left it to build."""
        if self._lines is None:
            self._build()

    def _build(self) -> None:
        lines: list[RunRow] = []
        stack = list(reversed(self.root.children))
        while stack:
            row = stack.pop()
            row._line = len(lines)
            lines.append(row)
            if row.expanded and row.children:
                stack.extend(reversed(row.children))
        self._lines = lines
        self._line_cache.clear()
        self.virtual_size = Size(self.size.width, len(lines))
        before = cursor = self._cursor_node
        if cursor is not None:
            # the cursor stays on its row, or on the nearest folder above it still listed
            while cursor is not None and cursor._line < 0:
                cursor = cursor.parent if cursor.parent is not self.root else None
            self._cursor_node = cursor
            self.set_reactive(RunTree.cursor_line, -1 if cursor is None else cursor._line)
            if cursor is not before:
                self.post_message(RunHighlighted(None if cursor is None else cursor.data))
        self.set_reactive(RunTree.hover_line, -1)

    def _structure_changed(self) -> None:
        """Rows were added, removed, folded: the list is built again when next asked (one
        build and one repaint for a whole batch of rows)."""
        if self._lines is None:
            return
        for row in self._lines:
            row._line = -1
        self._lines = None
        self._line_cache.clear()
        self.refresh()

    @property
    def cursor_node(self) -> RunRow | None:
        """The row under the cursor, or None."""
        self.built()
        return self._cursor_node

    @property
    def last_line(self) -> int:
        return len(self.lines) - 1

    def get_node_at_line(self, line_no: int) -> RunRow | None:
        lines = self.lines
        return lines[line_no] if 0 <= line_no < len(lines) else None

    def run_count(self) -> int:
        """How many runs the list holds."""
        return self._run_count

    def ensure_node(self, name: str, nested: bool) -> RunRow:
        """The row of a run, creating folders on the way (a tree by path when nested)."""
        row = self._run_nodes.get(name)
        if row is not None:
            if row.data is None:
                row.data = name
                self._run_count += 1
                self._structure_changed()
            return row
        if nested and "/" in name:
            head, _, short = name.rpartition("/")
            parent = self._run_nodes.get(head) or self._folder(head)
        else:
            parent, short = self.root, name
        row = self._add_row(parent, name, short)
        row.data = name
        self._run_count += 1
        return row

    def _folder(self, path: str) -> RunRow:
        """The row of a folder path, made (with the folders above it) if new."""
        head, sep, short = path.rpartition("/")
        parent = self.root
        if sep:
            parent = self._run_nodes.get(head) or self._folder(head)
        return self._add_row(parent, path, short)

    def _add_row(self, parent: RunRow, path: str, short: str) -> RunRow:
        row = RunRow(self, parent, path, short)
        siblings = parent.children
        if siblings and siblings[-1].short > short:
            bisect.insort(siblings, row, key=lambda r: r.short)
        else:
            siblings.append(row)  # names arrive sorted: the usual case
        self._run_nodes[path] = row
        if self._lines is not None:  # (the first row of a batch: 10,000 rows make one build)
            self._structure_changed()
        return row

    def remove_run(self, name: str) -> None:
        """Drop a run's row, and each folder it leaves empty (a run with runs under it stays,
        as a folder)."""
        row = self._run_nodes.get(name)
        if row is None or row.data is None:
            return
        self._structure_changed()
        row.data = None
        self._run_count -= 1
        while row is not self.root and not row.children and row.data is None:
            parent = row.parent
            assert parent is not None
            parent.children.remove(row)
            del self._run_nodes[row.path]
            if self._cursor_node is row:
                self._cursor_node = parent if parent is not self.root else None
            row = parent

    def clear(self) -> None:
        """Forget every row."""
        self.root.children.clear()
        self._run_nodes.clear()
        self._run_count = 0
        self._cursor_node = None
        self.set_reactive(RunTree.cursor_line, -1)
        self._structure_changed()

    def runs_under(self, row: RunRow) -> tuple[str, ...]:
        """The runs of a row and of every row below it, sorted."""
        out: list[str] = []
        stack = [row]
        while stack:
            r = stack.pop()
            if r.data is not None:
                out.append(r.data)
            stack.extend(r.children)
        return tuple(sorted(out))

    # -- drawing -----------------------------------------------------------------------------

    def full_label(self, row: RunRow) -> Text:
        """The row's whole line: built now from the run, never stored."""
        if self.labeller is None:
            return Text(clean(row.short), no_wrap=True)
        self.labels_built += 1
        return self.labeller(row)

    def repaint_labels(self) -> None:
        """Every line on screen built again, whatever moved: the full repaint that
        `repaint_moved` saves (tests compare the two; the app calls repaint_moved)."""
        self._line_cache.clear()
        self.refresh()

    def repaint_moved(self) -> None:
        """Draw again the lines on screen whose label would be drawn differently now (a run
        read, the clock moved its age, shown or hidden, pinned, recoloured): the lines on
        screen are looked at, each line drawn only if its key moved."""
        if self._lines is None:
            self.refresh()  # a structural change: every line is drawn anyway
            return
        key_of = self.label_key
        if key_of is None:
            return
        top = self.scroll_offset.y
        for y, row in enumerate(self._lines[top : top + self.size.height], top):
            if row.drawn is not None and key_of(row) != row.drawn:
                self.refresh_line(y)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pseudo_state = self.get_pseudo_class_state()
        self._base_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        return self._render_line(y + scroll_y, width).crop(scroll_x, scroll_x + width)

    def _render_line(self, y: int, width: int) -> Strip:
        lines = self.lines
        base_style = self._base_style or self.rich_style
        if not 0 <= y < len(lines):
            return Strip.blank(width, base_style)
        row = lines[y]
        label_key = None if self.label_key is None else self.label_key(row)
        row.drawn = label_key
        path: list[RunRow] = []
        r: RunRow | None = row
        while r is not None and r is not self.root:
            path.append(r)
            r = r.parent
        path.reverse()
        cursor = self._cursor_node if self.cursor_line >= 0 else None
        hover = self.get_node_at_line(self.hover_line) if self.hover_line >= 0 else None
        focused = self.has_focus
        key = (
            y,
            width,
            getattr(self, "_pseudo_state", None),
            focused,
            self.cursor_line == y,
            self.hover_line == y,
            tuple(n is cursor for n in path),
            tuple(n is hover for n in path),
            label_key,
        )
        strip = self._line_cache.get(key)
        if strip is not None:
            return strip
        if len(self._line_cache) > 4096:
            self._line_cache.clear()
        strip = self._line_cache[key] = self._draw_line(
            y, row, path, cursor, hover, focused, width, base_style
        )
        return strip

    def _draw_line(
        self,
        y: int,
        row: RunRow,
        path: list[RunRow],
        cursor: RunRow | None,
        hover: RunRow | None,
        focused: bool,
        width: int,
        base_style: Style,
    ) -> Strip:
        """One line as Textual's Tree draws it: guides (coloured under the cursor or the mouse),
        the folder icon, the label in the label / highlight / cursor styles."""
        st = self._styles()
        base_hidden, hover_hidden, selected_hidden = st.hidden
        base_guide, guide_hover, guide_selected = st.guides
        is_hover = hover is not None and hover in path
        line_style = st.highlight_line if is_hover else base_style
        line_style += Style(meta={"line": y})

        def guides_for(style: Style, hidden: bool) -> tuple[str, str, str, str]:
            if hidden:
                return ("  ", "  ", "  ", "  ")
            if style.bold:
                return self.BOLD_GUIDES
            if style.underline2:
                return self.DOUBLE_GUIDES
            return self.GUIDES

        text = Text(style=line_style)
        guide_style = base_guide
        hidden = True
        over = path[0] is hover
        selected = path[0] is cursor and focused
        for node in path[1:]:
            hidden = base_hidden
            if over:
                guide_style, hidden = guide_hover, hover_hidden
            if selected:
                guide_style, hidden = guide_selected, selected_hidden
            if node is not row:
                space, vertical, _, _ = guides_for(guide_style, hidden)
                text.append(space if node.is_last else vertical, style=guide_style)
            over = over or node is hover
            selected = (selected or node is cursor) and focused
        if len(path) > 1:
            _, _, terminator, cross = guides_for(guide_style, hidden)
            text.append(terminator if row.is_last else cross, style=guide_style)

        label_style = st.label
        if self.hover_line == y:
            label_style += st.highlight
        if self.cursor_line == y:
            label_style += st.cursor
        label = self.full_label(row)
        label.stylize(label_style)
        if row.allow_expand:
            icon = self.ICON_NODE_EXPANDED if row.expanded else self.ICON_NODE
            text.append(icon, style=line_style + self.TOGGLE)
        text.append_text(label)
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.extend_cell_length(max(self.virtual_size.width, width), line_style)

    def _styles(self) -> _TreeStyles:
        """The component styles for the current pseudo-classes (focus, theme), asked of the
        CSS once per state rather than seven times a line."""
        key = getattr(self, "_pseudo_state", None)
        cached = self._style_cache.get(key)
        if cached is None:
            get = self.get_component_rich_style
            hidden = tuple(
                self.get_component_styles(c).color.a == 0
                for c in ("tree--guides", "tree--guides-hover", "tree--guides-selected")
            )
            base_guide = get("tree--guides", partial=True)
            cached = self._style_cache[key] = _TreeStyles(
                hidden=(hidden[0], hidden[1], hidden[2]),
                guides=(
                    base_guide,
                    base_guide + get("tree--guides-hover", partial=True),
                    base_guide + get("tree--guides-selected", partial=True),
                ),
                highlight_line=get("tree--highlight-line"),
                label=get("tree--label", partial=True),
                highlight=get("tree--highlight", partial=True),
                cursor=get("tree--cursor", partial=False),
            )
        return cached

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()
        self._style_cache.clear()

    def _on_resize(self, event: events.Resize) -> None:
        self._line_cache.clear()
        self.virtual_size = Size(event.size.width, len(self.lines))

    # -- cursor --------------------------------------------------------------------------------

    def validate_cursor_line(self, value: int) -> int:
        return clamp(value, 0, len(self.lines) - 1)

    def watch_cursor_line(self, previous: int, line: int) -> None:
        node = self.get_node_at_line(line)
        before = self._cursor_node
        self._cursor_node = node
        if previous != line or before is not node:
            self._refresh_rows(before, node)
        if node is not None and node is not before:
            self.post_message(RunHighlighted(node.data))

    def watch_hover_line(self, previous: int, line: int) -> None:
        if previous != line:
            self._refresh_rows(self.get_node_at_line(previous), self.get_node_at_line(line))

    def _refresh_rows(self, *rows: RunRow | None) -> None:
        """Repaint the lines on screen that show one of `rows` or a row under it (its guides
        take the cursor's or the mouse's colour): a key press repaints two lines, not all."""
        wanted = {id(r) for r in rows if r is not None}
        if not wanted or self._lines is None:
            self.refresh()
            return
        top = self.scroll_offset.y
        for y, row in enumerate(self._lines[top : top + self.size.height], top):
            r: RunRow | None = row
            while r is not None:
                if id(r) in wanted:
                    self.refresh_line(y)
                    break
                r = r.parent

    def move_cursor(self, node: RunRow | None, animate: bool = False) -> None:
        """Put the cursor on a row (unfolding the folders above it), or remove it (None)."""
        if node is None:
            self.cursor_line = -1
            return
        folded = False
        parent = node.parent
        while parent is not None and parent is not self.root:
            if not parent.expanded:
                parent.expanded = folded = True
            parent = parent.parent
        if folded:
            self._structure_changed()
        self.cursor_line = node.line
        self.scroll_to_line(self.cursor_line, animate=animate)

    def scroll_to_line(self, line: int, animate: bool = False) -> None:
        if 0 <= line < len(self.lines):
            self.scroll_to_region(
                Region(0, line, 1, 1),
                animate=animate,
                force=True,
                origin_visible=False,
                x_axis=False,
            )

    def action_cursor_up(self) -> None:
        self.cursor_line = self.last_line if self.cursor_line == -1 else self.cursor_line - 1
        self.scroll_to_line(self.cursor_line)

    def action_cursor_down(self) -> None:
        self.cursor_line = 0 if self.cursor_line == -1 else self.cursor_line + 1
        self.scroll_to_line(self.cursor_line)

    def action_page_down(self) -> None:
        start = 0 if self.cursor_line == -1 else self.cursor_line
        self.cursor_line = start + self.scrollable_content_region.height - 1
        self.scroll_to_line(self.cursor_line)

    def action_page_up(self) -> None:
        start = self.last_line if self.cursor_line == -1 else self.cursor_line
        self.cursor_line = start - (self.scrollable_content_region.height - 1)
        self.scroll_to_line(self.cursor_line)

    def action_scroll_home(self) -> None:
        self.cursor_line = 0
        self.scroll_to_line(self.cursor_line)

    def action_scroll_end(self) -> None:
        self.cursor_line = self.last_line
        self.scroll_to_line(self.cursor_line)

    def action_cursor_parent(self) -> None:
        node = self.cursor_node
        if node is not None and node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def _sibling(self, node: RunRow, step: int) -> RunRow | None:
        siblings = node.parent.children if node.parent is not None else [node]
        i = siblings.index(node) + step
        return siblings[i] if 0 <= i < len(siblings) else None

    def action_cursor_previous_sibling(self) -> None:
        node = self.cursor_node
        if node is not None:
            target = self._sibling(node, -1)
            if target is None and node.parent is not self.root:
                target = node.parent
            if target is not None:
                self.move_cursor(target)

    def action_cursor_next_sibling(self) -> None:
        node = self.cursor_node
        if node is not None:
            target = self._sibling(node, 1)
            if target is None and node.parent is not None and node.parent is not self.root:
                target = self._sibling(node.parent, 1)
            if target is not None:
                self.move_cursor(target)

    def action_toggle_expand_all(self) -> None:
        """Fold or unfold the cursor's row and its siblings (all folded: unfold them)."""
        node = self.cursor_node
        if node is None or node.parent is None:
            return
        folders = [r for r in node.parent.children if r.allow_expand]
        expand = all(not r.expanded for r in folders)
        for r in folders:
            r.expanded = expand
        self._structure_changed()
        self.move_cursor(node)

    def toggle_folder(self, node: RunRow) -> None:
        if node.allow_expand:
            node.expanded = not node.expanded
            self._structure_changed()

    # -- actions: the app decides ------------------------------------------------------------

    def action_toggle_run(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        runs = self.runs_under(node)
        if runs:
            panel = self.panel
            visible = not all(panel.is_visible(r) for r in runs)
            self.post_message(RunToggled(runs, visible))

    def action_select_cursor(self) -> None:
        """Enter (or a click): a run shows or hides; a folder folds or unfolds."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand:
            self.toggle_folder(node)
        elif node.data is not None:
            self.action_toggle_run()

    def action_pin_run(self) -> None:
        node = self.cursor_node
        runs = self.runs_under(node) if node is not None else ()
        if runs:
            self.post_message(RunPinned(runs))

    def action_warnings(self) -> None:
        node = self.cursor_node
        self.post_message(ShowWarnings(node.data if node is not None else None))

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        meta = event.style.meta
        self.hover_line = meta["line"] if meta and "line" in meta else -1

    def _on_leave(self, event: events.Leave) -> None:
        self.hover_line = -1

    async def _on_click(self, event: events.Click) -> None:
        """A click on a run's ⚠ mark opens its warnings; on a folder's ▼/▶ folds it; elsewhere
        it moves the cursor there and selects (a run shows or hides, a folder folds)."""
        meta = event.style.meta
        if "line" not in meta:
            return
        node = self.get_node_at_line(meta["line"])
        if node is None:
            return
        event.stop()
        if meta.get("run_warnings") and node.data is not None:
            self.move_cursor(node)
            self.post_message(ShowWarnings(node.data))
        elif meta.get("toggle"):
            self.toggle_folder(node)
        else:
            self.move_cursor(node)
            self.action_select_cursor()

    @property
    def panel(self) -> RunPanel:
        return self.query_ancestor(RunPanel)


class RunPanel(Vertical):
    """Filter input, a one-line summary, and the run tree."""

    def __init__(self, selection: RunSelection, colour_of: Callable[[str], str], **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.selection = selection
        self._colour_of = colour_of
        self._nested = False
        self._runs: dict[str, Run] = {}
        """Run name -> the Run listed (the rows follow this)."""
        self._slashed = 0
        """How many of `_runs` hold a "/" (a tree by path when some do)."""
        self._listed: Sequence[Run] = ()
        self._summary: Text | None = None
        """The line under the filter as last shown."""
        self._now = 0.0
        self._filter_error: str | None = None
        """Why the text in the filter box is not in force (a bad query), or None."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter runs (regex or query)", id="run-filter")
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
        tree = self.run_tree
        tree.labeller = self._label
        tree.label_key = self._label_key

    def _label(self, row: RunRow) -> Text:
        """A row's line from the run as it is now (built only for the lines drawn)."""
        name = row.data
        run = self._runs.get(name) if name is not None else None
        if run is None:
            return run_label(row.short, None, visible=True, colour="", now=self._now)
        return run_label(
            row.short,
            run,
            visible=self.selection.is_visible(run.name),
            colour=self._colour_of(run.name),
            now=self._now,
            pinned=run.name in self.selection.pinned,
        )

    def _label_key(self, row: RunRow) -> Hashable:
        """Everything `_label` draws a row from (equal keys, equal lines): the run and its
        version (step, display name, warnings), its age as shown, shown/pinned, colour."""
        name = row.data
        run = self._runs.get(name) if name is not None else None
        if run is None:
            return (row.short,)
        last_write = run.last_write
        age = self._now - last_write
        return (
            run,
            run.version,
            last_write,
            len(run.warnings),
            format_age(age) if last_write > 0 else "",
            last_write > 0 and age <= LIVE_SECONDS,
            self.selection.is_visible(name),
            name in self.selection.pinned,
            self._colour_of(name),
        )

    def sync(
        self,
        runs: Sequence[Run],
        now: float,
        changed: set[str] | None = None,
        *,
        shown: int | None = None,
        moved: dict[str, Run | None] | None = None,
    ) -> None:
        """Bring the list in line with the store and draw again the lines on screen whose
        label moved. `moved`: the runs added, removed (None) or given a new view since the
        last sync (Board.moved_since), when the caller knows them: only their rows are looked
        at; without it every run is compared with its row. Labels are built when drawn, so
        `changed` needs no per-run work (kept for callers that know it). `shown`: how many
        runs are visible, when the caller counted them already."""
        tree = self.run_tree
        self._now = now
        if moved is not None:
            if moved:
                self._apply_moved(runs, moved)
        elif runs is not self._listed and (
            len(runs) != len(self._runs) or any(self._runs.get(r.name) is not r for r in runs)
        ):
            self._restructure(runs)
        self._listed = runs  # Board.runs() is the same list until the runs move
        tree.repaint_moved()
        if shown is None:
            shown = len(self.selection.visible([r.name for r in runs]))
        summary = Text(f"{shown}/{len(runs)} runs shown", style="dim", no_wrap=True)
        if self.selection.only is not None:
            summary.append(" · only ", style="dim")
            summary.append(clean(self.selection.only), style="bold")
        pinned = sum(1 for n in self.selection.pinned if n in self._runs)
        if pinned:
            summary.append(f" · {pinned} pinned", style="dim")
        if self._filter_error is not None:
            summary = _error_line(self._filter_error)
        self._show_summary(summary)

    def _show_summary(self, summary: Text) -> None:
        """The line under the filter, updated only when it reads differently (an update lays
        the whole screen out again: ~20 ms at 10,000 runs, on every store change); laid out
        only when its height may move (an error wraps, the counts never do)."""
        shown = self._summary
        if shown is not None and same_text(shown, summary):
            return
        one_line = shown is not None and bool(shown.no_wrap) and bool(summary.no_wrap)
        self._summary = summary
        self.query_one("#run-summary", Static).update(summary, layout=not one_line)

    def show_filter_error(self, error: str | None) -> None:
        """Say why the typed filter is not in force (None: it is); the summary line shows it
        until the filter compiles again."""
        self._filter_error = error
        if error is not None:
            self._show_summary(_error_line(error))

    def _restructure(self, runs: Sequence[Run]) -> None:
        """Rows for new runs, none for runs gone (a tree by path once a name holds a "/")."""
        tree = self.run_tree
        names = [r.name for r in runs]
        known = {r.name: r for r in runs}
        nested = any("/" in n for n in names)
        if nested != self._nested:
            self._nested = nested
            tree.clear()
        rows = tree._run_nodes
        for name in [n for n in self._runs if n not in known]:
            tree.remove_run(name)
        for name in names:
            row = rows.get(name)
            if row is None or row.data != name:
                tree.ensure_node(name, nested)
        self._runs = known
        self._slashed = sum(1 for n in names if "/" in n)
        tree.built()  # one build for the whole change

    def _apply_moved(self, runs: Sequence[Run], moved: dict[str, Run | None]) -> None:
        """Rows for the runs that moved only (`runs`: every run, sorted, for the rare change
        that turns the list into a tree or back: every row is made again then)."""
        known = self._runs
        slashed = self._slashed
        for name, run in moved.items():
            if ("/" in name) and (name in known) != (run is not None):
                slashed += 1 if run is not None else -1
        if (slashed > 0) != self._nested:
            self._restructure(runs)
            return
        self._slashed = slashed
        tree = self.run_tree
        rows = tree._run_nodes
        for name in sorted(moved):
            run = moved[name]
            if run is None:
                if known.pop(name, None) is not None:
                    tree.remove_run(name)
                continue
            known[name] = run
            row = rows.get(name)
            if row is None or row.data != name:
                tree.ensure_node(name, self._nested)
        tree.built()


def _error_line(error: str) -> Text:
    line = Text(f"✗ {clean(error)}", style="red")  # wraps: up to 4 lines (tuiboard.tcss)
    line.append(" (previous filter kept)", style="dim")
    return line
