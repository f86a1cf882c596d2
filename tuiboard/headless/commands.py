"""The headless subcommands' argument parsers and handlers, the `--watch` loop, and the summary
`tuiboard LOGDIR` prints when stdout is not a terminal.

Owns: `add_parsers` and `HANDLERS` (cli.py plugs them in), Monitor (one tick of `--watch`: rows
at a time plus the alerts of the transitions since the previous tick) and the three ways a watch
is shown: a Rich live table on a terminal, a new plain block when piped (only when a run's data
or status changed, so a log does not grow while nothing happens), and JSON lines (a run's line
again each time its data or status changes); GroupView does the same for `--group`.
Must not import: textual.

Exit codes: summary and compare exit 0, or 2 on a usage/input error; check's are in check.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from tuiboard.core.gc_pause import collector_paused
from tuiboard.core.query import RUNS_HELP
from tuiboard.headless.alerts import Alert, AlertRunner, AlertTracker
from tuiboard.headless.check import DEFAULT_FAIL_ON, EXIT_ERROR, parse_fail_on, write_check
from tuiboard.headless.groups import add_group_args, spec_from_args
from tuiboard.headless.health import SEVERITY, parse_duration
from tuiboard.headless.oneshot import one_shot
from tuiboard.headless.run_query import run_filter, runs_problem
from tuiboard.headless.summary import (
    RICH_TABLE_ROWS,
    Row,
    Summarizer,
    json_lines,
    plain,
    plain_lines,
    rich_table,
    sort_rows,
    styled_lines,
)

if TYPE_CHECKING:
    from tuiboard.core.grouping import GroupSpec
    from tuiboard.core.logdir import Logdir
    from tuiboard.core.types import ReadWarning

DEFAULT_WATCH = 2.0
"""Seconds between reprints of `summary --watch` without a number."""

FALLBACK_HINT = (
    "tuiboard: stdout is not a terminal, so this is `tuiboard summary` instead of the app "
    "(see tuiboard summary --help; check and compare exist too)"
)


class UsageError(Exception):
    """Bad arguments found after parsing (a regex, a duration); exit code 2."""


# --- parsers ------------------------------------------------------------------------------------


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("logdirs", nargs="*", metavar="LOGDIR", help="directories to read (default: .)")
    p.add_argument("--runs", metavar="QUERY", help=RUNS_HELP)
    p.add_argument(
        "--tags",
        "-t",
        metavar="REGEX",
        help="tag columns: the tags matching (default: loss/accuracy/lr-like ones)",
    )
    p.add_argument(
        "--stall-after",
        type=_duration,
        metavar="DURATION",
        help="stalled after this long without data (300, 90s, 5m, 2h; default: ten times the "
        "run's median interval between writes, at least 5m)",
    )
    p.add_argument(
        "--since",
        type=_duration,
        metavar="DURATION",
        help="only runs that wrote within DURATION (such as 1d): leaves out long-finished runs "
        "whose writer never said so (PyTorch, tensorboardX), which would count as stalled",
    )
    p.add_argument("--json", action="store_true", help="JSON lines (a stable contract)")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add summary, check and compare to cli.py's subparsers."""
    p = sub.add_parser(
        "summary",
        help="one row per run: status, step, rate, last and best values",
        description="One row per run: status (live, stalled, finished, diverged, failed, damaged), "
        "last step, recent rate, time since the last write, and the last and best value of "
        "the chosen tags. A table on a terminal, aligned text when piped, JSON lines with "
        "--json. Exit status: 0, or 2 on a usage error.",
    )
    _common(p)
    p.add_argument(
        "--sort",
        default="name",
        metavar="KEY",
        help="name (default), status (worst first), step, rate, idle, or a shown tag (best "
        "first); -KEY reverses",
    )
    p.add_argument(
        "--watch",
        nargs="?",
        const=str(DEFAULT_WATCH),
        metavar="SECONDS",
        help=f"keep showing it, every SECONDS (default {DEFAULT_WATCH:g}); piped, a new block "
        "is printed only when something changed",
    )
    p.add_argument("--poll", type=float, metavar="SECONDS", help="poll instead of inotify (NFS)")
    p.add_argument(
        "--on-alert",
        metavar="CMD",
        help="with --watch: run this shell command each time a run becomes stalled, diverged, "
        "failed or damaged; it gets TUIBOARD_RUN, TUIBOARD_STATUS, TUIBOARD_TAG, TUIBOARD_STEP, "
        "TUIBOARD_VALUE, TUIBOARD_REASON",
    )
    add_group_args(p)

    p = sub.add_parser(
        "check",
        help="print unhealthy runs; exit 1 if one has a --fail-on status",
        description="Print the runs that are stalled, diverged, failed or damaged. Exit status: "
        "0 when no run has a status in --fail-on, 1 when one does, 2 on a usage or input error "
        "(such as a logdir that does not exist).",
    )
    _common(p)
    p.add_argument(
        "--fail-on",
        default=DEFAULT_FAIL_ON,
        metavar="STATUSES",
        help=f"comma-separated statuses that make the exit status 1 (default {DEFAULT_FAIL_ON}; "
        f"any of {', '.join(SEVERITY)})",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when nothing fails")

    p = sub.add_parser(
        "compare",
        help="hyper-parameters, config and final values of runs side by side",
        description="Hyper-parameters and config side by side, differing keys first, then the "
        "last and best value of every scalar tag the runs share. Each RUN is a run directory "
        "or a logdir (all its runs), optionally NAME:PATH. Exit status: 0, or 2 on a usage "
        "error (fewer than two runs).",
    )
    p.add_argument("paths", nargs="+", metavar="RUN", help="run directories or logdirs")
    p.add_argument("--runs", metavar="QUERY", help=RUNS_HELP)
    p.add_argument("--only-diff", action="store_true", help="only the keys that differ")
    p.add_argument("--json", action="store_true", help="one JSON object (a stable contract)")


# --- helpers ------------------------------------------------------------------------------------


def _regex(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    try:
        re.compile(text)
    except re.error as e:
        raise UsageError(f"bad {what} regex {text!r}: {e}") from None
    return text


def _checked_runs(text: str | None) -> str | None:
    """--runs must be a good regex or query (the Summarizer and compare compile it again)."""
    problem = runs_problem(text)
    if problem is not None:
        raise UsageError(problem)
    return text


def _open(specs: Sequence[str], load: bool = True) -> Logdir:
    import tuiboard

    return tuiboard.open(*(list(specs) or ["."]), load=load)


def _missing_roots(logdir: Logdir) -> list[str]:
    unlisted = {w.file for w in logdir.warnings if w.message.startswith("cannot list")}
    return [
        p for _, p in logdir.roots if p in unlisted or ("://" not in p and not os.path.isdir(p))
    ]


def _warn_logdir(logdir: Logdir, err: TextIO) -> None:
    _warn(logdir.warnings, err)


def _warn(warnings: Sequence[ReadWarning], err: TextIO, problems: Sequence[str] = ()) -> None:
    for w in warnings:
        err.write(f"tuiboard: warning: {plain(w.file)}: {plain(w.message)}\n")
    for problem in problems:
        err.write(f"tuiboard: warning: {plain(problem)}\n")


def _summarizer(args: argparse.Namespace) -> Summarizer:
    return Summarizer(
        tags_re=_regex(args.tags, "--tags"),
        runs_query=_checked_runs(args.runs),
        stall_after=args.stall_after,
        since=args.since,
    )


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except UsageError as e:
            sys.stderr.write(f"tuiboard {args.command}: error: {e}\n")
            return EXIT_ERROR

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _end(args: argparse.Namespace, code: int) -> int:
    """The end of a one-shot command. When this process is the `tuiboard` program (cli.main
    sets `args.exit_when_done`), it ends here, its output flushed, without freeing what the
    command made (os._exit: ~0.1 s at 10,000 runs, objects of a store that dies with it)."""
    if getattr(args, "exit_when_done", False):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    return code


def _sorted(rows: list[Row], key: str) -> list[Row]:
    try:
        return sort_rows(rows, key)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _sorted_watch(rows: list[Row], key: str) -> list[Row]:
    """While watching, a sort tag that went away sorts by name rather than stopping the watch
    (the key was checked against the first rows)."""
    try:
        return sort_rows(rows, key)
    except ValueError:
        return sort_rows(rows, "name")


def _status_counts(rows: Sequence[Row]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.health.status] = counts.get(r.health.status, 0) + 1
    parts = ", ".join(f"{counts[s]} {s}" for s in SEVERITY if s in counts)
    return f"{len(rows)} run{'s' if len(rows) != 1 else ''}" + (f": {parts}" if parts else "")


def print_summary(
    rows: list[Row], tags: list[str], out: TextIO, *, as_json: bool, terminal: bool
) -> None:
    """One summary, in the form that suits `out`."""
    if as_json:
        for line in json_lines(rows):
            out.write(line + "\n")
        return
    if terminal:
        from rich.console import Console

        if not rows:
            out.write("no runs found\n")
            return
        if len(rows) <= RICH_TABLE_ROWS:
            Console(file=out).print(rich_table(rows, tags))
        else:
            lines = styled_lines(rows, tags)
            Console(file=out).print(lines, no_wrap=True, overflow="ellipsis", crop=True)
        return
    for line in plain_lines(rows, tags):
        out.write(line + "\n")


def group_summary_lines(
    logdir: Logdir, spec: GroupSpec, rows: list[Row], tags: list[str], *, as_json: bool
) -> list[str]:
    """`summary --group`: one row per group (headless/groups.py), JSON lines with --json."""
    from tuiboard.headless.groups import (
        group_json_lines,
        group_plain_lines,
        group_rows,
        logdir_groups,
    )
    from tuiboard.headless.summary import json_number

    chosen = [r for r in logdir.runs if r.name in {row.name for row in rows}]
    grouped = group_rows(rows, logdir_groups(spec, chosen, logdir.runs), spec)
    if as_json:
        return list(group_json_lines(grouped, spec, json_number))
    return group_plain_lines(grouped, tags, spec, plain)


# --- summary ------------------------------------------------------------------------------------


def _watch_seconds(args: argparse.Namespace) -> None:
    """`--watch logs/` takes logs/ for the optional SECONDS: give it back to the logdirs."""
    if args.watch is None:
        return
    try:
        args.watch = float(args.watch)
    except ValueError:
        args.logdirs = [args.watch, *args.logdirs]
        args.watch = DEFAULT_WATCH


@_guard
def cmd_summary(args: argparse.Namespace) -> int:
    """tuiboard summary: see add_parsers."""
    summarizer = _summarizer(args)
    _watch_seconds(args)
    try:
        spec = spec_from_args(args)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.on_alert and args.watch is None:
        raise UsageError("--on-alert needs --watch (alerts fire on changes seen while watching)")
    if args.watch is not None and args.watch <= 0:
        raise UsageError("--watch SECONDS must be positive")
    with collector_paused():
        out = sys.stdout
        terminal = out.isatty()
        if spec is None and args.watch is None:
            logdir = _open(args.logdirs, load=False)
            got = one_shot(logdir, summarizer)  # read (by several processes when it pays)
            _warn(got.warnings, sys.stderr, got.problems)
            if _missing_roots(logdir) and not got.runs:
                return EXIT_ERROR
            rows = _sorted(got.rows, args.sort)
            print_summary(rows, got.tags, out, as_json=args.json, terminal=terminal)
            return _end(args, 0)
        logdir = _open(args.logdirs)
        _warn_logdir(logdir, sys.stderr)
        if _missing_roots(logdir) and not logdir.runs:
            return EXIT_ERROR
        if spec is not None and args.watch is None:
            rows, tags = summarizer.rows(logdir, time.time())
            rows = _sorted(rows, args.sort)
            for line in group_summary_lines(logdir, spec, rows, tags, as_json=args.json):
                out.write(line + "\n")
            return 0
        _sorted(summarizer.rows(logdir, time.time())[0], args.sort)  # a bad --sort: exit 2 now
    runner = AlertRunner(args.on_alert) if args.on_alert else None
    monitor = Monitor(logdir, summarizer, AlertTracker() if runner else None, runner)
    if spec is not None:
        view: WatchView = GroupView(out, args.sort, logdir, spec, as_json=args.json, live=terminal)
    elif args.json:
        view = JsonView(out, args.sort)
    elif terminal:
        view = LiveView(out, args.sort)
    else:
        view = BlockView(out, args.sort)
    return watch(monitor, view, interval=args.watch, poll=args.poll)


class Monitor:
    """One `tick(now)`: the rows at `now`, and the alerts fired for transitions since the last
    tick. The clock is a parameter so tests drive it."""

    def __init__(
        self,
        logdir: Logdir,
        summarizer: Summarizer,
        tracker: AlertTracker | None = None,
        runner: AlertRunner | None = None,
    ) -> None:
        self.logdir = logdir
        self.summarizer = summarizer
        self.tracker = tracker
        self.runner = runner

    def tick(self, now: float) -> tuple[list[Row], list[str], list[Alert]]:
        rows, tags = self.summarizer.rows(self.logdir, now)
        alerts: list[Alert] = []
        if self.tracker is not None:
            alerts = self.tracker.update((r.facts, r.health) for r in rows)
            if self.runner is not None:
                for a in alerts:
                    self.runner.fire(a)
        return rows, tags, alerts

    def close(self, timeout: float | None = 5.0) -> None:
        if self.runner is not None:
            self.runner.close(timeout)


class WatchView:
    """How a watch shows each tick."""

    def __init__(self, out: TextIO, sort: str) -> None:
        self.out = out
        self.sort = sort

    def show(self, rows: list[Row], tags: list[str], now: float) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _signature(rows: Sequence[Row]) -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    return tuple((r.name, r.generation, r.health.statuses) for r in rows)


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))


class BlockView(WatchView):
    """Piped: a new block (a header line, the table, a blank line) when something changed."""

    def __init__(self, out: TextIO, sort: str) -> None:
        super().__init__(out, sort)
        self._last: object = None

    def show(self, rows: list[Row], tags: list[str], now: float) -> None:
        sig = _signature(rows)
        if sig == self._last:
            return
        self._last = sig
        lines = [f"# {_stamp(now)}  {_status_counts(rows)}"]
        lines += plain_lines(_sorted_watch(rows, self.sort), tags)
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()


class JsonView(WatchView):
    """JSON lines: every run's line at the first tick, then a run's line again whenever its
    data or status changes."""

    def __init__(self, out: TextIO, sort: str) -> None:
        super().__init__(out, sort)
        self._seen: dict[str, tuple[int, tuple[str, ...]]] = {}

    def show(self, rows: list[Row], tags: list[str], now: float) -> None:
        changed = []
        for r in rows:
            key = (r.generation, r.health.statuses)
            if self._seen.get(r.name) != key:
                self._seen[r.name] = key
                changed.append(r)
        if changed:
            for line in json_lines(_sorted_watch(changed, self.sort)):
                self.out.write(line + "\n")
            self.out.flush()


class LiveView(WatchView):
    """A terminal: Rich's live display, redrawn in place, as many rows as the screen holds."""

    def __init__(self, out: TextIO, sort: str) -> None:
        super().__init__(out, sort)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=out)
        self.live = Live(console=self.console, auto_refresh=False, vertical_overflow="crop")
        self.live.start()

    def show(self, rows: list[Row], tags: list[str], now: float) -> None:
        from rich.text import Text

        rows = _sorted_watch(rows, self.sort)
        room = max(1, self.console.size.height - 4)
        hidden = max(0, len(rows) - room)
        title = f"{_status_counts(rows)} · {_stamp(now)}"
        table = rich_table(rows[:room] if hidden else rows, tags, title=title)
        if hidden:
            table.caption = Text(f"... {hidden} more (narrow with --runs, or --sort status)")
        if not rows:
            self.live.update(Text(f"no runs found · {_stamp(now)}"), refresh=True)
            return
        self.live.update(table, refresh=True)

    def close(self) -> None:
        self.live.stop()


class GroupView(WatchView):
    """`summary --group --watch`: the grouped summary again whenever it changed. Piped: a new
    block (a header line, the table, a blank line); JSON: the line of each group that changed;
    on a terminal (`live`): the table redrawn in place."""

    def __init__(
        self,
        out: TextIO,
        sort: str,
        logdir: Logdir,
        spec: GroupSpec,
        *,
        as_json: bool = False,
        live: bool = False,
    ) -> None:
        super().__init__(out, sort)
        self.logdir = logdir
        self.spec = spec
        self.as_json = as_json
        self._last: list[str] = []
        self.live = None
        if live and not as_json:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=out)
            self.live = Live(console=console, auto_refresh=False, vertical_overflow="crop")
            self.live.start()

    def show(self, rows: list[Row], tags: list[str], now: float) -> None:
        rows = _sorted_watch(rows, self.sort)
        lines = group_summary_lines(self.logdir, self.spec, rows, tags, as_json=self.as_json)
        if self.live is not None:
            from rich.text import Text

            header = f"{_status_counts(rows)} · {_stamp(now)}"
            text = Text("\n".join([header, *lines]), no_wrap=True, overflow="ellipsis")
            self.live.update(text, refresh=True)
            return
        if lines == self._last:
            return
        if self.as_json:
            seen = set(self._last)
            changed = [line for line in lines if line not in seen]
        else:
            changed = [f"# {_stamp(now)}  {_status_counts(rows)}", *lines, ""]
        self._last = lines
        for line in changed:
            self.out.write(line + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def watch(
    monitor: Monitor,
    view: WatchView,
    *,
    interval: float,
    poll: float | None = None,
    clock: Callable[[], float] = time.time,
    stop: threading.Event | None = None,
) -> int:
    """Show a tick every `interval` seconds until `stop` is set (or ctrl+c), while a Watcher
    thread keeps the logdir current."""
    from tuiboard.core.watch import Watcher

    stop = stop or threading.Event()
    errors: list[BaseException] = []
    watcher = Watcher(monitor.logdir, lambda _ch: None, poll=poll, on_error=errors.append)
    watcher.start()
    try:
        while True:
            rows, tags, _ = monitor.tick(clock())
            view.show(rows, tags, clock())
            if errors:
                raise errors[0]
            if stop.wait(interval):
                return 0
    except KeyboardInterrupt:
        return 130
    finally:
        watcher.stop()
        view.close()
        monitor.close()


# --- check --------------------------------------------------------------------------------------


@_guard
def cmd_check(args: argparse.Namespace) -> int:
    """tuiboard check: see add_parsers and check.py for the exit codes."""
    try:
        fail_on = parse_fail_on(args.fail_on)
    except ValueError as e:
        raise UsageError(str(e)) from None
    summarizer = _summarizer(args)
    with collector_paused():
        logdir = _open(args.logdirs, load=False)
        got = one_shot(logdir, summarizer)  # read (by several processes when it pays)
        _warn(got.warnings, sys.stderr, got.problems)
        missing = _missing_roots(logdir)
        if missing:
            if not logdir.store_errors:  # a refused store: its warning above said why
                sys.stderr.write(f"tuiboard check: error: no such logdir: {plain(missing[0])}\n")
            return EXIT_ERROR
        rows = got.rows
        if not rows:
            sys.stderr.write("tuiboard check: no runs found\n")
        code = write_check(rows, fail_on, sys.stdout, as_json=args.json, quiet=args.quiet)
        return _end(args, code)


# --- compare ------------------------------------------------------------------------------------


@_guard
def cmd_compare(args: argparse.Namespace) -> int:
    """tuiboard compare: see add_parsers."""
    from tuiboard.headless.compare import compare, plain_lines, rich_tables, write_json

    _checked_runs(args.runs)
    logdir = _open(args.paths)
    _warn_logdir(logdir, sys.stderr)
    runs = run_filter(args.runs).select(logdir.runs)
    if len(runs) < 2:
        found = ", ".join(plain(r.name) for r in runs) or "none"
        raise UsageError(f"compare needs at least two runs (found: {found})")
    c = compare(runs)
    if args.json:
        write_json(c, sys.stdout)
    elif sys.stdout.isatty():
        from rich.console import Console

        console = Console()
        for r in rich_tables(c, args.only_diff):
            console.print(r)
    else:
        for line in plain_lines(c, args.only_diff):
            sys.stdout.write(line + "\n")
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "summary": cmd_summary,
    "check": cmd_check,
    "compare": cmd_compare,
}


# --- no terminal --------------------------------------------------------------------------------


def fallback_summary(specs: Sequence[str], out: TextIO | None = None) -> int:
    """`tuiboard LOGDIR` when stdout is not a terminal: the plain summary, a hint on stderr,
    exit 0 (a batch job's log gets something useful instead of a broken full-screen app)."""
    out = out or sys.stdout
    sys.stderr.write(FALLBACK_HINT + "\n")
    logdir = _open(specs, load=False)
    got = one_shot(logdir, Summarizer())  # read (by several processes when it pays)
    _warn(got.warnings, sys.stderr, got.problems)
    with contextlib.suppress(BrokenPipeError):
        print_summary(got.rows, got.tags, out, as_json=False, terminal=False)
        out.flush()
    return 0
