"""Notebooks, as `%tensorboard` does: `%load_ext tuiboard`, `%tuiboard logs/`, `tuiboard.show()`.

Owns: the board (a title, the summary table of headless/summary.py and the scalar charts of
headless/plot.py, as one Rich renderable), its two outputs (HTML for notebooks through Rich's
exporter, ANSI text for a terminal), the live views (one thread per notebook cell refreshing the
logdir and updating the cell's display handle), the `%tuiboard` magic's arguments, and
`%tuiboard --app` (a `tuiboard serve` subprocess embedded as an IFrame).

Where it runs decides what it does: in a Jupyter/VS Code kernel the output updates every
`interval` seconds until `%tuiboard --stop` or the same cell runs again (its new view replaces
the old); in a terminal IPython, or plain Python, it prints once.

Untrusted text (run names, tags, paths) reaches the output only as Rich Text, never markup,
cleaned of control characters; Rich's HTML exporter escapes it (`<script>` shows as text).
Must not import at module level: IPython (the package imports without it; the magic and
`show` import it when called), textual.
"""

from __future__ import annotations

import argparse
import atexit
import io
import math
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tuiboard.core.logdir import Logdir

DEFAULT_INTERVAL = 5.0
"""Seconds between two refreshes of a live view."""
IDLE_REDRAW = 30.0
"""A live view redraws this often even when no data came (statuses such as "stalled" and the
idle column change with time alone)."""
APP_HEIGHT = 800
"""Pixels of the `--app` iframe (TensorBoard's notebook frame is 800 too)."""
APP_START_TIMEOUT = 30.0
_HTML_FORMAT = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:1.25;margin:0;padding:0.6em;'
    "background:#1c1c1c;color:#d7d7d7;font-family:Menlo,'DejaVu Sans Mono',consolas,"
    "'Courier New',monospace\">{code}</pre>"
)
"""Rich's export as one <pre> (no <html>/<style>), on the dark background the palette is for."""


@dataclass(frozen=True, slots=True)
class BoardOptions:
    """What a board shows; validated by `check`."""

    logdirs: tuple[str, ...] = (".",)
    tags: str | None = None
    """Regex: the charts and the table's tag columns (default: every tag; loss/accuracy-like
    columns)."""
    runs: str | None = None
    """Regex on run names."""
    smoothing: float = 0.6
    width: int = 100
    """Cells across the whole board; the charts share it, `columns` per row."""
    height: int = 12
    """Lines per chart."""
    columns: int = 2

    def check(self) -> None:
        """Raise ValueError on a bad regex, smoothing or size."""
        for what, pattern in (("tags", self.tags), ("runs", self.runs)):
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise ValueError(f"bad --{what} regex {pattern!r}: {e}") from None
        if not 0.0 <= self.smoothing < 1.0 or math.isnan(self.smoothing):
            raise ValueError(f"--smoothing must be in [0, 1), not {self.smoothing}")
        if self.columns < 1 or self.chart_width < 20 or self.height < 5:
            raise ValueError("each chart needs at least 20 cells (--width/--columns) and 5 lines")

    @property
    def chart_width(self) -> int:
        return (self.width - 2 * (self.columns - 1)) // self.columns


def board_renderable(logdir: Logdir, opts: BoardOptions, title: str) -> RenderableType:
    """The title, the summary table, then the scalar charts (`columns` per row)."""
    from rich.console import Group
    from rich.text import Text

    from tuiboard.headless.plot import grid, plot_texts
    from tuiboard.headless.summary import Summarizer, rich_table, styled_lines
    from tuiboard.render.sanitize import clean
    from tuiboard.render.theme import default_theme

    rows, tags = Summarizer(tags_re=opts.tags, runs_re=opts.runs).rows(logdir, time.time())
    parts: list[RenderableType] = [Text(clean(title), style="bold")]
    if not rows:
        where = ", ".join(clean(p) for p in opts.logdirs)
        parts.append(Text(f"no runs found in {where} (yet)", style="dim"))
        return Group(*parts)
    from tuiboard.headless.summary import RICH_TABLE_ROWS

    parts.append(
        rich_table(rows, tags) if len(rows) <= RICH_TABLE_ROWS else styled_lines(rows, tags)
    )
    blocks = plot_texts(
        logdir,
        tags=opts.tags,
        runs=opts.runs,
        smoothing=opts.smoothing,
        width=opts.chart_width,
        height=opts.height,
        theme=default_theme(True),
    )
    for block in grid(blocks, opts.columns):
        parts.append(Text(""))
        parts.append(block)
    return Group(*parts)


def _console(width: int, color: bool, record: bool = False) -> Any:
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        record=record,
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color,
        force_jupyter=False,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )


def to_html(renderable: RenderableType, width: int) -> str:
    """The renderable as one <pre> of inline-styled spans (Rich escapes the text)."""
    console = _console(width, color=True, record=True)
    console.print(renderable, crop=False)
    return str(console.export_html(inline_styles=True, code_format=_HTML_FORMAT))


def to_text(renderable: RenderableType, width: int, color: bool) -> str:
    """The renderable as terminal text, ANSI-coloured or plain."""
    console = _console(width, color=color)
    console.print(renderable, crop=False)
    return str(console.file.getvalue())


class Board:
    """What `display()` shows: HTML for notebooks, text for a terminal (`__repr__`)."""

    def __init__(self, renderable: RenderableType, width: int, text: str | None) -> None:
        self.renderable = renderable
        self.width = width
        self._text = text
        """The text/plain form; None: the whole board as terminal text (computed when asked)."""

    def _repr_html_(self) -> str:
        return to_html(self.renderable, self.width)

    def __repr__(self) -> str:
        if self._text is not None:
            return self._text
        from tuiboard.render.theme import color_wanted

        return to_text(self.renderable, self.width, color_wanted(sys.stdout)).rstrip("\n")


def _title(opts: BoardOptions, logdir: Logdir, live: float | None) -> str:
    where = " ".join(opts.logdirs)
    head = f"tuiboard · {where} · {len(logdir.runs)} runs · {time.strftime('%H:%M:%S')}"
    if live is not None:
        head += f" · updating every {live:g} s (%tuiboard --stop)"
    return head


def make_board(logdir: Logdir, opts: BoardOptions, *, live: float | None, kernel: bool) -> Board:
    """The board as it is now; in a kernel its text/plain form is one line (notebooks show the
    HTML; a terminal gets the whole board as text)."""
    title = _title(opts, logdir, live)
    renderable = board_renderable(logdir, opts, title)
    return Board(renderable, opts.width, title if kernel else None)


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
                board = make_board(self.logdir, self.opts, live=self.interval, kernel=True)
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
    n_servers = _stop_servers() if servers else 0
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
    key: str | None = None,
) -> LiveView | None:
    """Show the runs of `logdirs` (default ".") as `%tuiboard` does: the summary table and the
    scalar charts. In a notebook kernel the output updates every `interval` seconds until
    `tuiboard.notebook.stop()` (or `%tuiboard --stop`) or the cell runs again; in a terminal
    IPython or plain Python it prints once. `live` forces either way. Returns the live view
    (None when printed once)."""
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

        Console(highlight=False, markup=False, emoji=False).print(
            board_renderable(logdir, opts, _title(opts, logdir, None)), crop=False
        )
        return None
    from IPython.display import display

    if not updating:
        display(make_board(logdir, opts, live=None, kernel=kernel))
        return None
    key = key or _cell_key(shell, repr(opts))
    with _LOCK:
        old = _LIVE.pop(key, None)
    if old is not None:
        old.stop()
    handle = display(make_board(logdir, opts, live=interval, kernel=kernel), display_id=True)
    view = LiveView(key, logdir, opts, handle, interval)
    with _LOCK:
        _LIVE[key] = view
    view.start()
    return view


def _default_width() -> int:
    if in_kernel(_shell()):
        return 100
    return max(40, shutil.get_terminal_size((100, 24)).columns)


# --- %tuiboard --app ----------------------------------------------------------------------------


@dataclass
class AppServer:
    """A `tuiboard serve` subprocess started for `%tuiboard --app`."""

    proc: subprocess.Popen[bytes]
    url: str
    """What the iframe opens (with ?token= when one is set)."""
    log: str
    """File holding the server's output."""


_SERVERS: dict[tuple[object, ...], AppServer] = {}


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _wait_ready(server: AppServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            with open(server.log, encoding="utf-8", errors="replace") as fh:
                output = fh.read().strip()
            raise RuntimeError(f"tuiboard serve exited {server.proc.returncode}: {output}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"tuiboard serve did not answer within {timeout:g} s")
        time.sleep(0.2)


def start_app(
    logdirs: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    token: str | None = None,
) -> AppServer:
    """A `tuiboard serve` for these logdirs: the one already running, or a new one on `port`
    (default: the first free port from 6006 up), answering before this returns."""
    from tuiboard.serve import DEFAULT_PORT, TOKEN_ENV, is_loopback

    key = (tuple(logdirs), host, port, token)
    with _LOCK:
        running = _SERVERS.get(key)
    if running is not None and running.proc.poll() is None:
        return running
    if port is None:
        port = next(p for p in range(DEFAULT_PORT, DEFAULT_PORT + 100) if _port_free(host, p))
    env = dict(os.environ)
    env.pop(TOKEN_ENV, None)
    if token:
        env[TOKEN_ENV] = token  # not on the command line, where `ps` shows it
    fd, log = tempfile.mkstemp(prefix="tuiboard-serve-", suffix=".log")
    argv = [sys.executable, "-m", "tuiboard", "serve", "--host", host, "--port", str(port)]
    argv += ["--", *logdirs] if logdirs else []
    with os.fdopen(fd, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    shown = "localhost" if is_loopback(host) or host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    if token:
        from urllib.parse import quote

        url += "?token=" + quote(token, safe="")
    server = AppServer(proc, url, log)
    try:
        _wait_ready(server, APP_START_TIMEOUT)
    except RuntimeError:
        _terminate(server)
        raise
    with _LOCK:
        _SERVERS[key] = server
    return server


def _terminate(server: AppServer) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    if os.path.exists(server.log):
        os.unlink(server.log)


def _stop_servers() -> int:
    with _LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    alive = [s for s in servers if s.proc.poll() is None]
    for s in servers:
        _terminate(s)
    return len(alive)


atexit.register(_stop_servers)


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
    p.add_argument("--runs", metavar="REGEX", help="only runs whose name matches")
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
            key=None,
        )
    except ValueError as e:
        raise UsageError(f"%tuiboard: {e}") from None


def _magic_app(args: argparse.Namespace) -> None:
    from IPython.core.error import UsageError
    from IPython.display import IFrame, display

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
    "board_renderable",
    "live_views",
    "load_ipython_extension",
    "make_board",
    "show",
    "start_app",
    "stop",
    "tuiboard_magic",
    "unload_ipython_extension",
]
