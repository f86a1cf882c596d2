"""The frame every new dashboard shares, through Pilot on files tensorboardX wrote: tabs shown
only for kinds present (appearing live), digits over the shown tabs, --tab, cards per tag x run
following the run panel, the step slider, full screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboardX import SummaryWriter
from textual.widgets import TabbedContent

import tuiboard
from tests.ui.conftest import FIXED_TIME, MEDIA_STEPS, NOW_OFFSET, T0, make_app, started, until
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


async def open_tab(pilot: object, app: TuiboardApp, name: str) -> CardsView:
    app.action_show_tab(name)
    v = view(app, name)
    await until(pilot, lambda: v.cards() and v.settled())  # image cards decode on worker threads
    return v


async def test_image_cards_full_screen_and_save(
    media_logdir: Logdir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Input

    from tuiboard.ui.widgets.images_view import ImageScreen

    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        images = await open_tab(pilot, app, "images")
        cards = images.cards()
        assert [(c.key.run, c.key.tag) for c in cards] == [
            ("cnn", "samples/input"),
            ("mlp", "samples/input"),
        ]
        shown = card_text(cards[0])
        assert "▀" in shown and "decoding" not in shown and f"step {MEDIA_STEPS[-1]}" in shown
        cards[0].focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ImageScreen)
        widget = screen.query_one("#full-image")
        await until(pilot, lambda: widget.image is not None)
        first = widget.image  # type: ignore[attr-defined]
        assert first is not None
        assert "24x16 PNG" in card_text(screen.card)
        # Small images are scaled up by a whole factor with nearest neighbour: crisp pixels.
        assert first.width % 24 == 0 and first.width // 24 == first.height // 16 > 1
        await pilot.press("b", "b")  # brightness 120 %: a new, brighter image
        await until(pilot, lambda: widget.image is not first)
        brighter = widget.image  # type: ignore[attr-defined]
        assert brighter is not first and "brightness 120%" in card_text(screen.card)
        assert sum(brighter.convert("L").getdata()) > sum(first.convert("L").getdata())
        # `s` saves the shown image, byte for byte, where the user says (never into the logdir).
        monkeypatch.chdir(tmp_path)
        await pilot.press("s")
        await pilot.pause()
        box = app.screen.query_one("#prompt-input", Input)
        target = tmp_path / "saved.png"
        box.value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
        run = media_logdir.run("cnn")
        assert run is not None
        assert target.read_bytes() == run.values("images", "samples/input")[-1].images[0]  # type: ignore[union-attr]


async def test_pr_threshold_cursor(media_logdir: Logdir) -> None:
    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        pr = await open_tab(pilot, app, "pr_curves")
        (card,) = pr.cards()
        assert "cnn" in card_text(card) and "mlp" in card_text(card)
        assert " 0.5 " in card_text(card)  # the table at threshold 0.5 by default
        card.focus()
        await pilot.press("right", "right")  # 21 thresholds: 0.05 apart
        assert card.options["threshold"] == pytest.approx(0.6)
        run = media_logdir.run("mlp")
        assert run is not None
        curve = run.values("pr_curves", "pr/cat")[-1]
        tp = int(curve.tp[12])  # type: ignore[union-attr]
        line = next(ln for ln in card_text(card).splitlines() if ln.strip().startswith("mlp"))
        assert "0.6" in line and str(tp) in line.split()


async def test_a_pinned_run_is_drawn_last_on_pr_curves(media_logdir: Logdir) -> None:
    """A pinned run's PR curve is drawn after the others (on top), its table row last."""
    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        pr = await open_tab(pilot, app, "pr_curves")
        (card,) = pr.cards()

        def rows() -> list[str]:
            words = [ln.split() for ln in card_text(card).splitlines()]
            return [w[0] for w in words if w and w[0] in ("cnn", "mlp")]

        assert rows() == ["cnn", "mlp"]
        app.board.toggle_pins(("cnn",))
        app.view_changed(runs_changed=True)
        await pilot.pause()
        assert rows() == ["mlp", "cnn"]


async def test_hparams_sort_filter_status_and_show_in_scalars(
    media_logdir: Logdir, tmp_path: Path
) -> None:
    from tuiboard.ui.widgets.hparams_view import HParamsView

    async with make_app(media_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.action_show_tab("hparams")
        hp = app.query_one(HParamsView)
        await wait_for(pilot, lambda: hp.built > 0)
        table = hp.table_data
        assert table is not None
        runs = [table.rows[i].run for i in hp.shown_rows]
        assert sorted(runs) == ["cnn/hp", "mlp/hp"]
        hp.action_sort("lr")
        assert [table.rows[i].run for i in hp.shown_rows] == ["mlp/hp", "cnn/hp"]  # 0.05, 0.1
        hp.action_sort("lr")  # again: descending
        assert [table.rows[i].run for i in hp.shown_rows] == ["cnn/hp", "mlp/hp"]
        await pilot.press("slash")
        await pilot.press(*"lr>=0.08")
        assert [table.rows[i].run for i in hp.shown_rows] == ["cnn/hp"]
        await pilot.press("enter")
        hp.filter_line = "nosuchcol>1"
        hp.refill()
        assert "no column" in hp.problem
        hp.filter_line = ""
        hp.action_cycle_status()  # running: none of these
        assert hp.status == "running" and len(hp.shown_rows) == 0
        for _ in range(4):
            hp.action_cycle_status()
        assert hp.status is None and len(hp.shown_rows) == 2
        # `e` exports the shown rows as CSV, never into the logdir.
        from textual.widgets import Input

        await pilot.press("e")
        await pilot.pause()
        target = tmp_path / "hp.csv"
        app.screen.query_one("#prompt-input", Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        await pilot.pause(0.1)
        lines = target.read_text().splitlines()
        assert lines[0].split(",")[:2] == ["run", "status"] and "lr" in lines[0].split(",")
        assert sorted(line.split(",")[0] for line in lines[1:]) == ["cnn/hp", "mlp/hp"]
        # Show in scalars: the session and the training run it belongs to; others hidden.
        hp.action_sort("lr")
        hp.grid.move_cursor(row=0)
        await pilot.press("space")
        assert hp.selected == {"mlp/hp"}
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "scalars"
        assert set(app.board.visible_runs()) == {"mlp", "mlp/hp"}


async def test_gif_frame_slider_in_full_screen(tmp_path: Path) -> None:
    """tensorboardX's add_video writes a GIF in a Summary.Image (moviepy encodes it; here
    Pillow does, into the same proto): full screen walks its frames with `,` and `.`."""
    import io

    from PIL import Image
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    from tuiboard.ui.widgets.images_view import ImageScreen

    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (12, 8), c) for c in colours]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    gif = summary_pb2.Summary.Image(
        height=8, width=12, colorspace=3, encoded_image_string=buf.getvalue()
    )
    writer = EventFileWriter(str(tmp_path / "run"))
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="video", image=gif)])
    writer.add_event(event_pb2.Event(wall_time=T0, step=1, summary=summary))
    writer.close()
    async with make_app(tuiboard.open(str(tmp_path))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        images = await open_tab(pilot, app, "images")
        images.cards()[0].focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ImageScreen)
        widget = screen.query_one("#full-image")
        seen = []
        for key in ("", "full_stop", "full_stop", "full_stop"):
            if key:
                await pilot.press(key)
            before = widget.image  # type: ignore[attr-defined]
            for _ in range(50):
                await pilot.pause(0.02)
                image = widget.image  # type: ignore[attr-defined]
                if image is not None and (not key or image is not before):
                    break
            seen.append(widget.image.convert("RGB").getpixel((0, 0)))  # type: ignore[attr-defined]
        assert "12x8 GIF · 3 frames" in card_text(screen.card)
        assert "frame 1/3" in card_text(screen.card)  # three steps on from the first: wrapped
        assert seen == [colours[0], colours[1], colours[2], colours[0]]
