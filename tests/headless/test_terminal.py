"""On a terminal (a real pseudo-terminal of a fixed size): `summary` draws a Rich table, and
`summary --watch` a live table cut to the screen's height."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.headless.runs import T0, JsonlRun

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def spawn(args: list[str], rows: int, cols: int) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiboard", *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    return proc, master


def read_until(master: int, proc: subprocess.Popen[bytes], want: str, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
            if want in ANSI.sub("", data.decode("utf-8", "replace")):
                break
        elif proc.poll() is not None:
            break
    return data.decode("utf-8", "replace")


def make_runs(root: Path, n: int) -> None:
    for i in range(n):
        run = JsonlRun(root / f"run{i:02d}")
        for s in range(3):
            run.log(step=s, loss=1.0 / (s + 1), time=T0 + s)
        run.touch(T0 + 2)


def test_summary_on_a_terminal_is_a_rich_table(tmp_path: Path) -> None:
    make_runs(tmp_path, 3)
    proc, master = spawn(["summary", str(tmp_path)], rows=40, cols=160)
    try:
        raw = read_until(master, proc, "run02", timeout=60)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(master)
    text = ANSI.sub("", raw)
    assert "\x1b[" in raw  # styled: this is Rich, not the plain text
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines[0].split()[:3] == ["RUN", "STATUS", "STEP"]
    expected = [[f"run{i:02d}", "stalled"] for i in range(3)]
    assert [line.split()[:2] for line in lines[1:]] == expected


def test_watch_on_a_terminal_fits_the_screen(tmp_path: Path) -> None:
    make_runs(tmp_path, 30)
    proc, master = spawn(["summary", str(tmp_path), "--watch", "0.3"], rows=12, cols=160)
    try:
        raw = read_until(master, proc, "more (narrow with", timeout=60)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        os.close(master)
    text = ANSI.sub("", raw)
    assert "30 runs: 30 stalled" in text
    assert "... 22 more (narrow with --runs, or --sort status)" in text
    assert "run07" in text and "run08" not in text


def test_many_runs_on_a_terminal_are_cropped_lines(tmp_path: Path) -> None:
    """Past RICH_TABLE_ROWS rows the table is styled aligned lines, cropped to the width."""
    make_runs(tmp_path, 205)
    proc, master = spawn(["summary", str(tmp_path)], rows=40, cols=60)
    try:
        raw = read_until(master, proc, "(read to the end)", timeout=60)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(master)
    assert "\x1b[33mstalled" in raw  # coloured status
    lines = [line for line in ANSI.sub("", raw).split("\n") if line.strip()]
    assert len(lines) == 206
    assert max(len(line) for line in lines) == 60
    assert lines[0].split()[:2] == ["RUN", "STATUS"] and lines[0].endswith("…")
    assert lines[-1].split()[:2] == ["run99", "stalled"]  # names sort as text
