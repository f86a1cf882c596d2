"""The Audio tab: a card per (tag, run, clip) at one step — every step kept, TensorBoard keeps 10
— with the clip's waveform, duration, rate, channels and label; `s` saves the WAV and `p` plays
it where the terminal has speakers.

Owns: `AudioView`, `AudioCard` (save, play), `local_player` and `Playback` (the one clip playing,
in a process of its own). Waveforms are drawn by render/audio.py on worker threads (a long clip
is millions of samples), cached by card, step and size.
Playing: only when the session is local (neither SSH_CONNECTION nor SSH_TTY is set: over SSH
the sound would come out of the remote machine) and `paplay`, `aplay` or `afplay` is on the
PATH. The clip is written to a temporary file (never inside the logdir) that the player reads,
started without waiting for it; a new `p` stops the clip playing, and the file is removed when
its player ends or the tab goes away. Otherwise `p` says why not.
Must not import: tuiboard.core internals.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tuiboard.core.types import AUDIO, AudioValue
from tuiboard.export import inside_logdir
from tuiboard.render.audio import audio_card
from tuiboard.render.sanitize import clean
from tuiboard.ui.widgets.cards import SLIDER_BINDINGS, Card, CardsView, save_bytes

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tuiboard.core.types import ValueRecord
    from tuiboard.ui.board import Board

PLAYERS = ("paplay", "aplay", "afplay")
"""Command-line players tried in this order (PulseAudio/PipeWire, ALSA, macOS)."""


def local_player(env: Mapping[str, str] | None = None) -> str | tuple[str]:
    """The path of a player that can play a WAV here, as a 1-tuple; else why not (a string)."""
    env = os.environ if env is None else env
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return (
            "not played: this session is over SSH, the sound would come out of the remote "
            "machine (s saves the WAV, to copy with scp)"
        )
    for name in PLAYERS:
        path = shutil.which(name, path=env.get("PATH"))
        if path:
            return (path,)
    return "not played: no audio player found (paplay, aplay or afplay); s saves the WAV"


class Playback:
    """The clip playing: one player process started by us, and its temporary file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        """The player we started last (None: none, or it was stopped)."""
        self._files: set[str] = set()
        """Temporary WAVs still to remove (one per player not yet reaped)."""

    def play(self, player: str, data: bytes, in_logdir: Callable[[str], bool]) -> str:
        """Stop the clip playing, write `data` to a temporary file and start `player` on it
        without waiting. Returns the file's path. Raises OSError when it cannot (and when the
        temporary directory is inside the logdir: `in_logdir(path)`)."""
        self.stop()
        fd, path = tempfile.mkstemp(prefix="tuiboard-clip-", suffix=".wav")
        try:
            if in_logdir(path):
                raise OSError(f"the temporary directory is inside the logdir: {path}")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            proc = subprocess.Popen(
                [player, path],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # the app's terminal signals never reach it
            )
        except OSError:
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        with self._lock:
            self.process = proc
            self._files.add(path)
        threading.Thread(target=self._reap, args=(proc, path), daemon=True).start()
        return path

    def _reap(self, proc: subprocess.Popen[bytes], path: str) -> None:
        proc.wait()
        with self._lock:
            self._files.discard(path)
            if self.process is proc:
                self.process = None
        with contextlib.suppress(OSError):
            os.unlink(path)

    def stop(self) -> None:
        """Stop the player we started last, if it still plays (its reaper removes the file)."""
        with self._lock:
            proc = self.process
            self.process = None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.terminate()

    def close(self) -> None:
        """Stop playing and remove every temporary file left."""
        self.stop()
        with self._lock:
            files = list(self._files)
            self._files.clear()
        for path in files:
            with contextlib.suppress(OSError):
                os.unlink(path)


class AudioCard(Card):
    BINDINGS: ClassVar[list[BindingType]] = [
        *SLIDER_BINDINGS,
        Binding("s", "save", "Save the shown clip (WAV) to a file"),
        Binding("p", "play", "Play the shown clip (local sessions with a player)"),
    ]

    def shown_clip(self) -> tuple[AudioValue, bytes] | None:
        cur = self.current()
        if cur is None:
            return None
        value = cur[2]
        assert isinstance(value, AudioValue)
        if self.key.sample >= len(value.clips):
            return None
        return value, value.clips[self.key.sample]

    def action_save(self) -> None:
        shown = self.shown_clip()
        if shown is None:
            return
        value, data = shown
        name = f"{self.key.run}_{self.key.tag}_{value.step}_{self.key.sample}.wav"
        save_bytes(self, data, name, "clip (WAV)")

    def action_play(self) -> None:
        shown = self.shown_clip()
        if shown is None:
            return
        value, data = shown
        how = local_player()
        if isinstance(how, str):
            self.app.notify(how, severity="warning", markup=False)
            return
        view = self.view
        assert isinstance(view, AudioView)
        try:
            logdir = view.board.logdir
            view.playback.play(how[0], data, lambda path: inside_logdir(logdir, path))
        except OSError as e:
            self.app.notify(clean(f"cannot play: {e}"), severity="error", markup=False)
            return
        player = os.path.basename(how[0])
        what = f"{self.key.tag} · {self.key.run} · step {value.step}"
        self.app.notify(clean(f"playing {what} with {player}"), markup=False)


class AudioView(CardsView):
    KIND: ClassVar[str] = AUDIO
    CARD: ClassVar[type[Card]] = AudioCard
    CARD_WIDTH: ClassVar[int] = 48
    CARD_HEIGHT: ClassVar[int] = 13
    SLOW: ClassVar[bool] = True
    EMPTY: ClassVar[str] = "No audio in the shown runs."

    def __init__(self, board: Board, **kw: Any) -> None:
        super().__init__(board, **kw)
        self.playback = Playback()
        """The clip this tab started playing (stopped and cleaned up when the tab goes)."""

    def on_unmount(self) -> None:
        super().on_unmount()
        self.playback.close()

    def samples(self, run: str, tag: str) -> int:
        r = self.board.logdir.run(run)
        values = () if r is None else r.values(AUDIO, tag)
        last = values[-1] if values else None
        return max(1, len(last.clips)) if isinstance(last, AudioValue) else 1

    def title_extra(self, card: Card, value: ValueRecord) -> Text:
        head = Text()
        if isinstance(value, AudioValue) and len(value.clips) > 1:
            head.append(f"  clip {card.key.sample + 1}/{len(value.clips)}", style="dim")
        return head

    def draw_body(self, card: Card, value: ValueRecord, width: int, height: int) -> RenderableType:
        """Worker thread: decode the clip and draw its facts, label and waveform."""
        assert isinstance(value, AudioValue)
        run = self.board.logdir.run(card.key.run)
        meta = run.metadata(card.key.tag) if run is not None else None
        # colour_of only reads here: card_keys() noted every shown run on the UI thread.
        return audio_card(
            value,
            card.key.sample,
            width,
            height,
            self.board.colour_of(card.key.run),
            self.board.theme,
            description=meta.description if meta is not None else "",
        )
