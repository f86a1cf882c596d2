"""`tuiboard plot`: one-shot charts on stdout, drawn by the same renderers as the app.

Owns: the `plot` subcommand's handler (`plot_main`; its parser is in plot_args.py, which
cli.py imports without loading Rich) and
`plot_texts`, which turns a logdir into the list of Texts to print (scalar charts with a legend,
or the latest histogram of each tag as bars, or distributions).
Must not import: textual or tuiboard.ui (it runs where no terminal is attached).

Colours follow the app: run i of the logdir's sorted runs gets run_color(theme, i) of --palette
(for a light terminal with --theme light; the app's settings file is not read); smoothing is
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

from tuiboard.core.query import QueryError
from tuiboard.core.run_filter import RunFilter
from tuiboard.core.types import HISTOGRAMS, SCALARS
from tuiboard.dashboards import BY_NAME
from tuiboard.export import store_refused
from tuiboard.headless.groups import logdir_groups, spec_from_args
from tuiboard.headless.plot_args import DEFAULT_HEIGHT, DEFAULT_WIDTH
from tuiboard.headless.run_query import explain, run_filter
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.group_series import describe_spec, drawn, grouped_series
from tuiboard.render.histogram import distribution_chart, histogram_bars, histogram_stats
from tuiboard.render.numbers import fmt_value
from tuiboard.render.plot_request import PlotRequest
from tuiboard.render.sanitize import clean
from tuiboard.render.scalar_series import metric_axis_name, prepare_series, step_metric
from tuiboard.render.theme import (
    DEFAULT_PALETTE,
    Theme,
    color_wanted,
    default_theme,
    make_theme,
    run_color,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from tuiboard.core.grouping import GroupSpec
    from tuiboard.core.logdir import Logdir, Run
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


def _runs_filter(text: str | None) -> RunFilter:
    try:
        return run_filter(text)
    except QueryError as e:
        raise PlotUsageError(explain(e, text or "")) from None


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
    group: GroupSpec | None = None,
) -> list[Text]:
    """The blocks to print, in tag order (each block: lines of exactly `width` cells).
    `group`: runs grouped into one line with a band each (render/group_series.py)."""
    _check_smoothing(smoothing)
    if width < 20 or height < 5:
        raise PlotUsageError("--width must be at least 20 and --height at least 5")
    theme = theme or default_theme()
    tag_re = _regex(tags, "tag")
    all_runs = logdir.runs
    colour = {r.name: run_color(theme, i) for i, r in enumerate(all_runs)}
    chosen = _runs_filter(runs).select(all_runs)
    data_kind = SCALARS if kind == "scalars" else HISTOGRAMS
    tag_names = sorted({t for r in chosen for t in r.tags(data_kind)})
    tag_names = [t for t in tag_names if tag_re is None or tag_re.search(t)]
    groups = [] if group is None else logdir_groups(group, chosen, all_runs)
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
                metric = _step_metric(r, tag, raw) if x_mode == "metric" else None
                series.append(
                    prepare_series(
                        r.name,
                        colour[r.name],
                        s.step,
                        s.wall_time,
                        s.value,
                        smoothing,
                        x_mode,
                        metric=metric,
                    )
                )
            if not series:
                continue
            opts = ChartOptions(
                title=tag,
                log_y=log_y,
                ignore_outliers=ignore_outliers,
                x_mode=x_mode,
                x_label=metric_axis_name(chosen, tag) if x_mode == "metric" else "",
            )
            if group is not None:
                series = drawn(grouped_series(series, groups, group))
            chart = render_chart(series, opts, width, height, theme)
            lines = [chart, _legend(series, width, theme)]
            if group is not None:
                note = Text(
                    f"groups: {describe_spec(group)}", style=theme.faint if theme.color else ""
                )
                lines.append(fit_text(note, width))
            blocks.append(join_lines(lines))
            continue
        for r in chosen:
            if tag not in r.tags(HISTOGRAMS):
                continue
            hs = r.histograms(tag)
            if not hs:
                continue
            hx = "step" if x_mode == "metric" else x_mode  # histograms have no step metric
            blocks.append(
                _histogram_block(tag, r.name, hs, kind, width, height, hx, theme, colour[r.name])
            )
    return blocks


def _step_metric(run: Run, tag: str, raw: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """The (steps, values) of `tag`'s step metric in `run` (W&B's define_metric(step_metric=),
    RunMeta.step_metrics), or None when the tag has none there: it is drawn against its steps."""
    name = step_metric(run, tag)
    if name is None or name not in run.tags(SCALARS):
        return None
    m = run.scalars(name, raw=raw)
    return m.step, m.value


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


def _theme(args: argparse.Namespace, color: bool) -> Theme:
    """--palette and --theme (light: colours for a light terminal background)."""
    palette = getattr(args, "palette", None) or DEFAULT_PALETTE
    return make_theme(palette, light=getattr(args, "theme", "dark") == "light", color=color)


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
        try:
            group = spec_from_args(args)
        except ValueError as e:
            raise PlotUsageError(str(e)) from None
        if group is not None and args.kind != "scalars":
            raise PlotUsageError("--group/--group-by draw scalars only")
        logdir = tuiboard.open(*(args.logdirs or ["."]))
        if store_refused(logdir, sys.stderr):  # a remote store refused: one line, exit 2
            return EXIT_USAGE
        if dash is not None and dash.plot is not None:
            if chart_width < 20 or args.height < 5:
                raise PlotUsageError("--width must be at least 20 and --height at least 5")
            _check_smoothing(args.smoothing)
            runs_filter = _runs_filter(args.runs)
            theme = _theme(args, color)
            all_runs = logdir.runs
            request = PlotRequest(
                runs=runs_filter.select(all_runs),
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
            theme=_theme(args, color),
            group=group,
        )
    except PlotUsageError as e:
        print(f"tuiboard plot: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not blocks:
        what = "histogram" if args.kind != "scalars" else "scalar"
        print(f"tuiboard plot: no {what} tag matched (see tuiboard ls)", file=sys.stderr)
        return EXIT_NOTHING
    # The default palette is exact in the 256-colour cube (so is its light variant): 256-colour
    # output loses nothing. The colour-blind-safe ones are not, and their 256-colour neighbours
    # are not colour-blind safe (tests/render/test_theme.py): 24-bit where the terminal takes it.
    exact = getattr(args, "palette", None) in (None, DEFAULT_PALETTE)
    write_blocks(grid(blocks, columns), out, width, color, truecolor=truecolor and not exact)
    return EXIT_OK
