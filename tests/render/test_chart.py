"""render_chart at fixed sizes, asserted on the rendered strings."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.theme import default_theme, run_color

THEME = default_theme()
PLAIN = default_theme(color=False)
BRAILLE = re.compile("[\u2801-\u28ff]")


def lines(t: Text) -> list[str]:
    return t.plain.split("\n")


def assert_size(t: Text, width: int, height: int) -> None:
    ls = lines(t)
    assert len(ls) == height, ls
    for line in ls:
        assert cell_len(line) == width, (line, cell_len(line))


def series(y: np.ndarray, x: np.ndarray | None = None, color: str = "red", raw=None) -> ChartSeries:  # type: ignore[no-untyped-def]
    y = np.asarray(y, dtype=np.float64)
    if x is None:
        x = np.arange(y.shape[0], dtype=np.float64)
    return ChartSeries("run", color, np.asarray(x, dtype=np.float64), y, raw)


def plot_left(t: Text) -> int:
    """Column where the plot starts (right after the y axis)."""
    for line in lines(t)[1:]:
        for i, ch in enumerate(line):
            if ch in "┤│":
                return i + 1
    raise AssertionError("no axis")


def y_labels(t: Text) -> list[str]:
    left = plot_left(t)
    return [line[: left - 1].strip() for line in lines(t)[1:]]


CASES = {
    "ramp": [series(np.linspace(0, 1, 1000))],
    "empty": [],
    "empty_series": [series(np.array([]))],
    "all_nan": [series(np.full(50, np.nan))],
    "single": [series(np.array([3.0]))],
    "constant": [series(np.full(100, 7.0))],
    "inf_only": [series(np.array([np.inf, -np.inf]))],
    "two_runs": [
        series(np.sin(np.arange(500) / 30)),
        series(np.cos(np.arange(500) / 30), color="blue"),
    ],
    "huge": [series(np.array([1e300, -1e300, 5.0]))],
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(
    ("width", "height"),
    [(1, 1), (2, 2), (5, 3), (10, 4), (17, 5), (40, 12), (80, 24), (33, 9), (160, 50)],
)
@pytest.mark.parametrize("theme", [THEME, PLAIN])
def test_exact_size(name: str, width: int, height: int, theme) -> None:  # type: ignore[no-untyped-def]
    for opts in (
        ChartOptions(title="loss/train"),
        ChartOptions(title="t" * 300, log_y=True, x_mode="relative", cursor_x=3.0),
        ChartOptions(ignore_outliers=True, x_mode="wall", x_range=(2.0, 40.0), show_axes=False),
    ):
        t = render_chart(CASES[name], opts, width, height, theme)
        assert_size(t, width, height)


def test_zero_size() -> None:
    assert render_chart(CASES["ramp"], ChartOptions(), 0, 10, THEME).plain == ""
    assert render_chart(CASES["ramp"], ChartOptions(), 10, 0, THEME).plain == ""


def test_wide_title_characters_fit() -> None:
    t = render_chart(CASES["ramp"], ChartOptions(title="损失" * 30), 41, 12, THEME)
    assert_size(t, 41, 12)
    assert lines(t)[0].endswith("…") or lines(t)[0].endswith("… ")


def test_no_color_means_no_style() -> None:
    opts = ChartOptions(title="x", cursor_x=10.0)
    y = np.sin(np.arange(100) / 5.0)
    y[20] = np.nan
    t = render_chart([series(y, raw=y)], opts, 40, 12, PLAIN)
    assert t.spans == [] and not t.style
    console = Console(width=40, color_system="256", force_terminal=True, record=True)
    console.print(t)
    assert "\x1b[" not in console.export_text(styles=True)
    t = render_chart([series(y, raw=y)], opts, 40, 12, THEME)
    assert t.spans


def test_spike_survives_downsampling() -> None:
    n = 10_000
    y = np.sin(np.arange(n) / 300.0) * 0.01
    y[4321] = 1.0
    t = render_chart([series(y)], ChartOptions(title="spike"), 40, 12, THEME)
    ls = lines(t)
    left = plot_left(t)
    dots_w = (40 - left) * 2
    want_col = left + (round(4321 / (n - 1) * (dots_w - 1)) >> 1)
    top = ls[1]
    hits = [i for i, ch in enumerate(top) if BRAILLE.match(ch)]
    assert hits == [want_col]


def test_last_point_drawn() -> None:
    y = np.zeros(5000)
    y[-1] = 1.0
    t = render_chart([series(y)], ChartOptions(), 40, 12, THEME)
    top = lines(t)[1]
    assert BRAILLE.match(top[-1])
    assert not any(BRAILLE.match(c) for c in top[:-1])


def test_nan_inf_marked_and_range_unaffected() -> None:
    x = np.arange(1000, dtype=np.float64)
    y = np.linspace(-2.0, 3.0, 1000)
    clean_t = render_chart([series(y, x)], ChartOptions(), 60, 14, THEME)
    y2 = y.copy()
    y2[100] = np.nan
    y2[500] = np.inf
    y2[900] = -np.inf
    t = render_chart([series(y2, x)], ChartOptions(), 60, 14, THEME)
    assert_size(t, 60, 14)
    assert y_labels(t) == y_labels(clean_t)
    ls = lines(t)
    left = plot_left(t)
    dots_w = (60 - left) * 2
    col = {i: left + (round(i / 999 * (dots_w - 1)) >> 1) for i in (100, 500, 900)}
    plot_bottom = 14 - 3  # title, then plot rows, then x axis line and labels
    assert ls[1][col[100]] == "×"
    assert ls[1][col[500]] == "▲"
    assert ls[plot_bottom][col[900]] == "▼"
    # The markers are styled with the theme's NaN colour.
    start = len("\n".join(ls[:1])) + 1 + col[100]
    styles = [str(s.style) for s in t.spans if s.start <= start < s.end]
    assert any(THEME.nan.lstrip("#") in s or "color(" in s or THEME.nan in s for s in styles)


def test_constant_and_single_point() -> None:
    t = render_chart([series(np.full(100, 7.0))], ChartOptions(), 40, 12, THEME)
    rows_with_dots = [line for line in lines(t)[1:] if BRAILLE.search(line)]
    assert len(rows_with_dots) == 1
    assert "7" in "".join(y_labels(t))
    t = render_chart([series(np.array([3.0]), np.array([10.0]))], ChartOptions(), 40, 12, THEME)
    assert sum(len(BRAILLE.findall(line)) for line in lines(t)) == 1


def test_all_nan_and_empty_render_axes_only() -> None:
    t = render_chart([series(np.full(30, np.nan))], ChartOptions(title="nan"), 40, 12, THEME)
    assert not BRAILLE.search(t.plain)
    assert "×" in lines(t)[1]
    t = render_chart([], ChartOptions(title="none"), 40, 12, THEME)
    assert lines(t)[0].startswith("none")
    assert not BRAILLE.search(t.plain)


def test_log_y_excludes_non_positive() -> None:
    y = np.array([-5.0, 0.0, 1.0, 10.0, 100.0, 1000.0])
    t = render_chart([series(y)], ChartOptions(log_y=True), 40, 20, THEME)
    labels = [s for s in y_labels(t) if s]
    assert labels == ["1k", "100", "10", "1"]
    assert "×" not in t.plain and "▼" not in t.plain


def test_ignore_outliers_uses_percentiles() -> None:
    rng = np.random.default_rng(0)
    y = rng.uniform(0.0, 1.0, 2000)
    y[1000] = 1e6
    full = render_chart([series(y)], ChartOptions(), 40, 12, THEME)
    trimmed = render_chart([series(y)], ChartOptions(ignore_outliers=True), 40, 12, THEME)
    assert any(s.endswith("M") or s.endswith("k") for s in y_labels(full))
    top = next(s for s in y_labels(trimmed) if s)
    assert float(top) <= 1.0


def test_later_series_colour_wins() -> None:
    y = np.linspace(0, 1, 200)
    a = series(y, color="#ff0000")
    b = series(y, color="#0000ff")
    t = render_chart([a, b], ChartOptions(), 40, 12, THEME)
    styles = {str(s.style) for s in t.spans}
    assert any("#0000ff" in s for s in styles)
    assert not any("#ff0000" in s for s in styles)


def test_raw_drawn_faint_under_smoothed() -> None:
    x = np.arange(100, dtype=np.float64)
    raw = np.where(np.arange(100) % 2 == 0, 1.0, -1.0)
    smooth = np.zeros(100)
    t = render_chart([series(smooth, x, raw=raw)], ChartOptions(), 40, 12, THEME)
    styles = {str(s.style) for s in t.spans}
    assert any(s.startswith("dim") for s in styles)
    assert "1" in y_labels(t) and "-1" in y_labels(t)


def test_smoothed_line_cells_are_not_blurred_by_raw_dots() -> None:
    from tuiboard.render.raster import draw_layers

    rng = np.random.default_rng(3)
    x = np.arange(500, dtype=np.float64)
    raw = np.sin(x / 60) + rng.normal(0, 0.3, 500)
    line = np.sin(x / 60)
    box = (0.0, 499.0, -2.5, 2.5, 60, 16)
    raw_bits, _ = draw_layers([(x, raw)], *box)
    line_bits, _ = draw_layers([(x, line)], *box)
    bits, owner = draw_layers([(x, raw), (x, line)], *box, under=1)
    on_line = line_bits != 0
    assert on_line.any() and (raw_bits[on_line] & ~line_bits[on_line]).any()  # they do overlap
    assert np.array_equal(bits[on_line], line_bits[on_line])  # the line's cells: its dots only
    assert np.array_equal(bits[~on_line], raw_bits[~on_line])  # elsewhere the faint raw dots
    assert (owner[on_line] == 2).all() and (owner[~on_line & (raw_bits != 0)] == 1).all()


def test_markup_and_escapes_in_title_literal() -> None:
    t = render_chart(CASES["ramp"], ChartOptions(title="[bold red]x[/]\x1b[31m\x07"), 40, 12, THEME)
    assert lines(t)[0].rstrip() == "[bold red]x[/]"


def test_cursor_line() -> None:
    t = render_chart([series(np.zeros(100))], ChartOptions(cursor_x=50.0), 40, 12, THEME)
    left = plot_left(t)
    dots_w = (40 - left) * 2
    col = left + (round(50 / 99 * (dots_w - 1)) >> 1)
    assert lines(t)[1][col] == "│"


def test_zoom_runs_line_to_both_edges() -> None:
    y = np.linspace(0.0, 1.0, 1001)
    t = render_chart([series(y)], ChartOptions(x_range=(200.0, 400.0)), 40, 12, THEME)
    left = plot_left(t)
    cols_with_dots = {i for line in lines(t)[1:] for i, c in enumerate(line) if BRAILLE.match(c)}
    assert left in cols_with_dots and 39 in cols_with_dots
    xl = lines(t)[-1]
    assert "200" in xl and "400" in xl and "600" not in xl


def test_x_modes_label_time() -> None:
    x = np.arange(0.0, 7200.0, 10.0)
    y = np.sin(x / 100.0)
    t = render_chart([series(y, x)], ChartOptions(x_mode="relative"), 60, 12, THEME)
    assert "1h" in lines(t)[-1]
    x_wall = x + 1_700_000_000.0
    t = render_chart([series(y, x_wall)], ChartOptions(x_mode="wall"), 60, 12, THEME)
    assert re.search(r"\d\d:\d\d", lines(t)[-1])


def test_sixteen_runs_colours_distinct() -> None:
    colors = [run_color(THEME, i) for i in range(10)]
    assert len(set(colors)) == 10
    assert run_color(THEME, 12) == run_color(THEME, 12 - len(THEME.run_colors))


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(-1e6, 1e6),
        ),
        max_size=200,
    ),
    st.integers(1, 120),
    st.integers(1, 40),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["step", "relative", "wall"]),
)
def test_any_data_any_size(values, width, height, log_y, outliers, x_mode) -> None:  # type: ignore[no-untyped-def]
    y = np.array(values, dtype=np.float64)
    x = np.arange(y.shape[0], dtype=np.float64) * 7.0 + (1.7e9 if x_mode == "wall" else 0.0)
    opts = ChartOptions(title="t", log_y=log_y, ignore_outliers=outliers, x_mode=x_mode)
    t = render_chart([series(y, x, raw=y[::-1].copy())], opts, width, height, THEME)
    assert_size(t, width, height)


def test_tiny_range_labels_distinct() -> None:
    y = 1.0 + np.random.default_rng(0).normal(0, 1e-7, 100)
    t = render_chart([series(y)], ChartOptions(), 50, 12, THEME)
    labels = [s for s in y_labels(t) if s]
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    assert float(labels[0]) > float(labels[-1])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(2, 60), st.integers(1, 12))
def test_column_reduction_draws_the_full_series(seed: int, n: int, cols: int, rows: int) -> None:
    from tuiboard.render.chart import _column_points
    from tuiboard.render.raster import draw_layers

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1000.0, n))
    y = rng.normal(size=n).cumsum()
    y[rng.integers(0, n, 3)] *= 20.0
    x_lo, x_hi = float(x[0]), float(x[-1]) + 1.0
    y_lo, y_hi = float(y.min()), float(y.max()) + 1e-9
    sx = (2 * cols - 1) / (x_hi - x_lo)
    reduced = _column_points(x, y, x_lo, sx, 2 * cols)
    full = draw_layers([(x, y)], x_lo, x_hi, y_lo, y_hi, cols, rows)
    got = draw_layers([reduced], x_lo, x_hi, y_lo, y_hi, cols, rows)
    assert np.array_equal(full[0], got[0])
    assert reduced[0].shape[0] <= min(n, 4 * 2 * cols)
