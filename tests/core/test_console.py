"""Console logs as a terminal shows them (core/console.py) and tailed from files that grow and are
rewritten in place (core/console_tail.py), on real logs written by wandb 0.31 and tqdm."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wandb_console import WandbConsole, make_wandb_console
from tuiboard.core.console import MAX_LINE_CHARS, MAX_LINES, ConsoleText, console_lines
from tuiboard.core.console_tail import TAIL_BYTES, ConsoleTail

FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What must never reach the terminal: C0 (ESC included), DEL, C1, bidi overrides."""


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_wandb_console(tmp_path_factory.mktemp("wandb-console"))


def test_wandb_output_log_shows_what_was_printed(wb: WandbConsole) -> None:
    raw = wb.output_log.read_bytes()
    assert b"\x1b[" in raw and b"\x1b]0;" in raw  # wandb keeps the escapes: ours to remove
    assert console_lines(raw.decode()) == wb.lines


def test_a_redirected_tqdm_bar_shows_its_last_state(wb: WandbConsole) -> None:
    raw = wb.raw_log.read_bytes().decode()
    assert raw.count("\rtrain: ") >= 40  # every state of the bar is in the file
    lines = console_lines(raw)
    assert lines == wb.lines
    assert [line for line in lines if line.startswith("train:")] == [
        "train: 40/40 |" + "█" * 45 + "|"
    ]


def test_tailing_a_log_written_in_pieces_gives_the_same_lines(
    wb: WandbConsole, tmp_path: Path
) -> None:
    """Pieces cut anywhere (inside UTF-8 characters, escapes, the \\r bar): the same lines, and
    the bar's line is always its latest state so far."""
    data = wb.raw_log.read_bytes()
    log = tmp_path / "out.log"
    log.write_bytes(b"")
    tail = ConsoleTail((str(log),))
    cuts = sorted(
        {0, len(data), *range(0, len(data), 37), *(i + 1 for i in range(0, len(data), 101))}
    )
    seen_bar: list[str] = []
    with open(log, "ab") as f:
        for a, b in itertools.pairwise(cuts):
            f.write(data[a:b])
            f.flush()
            os.utime(log, ns=(b, b))  # a new mtime each time, as a slow writer gives
            tail.poll()
            lines = tail.snapshot().lines
            assert not any(FORBIDDEN.search(line) for line in lines)
            if lines and lines[-1].startswith("train: "):
                seen_bar.append(lines[-1])
    assert list(tail.snapshot().lines) == wb.lines
    assert len(set(seen_bar)) > 5  # the bar moved while it was written
    assert all("\r" not in s for s in seen_bar)


def test_a_line_rewritten_in_place_is_read_again(tmp_path: Path) -> None:
    """wandb rewrites output.log's last lines in place (same size, new bytes)."""
    log = tmp_path / "output.log"
    log.write_bytes(b"start\nbar 0/5\n")
    tail = ConsoleTail((str(log),))
    assert tail.poll()
    assert tail.snapshot().lines == ("start", "bar 0/5")
    with open(log, "r+b") as f:
        f.seek(6)
        f.write(b"bar 4/5\n")
    os.utime(log, ns=(10**18, 10**18))
    assert tail.poll()
    assert tail.snapshot().lines == ("start", "bar 4/5")
    with open(log, "r+b") as f:  # rewritten and grown: the bar line longer, lines after it
        f.seek(6)
        f.write(b"bar 5/5 done\nafter\n")
    assert tail.poll()
    assert tail.snapshot().lines == ("start", "bar 5/5 done", "after")
    assert not tail.poll()  # nothing changed: nothing read


def test_truncated_or_replaced_logs_are_read_again(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    log.write_text("one\ntwo\nthree\n")
    tail = ConsoleTail((str(log),))
    tail.poll()
    log.write_text("new\n")  # truncated and rewritten
    assert tail.poll()
    assert tail.snapshot().lines == ("new",)
    other = tmp_path / "other.log"
    other.write_text("replaced\nfile\n")
    other.replace(log)
    assert tail.poll()
    assert tail.snapshot().lines == ("replaced", "file")


def test_a_missing_log_shows_nothing_until_it_appears(tmp_path: Path) -> None:
    log = tmp_path / "files" / "output.log"
    tail = ConsoleTail((str(log),))
    assert not tail.poll()
    assert tail.snapshot().lines == () and tail.snapshot().problems == ()
    log.parent.mkdir()
    log.write_text("hello\n")
    assert tail.poll()
    assert tail.snapshot().lines == ("hello",)


def test_an_unreadable_log_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    tail = ConsoleTail((str(tmp_path / "adir"),))
    assert tail.poll()
    (problem,) = tail.snapshot().problems
    assert "adir" in problem


def test_memory_is_bounded_to_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i}\n" for i in range(12_000)))
    tail = ConsoleTail((str(log),))
    tail.poll()
    snap = tail.snapshot()
    assert len(snap.lines) == MAX_LINES
    assert snap.lines[0] == "line 7000" and snap.lines[-1] == "line 11999"
    assert snap.skipped_bytes == len("".join(f"line {i}\n" for i in range(7000)))  # not read
    with open(log, "a") as f:
        f.write("line 12000\n")
    tail.poll()
    assert tail.snapshot().lines[-1] == "line 12000"
    assert len(tail.snapshot().lines) == MAX_LINES
    assert tail.snapshot().dropped_lines == 1


def test_a_huge_log_is_read_from_its_tail_at_a_whole_line(tmp_path: Path) -> None:
    log = tmp_path / "huge.log"
    line = "x" * 99 + "\n"
    n = TAIL_BYTES // len(line) + 500
    log.write_text("".join(f"{i:08d}{line}" for i in range(n)))
    tail = ConsoleTail((str(log),))
    tail.poll()
    snap = tail.snapshot()
    assert snap.skipped_bytes > 0
    assert snap.lines[-1] == f"{n - 1:08d}" + "x" * 99
    assert all(len(s) == 107 for s in snap.lines)  # no half line at the start


def test_several_logs_each_get_a_header(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("first run\n")
    b.write_text("resumed\n")
    tail = ConsoleTail((str(a), str(b)))
    tail.poll()
    snap = tail.snapshot()
    assert snap.lines == (f"── {a} ──", "first run", f"── {b} ──", "resumed")
    assert snap.headers == frozenset({0, 2})


def test_terminal_rules() -> None:
    assert console_lines("abcdef\rXY") == ["XYcdef"]
    assert console_lines("50%\r100%\r\n") == ["100%"]
    assert console_lines("ab\bc") == ["ac"]
    assert console_lines("\b\bx") == ["x"]
    assert console_lines("a\tb") == ["a       b"]
    assert console_lines("hello\x1b[3D\x1b[K!") == ["he!"]
    assert console_lines("abc\x1b[2Kd") == ["   d"]
    assert console_lines("\x1b[31mred\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == [
        "red link"
    ]
    assert console_lines("a\x1b[1A\x1b[2Jb") == ["ab"]  # no line above edited, no clear
    assert console_lines("x" * (MAX_LINE_CHARS + 10) + "\rab") == [
        "ab" + "x" * (MAX_LINE_CHARS - 2)
    ]
    assert console_lines("\x9b31mC1 csi\x9d0;t\x9cok") == ["C1 csiok"]


@st.composite
def console_streams(draw: st.DrawFn) -> str:
    """Text mixing printable runs with every kind of control and escape, cut anywhere."""
    pieces = st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                "\r", "\n", "\b", "\t", "\x1b", "\x1b[", "\x1b[2K", "\x1b[31m", "\x1b[10D",
                "\x1b[5G", "\x1b]0;", "\x07", "\x1b\\", "\x9b", "\x9c", "\x9d", "\x1bP",
                "\x1b(B", "\u202e", "\x00", "\x7f", "1;2", "m", "K", ";" * 70,
            ]
        ),
    )  # fmt: skip
    return "".join(draw(st.lists(pieces, max_size=40)))


@settings(max_examples=400, deadline=None)
@given(console_streams(), st.lists(st.integers(0, 200), max_size=8))
def test_any_stream_is_safe_and_cut_anywhere_gives_the_same(text: str, cuts: list[int]) -> None:
    whole = console_lines(text)
    for line in whole:
        assert not FORBIDDEN.search(line), repr(line)
        assert len(line) <= MAX_LINE_CHARS
    console = ConsoleText()
    pos = 0
    for c in sorted(set(cuts)):
        console.feed(text[pos : max(pos, c)])
        pos = max(pos, c)
    console.feed(text[pos:])
    assert console.display() == whole


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=200))
def test_plain_text_is_shown_as_written(text: str) -> None:
    text = FORBIDDEN.sub("", text)
    expected = text.split("\n")
    if expected[-1] == "":
        expected.pop()
    assert console_lines(text) == expected


@given(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
)
def test_carriage_return_overwrites_from_column_zero(a: str, b: str) -> None:
    assert console_lines(f"{a}\r{b}\n") == [b + a[len(b) :]]
