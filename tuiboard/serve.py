"""`tuiboard serve`: the very same Textual app in a browser tab, through textual-serve.

Owns: the `serve` subcommand's parser and handler (`add_serve_parser`, `serve_main`), the shell
command textual-serve runs for each browser connection (`app_command`), and the guard in front
of textual-serve's aiohttp app (`refusal`, and the Server subclass built by `make_server`):
- a `--host` that is not a loopback address needs `--token` (or TUIBOARD_TOKEN): refused
  otherwise, before anything listens;
- with a token, every request (page, static files, websocket, downloads) needs it: `?token=`
  on the URL (the page then sets an HttpOnly, SameSite=Strict cookie, which its own requests
  and websocket carry) or that cookie; else HTTP 401, and a websocket upgrade is refused;
- without a token (loopback only), the Host header must name a loopback host, so that a web
  page rebinding its DNS name to 127.0.0.1 cannot read the runs (HTTP 403);
- a websocket whose Origin header names another site than the Host is refused (HTTP 403): a
  page on another site cannot drive the app (cross-site websocket hijacking).
textual-serve starts one app process per browser connection, with the command `app_command`
builds (every path shell-quoted: textual-serve runs it through /bin/sh).

Must not import at module level: textual_serve (the optional extra `tuiboard[web]`; cli.py
checks for it and names the extra), textual, rich.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuiboard.dashboards import tab_names

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6006
"""TensorBoard's port: `%tensorboard` users look there first."""
TOKEN_ENV = "TUIBOARD_TOKEN"
"""The token may come from this variable instead of --token (not shown by `ps`)."""
COOKIE = "tuiboard_token"
MISSING_EXTRA = (
    "tuiboard serve: textual-serve is not installed: pip install 'tuiboard[web]' "
    "(or pip install textual-serve)"
)
EXIT_USAGE = 2


def add_serve_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `serve` to cli.py's subparsers; the handler is `serve_main`."""
    p = sub.add_parser(
        "serve",
        help="serve the app to a browser (textual-serve; pip install 'tuiboard[web]')",
        description="Serve the tuiboard app to a web browser: each browser tab gets its own "
        "app, the very same as in the terminal. Binds to 127.0.0.1 by default; another --host "
        f"needs --token (or ${TOKEN_ENV}), and every request must then carry it "
        "(open http://HOST:PORT/?token=TOKEN). Exit status: 2 on a usage error or when "
        "textual-serve is missing.",
    )
    p.add_argument("logdirs", nargs="*", metavar="LOGDIR", help="directories to read (default: .)")
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; anything else needs --token)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV) or None,
        help=f"a secret every request must carry (?token=...; default: ${TOKEN_ENV})",
    )
    p.add_argument("--poll", type=float, metavar="SECONDS", help="the app polls (NFS)")
    p.add_argument("--tab", choices=tab_names(), metavar="NAME", help="open on this tab")
    p.add_argument("--demo", action="store_true", help="serve the built-in demo, appending live")
    return p


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name, maybe [bracketed]) only reaches this machine."""
    import ipaddress  # here: cli.py imports this module to build its parser

    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(
    logdirs: Sequence[str],
    *,
    demo: bool = False,
    poll: float | None = None,
    tab: str | None = None,
    storage_options: dict[str, object] | None = None,
) -> str:
    """The shell command textual-serve runs for each browser connection: this Python running
    `tuiboard`, every argument shell-quoted (a logdir is untrusted text)."""
    argv = [sys.executable, "-m", "tuiboard"]
    if demo:
        argv.append("--demo")
    if poll is not None:
        argv += ["--poll", repr(float(poll))]
    if tab:
        argv += ["--tab", tab]
    for key, value in (storage_options or {}).items():
        argv += ["--storage-option", f"{key}={json.dumps(value)}"]
    if logdirs:
        argv += ["--", *logdirs]
    return shlex.join(argv)


def _same_token(given: str | None, token: str) -> bool:
    import hmac

    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def refusal(
    *,
    token: str | None,
    query_token: str | None,
    cookie_token: str | None,
    host_header: str,
    origin: str | None,
    websocket: bool,
) -> tuple[int, str] | None:
    """Why a request is refused, as (HTTP status, message), or None when it may pass.
    See the module docstring for the rules."""
    from urllib.parse import urlsplit

    if token is not None:
        if not (_same_token(query_token, token) or _same_token(cookie_token, token)):
            return 401, "tuiboard serve: this server needs its token: open /?token=TOKEN"
    else:
        hostname = urlsplit("//" + host_header).hostname or ""
        if not is_loopback(hostname):
            return 403, "tuiboard serve: this server answers only to localhost"
    cross_site = origin is not None and urlsplit(origin).netloc.lower() != host_header.lower()
    if websocket and cross_site:
        return 403, "tuiboard serve: websocket from another site refused"
    return None


def make_server(
    command: str, *, host: str, port: int, token: str | None, title: str = "tuiboard"
) -> Any:
    """A textual_serve Server running `command` per connection, with the guard in front."""
    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.server import Server

    url_host = f"[{host}]" if ":" in host else host

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        query_token = request.query.get("token")
        refused = refusal(
            token=token,
            query_token=query_token,
            cookie_token=request.cookies.get(COOKIE),
            host_header=request.host,
            origin=request.headers.get("Origin"),
            websocket=request.headers.get("Upgrade", "").lower() == "websocket",
        )
        if refused is not None:
            status, text = refused
            cls = web.HTTPUnauthorized if status == 401 else web.HTTPForbidden
            raise cls(text=text)
        response: web.StreamResponse = await handler(request)
        if token is not None and _same_token(query_token, token) and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    class GuardedServer(Server):
        """textual-serve's Server with the guard, and page URLs taken from the request's own
        Host (so `--host 0.0.0.0` gives the browser a websocket URL it can reach)."""

        async def _make_app(self) -> web.Application:
            app: web.Application = await super()._make_app()
            app.middlewares.append(guard)
            return app

        async def on_startup(self, app: web.Application) -> None:
            shown = f"http://{'localhost' if is_loopback(host) else url_host}:{port}/"
            if token is not None:
                shown += "?token=TOKEN"
            print(f"tuiboard serve: {shown} (ctrl+c stops)", flush=True)

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            # Behind a proxy that adds TLS, the page must name https/wss URLs (a browser
            # blocks ws:// from an https page); the header only chooses this page's own links.
            scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0]
            scheme = "https" if scheme.strip().lower() == "https" else "http"
            base = f"{scheme}://{request.host}"
            ws_scheme = "wss" if scheme == "https" else "ws"
            try:
                font_size = int(request.query.get("fontsize", "16"))
            except ValueError:
                font_size = 16
            return {
                "font_size": font_size,
                "app_websocket_url": f"{ws_scheme}://{request.host}/ws",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": title},
            }

    return GuardedServer(
        command, host=host, port=port, title=title, public_url=f"http://{url_host}:{port}"
    )


def serve_main(args: argparse.Namespace) -> int:
    """The `serve` subcommand: refuse an unguarded public bind, then serve until ctrl+c."""
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return EXIT_USAGE
    token = args.token or None
    if not is_loopback(args.host) and token is None:
        print(
            f"tuiboard serve: --host {args.host} is reachable from other machines: give "
            f"--token TOKEN (or set ${TOKEN_ENV}); for instance "
            "--token $(python -c 'import secrets; print(secrets.token_urlsafe())')",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not 0 < args.port < 65536:
        print(f"tuiboard serve: bad --port {args.port}", file=sys.stderr)
        return EXIT_USAGE
    from tuiboard.core import source

    command = app_command(
        args.logdirs,
        demo=args.demo,
        poll=args.poll,
        tab=args.tab,
        storage_options=dict(source.STORAGE_OPTIONS),
    )
    server = make_server(command, host=args.host, port=args.port, token=token)
    server.serve()
    return 0
