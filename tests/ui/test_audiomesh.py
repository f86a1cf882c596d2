"""The Audio and Mesh tabs through Pilot, on what tensorboardX and TensorBoard's protos wrote
(tests/audiomesh.py): cards per run x tag x clip (or mesh x sample), the step slider, saving
and playing a clip, turning and zooming a mesh; what a card shows is compared with the
renderers' output for the value the store holds."""

from __future__ import annotations

import stat
import sys
import tempfile
from pathlib import Path

import pytest
from textual.widgets import Input

import tuiboard
from tests.audiomesh import AM_STEPS, TF2_LABELS, write_audiomesh_runs
from tests.ui.conftest import make_app, pin_mtimes, started, until
from tests.ui.test_dashboards import card_text, open_tab
from tuiboard.core.logdir import Logdir
from tuiboard.core.mesh import mesh_frames
from tuiboard.core.types import AUDIO
from tuiboard.render.mesh import Camera, mesh_block
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.screens.card import CardScreen
from tuiboard.ui.widgets.audio_view import AudioCard, AudioView
from tuiboard.ui.widgets.cards import Card, CardsView
from tuiboard.ui.widgets.mesh_view import MeshCard

pytestmark = pytest.mark.anyio
SIZE = (160, 50)


@pytest.fixture
def am_root(tmp_path: Path) -> Path:
    root = tmp_path / "am"
    write_audiomesh_runs(root)
    pin_mtimes(root)
    return root


@pytest.fixture
def am_logdir(am_root: Path) -> Logdir:
    return tuiboard.open(str(am_root))


async def settle(pilot: object, view: CardsView) -> None:
    await until(pilot, lambda: view.settled())


def keys_of(view: CardsView) -> list[tuple[str, str, int]]:
    return [(c.key.run, c.key.tag, c.key.sample) for c in view.cards()]


def body_lines(card: Card, skip: int = 2) -> list[str]:
    """The card's lines under its title and slider."""
    return card_text(card).rstrip("\n").split("\n")[skip:]


async def test_tabs_cards_and_the_audio_step_slider(am_logdir: Logdir) -> None:
    async with make_app(am_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.shown_tabs()[-2:] == ["audio", "mesh"]
        audio = await open_tab(pilot, app, "audio")
        await settle(pilot, audio)
        assert keys_of(audio) == [
            ("cnn", "sound/tone", 0),
            ("mlp", "sound/tone", 0),
            ("tf2", "voice", 0),
            ("tf2", "voice", 1),
        ]
        card = audio.cards()[0]
        latest = card_text(card)
        assert f"step {AM_STEPS[-1]}" in latest and "0.50 s · 8000 Hz · mono · 16-bit PCM" in latest
        whistle = card_text(audio.cards()[3])
        assert "clip 2/2" in whistle and TF2_LABELS[1] in whistle and "stereo" in whistle
        card.focus()
        await pilot.press("left_square_bracket")
        await settle(pilot, audio)
        earlier = card_text(card)
        assert f"step {AM_STEPS[1]}" in earlier
        # A different tone at that step: the waveform differs, the facts (same length) do not.
        assert body_lines(card)[1:] != latest.rstrip("\n").split("\n")[3:]
        assert "0.50 s · 8000 Hz · mono" in earlier
        await pilot.press("greater_than_sign")
        await settle(pilot, audio)
        assert card.index is None and card_text(card) == latest


async def test_save_a_clip_never_into_the_logdir(
    am_logdir: Logdir, am_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with make_app(am_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        audio = await open_tab(pilot, app, "audio")
        card = audio.cards()[3]  # tf2 voice, clip 2
        card.focus()
        await pilot.press("less_than_sign")  # the first step
        await pilot.press("s")
        await pilot.pause()
        box = app.screen.query_one("#prompt-input", Input)
        assert box.value == str(tmp_path / f"tf2_voice_{AM_STEPS[0]}_1.wav")
        box.value = str(am_root / "tf2" / "x.wav")
        await pilot.press("enter")
        await pilot.pause()
        assert "refusing to write inside the logdir" in str(
            app.screen.query_one("#prompt-error").render()
        )
        target = tmp_path / "whistle.wav"
        box.value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
        run = am_logdir.run("tf2")
        assert run is not None
        first = run.values(AUDIO, "voice")[0]
        assert target.read_bytes() == first.clips[1]  # type: ignore[union-attr]
        assert not (am_root / "tf2" / "x.wav").exists()


def fake_player(bin_dir: Path, name: str, out: Path) -> None:
    """A `name` command on PATH that copies the file it is given to `out`."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(
        f"#!{sys.executable}\nimport shutil, sys\nshutil.copy(sys.argv[1], {str(out)!r})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


async def test_play_with_a_local_player_else_say_why(
    am_logdir: Logdir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "played.wav"
    bin_dir = tmp_path / "bin"
    fake_player(bin_dir, "aplay", out)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    # The clip's temp file in a directory of this test's own: the check that it was removed
    # must not see another test's clip (pytest-xdist workers, other runs on the machine).
    clips = tmp_path / "tmp"
    clips.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(clips))
    app = make_app(am_logdir)
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app, "notify", lambda msg, **kw: said.append((msg, kw.get("severity", "information")))
    )
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        audio = await open_tab(pilot, app, "audio")
        assert isinstance(audio, AudioView)
        card = audio.cards()[0]
        assert isinstance(card, AudioCard)
        card.focus()
        await pilot.press("p")
        await until(pilot, lambda: out.exists() and audio.playback.process is None)
        run = am_logdir.run("cnn")
        assert run is not None
        assert out.read_bytes() == run.values(AUDIO, "sound/tone")[-1].clips[0]  # type: ignore[union-attr]
        assert said[-1][0] == f"playing sound/tone · cnn · step {AM_STEPS[-1]} with aplay"
        assert not list(clips.glob("tuiboard-clip-*.wav"))  # cleaned up
        # Over SSH the speakers are on the other machine: nothing is played, the key says why.
        out.unlink()
        monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
        await pilot.press("p")
        await pilot.pause(0.2)
        assert not out.exists() and said[-1][1] == "warning" and "over SSH" in said[-1][0]
        monkeypatch.delenv("SSH_CONNECTION")
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        await pilot.press("p")
        assert "no audio player found (paplay, aplay or afplay)" in said[-1][0]


async def test_mesh_cards_turn_zoom_reset_step_and_full_screen(am_logdir: Logdir) -> None:
    async with make_app(am_logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        mesh = await open_tab(pilot, app, "mesh")
        await settle(pilot, mesh)
        assert keys_of(mesh) == [
            ("tf2", "cloud", 0),
            ("tf2", "cloud", 1),
            ("cnn", "shape/cube", 0),
            ("mlp", "shape/cube", 0),
            ("tf2", "tetra", 0),
        ]
        card = mesh.cards()[2]
        assert isinstance(card, MeshCard)
        assert "8 vertices · 12 faces" in card_text(card)
        run = am_logdir.run("cnn")
        assert run is not None
        frames = mesh_frames(run, "shape/cube")
        w, h = card.content_size.width, card.content_size.height - 2
        colour = app.board.colour_of("cnn")

        def expected(camera: Camera, index: int = -1, xray: bool = False) -> list[str]:
            theme = app.board.theme
            block = mesh_block(frames[index], 0, camera, w, h, colour, theme, back_faces=xray)
            return block.plain.split("\n")

        assert body_lines(card) == expected(Camera())
        card.focus()
        await pilot.press("right", "up")
        await settle(pilot, mesh)
        assert card.options == {"yaw": 50.0, "tilt": -10.0}
        assert body_lines(card) == expected(Camera(yaw=50, tilt=-10))
        await pilot.press("plus")
        await settle(pilot, mesh)
        assert body_lines(card) == expected(Camera(yaw=50, tilt=-10, zoom=1.25))
        await pilot.press("h")  # x-ray: the hidden edges too
        await settle(pilot, mesh)
        assert body_lines(card) == expected(Camera(yaw=50, tilt=-10, zoom=1.25), xray=True)
        assert body_lines(card) != expected(Camera(yaw=50, tilt=-10, zoom=1.25))
        await pilot.press("h", "0")
        await settle(pilot, mesh)
        assert card.options == {"xray": False} and body_lines(card) == expected(Camera())
        await pilot.press("left_square_bracket")
        await settle(pilot, mesh)
        assert f"step {AM_STEPS[1]}" in card_text(card)
        assert body_lines(card) == expected(Camera(), index=1)
        # The arrows being the camera's, tab walks the cards.
        await pilot.press("tab")
        assert app.focused is mesh.cards()[3]
        await pilot.press("shift+tab")
        assert app.focused is card
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)
        full = app.screen.card
        assert isinstance(full, MeshCard) and full.index == 1
        await pilot.press("minus", "left")
        await until(pilot, lambda: not full.waiting)
        assert "yaw 20° tilt -25° zoom 0.8×" in card_text(full)
        await pilot.press("escape")
        assert not isinstance(app.screen, CardScreen)


async def test_a_malformed_clip_shows_a_mark(tmp_path: Path) -> None:
    from tests.audiomesh import tf2_audio_value, write_events

    write_events(tmp_path / "bad", [(1, 1.7e9, tf2_audio_value("broken", [b"RIFF junk"], [""]))])
    app = TuiboardApp(tuiboard.open(str(tmp_path)), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        audio = await open_tab(pilot, app, "audio")
        await settle(pilot, audio)
        assert "⚠ cannot decode: not a WAV file" in card_text(audio.cards()[0])
