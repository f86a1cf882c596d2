"""Renderers on a light background: the depth cue of the mesh fades toward the background (so
far edges get lighter, not darker), and nothing a renderer styles keeps a dark-background
colour (the theme's colours are used, not constants)."""

from __future__ import annotations

import numpy as np

from tests.render.test_mesh import T0
from tuiboard.core.mesh import MeshFrame, mesh_sample
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.mesh import Camera, mesh_text
from tuiboard.render.theme import make_theme


def lightness(r: int, g: int, b: int) -> float:
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_mesh_fades_toward_the_light_background() -> None:
    # The red point in front, the green ones at the sphere's middle (farther): on a light
    # background the farther ones are lighter than their own colour, on a dark one darker.
    v = np.array([[0, 0, 1], [0, 0, -1], [1, 1, 0], [-1, -1, 0]], dtype=np.float32)
    c = np.array([[255, 0, 0], [0, 0, 255], [0, 128, 0], [0, 128, 0]], dtype=np.uint8)
    sample = mesh_sample(MeshFrame(0, T0, v[None], None, c[None]), 0)
    assert not isinstance(sample, str)
    greens = {}
    for light in (False, True):
        theme = make_theme(light=light)
        text = mesh_text(sample, Camera(yaw=0, tilt=0), 21, 11, "#ffffff", theme)
        found = {s.style.color.get_truecolor() for s in text.spans}  # type: ignore[union-attr]
        greens[light] = [t for t in found if t.green > t.red and t.green > t.blue]
        assert greens[light]
    assert all(lightness(*g) < lightness(0, 128, 0) for g in greens[False])
    assert all(lightness(*g) > lightness(0, 128, 0) for g in greens[True])
    assert all(g.red == g.blue > 0 for g in greens[True])  # toward #e0e0e0: grey added


def test_chart_uses_the_light_theme_colours() -> None:
    theme = make_theme("okabe-ito", light=True)
    x = np.arange(50, dtype=np.float64)
    series = [ChartSeries(f"run{i}", theme.run_colors[i], x, np.sin(x / 8 + i)) for i in range(3)]
    text = render_chart(series, ChartOptions(title="loss"), 60, 14, theme)
    styles = {str(s.style) for s in text.spans}
    used = " ".join(styles)
    for colour in (*theme.run_colors[:3], theme.axis):
        assert colour in used, colour
    dark = make_theme("okabe-ito")
    for colour in (dark.text, dark.axis, dark.grid, *dark.run_colors):
        assert colour not in used, colour
