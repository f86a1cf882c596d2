"""`tuiboard plot` on event files written by tensorboardX, checked against TensorBoard's reader."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboardX import SummaryWriter

from tuiboard.headless.plot import (
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_USAGE,
    plot_main,
    prepare_series,
)
from tuiboard.headless.plot_args import add_plot_parser
from tuiboard.render.chart import ChartOptions, render_chart
from tuiboard.render.histogram import histogram_bars
from tuiboard.render.theme import default_theme, run_color

ANSI = re.compile("\x1b\\[")


def parse(*argv: str) -> argparse.Namespace:
    top = argparse.ArgumentParser()
    sub = top.add_subparsers(dest="command")
    add_plot_parser(sub)
    return top.parse_args(["plot", *argv])


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("logs")
    rng = np.random.default_rng(5)
    for i, name in enumerate(["alpha", "beta", "gamma[bold]"]):
        w = SummaryWriter(str(root / name))
        for step in range(0, 2000, 5):
            loss = 2.0 * np.exp(-step / (400 + 200 * i)) + rng.normal(0, 0.02)
            if name == "beta" and step == 1000:
                loss = 9.0  # a spike that must survive downsampling
            w.add_scalar("loss/train", loss, step, walltime=1_700_000_000 + step * 0.5)
            w.add_scalar("acc", 1 - loss / 3, step, walltime=1_700_000_000 + step * 0.5)
        for step in range(3):
            w.add_histogram("weights", rng.normal(step, 1.0, 500), step)
        w.close()
    return root


def tb_scalars(path: Path, tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ea = EventAccumulator(str(path), size_guidance={"scalars": 0})
    ea.Reload()
    ev = ea.Scalars(tag)
    return (
        np.array([e.step for e in ev]),
        np.array([e.wall_time for e in ev]),
        np.array([e.value for e in ev]),
    )


def blocks(out: str) -> list[list[str]]:
    return [b.split("\n") for b in out.rstrip("\n").split("\n\n")]


def test_scalars_match_tensorboard(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = plot_main(parse(str(logdir), "-t", "loss", "--width", "72", "--height", "14"))
    out = capsys.readouterr().out
    assert rc == EXIT_OK
    assert not ANSI.search(out)
    (block,) = blocks(out)
    assert len(block) == 15 and all(cell_len(line) == 72 for line in block)
    # The same chart drawn from TensorBoard's own reading of the files.
    theme = default_theme(color=False)
    series = []
    for i, name in enumerate(["alpha", "beta", "gamma[bold]"]):
        step, wall, value = tb_scalars(logdir / name, "loss/train")
        series.append(prepare_series(name, run_color(theme, i), step, wall, value, 0.6, "step"))
    want = render_chart(series, ChartOptions(title="loss/train"), 72, 14, theme).plain
    assert "\n".join(block[:14]) == want
    legend = block[14]
    assert "alpha" in legend and "beta" in legend and "gamma[bold]" in legend
    # The spike of beta at step 1000 reaches the top row.
    assert re.search("[\u2801-\u28ff]", block[1])


def test_color_flag_and_no_color(
    logdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    assert plot_main(parse(str(logdir), "-t", "^acc$", "--width", "60", "--color")) == EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b[38;5;" in out  # 256-colour styles
    plain = ANSI.sub("", out)
    assert "acc" in plain
    monkeypatch.setenv("NO_COLOR", "1")
    assert plot_main(parse(str(logdir), "-t", "^acc$", "--width", "60")) == EXIT_OK
    assert not ANSI.search(capsys.readouterr().out)


def test_runs_filter_and_relative_axis(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = plot_main(
        parse(str(logdir), "-t", "acc", "--runs", "^a", "--x", "relative", "--width", "80")
    )
    out = capsys.readouterr().out
    assert rc == EXIT_OK
    (block,) = blocks(out)
    assert "alpha" in block[-1] and "beta" not in block[-1]
    assert re.search(r"\b\d+m\b|\b\d+m\d\ds\b", block[-2])  # duration labels (run spans ~16 min)


def test_histograms_latest_step(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = plot_main(
        parse(
            str(logdir),
            "--kind",
            "histograms",
            "--runs",
            "alpha",
            "--width",
            "60",
            "--height",
            "12",
        )
    )
    out = capsys.readouterr().out
    assert rc == EXIT_OK
    (block,) = blocks(out)
    assert len(block) == 12 and all(cell_len(line) == 60 for line in block)
    assert block[0].startswith("weights · alpha · step 2")
    assert block[-1].startswith("count 500")
    ea = EventAccumulator(str(logdir / "alpha"), size_guidance={"histograms": 0})
    ea.Reload()
    last = ea.Histograms("weights")[-1]
    assert last.step == 2
    from tuiboard.core.types import HistogramValue

    p = last.histogram_value
    right = np.array(p.bucket_limit)
    h = HistogramValue(
        2, last.wall_time, np.concatenate(([p.min], right[:-1])), right, np.array(p.bucket),
        p.num, p.min, p.max, p.sum, p.sum_squares,
    )  # fmt: skip
    want = histogram_bars(h, 60, 10, default_theme(color=False), "red").plain
    assert "\n".join(block[1:11]) == want


def test_exit_codes(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plot_main(parse(str(logdir), "-t", "no-such-tag")) == EXIT_NOTHING
    assert "no scalar tag matched" in capsys.readouterr().err
    assert plot_main(parse(str(logdir), "-t", "(")) == EXIT_USAGE
    assert "bad tag regex" in capsys.readouterr().err
    assert plot_main(parse(str(logdir), "--smoothing", "1.5")) == EXIT_USAGE
    assert plot_main(parse(str(logdir), "--width", "5")) == EXIT_USAGE
    assert plot_main(parse(str(logdir), "--runs", "nobody")) == EXIT_NOTHING


def test_every_tag_by_default(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plot_main(parse(str(logdir), "--width", "50", "--smoothing", "0")) == EXIT_OK
    out = capsys.readouterr().out
    titles = [b[0].rstrip() for b in blocks(out)]
    assert titles == ["acc", "loss/train"]


def test_columns_side_by_side(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = plot_main(parse(str(logdir), "--width", "100", "--height", "10", "--columns", "2"))
    out = capsys.readouterr().out
    assert rc == EXIT_OK
    (row,) = blocks(out)  # two tags: one row of two charts
    assert len(row) == 11 and all(cell_len(line) == 100 for line in row)
    assert row[0].startswith("acc") and row[0][51:].startswith("loss/train")
