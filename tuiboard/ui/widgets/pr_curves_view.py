"""The PR curves tab: a card per tag with every shown run's precision-recall curve in its colour,
a threshold cursor (←/→) and a table of TensorBoard's tooltip numbers per run at that threshold.

Owns: `PrCurvesView` and `PrCard`. The step slider walks the steps of the run with the most
steps; every run shows its curve at the last step at or before the shown one (TensorBoard
keeps a slider per run; one per card keeps the runs comparable at one moment).
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType

from tuiboard.core.types import PR_CURVES, PrCurveValue
from tuiboard.render.canvas import fit_text
from tuiboard.render.plot_request import value_at_step
from tuiboard.render.pr_curves import pr_chart, pr_table
from tuiboard.render.sanitize import clean
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardKey, CardsView

if TYPE_CHECKING:
    from tuiboard.core.types import ValueRecord

ALL_RUNS = ""
"""A PR card's CardKey.run: the card overlays every shown run."""


class PrCard(Card):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SLIDER_BINDINGS,
        Binding("left", "threshold(-1)", "Threshold cursor left"),
        Binding("right", "threshold(1)", "Threshold cursor right"),
        Binding("shift+left", "threshold(-10)", "Threshold ×10 left", show=False),
        Binding("shift+right", "threshold(10)", "Threshold ×10 right", show=False),
    ]

    def curves(self) -> list[tuple[str, tuple[PrCurveValue, ...]]]:
        """(run, its PR values) for every shown run with this tag."""
        board = self.view.board
        out = []
        for name in board.visible_runs():
            run = board.logdir.run(name)
            if run is not None and self.key.tag in board.run_tags(name, PR_CURVES):
                vals = run.values(PR_CURVES, self.key.tag)
                if vals:
                    out.append((name, vals))  # type: ignore[arg-type]
        return out

    def values(self) -> tuple[ValueRecord, ...]:
        curves = self.curves()
        return max((v for _, v in curves), key=len) if curves else ()

    def version(self) -> int:
        board = self.view.board
        total = 0
        for name in board.visible_runs():
            run = board.logdir.run(name)
            if run is not None:
                total += run.series_version(PR_CURVES, self.key.tag) + 1
        return total

    def action_threshold(self, delta: int) -> None:
        """Move the threshold cursor by `delta` thresholds of the finest curve shown."""
        n = max((v[-1].num_thresholds for _, v in self.curves()), default=0)
        if n < 2:
            return
        at = round(self.options.get("threshold", 0.5) * (n - 1)) + delta
        self.options["threshold"] = max(0, min(n - 1, at)) / (n - 1)
        self.refresh()


class PrCurvesView(CardsView):
    KIND: ClassVar[str] = PR_CURVES
    CARD: ClassVar[type[Card]] = PrCard
    CARD_WIDTH: ClassVar[int] = 56
    CARD_HEIGHT: ClassVar[int] = 22
    EMPTY: ClassVar[str] = "No PR curves in the shown runs."

    def card_keys(self) -> list[CardKey]:
        board = self.board
        runs = board.visible_runs()
        tags = set()
        for name in runs:
            tags.update(board.run_tags(name, PR_CURVES))
        return [CardKey(ALL_RUNS, t) for t in board.visible_tags(PR_CURVES) if t in tags]

    def apply_changes(self, changes: object) -> None:
        if self.settle(changes):  # type: ignore[arg-type]
            return
        if self.card_keys() != list(self._cards):
            self.rebuild()
            return
        for card in self._cards.values():
            if card.version() != card.drawn_version:
                card.refresh()

    def title(self, card: Card, value: ValueRecord, width: int) -> Text:
        head = Text(clean(card.key.tag), style="bold", no_wrap=True, overflow="crop")
        assert isinstance(card, PrCard)
        for name, _ in card.curves():
            head.append("  ")
            head.append("■ ", style=self.board.colour_of(name))
            head.append(clean(name))
        return fit_text(head, width)

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        assert isinstance(card, PrCard) and isinstance(value, PrCurveValue)
        curves = []
        for name, vals in card.curves():
            v = value_at_step(vals, value.step)
            if v is not None:
                curves.append((name, self.board.colour_of(name), v))
        if not curves:
            return Text("no curve at this step", style="dim")
        pinned = self.board.selection.pinned
        curves.sort(key=lambda c: c[0] in pinned)  # pinned runs drawn last: on top
        # One threshold for every run (curves may have different numbers of thresholds).
        threshold = card.options.get("threshold", 0.5)
        cursor = [round(threshold * max(0, c[2].num_thresholds - 1)) for c in curves]
        table_h = min(len(curves) + 1, max(2, height // 3))
        chart = pr_chart(curves, width, max(4, height - table_h), self.board.theme, cursor=cursor)
        table = pr_table(curves, cursor, width, self.board.theme)
        lines = table.split("\n")[:table_h]
        return Group(chart, *lines)
