"""The `plot` subcommand's argument parser, apart from plot.py so that building the command line
loads no renderer (and so no Rich) for the other, plain-text subcommands.

Must not import: rich, textual, tuiboard.render (but render/theme.py: plain data, no Rich).
"""

from __future__ import annotations

import argparse

from tuiboard.core.query import RUNS_HELP
from tuiboard.dashboards import plot_kind_names
from tuiboard.headless.groups import add_group_args
from tuiboard.render.theme import DEFAULT_PALETTE, palette_names

DEFAULT_HEIGHT = 15
DEFAULT_WIDTH = 100
"""Width when stdout is not a terminal (a terminal's own width is used otherwise)."""
KINDS = tuple(plot_kind_names())
"""scalars, histograms, distributions and every dashboard's kind (tuiboard/dashboards.py)."""


def add_plot_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `plot` to cli.py's subparsers; the handler is `plot_main`."""
    p = sub.add_parser(
        "plot",
        help="print charts of the matching tags (CI logs, ssh without a TTY)",
        description="Print a chart per matching tag with every matching run overlaid, with "
        "the app's smoothing, downsampling and colours; --kind histograms prints the latest "
        "histogram of each tag as bars; images, text, pr_curves, hparams, audio (waveforms) and "
        "mesh (wireframes from the default view) print what their tab shows. No colour when "
        "piped unless --color (images then use a luminance ramp). "
        "Exit status: 0, 1 when nothing matched, 2 on a usage error.",
    )
    p.add_argument("logdirs", nargs="*", metavar="LOGDIR", help="directories to read (default: .)")
    p.add_argument("--tags", "-t", metavar="REGEX", help="tags to plot (default: every tag)")
    p.add_argument("--runs", metavar="QUERY", help=RUNS_HELP)
    p.add_argument(
        "--kind",
        choices=KINDS,
        default="scalars",
        metavar="KIND",
        help="what to draw: " + ", ".join(KINDS) + " (default scalars)",
    )
    p.add_argument(
        "--step",
        type=int,
        metavar="N",
        help="images, text, PR curves, audio, mesh: the value at step N (the last one at or "
        "before it; default: the latest)",
    )
    p.add_argument(
        "--json", action="store_true", help="hparams: one JSON object per run instead of a table"
    )
    p.add_argument(
        "--depth",
        type=int,
        default=2,
        metavar="N",
        help="graph: levels of the name-scope tree printed (default 2)",
    )
    p.add_argument(
        "--smoothing",
        type=float,
        default=0.6,
        metavar="W",
        help="debiased EMA weight in [0, 1) as TensorBoard's slider (default 0.6; 0 = off)",
    )
    p.add_argument(
        "--width",
        type=int,
        metavar="W",
        help=f"chart width in cells (default: the terminal's, or {DEFAULT_WIDTH} when piped)",
    )
    p.add_argument(
        "--height",
        type=int,
        default=DEFAULT_HEIGHT,
        metavar="H",
        help=f"chart height in lines (default {DEFAULT_HEIGHT})",
    )
    p.add_argument(
        "--x",
        dest="x_mode",
        choices=("step", "relative", "wall", "metric"),
        default="step",
        help="x axis: step (default), relative (time since the run's first point), "
        "wall (clock time), metric (a tag's W&B step metric, define_metric(step_metric=); "
        "tags without one keep their steps)",
    )
    p.add_argument(
        "--columns",
        type=int,
        default=1,
        metavar="N",
        help="charts side by side, N per row, sharing the width (default 1)",
    )
    p.add_argument("--log-y", action="store_true", help="logarithmic y axis")
    p.add_argument(
        "--ignore-outliers",
        action="store_true",
        help="y range from the 5th-95th percentiles (TensorBoard's option)",
    )
    p.add_argument(
        "--raw", action="store_true", help="every point as written (no restart handling)"
    )
    add_group_args(p)
    p.add_argument(
        "--palette",
        choices=palette_names(),
        default=DEFAULT_PALETTE,
        metavar="NAME",
        help="run colours: "
        + ", ".join(palette_names())
        + " (all but default are colour-blind safe; default: default)",
    )
    p.add_argument(
        "--theme",
        choices=("dark", "light"),
        default="dark",
        help="colours for a dark (default) or light terminal background",
    )
    colour = p.add_mutually_exclusive_group()
    colour.add_argument(
        "--color", dest="color", action="store_true", default=None, help="colour even when piped"
    )
    colour.add_argument(
        "--no-color", dest="color", action="store_false", help="never colour (as NO_COLOR)"
    )
    return p
