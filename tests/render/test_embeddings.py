"""The projector's drawings as strings at fixed sizes: braille dots where fit_dots puts them, one
colour per cell (the last point drawn), TensorBoard's colours, highlights, the cursor, the 3D
turn, the legend."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.text import Text

from tuiboard.core.embedding_metadata import parse_metadata
from tuiboard.render.embeddings import (
    CATEGORICAL,
    NEIGHBOUR,
    SELECTED,
    Colouring,
    bounds_of,
    colouring,
    fit_dots,
    gradient_colour,
    legend_lines,
    nearest_point,
    rotate,
    scatter,
)
from tuiboard.render.theme import default_theme

THEME = default_theme()
PLAIN = default_theme(color=False)


def colour_at(text: Text, row: int, col: int, width: int) -> str | None:
    style = text.get_style_at_offset(Console(), row * (width + 1) + col)
    if style.color is None or style.color.triplet is None:
        return None
    return style.color.triplet.hex


def flat(n: int) -> Colouring:
    return Colouring("", "none", ("#ff8700",), np.zeros(n, dtype=np.int32))


def test_palette_and_gradient_are_tensorboards() -> None:
    # vz-projector-data-panel.ts: d3.schemeCategory10, range[(i * 3) % 10]
    assert CATEGORICAL == (
        "#1f77b4", "#d62728", "#e377c2", "#17becf", "#2ca02c",
        "#8c564b", "#bcbd22", "#ff7f0e", "#9467bd", "#7f7f7f",
    )  # fmt: skip
    assert gradient_colour(0.0) == "#ffffdd" and gradient_colour(1.0) == "#1f2d86"
    assert gradient_colour(0.5) == "#8f96b2"  # (255+31)/2, (255+45)/2, (221+134)/2 rounded


def test_fit_dots_keeps_one_scale_and_centres() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 2.0]])
    dots = fit_dots(xy, 10, 5, bounds_of(xy))  # 20 x 20 dots
    assert np.allclose(dots[:, 0], [0, 19, 19])
    # y spans 2 of x's 10 units: 19 * 2 / 10 = 3.8 dots, centred on row 9.5
    assert np.allclose(dots[:, 1], [9.5 + 1.9, 9.5 + 1.9, 9.5 - 1.9])


def test_scatter_draws_each_point_as_a_dot() -> None:
    dots = np.array([[0, 0], [1, 3], [2, 0], [5, 7], [5.4, 6.6]], dtype=float)
    text = scatter(dots, flat(5), 3, 2, PLAIN)
    # cell (0,0): dots (0,0) and (1,3) -> bits 0x01 | 0x80; cell (1,0): (2,0) -> 0x01;
    # cell (2,1): (5,7) and (5,7) again (5.4, 6.6 rounds to it) -> 0x80
    assert text.plain == "⢁⠁ \n  ⢀"
    assert not text.spans


def test_a_cell_takes_the_colour_of_its_last_point_in_drawing_order() -> None:
    dots = np.array([[0.0, 0.0], [1.0, 1.0]])
    colours = Colouring("c", "categorical", ("#000000", "#ff0000", "#00ff00"), np.array([1, 2]))
    assert colour_at(scatter(dots, colours, 1, 1, THEME), 0, 0, 1) == "#00ff00"
    reverse = scatter(dots, colours, 1, 1, THEME, order=np.array([1, 0]))
    assert colour_at(reverse, 0, 0, 1) == "#ff0000"


def test_selection_fades_the_rest_and_marks_point_and_neighbours() -> None:
    dots = np.array([[0.0, 0.0], [4.0, 0.0], [8.0, 0.0], [12.0, 0.0]])
    text = scatter(
        dots, flat(4), 7, 1, THEME, selected=0, neighbours=np.array([1]), matches=np.array([2])
    )
    assert text.plain == "● ⠁ ⠁ ⠁"
    assert colour_at(text, 0, 0, 7) == SELECTED
    assert colour_at(text, 0, 2, 7) == NEIGHBOUR
    assert colour_at(text, 0, 4, 7) == SELECTED  # a search match
    assert colour_at(text, 0, 6, 7) == THEME.faint


def test_cursor_reverses_its_cell_or_shows_a_plus() -> None:
    dots = np.array([[0.0, 0.0]])
    text = scatter(dots, flat(1), 2, 1, THEME, cursor=(0, 0))
    style = text.get_style_at_offset(Console(), 0)
    assert text.plain == "⠁ " and style.reverse
    assert scatter(dots, flat(1), 2, 1, THEME, cursor=(1, 0)).plain == "⠁+"
    assert scatter(dots, flat(1), 2, 1, PLAIN, cursor=(0, 0)).plain == "+ "  # no colour: a +
    assert nearest_point(np.array([[0.0, 0.0], [3.0, 2.0]]), (1, 0)) == 1


def test_rotate_turns_about_the_vertical_then_the_horizontal_axis() -> None:
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    xy, depth = rotate(p, 90.0, 0.0)
    assert np.allclose(xy, [[0, 0], [0, 1], [1, 0]], atol=1e-12)  # z comes to the front-right
    assert np.allclose(depth, [-1, 0, 0], atol=1e-12)
    xy, depth = rotate(p, 0.0, 90.0)
    assert np.allclose(xy, [[1, 0], [0, 0], [0, -1]], atol=1e-12)
    assert np.allclose(depth, [0, 1, 0], atol=1e-12)
    xy, _ = rotate(np.array([[1.0, 2.0, 3.0]]), 30.0, 20.0)
    assert math.isclose(
        float(np.linalg.norm(rotate(np.array([[1.0, 2, 3]]), 30, 20)[0])), float(np.linalg.norm(xy))
    )


def test_colouring_follows_the_metadata_column() -> None:
    text = "name\tkind\tx\n" + "".join(f"n{i}\t{'ab'[i % 2]}\t{i}\n" for i in range(60))
    meta = parse_metadata(text)
    none = colouring(meta, 0, 60, "#ff8700", THEME)  # 60 names, not numeric: no colour map
    assert none.kind == "none" and none.styles == ("#ff8700",)
    cats = colouring(meta, 1, 62, "#ff8700", THEME)  # two points more than metadata rows
    assert cats.kind == "categorical" and cats.items == (
        ("a", CATEGORICAL[0], 30),
        ("b", CATEGORICAL[1], 30),
    )
    assert list(cats.ids[:4]) == [1, 2, 1, 2] and list(cats.ids[60:]) == [0, 0]
    grad = colouring(meta, 2, 60, "#ff8700", THEME)
    assert grad.kind == "gradient" and (grad.lo, grad.hi) == (0.0, 59.0)
    assert grad.styles[grad.ids[0]] == "#ffffdd" and grad.styles[grad.ids[59]] == "#1f2d86"


def test_legend_lines_fit_and_count_what_is_left() -> None:
    meta = parse_metadata("".join(f"class{i % 12}\n" for i in range(24)))
    lines = legend_lines(colouring(meta, 0, 24, "#fff", PLAIN), 40, 2, PLAIN)
    assert [line.plain for line in lines] == [
        "colour label  ■ class0 2  ■ class1 2".ljust(40),
        "■ class2 2  ■ class3 2  +8 more".ljust(40),
    ]
    assert legend_lines(colouring(None, None, 3, "#fff", PLAIN), 20, 2, PLAIN)[0].plain.startswith(
        "colour none"
    )
