"""The frame every media dashboard shares: tag x run cards at one step, a step slider per card,
full screen on Enter, and slow drawing (decoding an image) done off the event loop.

Owns: `DashboardView` (what the app asks of any tab's widget), `CardKey`, `Card` (one card's
view state: which value it shows; it holds no data), `CardsView` (the grid of cards of one kind,
rebuilt lazily while its tab is shown) and the drawing cache. A dashboard subclasses `CardsView`
and says what a card shows (`draw_body`), whether that is slow (`SLOW`), and its own keys.
Runs hidden in the run panel and tags outside the tag filter have no card.
Must not import: tuiboard.core readers (the store is read through the Board).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TabbedContent

from tuiboard.render.canvas import fit_text
from tuiboard.render.prerender import prerender
from tuiboard.render.sanitize import clean
from tuiboard.ui.messages import OpenCard
from tuiboard.ui.widgets.histograms_view import slider_line
from tuiboard.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from textual import events

    from tuiboard.core.logdir import Changes
    from tuiboard.core.types import ValueRecord
    from tuiboard.ui.board import Board
    from tuiboard.ui.screens.card import CardScreen


class DashboardView(Protocol):
    """What the app calls on every tab's widget (Scalars, Histograms, Overview and the cards)."""

    def apply_changes(self, changes: Changes) -> None: ...
    def view_changed(self) -> None: ...
    def shown(self) -> None: ...
    def focus_first(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CardKey:
    run: str
    tag: str
    sample: int = 0
    """Which of a value's several items (images of one `add_images` step); 0 otherwise."""


SLIDER_BINDINGS: list[BindingType] = [
    Binding("left_square_bracket", "step(-1)", "Previous step"),
    Binding("right_square_bracket", "step(1)", "Next step"),
    Binding("left_curly_bracket", "step(-10)", "10 steps back", show=False),
    Binding("right_curly_bracket", "step(10)", "10 steps on", show=False),
    Binding("less_than_sign", "step_end(0)", "First step", show=False),
    Binding("greater_than_sign", "step_end(1)", "Last step (follows new steps)", show=False),
    Binding("enter", "open", "Full screen"),
]


FLUSH_INTERVAL = 0.05
"""Seconds between two hand-overs of worker drawings to the screen (at most one a frame)."""
FIRST_MOUNT = 8
"""At least this many cards are mounted before the first paint of a new grid."""

CARD_KEYS = "[ ] step · { } ×10 · < > ends · Enter full"


class Card(Widget, can_focus=True):
    """One (run, tag, sample) at one step. The view it belongs to draws it."""

    BINDINGS: ClassVar[list[BindingType]] = SLIDER_BINDINGS

    def __init__(self, view: CardsView, key: CardKey, *, full: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.view = view
        self.key = key
        self.full = full
        """On the full-screen card: the view draws more (sizes, extra controls)."""
        self.index: int | None = None
        """Shown value's position in the series; None = the latest (follows new steps)."""
        self.options: dict[str, Any] = {}
        """The dashboard's per-card view options (brightness, markdown, threshold...)."""
        self.drawn_version = -1
        self.waiting = False
        """Its last drawing showed "decoding…" (a worker is drawing the body)."""
        self.want: Hashable | None = None
        """The body the card asked for last (a worker skips a drawing nobody wants any more)."""
        self.last_body: RenderableType | None = None
        """Its last finished body, shown while the next one is drawn."""
        self.last_size: tuple[int, int] | None = None
        """The size its last drawing was asked for (prefetches are drawn at it)."""
        self.heading = 0
        """The slider's last direction (-1, 1; 0 before a move): which step to prefetch."""

    def values(self) -> tuple[ValueRecord, ...]:
        run = self.view.board.logdir.run(self.key.run)
        return () if run is None else run.values(self.view.KIND, self.key.tag)

    def version(self) -> int:
        run = self.view.board.logdir.run(self.key.run)
        return -1 if run is None else run.series_version(self.view.KIND, self.key.tag)

    def current(self) -> tuple[int, int, ValueRecord] | None:
        """(position, count, value) of the shown step."""
        values = self.values()
        if not values:
            return None
        n = len(values)
        i = n - 1 if self.index is None else max(0, min(n - 1, self.index))
        return i, n, values[i]

    def render(self) -> RenderableType:
        self.drawn_version = self.version()
        return self.view.draw_card(self, self.content_size.width, self.content_size.height)

    def action_step(self, delta: int) -> None:
        cur = self.current()
        if cur is None:
            return
        i, n, _ = cur
        j = max(0, min(n - 1, i + delta))
        self.index = None if j == n - 1 else j
        self.heading = 1 if delta > 0 else -1
        self.refresh()

    def action_step_end(self, end: int) -> None:
        self.index = None if end else 0
        self.refresh()

    def action_open(self) -> None:
        if not self.full:
            self.post_message(OpenCard(self.view.KIND, self.key, self.index))

    def on_click(self, event: events.Click) -> None:
        self.focus()
        if event.chain >= 2:
            self.action_open()


class CardsView(LazyTab, VerticalScroll):
    """The cards of one data kind, in a grid that follows the width."""

    KIND: ClassVar[str]
    """The data kind (and the tab's name)."""
    CARD: ClassVar[type[Card]] = Card
    CARD_WIDTH: ClassVar[int] = 40
    """About how wide a card is; the grid puts as many in a row as fit."""
    CARD_HEIGHT: ClassVar[int] = 14
    SLOW: ClassVar[bool] = False
    """draw_body is slow (decoding): it runs on a worker thread and a card shows "decoding…"."""
    EMPTY: ClassVar[str] = "No data of this kind in the shown runs."
    CACHE_SIZE: ClassVar[int] = 256

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(**kw)
        self.board = board
        self.TAB = self.KIND
        self._cards: dict[CardKey, Card] = {}
        self._cache: OrderedDict[Hashable, RenderableType] = OrderedDict()
        self._pending: set[Hashable] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._arrived: list[tuple[Hashable, RenderableType | None, Card, bool]] = []
        """Drawings done by workers, not yet handed to the UI thread (under _arrived_lock)."""
        self._arrived_lock = threading.Lock()
        self._last_flush = 0.0
        self._unmounted: list[Card] = []
        """Cards of a first build held back until the first screenful is drawn."""
        self._laid_out = False
        """The grid's columns were set from a real width (before that a card's size is not
        its final one, and nothing is decoded for it)."""

    def full_screen(self, key: CardKey, index: int | None) -> CardScreen:
        """The screen Enter opens on a card (a dashboard may show more there)."""
        from tuiboard.ui.screens.card import CardScreen

        return CardScreen(self, key, index)

    @classmethod
    def help_bindings(cls) -> list[BindingType]:
        return list(cls.BINDINGS) + list(cls.CARD.BINDINGS)

    def compose(self) -> Any:
        yield Static(Text(self.EMPTY, style="dim"), classes="cards-empty")
        yield Grid(classes="card-grid")

    @property
    def grid(self) -> Grid:
        return self.query_one(".card-grid", Grid)

    def focus_first(self) -> None:
        self.shown()
        self.call_after_refresh(self._focus_first)  # cards just mounted take focus after it

    def _focus_first(self) -> None:
        cards = self.cards()
        if cards:
            cards[0].focus()
        else:
            self.focus()

    def cards(self) -> list[Card]:
        return list(self._cards.values())

    def settled(self) -> bool:
        """Every card drawn, none waiting for a worker (tests and benchmarks wait on it; a card
        scrolled out of view is never drawn, so this stays False while one is)."""
        return not self._pending and all(
            c.drawn_version >= 0 and not c.waiting for c in self._cards.values()
        )

    # -- which cards --------------------------------------------------------------------------

    def samples(self, run: str, tag: str) -> int:
        """How many cards one (run, tag) gets (images: the items of its latest value)."""
        return 1

    def card_keys(self) -> list[CardKey]:
        """Tag-major, runs in the run panel's order, hidden runs and filtered tags left out."""
        board = self.board
        runs = board.visible_runs()
        have = {name: set(board.run_tags(name, self.KIND)) for name in runs}
        out: list[CardKey] = []
        for tag in board.visible_tags(self.KIND):
            for name in runs:
                if tag in have[name]:
                    out.extend(CardKey(name, tag, i) for i in range(self.samples(name, tag)))
        return out

    def rebuild(self) -> None:
        self._stale = False
        keys = self.card_keys()
        self._apply_columns()  # before mounting: one layout at the right width, not two
        if keys != list(self._cards):
            old = self._cards
            self._cards = {k: old.pop(k, None) or self.CARD(self, k) for k in keys}
            for card in old.values():
                card.remove()
            grid = self.grid
            fresh = [c for c in self._cards.values() if not c.is_mounted]
            first = self._first_mount()
            if fresh and not grid.children and len(fresh) > first:
                # A first build of many cards: what fills the screen first, the rest after the
                # first paint (a 200-card grid's layout costs ~0.2 s on the event loop).
                grid.mount_all(fresh[:first])
                self._unmounted = fresh[first:]
                self.set_timer(1.0, self._mount_rest)  # if the first cards never settle
            elif fresh:
                grid.mount_all(fresh)
            # Keep the grid in key order (moves only what is out of place).
            for i, card in enumerate(self._cards.values()):
                if card.is_mounted and grid.children.index(card) != i:
                    grid.move_child(card, before=i)
        empty = self.query_one(".cards-empty", Static)
        empty.display = not self._cards
        if not self._cards:
            why = Text(self.EMPTY, style="dim")
            if self.board.tag_pattern and self.board.tags(self.KIND):
                why = Text("No tag matches the tag filter ", style="dim")
                why.append(clean(self.board.tag_pattern), style="bold")
                why.append(" (/ to change it)", style="dim")
            empty.update(why)
        self._apply_columns()
        for card in self._cards.values():
            card.refresh()

    def _first_mount(self) -> int:
        """How many cards fill the screen twice over (mounted before the first paint)."""
        height = self.size.height or self.app.size.height
        columns = self.grid.styles.grid_size_columns or 1
        return max(FIRST_MOUNT, 2 * columns * (height // self.CARD_HEIGHT + 1))

    def _mount_rest(self) -> None:
        """The cards held back from a first build, once the first screenful is drawn (their
        layout would otherwise compete with its decoding for the interpreter)."""
        rest, self._unmounted = self._unmounted, []
        rest = [c for c in rest if self._cards.get(c.key) is c and not c.is_mounted]
        if rest:
            self.grid.mount_all(rest)

    def on_resize(self) -> None:
        self._apply_columns()

    def _apply_columns(self) -> None:
        # Hidden (the tab is opening), the view has no size yet; the tab bar's owner has.
        width = self.size.width or self.query_ancestor(TabbedContent).size.width
        if width <= 0:
            return
        self._laid_out = True
        # Cards keep about CARD_WIDTH cells; one or two cards take half the width each, not all.
        columns = max(1, min(max(2, len(self._cards)), width // self.CARD_WIDTH))
        self.grid.styles.grid_size_columns = columns
        self.grid.styles.grid_rows = str(self.CARD_HEIGHT)

    # -- live data ----------------------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        if self.settle(changes):
            return
        if self.card_keys() != list(self._cards):
            self.rebuild()
            return
        for card in self._cards.values():
            if card.key.run in changes.runs and card.version() != card.drawn_version:
                card.refresh()

    def on_unmount(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- drawing ------------------------------------------------------------------------------

    def title(self, card: Card, value: ValueRecord, width: int) -> Text:
        """`tag  ■ run` and what `title_extra` adds, cut to the width."""
        head = Text(no_wrap=True, overflow="crop")
        head.append(clean(card.key.tag), style="bold")
        head.append("  ")
        head.append("■ ", style=self.board.colour_of(card.key.run))
        head.append(clean(card.key.run))
        head.append_text(self.title_extra(card, value))
        return fit_text(head, width)

    def title_extra(self, card: Card, value: ValueRecord) -> Text:
        """More facts after the run's name (a dashboard's own)."""
        return Text()

    def draw_card(self, card: Card, width: int, height: int) -> RenderableType:
        """Title, slider, then the body (from the cache, or "decoding…" while a worker draws)."""
        cur = card.current()
        if cur is None or width < 4 or height < 3:
            return Text("no data yet", style="dim")
        value = cur[2]
        head = self.head(card, cur, width)
        body_h = max(1, height - len(head))
        body = self.body(card, value, width, body_h)
        return Group(*head, body)

    def head(self, card: Card, cur: tuple[int, int, ValueRecord], width: int) -> list[Text]:
        """The title line and the step slider line."""
        i, n, value = cur
        keys = CARD_KEYS if not card.full else CARD_KEYS.removesuffix(" · Enter full")
        return [self.title(card, value, width), slider_line(i, n, value.step, width, keys)]

    def body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        """The body: drawn here (fast views), or from the cache, or queued for a worker while
        the card keeps showing its previous drawing (no "decoding…" flash on a slider move)."""
        if not self.SLOW:
            return self.draw_body(card, value, width, height)
        key = self.body_key(card, value, width, height)
        card.want = key
        hit = self._cache.get(key)
        card.waiting = hit is None
        if hit is not None:
            self._cache.move_to_end(key)
            card.last_body = hit
            return hit
        if not self._laid_out and not card.full:
            return Text("")  # the grid's columns are not set yet: this size is not the one
        self._submit(key, card, value, width, height, wanted=True)
        if card.last_body is not None:  # a step, a turn or a resize: no flicker meanwhile
            return card.last_body
        return Text("decoding…", style="dim")

    def _submit(
        self, key: Hashable, card: Card, value: ValueRecord, width: int, height: int, wanted: bool
    ) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")
        card.last_size = (width, height)
        self._pool.submit(self._draw_job, key, card, value, width, height, wanted)

    def _draw_job(
        self,
        key: Hashable,
        card: Card,
        value: ValueRecord,
        width: int,
        height: int,
        wanted: bool,
    ) -> None:
        """Worker thread: draw and pre-render to segments (so the UI thread does no Rich span
        work), then hand it over (always from here: a future's done-callback may run on the
        thread that submitted it, the UI thread). A drawing the card no longer wants (it was
        resized, or the slider moved on) is skipped; a prefetch is drawn only when idle."""
        result: RenderableType | None = None
        if not wanted or card.want == key:
            try:
                result = prerender(self.draw_body(card, value, width, height), width)
            except Exception as e:  # a bug in a renderer: show it on the card, keep running
                result = Text(clean(f"⚠ cannot draw: {e!r}"), style="red")
        with self._arrived_lock:
            self._arrived.append((key, result, card, wanted))
            first = len(self._arrived) == 1
        if first:  # one hand-over for everything that arrives meanwhile: one screen update
            with contextlib.suppress(RuntimeError):  # the app is closing
                self.app.call_from_thread(self._schedule_flush)

    def _schedule_flush(self) -> None:
        """At most one hand-over a frame: with hundreds of cards on screen every screen
        update repaints them all, so drawings arriving one by one are taken together."""
        wait = self._last_flush + FLUSH_INTERVAL - time.monotonic()
        if wait <= 0:
            self._flush()
        else:
            self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        with self._arrived_lock:
            arrived, self._arrived = self._arrived, []
        touched: dict[int, Card] = {}
        for key, result, card, wanted in arrived:
            self._pending.discard(key)
            if result is None:
                continue
            self._cache[key] = result
            if wanted:
                touched[id(card)] = card
        while len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        for card in touched.values():
            card.refresh()
            self._prefetch(card)
        if self._unmounted and not self._pending:
            self.call_after_refresh(self._mount_rest)

    def _prefetch(self, card: Card) -> None:
        """After a slider move, draw the next step in the same direction ahead of the key."""
        if not card.heading or card.last_size is None:
            return
        cur = card.current()
        if cur is None:
            return
        i, n, _ = cur
        j = i + card.heading
        if 0 <= j < n:
            value = card.values()[j]
            width, height = card.last_size
            key = self.body_key(card, value, width, height)
            if key not in self._cache:
                self._submit(key, card, value, width, height, wanted=False)

    def body_key(self, card: Card, value: ValueRecord, width: int, height: int) -> Hashable:
        """What the body's drawing depends on (the cache key of a SLOW view)."""
        opts = tuple(sorted(card.options.items()))
        theme = self.board.theme  # a palette or light/dark change draws again
        return (card.key, value.step, value.wall_time, width, height, card.full, opts, theme)

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        """The dashboard's drawing of one value. SLOW views: called on a worker thread."""
        raise NotImplementedError


def save_bytes(card: Card, data: bytes, file_name: str, what: str) -> None:
    """Ask where to save `data` (default: `file_name` in the current directory) and write it
    there byte for byte on a worker thread (app.prompt_write); never into the logdir
    (app.export_problem refuses it, and any path that is a directory or has no parent)."""
    import os

    app: Any = card.app
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", file_name)

    def write(path: str) -> str:
        with open(path, "wb") as out:
            out.write(data)
        return f"saved {len(data)} bytes to {path}"

    app.prompt_write(f"Save the {what} as", os.path.join(os.getcwd(), safe), write)
