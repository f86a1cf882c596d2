"""PR curves written by tensorboardX, read back and drawn; numbers checked against TensorBoard's
own reader and its pr_curves plugin."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from tensorboard.util import tensor_util
from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.logdir import Logdir
from tuiboard.core.types import PR_CURVES, PrCurveValue
from tuiboard.render.numbers import fmt_value
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.pr_curves import (
    CURSOR_MARK,
    kept_points,
    plot_blocks,
    pr_chart,
    pr_table,
    threshold_index,
)
from tuiboard.render.theme import default_theme, run_color

N_RAW = 11
RUNS = ("a", "b")
TAGS = ("pr11", "pr127", "raw_perfect", "raw_tail")


def perfect_raw() -> tuple[np.ndarray, ...]:
    """A perfect classifier over 10 positives: precision 1 wherever anything is predicted,
    and at the last threshold nothing is (TP + FP = 0, precision written as 0)."""
    tp = np.linspace(10, 0, N_RAW)
    fp = np.zeros(N_RAW)
    tn = np.full(N_RAW, 5.0)
    fn = 10 - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / (tp + fn)
    return tp, fp, tn, fn, precision, recall


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pr")
    rng = np.random.default_rng(11)
    for k, name in enumerate(RUNS):
        w = SummaryWriter(str(root / name))
        for step in (0, 10):
            labels = rng.integers(0, 2, 300)
            preds = np.clip(labels * (0.2 + 0.2 * k) + rng.random(300) * 0.8, 0, 1)
            w.add_pr_curve("pr11", labels, preds, step, num_thresholds=11)
            w.add_pr_curve("pr127", labels, preds, step, num_thresholds=127)
        if name == "a":
            w.add_pr_curve_raw("raw_perfect", *perfect_raw(), 3, num_thresholds=N_RAW)
            tp, fp, tn, fn, precision, recall = perfect_raw()
            # Predictions all below 0.6: the last four thresholds predict nothing.
            tp[7:] = 0
            fn[7:] = 10
            precision[7:] = 0
            recall[7:] = 0
            w.add_pr_curve_raw("raw_tail", tp, fp, tn, fn, precision, recall, 3, N_RAW)
        w.close()
    return root


@pytest.fixture(scope="module")
def logdir(root: Path) -> Logdir:
    return tuiboard.open(str(root))


def curve(logdir: Logdir, run: str, tag: str, step: int | None = None) -> PrCurveValue:
    r = logdir.run(run)
    assert r is not None
    values = [v for v in r.values(PR_CURVES, tag) if step is None or v.step == step]
    v = values[-1]
    assert isinstance(v, PrCurveValue)
    return v


def reference(root: Path, run: str, tag: str) -> list[tuple[int, np.ndarray]]:
    """(step, [6, N] float32 table) as TensorBoard's EventAccumulator reads them."""
    acc = accumulate(root / run)
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def test_values_match_tensorboard_point_by_point(root: Path, logdir: Logdir) -> None:
    for run in RUNS:
        r = logdir.run(run)
        assert r is not None
        for tag in r.tags(PR_CURVES):
            ref = reference(root, run, tag)
            got = r.values(PR_CURVES, tag)
            assert [v.step for v in got] == [s for s, _ in ref]
            for v, (_, table) in zip(got, ref, strict=True):
                assert isinstance(v, PrCurveValue)
                assert table.dtype == np.float32 and v.num_thresholds == table.shape[1]
                rows = (v.tp, v.fp, v.tn, v.fn, v.precision, v.recall)
                for ours, theirs in zip(rows, table, strict=True):
                    np.testing.assert_array_equal(ours, theirs.astype(np.float64))
    assert sorted(logdir.run("a").tags(PR_CURVES)) == sorted(TAGS)  # type: ignore[union-attr]


def test_kept_points_as_the_plugin_trims(root: Path, logdir: Logdir) -> None:
    with warnings.catch_warnings():  # its bleach import warns of a deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        from tensorboard.plugins.pr_curve.pr_curves_plugin import PrCurvesPlugin
    for tag in TAGS:
        for step, table in reference(root, "a", tag):
            entry = PrCurvesPlugin._make_pr_entry(None, step, 0.0, table)  # self is unused
            assert kept_points(curve(logdir, "a", tag, step)) == len(entry["precision"])
    assert kept_points(curve(logdir, "a", "raw_perfect")) == N_RAW - 1
    assert kept_points(curve(logdir, "a", "raw_tail")) == 7


def braille_rows(chart: str) -> dict[int, str]:
    """Plot row -> the braille cells drawn on it (axis and labels left out)."""
    out = {}
    for i, line in enumerate(chart.split("\n")):
        cells = "".join(c for c in line if 0x2800 <= ord(c) <= 0x28FF or c == CURSOR_MARK)
        if cells.strip("\u2800"):
            out[i] = cells
    return out


def test_perfect_classifier_draws_on_the_top_row_only(logdir: Logdir) -> None:
    theme = default_theme(False)
    v = curve(logdir, "a", "raw_perfect")
    text = pr_chart([("a", "red", v)], 50, 14, theme).plain
    lines = text.split("\n")
    assert len(lines) == 14 and all(cell_len(line) == 50 for line in lines)
    rows = braille_rows(text)
    assert list(rows) == [0]
    # Recall runs from 0.1 to 1: the line spans the plot from a tenth of the way to the end.
    top = lines[0]
    plot_left = top.index("┤") + 1
    drawn = [i - plot_left for i, c in enumerate(top) if 0x2800 < ord(c) <= 0x28FF]
    plot_cols = 50 - plot_left
    assert drawn[-1] == plot_cols - 1 and abs(drawn[0] - 0.1 * (plot_cols - 1)) <= 1
    # Axes fixed to [0, 1] with ticks.
    assert lines[0].lstrip().startswith("1┤") and lines[-3].lstrip().startswith("0┤")
    assert lines[-1].split()[0] == "0" and lines[-1].split()[-1] == "1"


def test_trailing_empty_thresholds_are_dropped(logdir: Logdir) -> None:
    theme = default_theme(False)
    v = curve(logdir, "a", "raw_tail")
    text = pr_chart([("a", "red", v)], 50, 14, theme).plain
    # Kept points end at recall 0.3 with precision 1; the dropped ones sit at (0, 0).
    assert list(braille_rows(text)) == [0]
    # Without the trim the line would fall to precision 0 at recall 0.
    untrimmed = PrCurveValue(
        v.step, v.wall_time, v.num_thresholds, v.tp + 1, v.fp, v.tn, v.fn, v.precision, v.recall
    )
    assert len(braille_rows(pr_chart([("a", "red", untrimmed)], 50, 14, theme).plain)) > 1


def test_cursor_marks_each_curve_at_its_threshold(logdir: Logdir) -> None:
    theme = default_theme(False)
    perfect = curve(logdir, "a", "raw_perfect")
    text = pr_chart([("a", "red", perfect)], 50, 14, theme, cursor=5, title="t").plain
    lines = text.split("\n")
    assert lines[0].rstrip() == "t" and len(lines) == 14
    marked = [(i, line.index(CURSOR_MARK)) for i, line in enumerate(lines) if CURSOR_MARK in line]
    plot_left = lines[1].index("┤") + 1
    # Threshold 5 of 10: recall 0.5, precision 1.
    assert len(marked) == 1 and marked[0][0] == 1
    assert abs((marked[0][1] - plot_left) - 0.5 * (50 - plot_left - 1)) <= 1
    # A dropped threshold has no marker; one index per curve.
    tail = curve(logdir, "a", "raw_tail")
    both = pr_chart([("a", "red", perfect), ("t", "blue", tail)], 50, 14, theme, cursor=[5, 9])
    assert both.plain.count(CURSOR_MARK) == 1


def test_table_shows_the_reference_numbers(root: Path, logdir: Logdir) -> None:
    theme = default_theme(False)
    curves = [(run, "red", curve(logdir, run, "pr11")) for run in RUNS]
    text = pr_table(curves, 5, 80, theme).plain
    lines = text.split("\n")
    assert len(lines) == 3 and all(cell_len(line) == 80 for line in lines)
    assert lines[0].split() == ["run", "threshold", "precision", "recall", "TP", "FP", "TN", "FN"]
    for line, run in zip(lines[1:], RUNS, strict=True):
        _, table = reference(root, run, "pr11")[-1]
        tp, fp, tn, fn, precision, recall = (float(x) for x in table[:, 5])
        want = [run, "0.5", *(fmt_value(x) for x in (precision, recall, tp, fp, tn, fn))]
        assert line.split() == want
    assert pr_table(curves, [5, 99], 80, theme).plain.split("\n")[2].split()[1:] == ["-"] * 7


def request(
    logdir: Logdir, color: bool, step: int | None = None, tags: str | None = None
) -> PlotRequest:
    theme = default_theme(color)
    colours = {r.name: run_color(theme, i) for i, r in enumerate(logdir.runs)}
    tag_re = re.compile(tags) if tags else None
    return PlotRequest(logdir.runs, tag_re, step, 76, 22, theme, colours)


def test_plot_blocks(root: Path, logdir: Logdir) -> None:
    blocks = plot_blocks(request(logdir, False))
    assert [b.plain.split("\n")[0].split(" · ")[0] for b in blocks] == sorted(TAGS)
    for b in blocks:
        lines = b.plain.split("\n")
        assert len(lines) <= 22 and all(cell_len(line) == 76 for line in lines)
        assert not b.spans
        buf = io.StringIO()
        Console(file=buf, width=76, color_system="truecolor", force_terminal=True).print(b)
        assert "\x1b" not in buf.getvalue()
    pr127 = blocks[1].plain.split("\n")
    assert len(pr127) == 22 and "━━ a step 10" in pr127[-4] and "━━ b step 10" in pr127[-4]
    assert pr127[1:-4].count("") == 0 and "".join(pr127).count(CURSOR_MARK) >= 2
    for line, run in zip(pr127[-2:], RUNS, strict=True):
        _, table = reference(root, run, "pr127")[-1]
        i = threshold_index(curve(logdir, run, "pr127"), 0.5)
        assert i == 63  # 63 / 126 is 0.5 exactly
        assert line.split()[:4] == [run, "0.5", fmt_value(table[4, i]), fmt_value(table[5, i])]
    (early,) = plot_blocks(request(logdir, False, step=9, tags="^pr11$"))
    assert "━━ a step 0" in early.plain and "━━ b step 0" in early.plain
    (raw,) = plot_blocks(request(logdir, True, tags="perfect"))
    colour = run_color(default_theme(), 0)
    assert any(str(s.style) == colour for s in raw.spans)
    assert plot_blocks(request(logdir, False, step=-1)) == []
