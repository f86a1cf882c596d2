"""`%tuiboard --app`: a `tuiboard serve` subprocess per set of logdirs, for an IFrame.

Owns: AppServer (the process, the URL the iframe opens, its log file), `start_app` (reuse the
running server of the same logdirs, or start one on the first free port from 6006 and wait until
it answers) and `stop_servers` (also at exit: a kernel that ends leaves no server behind).
The token goes to the child in TUIBOARD_TOKEN, not on its command line (`ps` shows that).
Must not import: IPython, textual, textual_serve (the child imports it).
"""

from __future__ import annotations

import atexit
import os
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

APP_START_TIMEOUT = 30.0
"""Seconds a new server has to answer its first request."""
_LOCK = threading.Lock()


@dataclass
class AppServer:
    """A `tuiboard serve` subprocess started for `%tuiboard --app`."""

    proc: subprocess.Popen[bytes]
    url: str
    """What the iframe opens (with ?token= when one is set)."""
    log: str
    """File holding the server's output."""


_SERVERS: dict[tuple[object, ...], AppServer] = {}
"""Started servers by (logdirs, host, port asked, token)."""


def running_servers() -> list[AppServer]:
    """The servers started here that still run."""
    with _LOCK:
        return [s for s in _SERVERS.values() if s.proc.poll() is None]


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
                if r.status == 200 and b"data-session-websocket-url" in r.read():
                    return  # textual-serve's page, not whatever else answers there
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
    if running is not None:
        if running.proc.poll() is None:
            return running
        _terminate(running)  # it died: its log goes, a new one starts
    if port is None:
        free = (p for p in range(DEFAULT_PORT, DEFAULT_PORT + 100) if _port_free(host, p))
        port = next(free, None)
        if port is None:
            raise RuntimeError(f"no free port in {DEFAULT_PORT}-{DEFAULT_PORT + 99} on {host}")
    elif not _port_free(host, port):
        raise RuntimeError(f"port {port} on {host} is in use (TensorBoard?): give another --port")
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


def stop_servers() -> int:
    """Stop every server started here; how many were still running."""
    with _LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    alive = [s for s in servers if s.proc.poll() is None]
    for s in servers:
        _terminate(s)
    return len(alive)


atexit.register(stop_servers)
