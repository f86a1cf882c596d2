"""`tuiboard LOGDIR` with stdout not a terminal (a pipe, a batch job): the summary, a one-line
hint on stderr, exit 0, and no full-screen escape sequences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.headless.runs import T0, TbRun


def test_piped_app_prints_the_summary(tmp_path: Path) -> None:
    for name in ("run1", "run2"):
        run = TbRun(tmp_path / name)
        for s in range(5):
            run.scalar("loss", s, 1.0 / (s + 1), T0 + s)
        run.close(mtime=T0 + 4)
    p = subprocess.run(
        [sys.executable, "-m", "tuiboard", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["RUN", "STATUS", "STEP"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["run1", "stalled", "4"],
        ["run2", "stalled", "4"],
    ]
    assert "\x1b" not in p.stdout
    hint = p.stderr.splitlines()
    assert len(hint) == 1 and "not a terminal" in hint[0] and "tuiboard summary" in hint[0]
