"""End to end in a real terminal: `g` groups the runs of the installed `tuiboard` in tmux
(seeds x learning rates written by tensorboardX), the status line and the run panel say so, each
group's band is drawn in a colour of its own (not the terminal's faint attribute, which some
terminals ignore), and an empty answer ungroups."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

from tensorboardX import SummaryWriter

from tests.e2e import test_tmux
from tests.e2e.test_tmux import T0, Tmux

tmux = test_tmux.tmux
"""The tmux fixture (a private tmux server per test)."""

SGR = re.compile(r"\x1b\[([0-9;]*)m")
BRAILLE = re.compile(r"[\u2801-\u28ff]")


def braille_styles(screen: str) -> set[str]:
    """The SGR parameters each braille cell of the screen is drawn with (the charts' cells)."""
    styles: set[str] = set()
    for line in screen.splitlines():
        current = ""
        pos = 0
        for m in SGR.finditer(line):
            if BRAILLE.search(line[pos : m.start()]):
                styles.add(current)
            current = "" if m.group(1) in ("", "0") else m.group(1)
            pos = m.end()
        if BRAILLE.search(line[pos:]):
            styles.add(current)
    return styles


def test_g_groups_seeds_shows_bands_and_ungroups(tmp_path: Path, tmux: Tmux) -> None:
    logs = tmp_path / "logs"
    for lr in (0.1, 0.01):
        for seed in range(3):
            with SummaryWriter(str(logs / f"lr={lr}_seed={seed}")) as w:
                for step in range(60):
                    noise = 0.05 * math.sin(step * (seed + 1))
                    w.add_scalar("loss", math.exp(-lr * step) + noise, step, walltime=T0 + step)
    status_file = tmp_path / "status"
    tmux.launch([str(logs)], status_file, (140, 40))
    tmux.wait_for(lambda s: "6/6 runs ·" in s and "loss" in s)
    assert "group" not in tmux.screen()

    tmux.run("send-keys", "-t", tmux.session, "g")
    tmux.wait_for(lambda s: "Group runs" in s)
    tmux.run("send-keys", "-t", tmux.session, "-l", r"seed=\d+")
    tmux.run("send-keys", "-t", tmux.session, "Enter")
    # The status line and the run panel's group list say so.
    tmux.wait_for(
        lambda s: all(w in s for w in ("2 groups by seed=\\d+", "lr=0.01_* (3)", "lr=0.1_* (3)"))
    )

    # the status line is drawn before the charts repaint with their bands: wait for them
    deadline = time.monotonic() + 30
    while True:
        styles = braille_styles(tmux.run("capture-pane", "-p", "-e", "-t", tmux.session))
        if len({s for s in styles if s}) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # Two lines, each over its band: four colours, none of them the faint attribute (SGR 2).
    assert not any(s.split(";")[0] == "2" for s in styles), styles
    assert len({s for s in styles if s}) >= 4, styles

    tmux.run("send-keys", "-t", tmux.session, "g")
    tmux.wait_for(lambda s: "Group runs" in s)
    tmux.run("send-keys", "-t", tmux.session, "C-u", "Enter")
    tmux.wait_for(lambda s: "6/6 runs ·" in s and "groups by" not in s and "Group runs" not in s)

    assert tmux.quit(status_file) == "0"
