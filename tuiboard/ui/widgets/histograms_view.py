"""The Histograms tab: pick a (tag, run); see its distribution over steps, one step's bars with
a step slider, an overlay of a few steps as ridges, and that step's summary numbers.

Owns: `HistogramsView` (list + panel, the step keys) and `HistogramPanel` (draws via render/).
Built lazily while the tab is shown; live data redraws the panel only when its series moved.
A slider left on the last step follows new steps; anywhere else it stays where the user put it.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tuiboard.core.types import HISTOGRAMS, HistogramValue
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.histogram import (
    distribution_chart,
    histogram_bars,
    histogram_stats,
    ridge_chart,
)
from tuiboard.render.numbers import fmt_value
from tuiboard.render.sanitize import clean
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from tuiboard.core.logdir import Changes
    from tuiboard.ui.board import Board


def hjoin(left: Text, right: Text, gap: int = 2) -> Text:
    """Two blocks of lines side by side (each line of `left` already has its full width)."""
    a = left.split("\n")
    b = right.split("\n")
    lines: list[Text] = []
    for i in range(max(len(a), len(b))):
        line = Text(no_wrap=True, overflow="crop")
        if i < len(a):
            line.append_text(a[i])
        line.append(" " * gap)
        if i < len(b):
            line.append_text(b[i])
        lines.append(line)
    return join_lines(lines)


def slider_line(
    index: int, count: int, step: int, width: int, keys: str = "←/→ step · shift ×10 · < > ends"
) -> Text:
    """`step 1200 ◀━━━━●──────▶ 12/50`: where the shown step sits among all steps."""
    head = f"step {step} "
    tail = f" {index + 1}/{count}  {keys}"
    track_w = max(4, width - len(head) - len(tail) - 2)
    pos = 0 if count <= 1 else round(index / (count - 1) * (track_w - 1))
    text = Text(no_wrap=True, overflow="crop")
    text.append(head, style="bold")
    text.append("◀")
    text.append("━" * pos, style="bold")
    text.append("●", style="bold")
    text.append("─" * (track_w - pos - 1), style="dim")
    text.append("▶")
    text.append(tail, style="dim")
    return fit_text(text, width)


def stats_line(h: HistogramValue, width: int) -> Text:
    s = histogram_stats(h)
    text = Text(no_wrap=True, overflow="crop")
    for name in ("count", "min", "max", "mean", "std"):
        text.append(f"{name} ", style="dim")
        text.append(f"{fmt_value(s[name])}   ")
    return fit_text(text, width)


class HistogramPanel(Widget):
    """The drawings for one (tag, run)."""

    def __init__(self, board: Board, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self.tag: str | None = None
        self.run: str | None = None
        self.index: int | None = None
        """Shown step's position in the run's histograms; None = the last one (follows)."""
        self.drawn_version = -1

    def histograms(self) -> tuple[HistogramValue, ...]:
        if self.tag is None or self.run is None:
            return ()
        run = self.board.logdir.run(self.run)
        return () if run is None else run.histograms(self.tag)

    def current(self) -> tuple[int, HistogramValue] | None:
        hs = self.histograms()
        if not hs:
            return None
        i = len(hs) - 1 if self.index is None else max(0, min(len(hs) - 1, self.index))
        return i, hs[i]

    def version(self) -> int:
        if self.tag is None or self.run is None:
            return -1
        run = self.board.logdir.run(self.run)
        return -1 if run is None else run.series_version(HISTOGRAMS, self.tag)

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        self.drawn_version = self.version()
        hs = self.histograms()
        if not hs or self.tag is None or self.run is None:
            return Text("No histogram data yet.", style="dim")
        theme = self.board.theme
        colour = self.board.colour_of(self.run)
        i, h = self.current()  # type: ignore[misc]
        title = Text(no_wrap=True, overflow="crop")
        title.append(clean(self.tag), style="bold")
        title.append("  ")
        title.append("■ ", style=colour)
        title.append(clean(self.run))
        title.append(f"  {len(hs)} steps", style="dim")
        lines = [fit_text(title, width)]
        body = max(6, height - 3)
        dist_h = max(3, body * 2 // 5)
        low_h = max(3, body - dist_h)
        lines.append(distribution_chart(hs, width, dist_h, theme, colour))
        lines.append(slider_line(i, len(hs), h.step, width))
        bars_w = max(10, (width - 2) // 2)
        ridge_w = max(10, width - 2 - bars_w)
        bars = histogram_bars(h, bars_w, low_h, theme, colour)
        ridge = ridge_chart(hs[: i + 1], ridge_w, low_h, theme, colour)
        lines.append(hjoin(bars, ridge))
        lines.append(stats_line(h, width))
        return join_lines(lines)


class HistogramsView(LazyTab, Horizontal):
    TAB = "histograms"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,left_square_bracket", "step(-1)", "Previous histogram step"),
        Binding("right,right_square_bracket", "step(1)", "Next histogram step"),
        Binding("shift+left,left_curly_bracket", "step(-10)", "10 steps back", show=False),
        Binding("shift+right,right_curly_bracket", "step(10)", "10 steps on", show=False),
        Binding("less_than_sign", "step_end(0)", "First histogram step", show=False),
        Binding("greater_than_sign", "step_end(1)", "Last step (follows new steps)", show=False),
    ]

    def __init__(self, board: Board, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.board = board
        self._pairs: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="hist-list")
        yield HistogramPanel(self.board, id="hist-panel")

    @property
    def panel(self) -> HistogramPanel:
        return self.query_one(HistogramPanel)

    def pairs(self) -> list[tuple[str, str]]:
        board = self.board
        out: list[tuple[str, str]] = []
        have: dict[str, set[str]] = {}
        for name in board.visible_runs():
            have[name] = set(board.run_tags(name, HISTOGRAMS))
        # The tag filter is the Scalars tab's (TensorBoard gives each dashboard its own).
        for tag in board.tags(HISTOGRAMS):
            out.extend((tag, name) for name, tags in have.items() if tag in tags)
        return out

    def rebuild(self) -> None:
        pairs = self.pairs()
        self._stale = False
        width = self.query_one(OptionList).content_size.width
        if pairs == self._pairs and width - 1 == getattr(self, "_list_width", 0):
            self.panel.refresh()
            return
        self._pairs = pairs
        option_list = self.query_one(OptionList)
        width = max(8, (option_list.content_size.width or 26) - 1)
        self._list_width = width
        option_list.clear_options()
        options: list[Option] = []
        last_tag = None
        for tag, run in pairs:
            if tag != last_tag:
                head = Text(clean(tag).replace(" ", "\u00a0"), style="bold")
                head.truncate(width, overflow="ellipsis")
                options.append(Option(head, disabled=True))
                last_tag = tag
            # One line each: no breakable spaces, cut to the list's width.
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append("\u00a0\u00a0■\u00a0", style=self.board.colour_of(run))
            label.append(clean(run).replace(" ", "\u00a0"))
            label.truncate(width, overflow="ellipsis")
            options.append(Option(label, id=f"{run}\x1f{tag}"))
        option_list.add_options(options)
        panel = self.panel
        if (panel.tag, panel.run) not in pairs:
            panel.tag, panel.run, panel.index = (pairs[0] if pairs else (None, None)) + (None,)
        self._highlight_current()
        panel.refresh()

    def _highlight_current(self) -> None:
        panel = self.panel
        option_list = self.query_one(OptionList)
        if panel.tag is None or panel.run is None:
            return
        try:
            index = option_list.get_option_index(f"{panel.run}\x1f{panel.tag}")
        except Exception:
            return
        option_list.highlighted = index

    def select(self, tag: str, run: str) -> None:
        panel = self.panel
        if (panel.tag, panel.run) != (tag, run):
            panel.tag, panel.run, panel.index = tag, run, None
            panel.refresh()
        self._highlight_current()

    @on(OptionList.OptionHighlighted, "#hist-list")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        oid = event.option.id
        if oid:
            run, _, tag = oid.partition("\x1f")
            self.select(tag, run)

    def focus_first(self) -> None:
        self.query_one("#hist-list").focus()

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        if len(self.pairs()) != len(self._pairs):
            self.rebuild()
        panel = self.panel
        if panel.run in changes.runs and panel.version() != panel.drawn_version:
            panel.refresh()

    def on_resize(self) -> None:
        if self._showing():
            self.call_after_refresh(self.rebuild)

    def action_step(self, delta: int) -> None:
        panel = self.panel
        cur = panel.current()
        if cur is None:
            return
        n = len(panel.histograms())
        i = max(0, min(n - 1, cur[0] + delta))
        panel.index = None if i == n - 1 else i
        panel.refresh()

    def action_step_end(self, end: int) -> None:
        panel = self.panel
        panel.index = None if end else 0
        panel.refresh()
