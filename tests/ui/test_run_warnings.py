"""Pilot test: a click on a run's warning mark (⚠ + count) opens that run's warnings; a click
elsewhere on the row still shows / hides the run.

The damaged run is written by tensorboardX; one record's data then has a byte flipped, so its
data CRC fails (the reader's warning names the record's byte offset, computed here by walking
the TFRecord framing: u64 length, u32 masked CRC, data, u32 masked CRC).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from rich.cells import cell_len
from tensorboardX import SummaryWriter
from textual.widgets import Static

import tuiboard
from tests.ui.conftest import T0, make_app, pin_mtimes
from tests.ui.test_app import started
from tuiboard.ui.screens.warnings import WarningsScreen
from tuiboard.ui.widgets.run_panel import RunTree

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


def record_offsets(data: bytes) -> list[tuple[int, int]]:
    """(record start, data length) of every record of a TFRecord file."""
    out = []
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, length))
        pos += 12 + length + 4
    return out


def write_runs(root: Path) -> tuple[Path, int]:
    """Runs "clean" and "damaged" (10 scalar points each); returns the damaged file and the
    start offset of the record whose data was changed."""
    for run in ("clean", "damaged"):
        with SummaryWriter(str(root / run)) as w:
            for i in range(10):
                w.add_scalar("loss", 1.0 / (i + 1), i, walltime=T0 + i)
    (path,) = (root / "damaged").glob("events.out.tfevents.*")
    data = bytearray(path.read_bytes())
    records = record_offsets(bytes(data))
    assert len(records) == 11  # file_version + 10 scalars
    start, length = records[5]
    data[start + 12 + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    pin_mtimes(root)
    return path, start


async def test_click_on_warning_mark_opens_the_runs_warnings(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    damaged, offset = write_runs(root)
    logdir = tuiboard.open(str(root))
    run = logdir.run("damaged")
    assert run is not None and run.warnings and logdir.run("clean").warnings == ()  # type: ignore[union-attr]
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        node = tree._run_nodes["damaged"]
        clean_line = tree._run_nodes["clean"].line
        assert "⚠" not in tree.render_line(clean_line).text
        y = node.line - tree.scroll_offset.y
        line = tree.render_line(y).text
        mark = f"⚠{len(run.warnings)}"
        assert mark in line
        mark_x = cell_len(line[: line.index(mark)])
        # A click on the name shows / hides the run, as before.
        name_x = cell_len(line[: line.index("damaged")])
        assert await pilot.click(tree, offset=(name_x, y))
        await pilot.pause()
        assert not app.board.selection.is_visible("damaged")
        assert not isinstance(app.screen, WarningsScreen)
        # A click on the mark (either of its cells) opens the run's warnings, and nothing else.
        for dx in (0, 1):
            assert await pilot.click(tree, offset=(mark_x + dx, y))
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, WarningsScreen)
            title = str(screen.query_one("#warnings-title", Static).render())
            body = str(screen.query_one("#warnings-text", Static).render())
            assert title == "Warnings of damaged"
            assert f"{damaged} @ byte {offset}" in body
            assert "CRC" in body and "clean" not in body
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, WarningsScreen)
        assert not app.board.selection.is_visible("damaged")  # the mark did not toggle the run
        assert tree.cursor_node is node
