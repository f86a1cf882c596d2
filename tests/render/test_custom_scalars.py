"""Custom scalars drawing: which series a chart shows (TensorBoard's `re.match` rule, computed
here independently), margin bands equal to the scalars point by point (TensorBoard's reader),
the band and marks in render_chart, the lines under a chart, and `plot_blocks`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

import tuiboard
from tests.reference import accumulate
from tests.ui.conftest import CS_RUNS, CS_STEPS, write_custom_scalars_runs
from tuiboard.core.custom_scalars import MARGIN, MULTILINE, Chart, MarginSeries
from tuiboard.core.logdir import Logdir
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.custom_scalars import (
    SYMBOLS,
    align_margin,
    footer_lines,
    margin_plan,
    multiline_plan,
    plot_blocks,
    plot_chart,
    series_name,
)
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.theme import default_theme, run_color

THEME = default_theme()
PLAIN = default_theme(color=False)
TAGS = [
    "loss/train",
    "loss/val",
    "val/loss",
    "lossy",
    "loss",
    "acc/top1",
    "acc",
    "lr",
    "Loss/upper",
    "a.b",
    "axb",
]


def tb_rule(regexes: list[str], tags: list[str]) -> set[str]:
    """TensorBoard's multiline rule, written out: a tag is shown when one regex `re.match`es it
    (an empty or invalid regex shows nothing)."""
    out = set()
    for r in regexes:
        if not r:
            continue
        try:
            pattern = re.compile(r)
        except re.error:
            continue
        out |= {t for t in tags if pattern.match(t)}
    return out


@pytest.mark.parametrize(
    "regexes",
    [
        ["loss"],  # anchored at the start: not val/loss
        ["loss/"],
        ["loss$"],  # re.match anchors the start only; $ the end
        [".*loss"],
        ["acc", "lr"],
        ["a.b"],  # a regex, not a literal: axb too
        [r"a\.b"],
        ["(?i)loss/"],
        ["(unclosed", "lr"],  # the invalid one is flagged, the other still draws
        ["", "acc/"],
        ["[", "(", "*"],
    ],
)
def test_multiline_shows_what_re_match_selects(regexes: list[str]) -> None:
    chart = Chart("c", MULTILINE, tuple(regexes))
    runs = [("a", TAGS), ("b", TAGS[:4])]
    planned, problems = multiline_plan(chart, runs)
    for run, tags in runs:
        got = [p.tag for p in planned if p.run == run]
        assert got == sorted(tb_rule(regexes, tags))
        assert [p.symbol for p in planned if p.run == run] == [
            SYMBOLS[k % len(SYMBOLS)] for k in range(len(got))
        ]
    invalid = []
    for r in regexes:
        try:
            re.compile(r)
        except re.error:
            invalid.append(r)
    assert len(problems) == len(invalid)
    for r, p in zip(invalid, problems, strict=True):
        assert p.startswith(f"invalid regex {r!r}")
    assert all(p.name == f"{p.tag} ({p.run})" for p in planned)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="ab/.*+?()[]^$", max_size=5), max_size=3),
    st.lists(st.text(alphabet="ab/.", max_size=5), max_size=8, unique=True),
)
def test_multiline_rule_on_any_regex_and_tag(regexes: list[str], tags: list[str]) -> None:
    planned, _ = multiline_plan(Chart("c", MULTILINE, tuple(regexes)), [("r", tags)])
    assert [p.tag for p in planned] == sorted(tb_rule(regexes, tags))


def test_margin_plan_lists_runs_lacking_some_tags() -> None:
    s = MarginSeries("v", "lo", "hi")
    chart = Chart("m", MARGIN, (), (s, MarginSeries("w", "lo", "hi")))
    planned, problems = margin_plan(
        chart, [("full", ["v", "lo", "hi", "w"]), ("part", ["v", "hi"]), ("none", ["x"])]
    )
    assert [(p.run, p.tag, p.symbol) for p in planned] == [
        ("full", "v", SYMBOLS[0]),
        ("full", "w", SYMBOLS[1]),
    ]
    # TensorBoard lists a run lacking some but not all three tags of a series.
    assert problems == ["run part lacks lo", "run part lacks w, lo"]
    # One value tag with two bands: two lines, named apart (the full screen's rows are keyed
    # by name).
    twice = Chart("m", MARGIN, (), (s, MarginSeries("v", "lo2", "hi2"), s))
    planned, _ = margin_plan(twice, [("r", ["v", "lo", "hi", "lo2", "hi2"])])
    assert [p.name for p in planned] == ["v [lo, hi] (r)", "v [lo2, hi2] (r)"]


def test_align_margin() -> None:
    steps = np.array([0, 10, 20, 30])
    iv, il, iu, mismatch = align_margin(steps, steps.copy(), steps.copy())
    assert not mismatch and list(iv) == list(il) == list(iu) == [0, 1, 2, 3]
    # Equal steps with a repeat pair point by point (TensorBoard's rule).
    dup = np.array([0, 10, 10, 20])
    iv, il, iu, mismatch = align_margin(dup, dup.copy(), dup.copy())
    assert not mismatch and list(iv) == [0, 1, 2, 3]
    # Steps differ: the steps all three have, each at its last point, in step order.
    iv, il, iu, mismatch = align_margin(
        np.array([30, 0, 10, 20]), np.array([0, 10, 20, 30, 40]), np.array([0, 20, 20, 30])
    )
    assert mismatch
    assert list(iv) == [1, 3, 0] and list(il) == [0, 2, 3] and list(iu) == [0, 2, 3]


def plot_lines(t: Text) -> list[str]:
    return t.plain.split("\n")


def test_band_fills_between_lower_and_upper_under_the_line() -> None:
    x = np.arange(21, dtype=np.float64)
    s = ChartSeries(
        "m", "#ff8700", x, np.full(21, 0.5), lower=np.zeros(21), upper=np.ones(21), mark="●"
    )
    width, height = 40, 12
    text = render_chart([s], ChartOptions(title="t", show_axes=False), width, height, THEME)
    rows = plot_lines(text)[1:]
    assert len(rows) == height - 1 and all(cell_len(r) == width for r in rows)
    # Every cell is either band (full braille) or the line's row; the line is on top.
    line_rows = [i for i, r in enumerate(rows) if "⣿" not in r]
    assert len(line_rows) == 1 and 0 < line_rows[0] < len(rows) - 1
    assert rows[line_rows[0]].endswith("●")  # the mark on the last point
    for i, r in enumerate(rows):
        if i != line_rows[0]:
            assert set(r) == {"⣿"}, r
    # Band cells dim in the run's colour, the line's bright.
    styles = {str(span.style) for span in text.spans}
    assert "dim #ff8700" in styles and "#ff8700" in styles


def test_band_counts_in_the_y_range_and_never_hides_a_line() -> None:
    x = np.arange(10, dtype=np.float64)
    band = ChartSeries("m", "red", x, np.zeros(10), lower=np.full(10, -5.0), upper=np.full(10, 5.0))
    other = ChartSeries("o", "blue", x, np.full(10, 3.0))
    text = render_chart([band, other], ChartOptions(title="t"), 50, 14, PLAIN)
    labels = " ".join(line[:4] for line in plot_lines(text)[1:])
    assert "5" in labels and "-5" in labels
    # The other run's flat line inside the band owns one cell per column, in its colour.
    coloured = render_chart([band, other], ChartOptions(title="t", show_axes=False), 50, 14, THEME)
    blue = sum(span.end - span.start for span in coloured.spans if str(span.style) == "blue")
    assert blue == 50


def test_band_with_nan_and_reversed_bounds_stays_in_the_plot() -> None:
    x = np.arange(8, dtype=np.float64)
    lower = np.array([1, 1, np.nan, 1, 1, np.inf, 1, 1], dtype=np.float64)
    upper = np.array([0, 0, 0, np.nan, 0, 0, 0, 0], dtype=np.float64)  # below "lower"
    s = ChartSeries("m", "red", x, np.full(8, 0.5), lower=lower, upper=upper)
    text = render_chart([s], ChartOptions(title="t"), 30, 10, PLAIN)
    assert all(cell_len(line) == 30 for line in plot_lines(text))
    assert any("⣿" in line for line in plot_lines(text))


def test_footer_lines_are_exactly_the_width_and_say_what_did_not_fit() -> None:
    entries = [(SYMBOLS[k % 6], "red", f"tag{k}/\x1b[31mred (run {k})") for k in range(30)]
    problems = ["invalid regex '(': missing ), unterminated subpattern at position 0"]
    lines = footer_lines(problems, entries, 50, THEME, rows=2)
    assert len(lines) == 3
    assert all(cell_len(line.plain) == 50 for line in lines)
    assert lines[0].plain.startswith("⚠ invalid regex")
    assert lines[1].plain.startswith("Matches (30)")
    assert "more" in lines[2].plain and "\x1b" not in "".join(t.plain for t in lines)
    # Everything fits: no "more".
    few = footer_lines([], entries[:2], 80, PLAIN, rows=3)
    assert len(few) == 1 and "more" not in few[0].plain and not few[0].spans
    assert series_name("r", "t") == "t (r)"


@pytest.fixture(scope="module")
def cs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("custom")
    write_custom_scalars_runs(root)
    return root


@pytest.fixture(scope="module")
def cs(cs_root: Path) -> Logdir:
    return tuiboard.open(str(cs_root))


def request(logdir: Logdir, **kw: object) -> PlotRequest:
    runs = logdir.runs
    base: dict[str, object] = {
        "runs": runs,
        "tag_re": None,
        "step": None,
        "width": 90,
        "height": 16,
        "theme": PLAIN,
        "colours": {r.name: run_color(PLAIN, i) for i, r in enumerate(runs)},
    }
    base.update(kw)
    return PlotRequest(**base)  # type: ignore[arg-type]


def tb(cs_root: Path, run: str, tag: str) -> tuple[list[int], list[float], list[float]]:
    events = accumulate(cs_root / run).Scalars(tag)
    return [e.step for e in events], [e.value for e in events], [e.wall_time for e in events]


def test_margin_band_equals_the_scalars_point_by_point(cs_root: Path, cs: Logdir) -> None:
    chart = Chart("ci", MARGIN, (), (MarginSeries("acc/mean", "acc/lower", "acc/upper"),))
    req = request(cs, x_mode="step", smoothing=0.9)
    colours = dict(req.colours)
    drawn = plot_chart(chart, cs.runs, colours, req)
    by_label = {s.label: s for s in drawn.series}
    assert set(by_label) == {"acc/mean (adam)", "acc/mean (sgd)"}
    # adam: every step, value, lower and upper exactly TensorBoard's, never smoothed.
    s = by_label["acc/mean (adam)"]
    steps, value, _ = tb(cs_root, "adam", "acc/mean")
    assert list(s.x) == steps == list(CS_STEPS)
    np.testing.assert_array_equal(s.y, np.float32(value))
    assert s.raw_y is None
    np.testing.assert_array_equal(s.lower, np.float32(tb(cs_root, "adam", "acc/lower")[1]))
    np.testing.assert_array_equal(s.upper, np.float32(tb(cs_root, "adam", "acc/upper")[1]))
    # sgd wrote acc/upper every other step: the common steps only, and a warning.
    s = by_label["acc/mean (sgd)"]
    up_steps, up_values, _ = tb(cs_root, "sgd", "acc/upper")
    assert list(s.x) == up_steps == list(CS_STEPS[::2])
    mean = dict(zip(*tb(cs_root, "sgd", "acc/mean")[:2], strict=True))
    lower = dict(zip(*tb(cs_root, "sgd", "acc/lower")[:2], strict=True))
    np.testing.assert_array_equal(s.y, np.float32([mean[k] for k in up_steps]))
    np.testing.assert_array_equal(s.lower, np.float32([lower[k] for k in up_steps]))
    np.testing.assert_array_equal(s.upper, np.float32(up_values))
    assert any("run sgd: the steps of acc/mean" in p for p in drawn.problems)
    assert "run baseline lacks acc/lower, acc/upper" in drawn.problems


def test_multiline_series_are_the_matched_tags_smoothed(cs_root: Path, cs: Logdir) -> None:
    chart = Chart("val", MULTILINE, ("val", "loss/val"))
    req = request(cs, smoothing=0.6)
    drawn = plot_chart(chart, cs.runs, dict(req.colours), req)
    want = [
        series_name(r, t)
        for r in sorted(CS_RUNS)
        for t in sorted(tb_rule(["val", "loss/val"], accumulate(cs_root / r).Tags()["scalars"]))
    ]
    assert [s.label for s in drawn.series] == want == [e[2] for e in drawn.entries]
    s = next(s for s in drawn.series if s.label == "val/loss (sgd)")
    _, values, _ = tb(cs_root, "sgd", "val/loss")
    last, smoothed = 0.0, []
    for i, v in enumerate(np.float32(values).astype(np.float64)):
        last = last * 0.6 + 0.4 * v
        smoothed.append(last / (1 - 0.6 ** (i + 1)))
    np.testing.assert_allclose(s.y, smoothed, rtol=1e-9)
    np.testing.assert_array_equal(s.raw_y, np.float32(values))
    assert s.mark == SYMBOLS[1]  # sgd's second matched tag ("loss/val" sorts first)


def test_plot_blocks_in_layout_order_with_the_tag_filter(cs: Logdir) -> None:
    blocks = plot_blocks(request(cs))
    titles = [b.plain.split("\n")[0].strip() for b in blocks]
    assert titles == [
        "Losses · all losses",
        "Losses · train only",
        "Losses · validation",
        "Accuracy · top1 with CI",
        "Schedule · lr",
    ]
    assert all(cell_len(line) == 90 for b in blocks for line in b.plain.split("\n"))
    train_only = blocks[1].plain
    assert "⚠ invalid regex '(unclosed'" in train_only and "Matches (3)" in train_only
    only = plot_blocks(request(cs, tag_re=re.compile("acc/upper")))
    assert [b.plain.split("\n")[0].strip() for b in only] == ["Accuracy · top1 with CI"]
    # --runs: the layout still comes from every run, the lines from the chosen ones.
    base = [r for r in cs.runs if r.name == "baseline"]
    blocks = plot_blocks(request(cs, runs=base, all_runs=cs.runs))
    assert blocks and all("(baseline)" in b.plain for b in blocks if "Matches (0)" not in b.plain)
    assert plot_blocks(request(cs, runs=base)) == []  # baseline has no layout of its own
