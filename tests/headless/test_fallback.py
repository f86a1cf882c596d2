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


def test_headless_commands_import_neither_textual_nor_rich_when_piped(tmp_path: Path) -> None:
    run = TbRun(tmp_path / "r")
    run.scalar("loss", 0, 1.0, T0)
    run.close(mtime=T0)
    code = f"""
import contextlib, io, sys
from tuiboard.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["summary", {str(tmp_path)!r}])
    main(["summary", {str(tmp_path)!r}, "--json"])
    main(["check", {str(tmp_path)!r}])
    main(["compare", {str(tmp_path / "r")!r}, {str(tmp_path / "r")!r}])
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))))
"""
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert p.stdout.strip() == ""
