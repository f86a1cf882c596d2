"""End to end in a real terminal: the installed `tuiboard` keeps the palette, theme, smoothing
and run panel width chosen with keys (ctrl+→ as a terminal sends it) in the settings file of
XDG_CONFIG_HOME (the test's own, tests/conftest.py; tmux inherits it), and the next run opens
with them."""

from __future__ import annotations

import shlex
import shutil
import time
from pathlib import Path

import tomllib
from tensorboardX import SummaryWriter

from tests.e2e.test_tmux import T0, Tmux, tmux  # noqa: F401 (the fixture)


def start(tmux: Tmux, logs: Path, status_file: Path) -> None:  # noqa: F811
    exe = shutil.which("tuiboard")
    assert exe, "install the package (pip install -e .) so the tuiboard command exists"
    # env -u: the test process's C environment can hold COLUMNS=80 LINES=24 (set below
    # os.environ by a library), which tmux passes on and which would pin the app's size
    command = (
        f"env -u COLUMNS -u LINES {shlex.quote(exe)} {shlex.quote(str(logs))}; "
        f"echo $? > {shlex.quote(str(status_file))}"
    )
    tmux.run(
        "new-session", "-d", "-s", tmux.session, "-x", "140", "-y", "36",
        "-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", command,
    )  # fmt: skip


def quit_app(tmux: Tmux, status_file: Path) -> None:  # noqa: F811
    tmux.run("send-keys", "-t", tmux.session, "q")
    deadline = time.monotonic() + 30
    while not status_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_file.read_text().strip() == "0"
    status_file.unlink()


def panel_width(screen: str) -> int:
    """Where the run panel's right border (▕) is on the line naming the run (-1: not drawn)."""
    line = next((line for line in screen.splitlines() if "run1" in line), "")
    return line.find("▕") + 1 if "▕" in line else -1


def test_settings_survive_a_restart(tmp_path: Path, tmux: Tmux, config_home: Path) -> None:  # noqa: F811
    logs = tmp_path / "logs"
    with SummaryWriter(str(logs / "run1"), flush_secs=1) as w:
        for i in range(5):
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=T0 + i)
    status_file = tmp_path / "status"
    settings = config_home / "tuiboard" / "settings.toml"

    start(tmux, logs, status_file)
    # tuiboard.tcss's 32 cells at 140 columns
    tmux.wait_for(lambda s: "1/1 runs" in s and "smooth 0.60" in s and panel_width(s) == 32)
    tmux.run("send-keys", "-t", tmux.session, "K", "D", "s", "C-Right")
    tmux.wait_for(lambda s: "smooth 0.65" in s and panel_width(s) == 36)
    quit_app(tmux, status_file)
    assert tomllib.loads(settings.read_text(encoding="utf-8")) == {
        "palette": "okabe-ito",
        "theme": "textual-light",
        "smoothing": 0.65,
        "run_panel_width": 36,
    }

    tmux.kill()
    start(tmux, logs, status_file)
    tmux.wait_for(lambda s: "1/1 runs" in s and "smooth 0.65" in s and panel_width(s) == 36)
    quit_app(tmux, status_file)
