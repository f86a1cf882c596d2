"""The HParams renderers (tuiboard.render.hparams) as strings at fixed sizes, on tables built from
runs written by real writers (tensorboardX add_hparams, our JSONL writer with configs)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from tensorboardX import SummaryWriter

import tuiboard
from tuiboard.core.hparams import HParamsTable, build_table
from tuiboard.render.hparams import (
    hparams_table_text,
    parallel_coordinates,
    plot_blocks,
    scatter,
)
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.theme import default_theme
from tuiboard.writer import JsonlWriter

THEME = default_theme(True)
PLAIN = default_theme(False)
COLOURS = {
    f"r{i}": c for i, c in enumerate(("#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff"))
}


def lines(text: Text) -> list[str]:
    return text.plain.split("\n")


def assert_size(text: Text, width: int, height: int | None = None) -> None:
    got = lines(text)
    if height is not None:
        assert len(got) == height
    assert [cell_len(line) for line in got] == [width] * len(got)


def style_at(text: Text, line: int, col: int) -> str:
    """The style of one cell of a block whose lines are single-cell characters up to `col`."""
    offset = sum(len(s) + 1 for s in lines(text)[:line]) + col
    styles = [str(s.style) for s in text.spans if s.start <= offset < s.end]
    return styles[-1] if styles else ""


def write_runs(logdir: Path, configs: list[dict[str, Any]], losses: list[float]) -> HParamsTable:
    for i, (config, loss) in enumerate(zip(configs, losses, strict=True)):
        with JsonlWriter(str(logdir / f"r{i}")) as w:
            w.log(0, {"loss": 1.0})
            w.log(1, {"loss": loss})
            w.write_config(config)
    return build_table(tuiboard.open(str(logdir)))


@pytest.fixture(scope="module")
def monotone(tmp_path_factory: pytest.TempPathFactory) -> HParamsTable:
    """x = 1..5, loss = 10 x, y = -x, a 3-value string and a bool column."""
    configs = [
        {"x": float(i), "y": -float(i), "opt": ["adam", "lamb", "sgd"][i % 3], "flag": i % 2 == 0}
        for i in range(1, 6)
    ]
    return write_runs(tmp_path_factory.mktemp("mono"), configs, [10.0 * i for i in range(1, 6)])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HParamsTable:
    """A tensorboardX sweep whose run name is markup and whose values carry escapes."""
    logdir = tmp_path_factory.mktemp("hostile")
    for i, name in enumerate(["[red]x", "ok\x1b[31mred", "plain"]):
        with SummaryWriter(str(logdir / name)) as w:
            w.add_hparams(
                {"lr": 10.0 ** -(i + 1), "note": f"\x1b]0;title\x07v{i}[bold]", "big": i == 1},
                {"hparam/acc": 0.5 + i / 10},
                name="hp",
            )
    return build_table(tuiboard.open(str(logdir)))


# --- the table ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1, 12, 40, 80, 200])
def test_table_exact_width(monotone: HParamsTable, width: int) -> None:
    text = hparams_table_text(monotone, [4, 0, 2], width, THEME, colours=COLOURS)
    assert_size(text, width, 4)


def test_table_layout(monotone: HParamsTable) -> None:
    text = hparams_table_text(
        monotone, monotone.order("x", descending=True), 100, PLAIN, colours={}
    )
    got = lines(text)
    assert got[0].split() == ["run", "status", "flag", "opt", "x", "y", "loss"]
    # Just written, no session_end: running.
    assert [line.split()[:3] for line in got[1:]] == [
        ["■", f"r{i}", "running"] for i in (4, 3, 2, 1, 0)
    ]
    assert got[1].split()[3:] == ["false", "sgd", "5", "-5", "50"]
    # Numbers are right-aligned under their header.
    x_end = got[0].index(" x ") + 2
    assert {line[x_end - 1] for line in got[1:]} == {"5", "4", "3", "2", "1"}


def test_table_swatch_in_run_colour_and_cut_with_ellipsis(monotone: HParamsTable) -> None:
    text = hparams_table_text(monotone, [1, 3], 30, THEME, colours=COLOURS)
    assert style_at(text, 1, 0) == "#00ff00"
    assert style_at(text, 2, 0) == "#ffff00"
    assert all(line.endswith("…") for line in lines(text))


def test_table_untrusted_text_is_literal(hostile: HParamsTable) -> None:
    text = hparams_table_text(hostile, range(len(hostile)), 120, THEME, colours={})
    plain = text.plain
    assert "[red]x" in plain and "okred" in plain
    assert "\x1b" not in plain and "\x07" not in plain
    assert "v0[bold]" in plain
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="256")
    console.print(text)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "]0;" not in printed and "[31m" not in printed  # no escape of theirs got through


def test_no_escape_sequences_without_colour(hostile: HParamsTable) -> None:
    rows = range(len(hostile))
    texts = [
        hparams_table_text(hostile, rows, 80, PLAIN, colours={}),
        parallel_coordinates(hostile, rows, ["lr", "note", "big", "hparam/acc"], 60, 12, PLAIN, {}),
        scatter(hostile, rows, "lr", "hparam/acc", 50, 12, PLAIN, {}),
    ]
    for text in texts:
        assert text.spans == [] and not text.style
        console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="256")
        console.print(text)
        assert "\x1b" not in console.file.getvalue()  # type: ignore[attr-defined]


# --- parallel coordinates -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (10, 2), (30, 3), (30, 4), (61, 17), (200, 40)])
def test_parallel_exact_size(monotone: HParamsTable, size: tuple[int, int]) -> None:
    width, height = size
    text = parallel_coordinates(
        monotone, range(5), ["x", "opt", "flag", "loss"], width, height, THEME, COLOURS
    )
    assert_size(text, width, height)


def test_parallel_monotone_line_ends(monotone: HParamsTable) -> None:
    width, height = 40, 12  # plot rows 2..10, 36 dot rows
    text = parallel_coordinates(
        monotone, range(5), ["x", "loss", "y"], width, height, THEME, COLOURS
    )
    got = lines(text)
    slot = width / 3
    centres = [int(slot * a + slot / 2) for a in range(3)]
    assert got[0].split() == ["x", "loss", "y"]
    assert got[1].split() == ["5", "50", "-1"]
    assert got[-1].split() == ["1", "10", "-5"]
    # x and loss rise together: r4 (x=5) at the top of both, r0 at the bottom; y falls.
    expected = {"x": {4: 2, 2: 6, 0: 10}, "loss": {4: 2, 2: 6, 0: 10}, "y": {0: 2, 2: 6, 4: 10}}
    for axis, (col, ends) in enumerate(expected.items()):
        for run, line in ends.items():
            cell = got[line][centres[axis]]
            assert "\u2800" < cell <= "\u28ff", (col, run, line)
            assert style_at(text, line, centres[axis]) == COLOURS[f"r{run}"], (col, run)
    # r4's line is flat between x and loss: every cell of line 2 between the axes is braille.
    between = got[2][centres[0] : centres[1] + 1]
    assert all("\u2800" < c <= "\u28ff" for c in between)


def test_parallel_categories_and_log_axis(tmp_path: Path) -> None:
    configs = [{"lr": 10.0 ** -(i + 1), "opt": ["adam", "lamb", "sgd"][i % 3]} for i in range(4)]
    table = write_runs(tmp_path, configs, [0.1, 0.2, 0.3, 0.4])
    width, height = 48, 15  # plot rows 2..13, 48 dot rows
    text = parallel_coordinates(table, range(4), ["lr", "opt"], width, height, PLAIN, {})
    got = lines(text)
    assert got[1].split() == ["0.1", "sgd"] and got[-1].split() == ["1e-4", "adam"]
    # log10(lr) evenly spaced: dot rows 0, 15.7, 31.3, 47 -> cell rows 0, 4, 7, 11.
    centre = int(width / 2 / 2)
    for i, row in enumerate((0, 4, 7, 11)):
        assert "\u2800" < got[2 + row][centre] <= "\u28ff", i
    # The inner category is labelled beside its axis, halfway up.
    opt_centre = int(width / 2 * 1.5)
    assert got[2 + 6][opt_centre + 1 :].strip() == "lamb"
    linear = parallel_coordinates(table, range(4), ["lr"], 20, 15, PLAIN, {}, log_axes=False)
    body = lines(linear)[2:-1]
    assert [i for i, s in enumerate(body) if s[10] not in " │"] == [0, 10, 11]


# --- scatter -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (10, 3), (20, 4), (40, 12), (120, 30)])
def test_scatter_exact_size(monotone: HParamsTable, size: tuple[int, int]) -> None:
    width, height = size
    for x in ("x", "opt", "flag"):
        assert_size(
            scatter(monotone, range(5), x, "loss", width, height, THEME, COLOURS), width, height
        )


def test_scatter_points_and_axes(monotone: HParamsTable) -> None:
    width, height = 40, 12
    text = scatter(monotone, range(5), "x", "loss", width, height, THEME, COLOURS)
    got = lines(text)
    assert got[0].strip() == "loss vs x"
    axis_col = got[1].index("│") if "│" in got[1] else got[1].index("┤")
    plot = [line[axis_col + 1 :] for line in got[1:10]]
    # r4 (5, 50) top right, r0 (1, 10) bottom left, each in its colour.
    assert "\u2800" < plot[0][-1] <= "\u28ff" and "\u2800" < plot[-1][0] <= "\u28ff"
    assert style_at(text, 1, width - 1) == COLOURS["r4"]
    assert style_at(text, 9, axis_col + 1) == COLOURS["r0"]
    assert got[10][axis_col] == "└" and "┬" in got[10]
    assert re.findall(r"[\d.]+", got[11])[0] == "1" and re.findall(r"[\d.]+", got[11])[-1] == "5"
    assert "50┤" in got[1].replace(" ", "")
    categorical = lines(scatter(monotone, range(5), "opt", "loss", width, height, PLAIN, {}))
    assert categorical[-1].split() == ["adam", "lamb", "sgd"]


# --- tuiboard plot --kind hparams ----------------------------------------------------------------


def request(runs: list[Any], **kw: Any) -> PlotRequest:
    base: dict[str, Any] = {
        "runs": runs,
        "tag_re": None,
        "step": None,
        "width": 70,
        "height": 20,
        "theme": PLAIN,
        "colours": {},
    }
    base.update(kw)
    return PlotRequest(**base)


def test_plot_blocks(tmp_path: Path) -> None:
    configs: list[dict[str, Any]] = [{"a": 1, "nested": {"b": "x"}}, {"a": 2, "nested": {"b": "y"}}]
    table = write_runs(tmp_path, configs, [0.5, float("nan")])
    runs = tuiboard.open(str(tmp_path)).runs
    [block] = plot_blocks(request(runs))
    assert_size(block, 70, 1 + len(table))
    [block] = plot_blocks(request(runs, as_json=True))
    rows = [json.loads(line) for line in lines(block)]
    assert rows == [
        {
            "run": "r0",
            "status": rows[0]["status"],
            "hparams": {"a": 1, "nested/b": "x"},
            "metrics": {"loss": 0.5},
        },
        {
            "run": "r1",
            "status": rows[1]["status"],
            "hparams": {"a": 2, "nested/b": "y"},
            "metrics": {"loss": "NaN"},
        },
    ]
    [block] = plot_blocks(request(runs, tag_re=re.compile("acc")))
    assert "loss" not in lines(block)[0]
    assert plot_blocks(request([])) == []


def test_render_imports_no_textual() -> None:
    code = """
import sys
import tuiboard.render.hparams
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] == "textual")))
"""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""
