"""End to end in a real terminal: the installed `tuiboard` in tmux sees a point appended by
tensorboardX, survives a resize, and quits with q and exit status 0."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

T0 = 1_795_690_000.0


class Tmux:
    """One tmux server on a private socket (the user's own sessions are never touched)."""

    def __init__(self) -> None:
        self.socket = f"tuiboard-e2e-{uuid.uuid4().hex[:8]}"
        self.session = "app"

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 45.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; last screen:\n{text}")

    def launch(
        self,
        args: list[str],
        status_file: Path,
        size: tuple[int, int],
        term: str = "xterm-256color",
    ) -> None:
        """The installed `tuiboard ARGS` in a new session of `size` (columns, lines); its exit
        status goes to `status_file`. COLUMNS/LINES are dropped: the test process's environment
        holds 80x24 (pytest's), which Textual would take over the pane's real size."""
        exe = shutil.which("tuiboard")
        assert exe, "install the package (pip install -e .) so the tuiboard command exists"
        command = (
            f"env -u COLUMNS -u LINES {shlex.join([exe, *args])}; "
            f"echo $? > {shlex.quote(str(status_file))}"
        )
        width, height = size
        self.run(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height),
            "-e", f"TERM={term}", command,
        )  # fmt: skip

    def quit(self, status_file: Path) -> str:
        """Press q; the app's exit status ("" if it did not exit within 30 s)."""
        self.run("send-keys", "-t", self.session, "q")
        deadline = time.monotonic() + 30
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return status_file.read_text().strip() if status_file.exists() else ""

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    assert shutil.which("tmux"), "the e2e test needs tmux (apt-get install tmux)"
    t = Tmux()
    yield t
    t.kill()


def test_live_point_resize_and_quit(tmp_path: Path, tmux: Tmux) -> None:
    logs = tmp_path / "logs"
    with SummaryWriter(str(logs / "run1"), flush_secs=1) as w:
        for i in range(5):
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=T0 + i)
    status_file = tmp_path / "status"
    env_term = os.environ.get("TERM") or "xterm-256color"
    term = env_term if env_term != "dumb" else "xterm-256color"
    tmux.launch([str(logs)], status_file, (120, 36), term)
    tmux.wait_for(lambda s: "1/1 runs" in s and "loss" in s)
    # Scalars only: the tabs are Scalars and Overview (a tab shows once a run has its kind).
    tmux.run("send-keys", "-t", tmux.session, "2")  # the overview table: one row per series
    tmux.wait_for(lambda s: "0.2" in s and "sorted by" in s)

    with SummaryWriter(str(logs / "run1"), flush_secs=1, filename_suffix=".more") as w:
        w.add_scalar("loss", 4321.5, 99, walltime=T0 + 99)
    screen = tmux.wait_for(lambda s: "4321.5" in s)
    assert "99" in screen

    tmux.run("resize-window", "-t", tmux.session, "-x", "80", "-y", "24")
    screen = tmux.wait_for(lambda s: "4321.5" in s and "1/1 runs" in s)
    assert all(len(line) <= 80 for line in screen.splitlines())

    assert tmux.quit(status_file) == "0"


@pytest.mark.parametrize(
    ("tab", "shows"),
    [
        ("images", ("samples/input", "▀")),
        ("text", ("Epoch 2 of cnn", "[red]literal[/red]")),
        ("pr_curves", ("pr/cat", "precision", "recall")),
        ("hparams", ("2/2 rows", "success", "arch")),
        ("graph", ("op graph · 18 nodes", "▶ Net", "IO Node")),
        ("audio", ("sound/tone", "am/cnn", "0.50 s · 8000 Hz · mono", "⣿")),
        ("mesh", ("cloud", "am/tf2", "300 vertices")),  # at 160 cols: "300 vertices · po…"
        ("embeddings", ("small:00003", "PCA centred", "colour label")),
        ("custom_scalars", ("Losses", "all losses", "Matches (6)", "invalid regex")),
    ],
)
def test_tab_opens_each_dashboard(
    tmp_path: Path, tmux: Tmux, tab: str, shows: tuple[str, ...]
) -> None:
    """`tuiboard LOGDIR --tab NAME` in a real terminal: the tab is open once its data is read."""
    from tests.ui.conftest import (
        write_custom_scalars_runs,
        write_embedding_runs,
        write_media_runs,
    )

    logs = tmp_path / "logs"
    if tab == "custom_scalars":
        write_custom_scalars_runs(logs)
    else:
        write_media_runs(logs)
    if tab == "graph":  # PyTorch's add_graph needs torch: the graph is written as it writes it
        from tests.core import graph_writers

        graph_writers.write_events(
            logs / "cnn", [graph_writers.graph_event(graph_writers.torch_cnn_graph())]
        )
    if tab in ("audio", "mesh"):
        from tests.audiomesh import write_audiomesh_runs

        write_audiomesh_runs(logs / "am")
    if tab == "embeddings":
        write_embedding_runs(logs / "projector")
    status_file = tmp_path / "status"
    tmux.launch(["--logdir", str(logs), "--tab", tab], status_file, (160, 45))
    tmux.wait_for(lambda s: all(word in s for word in shows))
    assert tmux.quit(status_file) == "0"
