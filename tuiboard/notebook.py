"""Notebooks, as `%tensorboard` does: `%load_ext tuiboard`, `%tuiboard logs/`, `tuiboard.show()`.

Owns: `show` and the `%tuiboard` magic (its arguments), where they run (a kernel or a
terminal), and the live views (one thread per notebook cell refreshing the logdir and updating
the cell's display handle). What is drawn is notebook_board.py's Board; `--app`'s server is
notebook_app.py's.

Where it runs decides what it does: in a Jupyter/VS Code kernel the output updates every
`interval` seconds until `%tuiboard --stop` or the same cell runs again (its new view replaces
the old); in a terminal IPython, or plain Python, it prints once.

Must not import at module level: IPython (the package imports without it; the magic and
`show` import it when called), textual.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from tuiboard.notebook_board import Board, BoardOptions, make_board

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir

DEFAULT_INTERVAL = 5.0
"""Seconds between two refreshes of a live view."""
IDLE_REDRAW = 30.0
"""A live view redraws this often even when no data came (statuses such as "stalled" and the
idle column change with time alone)."""
APP_HEIGHT = 800
"""Pixels of the `--app` iframe (TensorBoard's notebook frame is 800 too)."""


# --- where we run -------------------------------------------------------------------------------


def _shell() -> Any:
    """The running IPython shell, or None (IPython not even imported: plain Python)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def in_kernel(shell: Any) -> bool:
    """A Jupyter/VS Code kernel (its output can be updated in place), not a terminal IPython."""
    return shell is not None and getattr(shell, "kernel", None) is not None


def _cell_key(shell: Any, fallback: str) -> str:
    """Which notebook cell is running (Jupyter sends its id with each execution), so a re-run
    cell replaces its own live view; without one, the arguments stand for the cell."""
    parent: Any = None
    get_parent = getattr(getattr(shell, "kernel", None), "get_parent", None)
    if callable(get_parent):
        parent = get_parent()
    if not isinstance(parent, dict):
        parent = getattr(shell, "parent_header", None)
    if isinstance(parent, dict):
        meta = parent.get("metadata") or {}
        content = parent.get("content") or {}
        cell = meta.get("cellId") or content.get("cell_id")
        if cell:
            return f"cell:{cell}"
    return f"args:{fallback}"


# --- live views ---------------------------------------------------------------------------------


class LiveView:
    """One cell's updater: refreshes the logdir every `interval` s and updates the display handle
    when data came (or IDLE_REDRAW passed), until `stop()`. An error stops it, shown in the cell."""

    def __init__(
        self, key: str, logdir: Logdir, opts: BoardOptions, handle: Any, interval: float
    ) -> None:
        self.key = key
        self.logdir = logdir
        self.opts = opts
        self.handle = handle
        self.interval = interval
        self.updates = 0
        """Display updates sent so far."""
        self.error: BaseException | None = None
        """What stopped the updates, if anything did."""
        from tuiboard.headless.summary import Summarizer

        self._summarizer = Summarizer(tags_re=opts.tags, runs_query=opts.runs)
        """Kept between updates: only the runs that changed are summarized again."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tuiboard-{key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                changes = self.logdir.refresh()
                if not changes and time.monotonic() - last < IDLE_REDRAW:
                    continue
                board = make_board(
                    self.logdir,
                    self.opts,
                    live=self.interval,
                    kernel=True,
                    summarizer=self._summarizer,
                )
                if self._stop.is_set():
                    return
                self.handle.update(board)
                self.updates += 1
                last = time.monotonic()
            except Exception as error:  # a thread has no caller: record it and show it
                self.error = error
                self._show_error(error)
                return

    def _show_error(self, error: BaseException) -> None:
        from rich.text import Text

        from tuiboard.render.sanitize import clean

        note = Text(clean(f"tuiboard: updates stopped: {type(error).__name__}: {error}"))
        note.stylize("bold red")
        self.handle.update(Board(note, self.opts.width, note.plain))


_LOCK = threading.Lock()
_LIVE: dict[str, LiveView] = {}
"""Running live views by cell key (a cell has at most one)."""


def live_views() -> list[LiveView]:
    """The live views running now."""
    with _LOCK:
        return [v for v in _LIVE.values() if v.running]


def stop(servers: bool = True) -> tuple[int, int]:
    """Stop every live view (and `--app` server started here); (views, servers) stopped."""
    with _LOCK:
        views = list(_LIVE.values())
        _LIVE.clear()
    for v in views:
        v.stop()
    n_servers = 0
    if servers:
        from tuiboard.notebook_app import stop_servers

        n_servers = stop_servers()
    return sum(1 for v in views if v.error is None), n_servers


def show(
    *logdirs: str,
    tags: str | None = None,
    runs: str | None = None,
    smoothing: float = 0.6,
    width: int | None = None,
    height: int = 12,
    columns: int = 2,
    interval: float = DEFAULT_INTERVAL,
    live: bool | None = None,
) -> None:
    """Show the runs of `logdirs` (default ".") as `%tuiboard` does: the summary table and the
    scalar charts. In a notebook kernel the output updates every `interval` seconds until
    `tuiboard.notebook.stop()` (or `%tuiboard --stop`) or the cell runs again; in a terminal
    IPython or plain Python it prints once. `live` forces either way (True: update even
    outside a kernel; False: never). Raises ValueError on a bad regex, smoothing or size."""
    opts = BoardOptions(
        logdirs=tuple(logdirs) or (".",),
        tags=tags,
        runs=runs,
        smoothing=smoothing,
        width=width or _default_width(),
        height=height,
        columns=columns,
    )
    opts.check()
    if interval <= 0:
        raise ValueError("interval must be positive")
    import tuiboard

    logdir = tuiboard.open(*opts.logdirs)
    shell = _shell()
    kernel = in_kernel(shell)
    updating = kernel if live is None else live
    if shell is None:
        from rich.console import Console

        from tuiboard.notebook_board import board_renderable, title_line

        Console(highlight=False, markup=False, emoji=False).print(
            board_renderable(logdir, opts, title_line(opts, logdir, None)), crop=False
        )
        return
    from IPython.display import display

    if not updating:
        display(make_board(logdir, opts, live=None, kernel=kernel))
        return
    key = _cell_key(shell, repr(opts))
    with _LOCK:
        old = _LIVE.pop(key, None)
    if old is not None:
        old.stop()
    handle = display(make_board(logdir, opts, live=interval, kernel=kernel), display_id=True)
    view = LiveView(key, logdir, opts, handle, interval)
    with _LOCK:
        _LIVE[key] = view
    view.start()


def _default_width() -> int:
    if in_kernel(_shell()):
        return 100
    return max(40, shutil.get_terminal_size((100, 24)).columns)


# --- the magic ----------------------------------------------------------------------------------


class _Done(Exception):
    """--help was printed."""


class _MagicParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        from IPython.core.error import UsageError

        raise UsageError(f"%tuiboard: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        if message:
            print(message, file=sys.stderr)
        raise _Done


def magic_parser() -> argparse.ArgumentParser:
    p = _MagicParser(
        prog="%tuiboard",
        description="Show runs inline: the summary table and the scalar charts, updating "
        "while training writes (in a notebook kernel) until %tuiboard --stop or the cell runs "
        "again. TensorBoard's --logdir DIR works too. --app embeds the full app instead.",
    )
    p.add_argument("logdirs", nargs="*", metavar="LOGDIR", help="directories to read (default: .)")
    p.add_argument(
        "--logdir",
        action="append",
        dest="flag_logdirs",
        default=[],
        metavar="DIR",
        help="TensorBoard's way to name a logdir (repeatable)",
    )
    p.add_argument(
        "--logdir_spec",
        metavar="NAME:DIR,...",
        help="TensorBoard's named logdirs, comma-separated",
    )
    p.add_argument("--tags", "-t", metavar="REGEX", help="charts and columns of these tags")
    p.add_argument("--runs", metavar="QUERY", help="run name regex or run query (summary --runs)")
    p.add_argument("--smoothing", type=float, default=0.6, metavar="W", help="EMA weight [0, 1)")
    p.add_argument("--width", type=int, metavar="CELLS", help="board width (default 100)")
    p.add_argument("--height", type=int, default=12, metavar="LINES", help="chart height")
    p.add_argument("--columns", type=int, default=2, metavar="N", help="charts per row")
    p.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between updates (default {DEFAULT_INTERVAL:g})",
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--once", dest="live", action="store_false", default=None, help="no updates")
    when.add_argument(
        "--live", dest="live", action="store_true", help="update even outside a kernel"
    )
    p.add_argument("--stop", action="store_true", help="stop every live view and --app server")
    p.add_argument("--app", action="store_true", help="embed the full app (tuiboard serve)")
    p.add_argument("--host", default="127.0.0.1", help="--app: address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="--app: port (default: the first free from 6006)")
    p.add_argument("--token", help="--app: token (needed with a non-loopback --host)")
    return p


def tuiboard_magic(line: str) -> None:
    """%tuiboard [LOGDIR ...] [--logdir DIR] [--tags RE] [--runs RE] [--once] | --stop | --app"""
    from IPython.core.error import UsageError

    try:
        args = magic_parser().parse_args(shlex.split(line))
    except _Done:
        return
    except ValueError as e:  # shlex: an unclosed quote
        raise UsageError(f"%tuiboard: {e}") from None
    args.logdirs = [*args.flag_logdirs, *args.logdirs]
    if args.logdir_spec:
        args.logdirs += [spec for spec in args.logdir_spec.split(",") if spec]
    if args.stop:
        views, servers = stop()
        print(f"tuiboard: stopped {views} live view(s) and {servers} server(s)")
        return
    if args.app:
        _magic_app(args)
        return
    try:
        show(
            *args.logdirs,
            tags=args.tags,
            runs=args.runs,
            smoothing=args.smoothing,
            width=args.width,
            height=args.height,
            columns=args.columns,
            interval=args.interval,
            live=args.live,
        )
    except ValueError as e:
        raise UsageError(f"%tuiboard: {e}") from None


def _magic_app(args: argparse.Namespace) -> None:
    from IPython.core.error import UsageError
    from IPython.display import IFrame, display

    from tuiboard.notebook_app import start_app
    from tuiboard.serve import is_loopback

    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise UsageError(
            "%tuiboard --app needs textual-serve: pip install 'tuiboard[web]'"
        ) from None
    if not is_loopback(args.host) and not args.token:
        raise UsageError(f"%tuiboard --app --host {args.host} needs --token")
    try:
        server = start_app(args.logdirs, host=args.host, port=args.port, token=args.token)
    except RuntimeError as e:
        raise UsageError(f"%tuiboard --app: {e}") from None
    display(IFrame(server.url, width="100%", height=APP_HEIGHT))


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext tuiboard`: register the %tuiboard line magic."""
    ipython.register_magic_function(tuiboard_magic, magic_kind="line", magic_name="tuiboard")


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext tuiboard`: stop what the magic started."""
    stop()


__all__ = [
    "Board",
    "BoardOptions",
    "LiveView",
    "live_views",
    "load_ipython_extension",
    "show",
    "stop",
    "tuiboard_magic",
    "unload_ipython_extension",
]
