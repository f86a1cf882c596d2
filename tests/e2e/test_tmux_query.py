"""End to end in a real terminal: the installed `tuiboard` in tmux, `f` and a run query typed
key by key (a config comparison OR a status), then a half-typed query that keeps the filter and
says why, then quit with q and exit status 0."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from tensorboardX import SummaryWriter

from tests.e2e.test_tmux import T0, Tmux, tmux  # noqa: F401  (the fixture)


def test_run_query_in_the_filter(tmp_path: Path, tmux: Tmux) -> None:  # noqa: F811
    logs = tmp_path / "logs"
    for name, lr, nan in (("alpha", 0.1, False), ("beta", 0.01, False), ("gamma", 0.001, True)):
        with SummaryWriter(str(logs / name), flush_secs=1) as w:
            for i in range(5):
                value = math.nan if nan and i == 4 else 1.0 / (i + 1)
                w.add_scalar("loss", value, i, walltime=T0 + i)
        (logs / name / "config.json").write_text(json.dumps({"opt": {"lr": lr}}))
    status_file = tmp_path / "status"
    tmux.launch([str(logs)], status_file, (120, 36))
    # the first load is over (the status line's clock) and the app is idle: on a busy machine a
    # key sent while the first data arrived went to the chart the app focuses then
    tmux.wait_for(lambda s: "3/3 runs" in s and "loss" in s and "updated" in s)
    time.sleep(0.5)
    tmux.run("send-keys", "-t", tmux.session, "f")
    tmux.run("send-keys", "-t", tmux.session, "-l", "cfg.opt.lr>=0.05 OR status:diverged")
    screen = tmux.wait_for(lambda s: "2/3 runs shown" in s)
    assert "alpha" in screen and "gamma" in screen
    # half a query: the two runs stay, the error says what and where
    tmux.run("send-keys", "-t", tmux.session, "-l", " (")
    screen = tmux.wait_for(lambda s: "✗ expected a term" in s)
    assert "2/3 runs shown" not in screen  # the error line replaces the count
    tmux.run("send-keys", "-t", tmux.session, "BSpace", "BSpace")
    tmux.wait_for(lambda s: "2/3 runs shown" in s and "✗" not in s)
    tmux.run("send-keys", "-t", tmux.session, "Enter")
    time.sleep(0.3)
    assert tmux.quit(status_file) == "0"
