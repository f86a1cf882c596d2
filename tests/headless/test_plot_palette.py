"""`tuiboard plot --palette NAME --theme light`: the run colours and the chart's own colours of
the palette and background asked for, on runs tensorboardX wrote; 24-bit escapes for the
colour-blind-safe palettes (their 256-colour neighbours are not colour-blind safe)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.color import Color, ColorSystem
from tensorboardX import SummaryWriter

from tuiboard.cli import main
from tuiboard.headless.plot import EXIT_USAGE
from tuiboard.render.theme import PALETTES, make_theme

TRUECOLOR_FG = re.compile(r"\x1b\[(?:[0-9;]*;)?38;2;(\d+);(\d+);(\d+)")
EIGHT_BIT_FG = re.compile(r"\x1b\[(?:[0-9;]*;)?38;5;(\d+)")


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    for k, name in enumerate(["a", "b", "c"]):
        with SummaryWriter(str(root / name)) as w:
            for step in range(50):
                w.add_scalar("loss", 1.0 / (step + 1 + 5 * k), step, walltime=1.7e9 + step)
    return root


def foreground(out: str) -> set[str]:
    """Every 24-bit foreground colour in `out`, and every 256-colour one as its RGB."""
    seen = {f"#{int(r):02x}{int(g):02x}{int(b):02x}" for r, g, b in TRUECOLOR_FG.findall(out)}
    for n in EIGHT_BIT_FG.findall(out):
        seen.add(Color.from_ansi(int(n)).get_truecolor().hex.lower())
    return seen


@pytest.mark.parametrize(
    ("flags", "palette", "light"),
    [
        ((), "default", False),
        (("--palette", "okabe-ito"), "okabe-ito", False),
        (("--palette", "tol-bright", "--theme", "light"), "tol-bright", True),
        (("--theme", "light"), "default", True),
    ],
)
def test_palette_and_theme(
    three_runs: Path, flags: tuple[str, ...], palette: str, light: bool
) -> None:
    # The real command, one process per case: Rich keeps a Style's first escape codes on the
    # (cached, shared) Style object, so two colour depths in one process would mix.
    env = {**os.environ, "COLORTERM": "truecolor", "PYTHONPATH": os.getcwd()}
    env.pop("NO_COLOR", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuiboard",
            "plot",
            str(three_runs),
            "--width",
            "70",
            "--color",
            *flags,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    # the default palette is exact in 256 colours and printed so; the others need 24-bit
    eight_bit = palette == "default"
    assert ("38;2;" in out) is not eight_bit and ("38;5;" in out) is eight_bit
    seen = foreground(out)

    def rgb(color: str) -> str:
        c = Color.parse(color)
        return (c.downgrade(ColorSystem.EIGHT_BIT) if eight_bit else c).get_truecolor().hex.lower()

    theme = make_theme(palette, light=light)
    want = {rgb(c) for c in theme.run_colors[:3]}
    assert want <= seen, (want, seen)
    others = {rgb(c) for p in PALETTES.values() for c in (*p.dark, *p.light)} - {
        rgb(c) for c in theme.run_colors
    }
    assert not seen & others  # no colour of another palette or background
    assert rgb(theme.text) in seen and rgb(theme.axis) in seen
    assert rgb(make_theme(palette, light=not light).text) not in seen


def test_unknown_palette_is_a_usage_error(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["plot", str(three_runs), "--palette", "rainbow"])
    assert exit_.value.code == EXIT_USAGE
    assert "okabe-ito" in capsys.readouterr().err  # argparse lists the choices
