"""The console a `.wandb` file holds (its output records, RunMeta.console_records): runs written
by real wandb 0.31 offline (tests/wandb_console.py) read by tuiboard.core.wandb, rendered by
core/console.py, compared with what each script printed and with the files/output.log wandb
wrote beside it; bounded on a run that prints more than the Logs pane keeps."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tuiboard
from tuiboard.core.console import MAX_LINE_CHARS, MAX_LINES, console_lines
from tuiboard.core.console_tail import RecordsTail
from tuiboard.core.types import RunMeta
from tuiboard.core.wandb import HARD_LINE_CHARS, LINE_CHARS, WandbState
from tuiboard.export import meta_json

from ..wandb_console import WandbConsole, make_long_console, make_wandb_console
from .test_wandb import read_whole, wandb_file

LONG_LINES = MAX_LINES + 100
BAR_STATES = 2500
"""tqdm states of one line: about 60 characters each, so the line is past LINE_CHARS."""


@pytest.fixture(scope="module")
def wb(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_wandb_console(tmp_path_factory.mktemp("wandb-console"))


@pytest.fixture(scope="module")
def long(tmp_path_factory: pytest.TempPathFactory) -> WandbConsole:
    return make_long_console(tmp_path_factory.mktemp("wandb-long"), LONG_LINES, BAR_STATES)


def meta_of(run_dir: Path) -> RunMeta:
    """The run's meta as the records alone give it: read from a copy without files/output.log
    (with the file, the file is the console and the records are not kept: see below)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / run_dir.name
        shutil.copytree(run_dir, copy, symlinks=True)
        (copy / "files" / "output.log").unlink()
        (run,) = tuiboard.open(str(copy)).runs
        return run.meta


def test_with_its_console_file_the_records_are_not_kept(wb: WandbConsole) -> None:
    assert (wb.run_dir / "files" / "output.log").is_file()
    (run,) = tuiboard.open(str(wb.run_dir)).runs
    assert run.meta.console == (str(wb.run_dir / "files" / "output.log"),)
    assert run.meta.console_records == ()
    assert meta_of(wb.run_dir).console_records  # the same run without the file: kept


def render(records: tuple[str, ...]) -> list[str]:
    return console_lines("".join(records))


def test_records_are_the_printed_lines(wb: WandbConsole) -> None:
    meta = meta_of(wb.run_dir)
    records = meta.console_records
    assert render(records) == wb.lines
    assert render(records) == console_lines(wb.output_log.read_text(encoding="utf-8"))
    # raw, as printed: escapes kept (the UI renders them), stderr in its place, one line each
    assert "\x1b[1;32mgreen and bold\x1b[0m then plain\n" in records
    assert records[-2:] == ("warning on stderr\n", "done\n")
    assert len(records) == len(wb.lines)
    assert all(r.endswith("\n") and "\n" not in r[:-1] for r in records)
    assert meta.console_dropped == 0
    assert meta.console == ()  # read from a copy without the file
    (run,) = tuiboard.open(str(wb.run_dir)).runs
    ls = meta_json(run.meta)  # `ls --json` names the file, never the lines
    assert ls["console"] == [str(wb.output_log)] and "console_records" not in ls
    assert "console_records" not in meta_json(meta)


def test_chunked_reads_hold_the_same_console(wb: WandbConsole, long: WandbConsole) -> None:
    for run in (wb, long):
        path = wandb_file(run.run_dir)
        _, whole, _ = read_whole(path)
        _, chunked, _ = read_whole(path, chunk=4096)
        assert chunked.console_records() == whole.console_records()
        assert chunked.output_dropped == whole.output_dropped


def test_a_long_console_is_bounded_and_shows_the_same_last_lines(long: WandbConsole) -> None:
    assert BAR_STATES * 60 > LINE_CHARS  # the bar's line is compacted
    meta = meta_of(long.run_dir)
    records = meta.console_records
    assert len(long.lines) == LONG_LINES + 2 > MAX_LINES
    assert len(records) == MAX_LINES
    assert meta.console_dropped == len(long.lines) - MAX_LINES
    shown = render(records)
    assert shown == long.lines[-MAX_LINES:]
    assert shown == console_lines(long.output_log.read_text(encoding="utf-8"))[-MAX_LINES:]
    assert records[0] == f"\x1b[2mline\x1b[0m {LONG_LINES + 2 - MAX_LINES}\n"
    assert max(len(r) for r in records) <= MAX_LINE_CHARS + 1
    # what the pane's worker shows: the same lines, the dropped ones counted
    tail = RecordsTail(records, meta.console_dropped)
    assert tail.poll() and not tail.poll()
    snap = tail.snapshot()
    assert list(snap.lines) == long.lines[-MAX_LINES:]
    assert snap.dropped_lines == len(long.lines) - MAX_LINES


def test_records_tail_renders_again_only_when_the_records_change(wb: WandbConsole) -> None:
    records = meta_of(wb.run_dir).console_records
    tail = RecordsTail(records[:3])
    assert tail.poll()
    assert list(tail.snapshot().lines) == wb.lines[:3]
    tail.update(records[:3], 0)
    assert not tail.poll()
    tail.update(records, 0)
    assert tail.poll()
    assert list(tail.snapshot().lines) == wb.lines
    assert tail.snapshot().version == 2


pieces = st.lists(
    st.sampled_from(
        ["\r", "\n", "a", "bcd", "\x1b[2K", "\x1b[31m", "\x1b[", "\x1b]0;t", "\b", "\t", "é" * 300]
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(pieces, st.sampled_from([1, 40])), max_size=40))
def test_compacting_long_lines_keeps_what_they_show(writes: list[tuple[list[str], int]]) -> None:
    """Records joined and compacted by the reader show what the stream shows (core/console.py
    on the whole text), long `\\r`-rewritten lines included (x40: long enough to compact)."""
    state = WandbState()
    stream = []
    for w, times in writes:
        text = "".join(w) * times
        if text:
            state.add_output(text)
            stream.append(text)
    whole = "".join(stream)
    assume(max(len(line) for line in whole.split("\n")) < HARD_LINE_CHARS)
    assert render(state.console_records()) == console_lines(whole)
    records = state.console_records()
    assert all(len(r) <= MAX_LINE_CHARS + 1 for r in records if r.endswith("\n"))


@pytest.mark.parametrize("opened", ["\x1b]0;title", "\x1b]0;title\x07", "\x1b[", "\x1b[3"])
def test_a_long_line_with_an_escape_open_before_its_last_return(opened: str) -> None:
    """An OSC title left open swallows the `\\r` after it: compacting there would show what
    the stream hides."""
    stream = ["x" * 9000 + opened, *["\r" + "y" * (LINE_CHARS // 2)] * 8, "\x07 after\n", "z\n"]
    state = WandbState()
    for text in stream:
        state.add_output(text)
    assert render(state.console_records()) == console_lines("".join(stream))
