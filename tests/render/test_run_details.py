"""The run details (render/run_details.py) and the x axis name of the step-metric mode
(render/chart.py), rendered to strings at a fixed width."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from tuiboard.core.types import RunMeta
from tuiboard.render.chart import ChartOptions, ChartSeries, draw_chart
from tuiboard.render.run_details import MAX_VALUE_CHARS, fmt_value, run_details
from tuiboard.render.theme import default_theme


def shown(renderable: object, width: int = 100) -> str:
    console = Console(width=width, color_system=None)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def test_untrusted_text_is_literal_and_clean() -> None:
    meta = RunMeta(
        display_name="[bold]x[/bold]\x1b]0;pwned\x07",
        tags=("[red]a", "b\x1b[31m"),
        notes="one\ntwo\x07",
        exit_code=3,
        summary={"s": "[link=http://x]y[/link]", "big": "z" * 70_000, "nested": {"max": 0.9}},
        console=("/runs/r/files/output.log",),
    )
    out = shown(run_details("r", "/runs/r", meta, {"lr": 0.1, "flag": True, "none": None}))
    assert "[bold]x[/bold]" in out and "pwned" not in out
    assert "[red]a, b" in out and "\x1b" not in out and "\x07" not in out
    assert [
        line.split()[-1] for line in out.splitlines() if line.split()[-1:] in (["one"], ["two"])
    ] == ["one", "two"]
    assert "failed (exit code 3)" in out
    assert "files/output.log" in out and "/runs/r/files" not in out
    assert "[link=http://x]y[/link]" in out
    assert '{"max": 0.9}' in out
    assert "lr    0.1" in out and "flag  true" in out and "none  null" in out
    assert out.count("z") < MAX_VALUE_CHARS + 100


def test_fmt_value() -> None:
    assert fmt_value(0.1) == "0.1"
    assert fmt_value(float("nan")) == "nan"
    assert fmt_value(2**63 - 1) == "9223372036854775807"
    assert fmt_value([1, "x"]) == '[1, "x"]'
    cyclic: list[object] = []
    cyclic.append(cyclic)
    assert fmt_value(cyclic) == "[[...]]"


def test_the_x_axis_names_its_step_metric() -> None:
    series = [ChartSeries("r", "blue", np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2, 3, 4]))]
    theme = default_theme(color=False)
    opts = ChartOptions(title="val/loss", x_mode="metric", x_label="epoch\x1b[31m")
    last = draw_chart(series, opts, 50, 12, theme).text().plain.splitlines()[-1]
    assert last.rstrip().endswith("epoch") and "\x1b" not in last
    assert last.split()[0] == "0"
    long = ChartOptions(title="t", x_mode="metric", x_label="a_very_long_step_metric_name")
    last = draw_chart(series, long, 50, 12, theme).text().plain.splitlines()[-1]
    assert "a_very_long_" in last and last.rstrip().endswith("…") and "name" not in last
    plain = draw_chart(series, ChartOptions(title="t"), 50, 12, theme).text().plain
    assert "epoch" not in plain
