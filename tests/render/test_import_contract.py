"""render/ and `tuiboard plot` never import textual (they run where no terminal is attached)."""

from __future__ import annotations

import subprocess
import sys


def test_render_and_plot_do_not_import_textual() -> None:
    code = """
import sys
import numpy as np
import tuiboard.render.axes, tuiboard.render.canvas
import tuiboard.render.numbers, tuiboard.render.sanitize, tuiboard.render.smoothing
import tuiboard.render.sparkline, tuiboard.render.theme, tuiboard.render.raster
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.histogram import distribution_chart
import tuiboard.headless.plot
from tuiboard.render.theme import default_theme
x = np.arange(10.0)
render_chart([ChartSeries("a", "red", x, x)], ChartOptions(title="t"), 30, 8, default_theme())
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] == "textual")))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"imported: {out.stdout.strip()}"
