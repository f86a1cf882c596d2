"""`tuiboard plot`: one-shot charts on stdout, drawn by the same renderers as the app.

Owns: the `plot` subcommand's handler (`plot_main`; its parser is in plot_args.py, which
cli.py imports without loading Rich) and
`plot_texts`, which turns a logdir into the list of Texts to print (scalar charts with a legend,
or the latest histogram of each tag as bars, or distributions).
Must not import: textual or tuiboard.ui (it runs where no terminal is attached).

Colours follow the app: run i of the logdir's sorted runs gets run_color(theme, i); smoothing is
TensorBoard's debiased EMA on the full step-sorted series before any downsampling. Output is
plain text (no escape codes at all) when stdout is not a terminal or NO_COLOR is set, unless
--color is given.

Exit codes: 0 charts printed; 1 no run/tag matched (nothing to plot); 2 usage error (bad
regex, smoothing outside [0, 1), size too small).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.text import Text

from tuiboard.core.types import HISTOGRAMS, SCALARS
from tuiboard.dashboards import BY_NAME
from tuiboard.export import store_refused
from tuiboard.headless.plot_args import DEFAULT_HEIGHT, DEFAULT_WIDTH
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.histogram import distribution_chart, histogram_bars, histogram_stats
from tuiboard.render.numbers import fmt_value
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.sanitize import clean
from tuiboard.render.scalar_series import prepare_series
from tuiboard.render.theme import Theme, color_wanted, default_theme, run_color

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tuiboard.core.logdir import Logdir
    from tuiboard.core.types import HistogramValue

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2


class PlotUsageError(Exception):
    """A bad argument found after parsing; exit code 2."""


def _regex(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as e:
        raise PlotUsageError(f"bad {what} regex {pattern!r}: {e}") from None


def _check_smoothing(smoothing: float) -> None:
    if not 0.0 <= smoothing < 1.0 or math.isnan(smoothing):
        raise PlotUsageError(f"--smoothing must be in [0, 1), not {smoothing}")


def _legend(series: list[ChartSeries], width: int, theme: Theme) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    for i, s in enumerate(series):
        if i:
            line.append("  ")
        line.append("━━", style=s.color if theme.color else "")
        line.append(" " + clean(s.label), style=theme.text if theme.color else "")
    return fit_text(line, width)


def plot_texts(
    logdir: Logdir,
    *,
    tags: str | None = None,
    runs: str | None = None,
    kind: str = "scalars",
    smoothing: float = 0.6,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    x_mode: str = "step",
    log_y: bool = False,
    ignore_outliers: bool = False,
    raw: bool = False,
    theme: Theme | None = None,
) -> list[Text]:
    """The blocks to print, in tag order (each block: lines of exactly `width` cells)."""
    _check_smoothing(smoothing)
    if width < 20 or height < 5:
        raise PlotUsageError("--width must be at least 20 and --height at least 5")
    theme = theme or default_theme()
    tag_re = _regex(tags, "tag")
    run_re = _regex(runs, "run")
    all_runs = logdir.runs
    colour = {r.name: run_color(theme, i) for i, r in enumerate(all_runs)}
    chosen = [r for r in all_runs if run_re is None or run_re.search(r.name)]
    data_kind = SCALARS if kind == "scalars" else HISTOGRAMS
    tag_names = sorted({t for r in chosen for t in r.tags(data_kind)})
    tag_names = [t for t in tag_names if tag_re is None or tag_re.search(t)]
    blocks: list[Text] = []
    for tag in tag_names:
        if kind == "scalars":
            series = []
            for r in chosen:
                if tag not in r.tags(SCALARS):
                    continue
                s = r.scalars(tag, raw=raw)
                if len(s) == 0:
                    continue
                series.append(
                    prepare_series(
                        r.name, colour[r.name], s.step, s.wall_time, s.value, smoothing, x_mode
                    )
                )
            if not series:
                continue
            opts = ChartOptions(
                title=tag, log_y=log_y, ignore_outliers=ignore_outliers, x_mode=x_mode
            )
            chart = render_chart(series, opts, width, height, theme)
            blocks.append(join_lines([chart, _legend(series, width, theme)]))
            continue
        for r in chosen:
            if tag not in r.tags(HISTOGRAMS):
                continue
            hs = r.histograms(tag)
            if not hs:
                continue
            blocks.append(
                _histogram_block(
                    tag, r.name, hs, kind, width, height, x_mode, theme, colour[r.name]
                )
            )
    return blocks


def _histogram_block(
    tag: str,
    run_name: str,
    hs: Sequence[HistogramValue],
    kind: str,
    width: int,
    height: int,
    x_mode: str,
    theme: Theme,
    color: str,
) -> Text:
    last = hs[-1]
    head = Text(clean(tag), style=f"bold {theme.text}" if theme.color else "")
    head.append(" · ")
    head.append(clean(run_name), style=color if theme.color else "")
    if kind == "histograms":
        head.append(f" · step {last.step}")
        body = histogram_bars(last, width, height - 2, theme, color)
    else:
        head.append(f" · {len(hs)} steps")
        body = distribution_chart(hs, width, height - 2, theme, color, x_mode=x_mode)
    st = histogram_stats(last)
    stats = Text(
        "  ".join(f"{k} {fmt_value(st[k])}" for k in ("count", "min", "max", "mean", "std")),
        style=theme.faint if theme.color else "",
    )
    return join_lines([fit_text(head, width), body, fit_text(stats, width)])


def grid(blocks: list[Text], columns: int, gap: int = 2) -> list[Text]:
    """Blocks laid out `columns` per row (joined line by line, `gap` blank cells between);
    a short block is padded with blank lines. Every block's lines must have one width."""
    if columns <= 1:
        return blocks
    rows: list[Text] = []
    for start in range(0, len(blocks), columns):
        group = [b.split("\n") for b in blocks[start : start + columns]]
        height = max(len(g) for g in group)
        lines = []
        for i in range(height):
            line = Text(no_wrap=True, overflow="crop")
            for k, g in enumerate(group):
                if k:
                    line.append(" " * gap)
                if i < len(g):
                    line.append_text(g[i])
                else:
                    line.append(" " * g[0].cell_len)
            lines.append(line)
        rows.append(join_lines(lines))
    return rows


def write_blocks(
    blocks: list[Text], out: TextIO, width: int, color: bool, *, truecolor: bool = False
) -> None:
    """Print the blocks separated by blank lines: plain text, or 256-colour ANSI (24-bit when
    the terminal says it takes it: images)."""
    if not color:
        out.write("\n\n".join(b.plain for b in blocks) + "\n")
        return
    console = Console(
        file=out,
        width=width,
        color_system="truecolor" if truecolor else "256",
        force_terminal=True,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        legacy_windows=False,
    )
    for i, b in enumerate(blocks):
        if i:
            console.print()
        console.print(b)


def plot_main(args: argparse.Namespace) -> int:
    """The `plot` subcommand. See the module docstring for exit codes."""
    import tuiboard

    out = sys.stdout
    color = color_wanted(out, getattr(args, "color", None))
    width = args.width
    if width is None:
        width = (
            shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
            if out.isatty()
            else (DEFAULT_WIDTH)
        )
    columns = max(1, getattr(args, "columns", 1) or 1)
    chart_width = (width - 2 * (columns - 1)) // columns
    truecolor = os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit")
    dash = BY_NAME.get(args.kind)
    try:
        logdir = tuiboard.open(*(args.logdirs or ["."]))
        if store_refused(logdir, sys.stderr):  # a remote store refused: one line, exit 2
            return EXIT_USAGE
        if dash is not None and dash.plot is not None:
            if chart_width < 20 or args.height < 5:
                raise PlotUsageError("--width must be at least 20 and --height at least 5")
            _check_smoothing(args.smoothing)
            run_re = _regex(args.runs, "run")
            theme = default_theme(color)
            all_runs = logdir.runs
            request = PlotRequest(
                runs=[r for r in all_runs if run_re is None or run_re.search(r.name)],
                tag_re=_regex(args.tags, "tag"),
                step=getattr(args, "step", None),
                width=chart_width,
                height=args.height,
                theme=theme,
                colours={r.name: run_color(theme, i) for i, r in enumerate(all_runs)},
                truecolor=truecolor,
                as_json=bool(getattr(args, "json", False)),
                depth=max(0, int(getattr(args, "depth", 2) or 0)),
                smoothing=args.smoothing,
                x_mode=args.x_mode,
                log_y=args.log_y,
                ignore_outliers=args.ignore_outliers,
                raw=args.raw,
                all_runs=all_runs,
            )
            blocks = dash.load_plot()(request)
            if not blocks:
                print(
                    f"tuiboard plot: no {args.kind} data matched (see tuiboard ls)", file=sys.stderr
                )
                return EXIT_NOTHING
            if request.as_json:
                out.write("".join(b.plain + "\n" for b in blocks))
                return EXIT_OK
            write_blocks(grid(blocks, columns), out, width, color, truecolor=truecolor)
            return EXIT_OK
        blocks = plot_texts(
            logdir,
            tags=args.tags,
            runs=args.runs,
            kind=args.kind,
            smoothing=args.smoothing,
            width=chart_width,
            height=args.height,
            x_mode=args.x_mode,
            log_y=args.log_y,
            ignore_outliers=args.ignore_outliers,
            raw=args.raw,
            theme=default_theme(color),
        )
    except PlotUsageError as e:
        print(f"tuiboard plot: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not blocks:
        what = "histogram" if args.kind != "scalars" else "scalar"
        print(f"tuiboard plot: no {what} tag matched (see tuiboard ls)", file=sys.stderr)
        return EXIT_NOTHING
    write_blocks(grid(blocks, columns), out, width, color)
    return EXIT_OK
