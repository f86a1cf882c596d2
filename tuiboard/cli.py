"""The `tuiboard` command: argument parsing, then the app or a headless command.

Owns: the command line. The app (Textual) is imported only when it runs, so headless commands
start fast and work where no terminal is attached.

    tuiboard [LOGDIR ...] [--poll S] [--tab NAME]   the app (no argument: the current directory)
    tuiboard --demo                      the app on the built-in demo, appending live
    tuiboard ls LOGDIR ... [--json]
    tuiboard export LOGDIR ... [--kind K] [--format csv|jsonl] [--runs QUERY] [--tags RE]
                               [-o FILE] [--raw]
    tuiboard summary | check | compare | plot ...   headless monitoring (tuiboard/headless/)

A LOGDIR may be a URL (s3://bucket/logs, gs://..., ssh://host/path: any fsspec protocol whose
package is installed; core/remote.py); `--storage-option KEY=VALUE` (anywhere, repeatable)
passes options to fsspec for them.
    tuiboard demo [DIR] [--live]
    tuiboard serve [LOGDIR ...] [--host H] [--port P] [--token T]   the app in a browser (serve.py)

Everywhere, TensorBoard's `--logdir DIR` and `--logdir_spec NAME:DIR,NAME2:DIR2` work too: they
are turned into LOGDIR arguments (`logdirs_from_flags`) before parsing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

from tuiboard import __version__
from tuiboard.core.query import RUNS_HELP
from tuiboard.dashboards import tab_names
from tuiboard.render.theme import palette_names

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir

REMOTE_POLL = 10.0
"""Seconds between refreshes of a URL logdir in the app, unless --poll says otherwise."""
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
"""Subcommand name -> handler; filled by the _cmd_* functions below."""


def _logdir_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "logdirs",
        nargs="*",
        metavar="LOGDIR",
        help="directories to read (default: .); NAME:PATH names a logdir as TensorBoard's "
        "--logdir_spec does",
    )


def logdirs_from_flags(argv: list[str]) -> list[str]:
    """TensorBoard's hands: `--logdir DIR` (or `=DIR`) and `--logdir_spec A:DIR,B:DIR2` become
    LOGDIR arguments, placed where a positional belongs (first, or after the subcommand).
    TensorBoard splits --logdir_spec on commas the same way (a path with a comma can't be
    given there; give it as a LOGDIR)."""
    rest: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in ("--logdir", "--logdir_spec"):
            if not eq:
                if i + 1 >= len(argv):
                    rest.append(arg)  # argparse reports the missing value
                    break
                value = argv[i + 1]
                i += 1
            if name == "--logdir_spec":
                found.extend(v for v in value.split(",") if v)
            else:
                found.append(value)
        else:
            rest.append(arg)
        i += 1
    if not found:
        return rest
    at = 1 if rest and rest[0] in COMMANDS else 0
    return rest[:at] + found + rest[at:]


def storage_options_from_flags(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    """`--storage-option KEY=VALUE` (repeatable, anywhere): fsspec options for URL logdirs.
    VALUE is read as JSON when it parses (true, 3, {"region_name": "x"}), else as a string."""
    import json

    rest: list[str] = []
    opts: dict[str, object] = {}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name != "--storage-option":
            rest.append(argv[i])
            i += 1
            continue
        if not eq:
            if i + 1 >= len(argv):
                raise SystemExit("tuiboard: --storage-option needs KEY=VALUE")
            value = argv[i + 1]
            i += 1
        i += 1
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise SystemExit("tuiboard: --storage-option needs KEY=VALUE")
        try:
            opts[key] = json.loads(raw)
        except ValueError:
            opts[key] = raw
    return rest, opts


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """(the app's parser, the subcommands' parser)."""
    app = argparse.ArgumentParser(
        prog="tuiboard",
        description="TensorBoard for the terminal. Subcommands: ls, export, summary, check, "
        "plot, compare, demo, serve (tuiboard COMMAND --help). TensorBoard's --logdir DIR and "
        "--logdir_spec NAME:DIR,... work here and in every subcommand.",
    )
    _logdir_args(app)
    app.add_argument(
        "--poll",
        type=float,
        metavar="SECONDS",
        help="poll instead of inotify (NFS); URL logdirs always poll, every 10 s by default",
    )
    app.add_argument("--demo", action="store_true", help="open the built-in demo, appending live")
    app.add_argument(
        "--tab",
        choices=tab_names(),
        metavar="NAME",
        help="open on this tab (as soon as a run has its kind): " + ", ".join(tab_names()),
    )
    app.add_argument(
        "--palette",
        choices=palette_names(),
        metavar="NAME",
        help="run colours: " + ", ".join(palette_names()) + " (all but default are "
        "colour-blind safe; default: the settings file's, else default)",
    )
    app.add_argument(
        "--theme",
        metavar="NAME",
        help="light, dark, or any Textual theme name (default: the settings file's, else dark)",
    )
    app.add_argument(
        "--no-settings",
        action="store_true",
        help="neither read nor write the settings file (as TUIBOARD_NO_SETTINGS=1); it lives in "
        "$XDG_CONFIG_HOME/tuiboard/settings.toml, else ~/.config/tuiboard/settings.toml",
    )
    app.add_argument("--version", action="version", version=f"tuiboard {__version__}")

    top = argparse.ArgumentParser(prog="tuiboard")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ls", help="list runs, their tags, config and warnings")
    _logdir_args(p)
    p.add_argument("--json", action="store_true", help="the stable JSON form")

    p = sub.add_parser("export", help="every point as CSV or JSON lines")
    _logdir_args(p)
    p.add_argument("--kind", default="scalars", help="scalars (default), histograms, images, ...")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--runs", metavar="QUERY", help=RUNS_HELP)
    p.add_argument("--tags", metavar="REGEX", help="only tags that match")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--raw", action="store_true", help="every point as written (no restart handling)"
    )
    p.add_argument(
        "--save",
        metavar="DIR",
        help="images, audio: also write every image (clip) as the file it was logged as, "
        "byte for byte, to DIR/<run>/<tag>/<step>_<i>.<ext> (never inside the logdir)",
    )

    p = sub.add_parser("demo", help="write the built-in demo logdir")
    p.add_argument(
        "dir", nargs="?", default="tuiboard-demo", help="where (default: ./tuiboard-demo)"
    )
    p.add_argument("--live", action="store_true", help="keep appending like a training job")
    p.add_argument("--seed", type=int, default=0)

    from tuiboard.headless.commands import add_parsers  # summary, check, compare
    from tuiboard.headless.plot_args import add_plot_parser

    add_parsers(sub)
    add_plot_parser(sub)
    from tuiboard.serve import add_serve_parser

    add_serve_parser(sub)
    return app, top


def main(argv: Sequence[str] | None = None) -> int:
    args_list = logdirs_from_flags(list(sys.argv[1:] if argv is None else argv))
    args_list, storage_options = storage_options_from_flags(args_list)
    if storage_options:
        from tuiboard.core import source

        source.STORAGE_OPTIONS.update(storage_options)
    app_parser, cmd_parser = build_parser()
    from tuiboard.core.source import RemoteUnavailable

    if args_list and args_list[0] in COMMANDS:
        args = cmd_parser.parse_args(args_list)
        args.exit_when_done = argv is None  # the program: a one-shot may end the process
        try:
            return COMMANDS[args.command](args)
        except RemoteUnavailable as error:  # s3:// without s3fs: which extra to install
            print(f"tuiboard: {error}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `tuiboard export logs | head`
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the rest of exit
            return 0
        except KeyboardInterrupt:
            return 130
    args = app_parser.parse_args(args_list)
    try:
        return _run_app(args)
    except RemoteUnavailable as error:
        print(f"tuiboard: {error}", file=sys.stderr)
        return 2


def _open(specs: list[str]) -> Logdir:
    import tuiboard

    return tuiboard.open(*(specs or ["."]))


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        yield fh


def _print_warnings(logdir: Logdir) -> None:
    from tuiboard.export import warning_text

    for w in logdir.warnings:
        print(f"tuiboard: warning: {warning_text(w)}", file=sys.stderr)
    for run in logdir.runs:
        for w in run.warnings:
            print(f"tuiboard: warning: {warning_text(w)}", file=sys.stderr)


def _cmd_ls(args: argparse.Namespace) -> int:
    from tuiboard.export import store_refused, write_ls

    logdir = _open(args.logdirs)
    if store_refused(logdir, sys.stderr):
        return 2
    write_ls(logdir, sys.stdout, as_json=args.json)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from tuiboard.export import (
        export_scalars,
        export_values,
        inside_logdir,
        save_media,
        store_refused,
    )
    from tuiboard.headless.run_query import runs_problem

    problem = runs_problem(args.runs)
    if problem is not None:
        print(f"tuiboard export: error: {problem}", file=sys.stderr)
        return 2
    logdir = _open(args.logdirs)
    if store_refused(logdir, sys.stderr):
        return 2
    if args.save is not None:
        if args.kind not in ("images", "audio"):
            print("tuiboard export: --save takes --kind images or audio", file=sys.stderr)
            return 2
        if inside_logdir(logdir, args.save):
            print(
                f"tuiboard export: refusing to write inside the logdir: {args.save}",
                file=sys.stderr,
            )
            return 2
    _print_warnings(logdir)
    if args.save is not None:
        n = save_media(
            logdir, args.save, args.kind, runs_query=args.runs, tags_re=args.tags, raw=args.raw
        )
        print(f"tuiboard export: wrote {n} files under {args.save}", file=sys.stderr)
    with _output(args.output) as out:
        if args.kind == "scalars":
            export_scalars(
                logdir, out, fmt=args.format, runs_query=args.runs, tags_re=args.tags, raw=args.raw
            )
        else:
            export_values(
                logdir,
                out,
                args.kind,
                fmt=args.format,
                runs_query=args.runs,
                tags_re=args.tags,
                raw=args.raw,
            )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from tuiboard.demo import write_demo

    write_demo(args.dir, live=False, seed=args.seed)
    print(f"wrote the demo logdir to {args.dir}; open it with: tuiboard {args.dir}")
    if args.live:
        print("appending live; ctrl+c stops")
        with contextlib.suppress(KeyboardInterrupt):
            write_demo(args.dir, live=True, seed=args.seed)
    return 0


COMMANDS.update({"ls": _cmd_ls, "export": _cmd_export, "demo": _cmd_demo})


def _headless(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from tuiboard.headless.commands import HANDLERS

        return HANDLERS[name](args)

    return run


COMMANDS.update({name: _headless(name) for name in ("summary", "check", "compare")})


def _cmd_plot(args: argparse.Namespace) -> int:
    from tuiboard.headless.plot import plot_main

    return plot_main(args)


COMMANDS["plot"] = _cmd_plot


def _cmd_serve(args: argparse.Namespace) -> int:
    from tuiboard.serve import serve_main

    return serve_main(args)


COMMANDS["serve"] = _cmd_serve


def _run_app(args: argparse.Namespace) -> int:
    import tuiboard

    stop: threading.Event | None = None
    specs = list(args.logdirs)
    # textual-serve (`tuiboard serve`) runs the app with stdout a pipe and its web driver.
    web = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
    if not args.demo and not web and not sys.stdout.isatty():
        from tuiboard.headless.commands import fallback_summary  # no terminal: print, exit 0

        return fallback_summary(specs)
    if args.demo:
        from tuiboard.demo import write_demo

        root = tempfile.mkdtemp(prefix="tuiboard-demo-")
        write_demo(root, live=False)
        stop = threading.Event()
        threading.Thread(
            target=write_demo, args=(root,), kwargs={"live": True, "stop": stop}, daemon=True
        ).start()
        specs = [root]
    logdir = tuiboard.open(*(specs or ["."]), load=False)
    # The first walk begins before the UI's imports (~0.5 s of them): in a forked process
    # when this is the only thread (core/walk_ahead.py), else on a thread.
    from tuiboard.core.watch import discover_ahead

    discovered = discover_ahead(logdir)
    try:
        from tuiboard.core.settings import Settings, settings_path
        from tuiboard.ui.app import run_app
        from tuiboard.ui.appearance import Preferences

        poll = args.poll
        if poll is None and any("://" in path for _, path in logdir.roots):
            poll = REMOTE_POLL  # no inotify on an object store
        overrides = Settings(palette=args.palette, theme=args.theme)  # flags win, unsaved
        prefs = Preferences(None if args.no_settings else settings_path(), overrides)
        return run_app(
            logdir, poll=poll, tab=args.tab, prefs=prefs, served=web, discovered=discovered
        )
    finally:
        if stop is not None:
            stop.set()
            shutil.rmtree(specs[0], ignore_errors=True)
