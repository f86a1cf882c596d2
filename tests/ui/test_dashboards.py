"""The frame every new dashboard shares, through Pilot on files tensorboardX wrote: tabs shown
only for kinds present (appearing live), digits over the shown tabs, --tab, cards per tag x run
following the run panel, the step slider, full screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboardX import SummaryWriter
from textual.widgets import TabbedContent

import tuiboard
from tests.ui.conftest import FIXED_TIME, MEDIA_STEPS, NOW_OFFSET, T0, make_app, started
from tests.ui.test_live import wait_for
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.card import CardScreen
from tuiboard.ui.widgets.cards import Card, CardsView

pytestmark = pytest.mark.anyio
SIZE = (160, 50)


def view(app: TuiboardApp, name: str) -> CardsView:
    v = app.view(name)
    assert isinstance(v, CardsView)
    return v


def card_text(card: Card) -> str:
    """What the card shows, as plain text (rendered at its size)."""
    from rich.console import Console

    console = Console(width=card.content_size.width, record=True, color_system=None)
    console.print(card.render())
    return console.export_text()


async def test_tabs_follow_the_kinds_present(media_logdir: Logdir, tbx_logdir: Logdir) -> None:
    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.shown_tabs() == ["scalars", "overview", "images", "text", "pr_curves", "hparams"]
        await pilot.press("3")  # the third tab shown: Images (no histograms here)
        assert app.query_one(TabbedContent).active == "images"
        await pilot.press("4")
        assert app.query_one(TabbedContent).active == "text"
    async with make_app(tbx_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.shown_tabs() == ["scalars", "histograms", "overview"]
        await pilot.press("4")  # no fourth tab: nothing happens
        assert app.query_one(TabbedContent).active == "scalars"


async def test_a_tab_appears_live_when_a_run_starts_writing_its_kind(tbx_root: Path) -> None:
    logdir = tuiboard.open(str(tbx_root), load=False)
    app = TuiboardApp(logdir, poll=0.1, clock=lambda: FIXED_TIME + NOW_OFFSET, tab="text")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.logdir.stats.runs == 3)
        assert "text" not in app.shown_tabs()
        assert app.query_one(TabbedContent).active == "scalars"
        with SummaryWriter(str(tbx_root / "b"), flush_secs=1, filename_suffix=".t") as w:
            w.add_text("log", "first words", 3, walltime=T0 + 99)
        await wait_for(pilot, lambda: "text" in app.shown_tabs())
        # --tab text was waiting for it: the app opens it as soon as it exists.
        await wait_for(pilot, lambda: app.query_one(TabbedContent).active == "text")
        await wait_for(pilot, lambda: len(view(app, "text").cards()) == 1)
        await pilot.pause(0.2)
        assert "first words" in card_text(view(app, "text").cards()[0])


async def test_cards_follow_hidden_runs_and_the_tag_filter(media_logdir: Logdir) -> None:
    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.action_show_tab("text")
        await pilot.pause()
        text = view(app, "text")
        assert [(c.key.run, c.key.tag) for c in text.cards()] == [
            ("cnn", "notes/text_summary"),
            ("mlp", "notes/text_summary"),
        ]
        app.board.selection.hidden.add("cnn")
        app.view_changed(runs_changed=True)
        await pilot.pause()
        assert [c.key.run for c in text.cards()] == ["mlp"]
        app.set_tag_filter("^nomatch$")
        await pilot.pause()
        assert text.cards() == []


async def test_step_slider_and_full_screen(media_logdir: Logdir) -> None:
    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("4")
        await pilot.pause()
        card = view(app, "text").cards()[0]
        assert app.focused is card
        assert "Epoch 2 of cnn" in card_text(card)  # the latest step by default
        await pilot.press("left_square_bracket")
        assert "Epoch 1 of cnn" in card_text(card) and f"step {MEDIA_STEPS[1]}" in card_text(card)
        await pilot.press("less_than_sign")
        assert "Epoch 0 of cnn" in card_text(card)
        await pilot.press("greater_than_sign")
        assert card.index is None and "Epoch 2 of cnn" in card_text(card)
        # Untrusted text: Rich markup shows literally.
        assert "[red]literal[/red]" in card_text(card)
        await pilot.press("enter")
        assert isinstance(app.screen, CardScreen)
        full = app.screen.card
        await pilot.pause()
        assert full.full and "Epoch 2 of cnn" in card_text(full)
        await pilot.press("m")  # raw: the Markdown source as written
        assert "# Epoch 2 of cnn" in card_text(full)
        await pilot.press("escape")
        assert not isinstance(app.screen, CardScreen)
