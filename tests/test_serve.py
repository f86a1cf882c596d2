"""`tuiboard serve`: the real command in a subprocess, spoken to over HTTP and its websocket.

textual-serve's protocol (textual_serve/server.py, app_service.py): GET / is a page naming the
websocket URL; the websocket (`/ws?width=W&height=H`) starts one app process and relays its
output as binary frames (the terminal's bytes); the browser sends JSON text frames such as
["resize", {"width": W, "height": H}] and ["stdin", "keys"].
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.ports import free_port
from tuiboard.demo import DEMO_RUNS
from tuiboard.serve import app_command, is_loopback, refusal
from tuiboard.writer import EventWriter

pytest.importorskip("textual_serve")

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cret-Token"
ANSI = re.compile(rb"\x1b(?:\[[0-9;?<>=$ ]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TUIBOARD_TOKEN", None)
    return env


@contextmanager
def served(*args: str, cwd: Path | None = None) -> Iterator[str]:
    """`tuiboard serve ARGS --port P` running (in `cwd`); yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiboard", "serve", *args, "--port", str(port)],
        env=_env(),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"tuiboard serve exited {proc.returncode}: {out}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("tuiboard serve did not listen within 30 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _screen_until(ws: aiohttp.ClientWebSocketResponse, words: list[str]) -> str:
    """The app's output (escape sequences removed) once every word appeared, or after 60 s."""
    await ws.send_json(["resize", {"width": 120, "height": 40}])
    buf = b""
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline:
        try:
            msg = await asyncio.wait_for(
                ws.receive(), timeout=max(0.1, deadline - time.monotonic())
            )
        except asyncio.TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.BINARY:
            buf += msg.data
            text = ANSI.sub(b"", buf).decode("utf-8", "replace")
            if all(w in text for w in words):
                break
        elif msg.type != aiohttp.WSMsgType.TEXT:
            break
    return text


def _demo_words() -> list[str]:
    """The demo's run names as the run panel shows them: a tree of their "/" parts."""
    return sorted({part for name in DEMO_RUNS for part in name.split("/")})


def test_page_and_websocket_show_the_demo_runs_without_token_on_localhost() -> None:
    async def go(base: str) -> tuple[int, str, str]:
        async with aiohttp.ClientSession() as s:
            async with s.get(base + "/") as r:
                page = await r.text()
                status = r.status
            ws_url = re.search(r'data-session-websocket-url="([^"]+)"', page)
            assert ws_url is not None, page
            async with s.ws_connect(ws_url.group(1) + "?width=120&height=40") as ws:
                return status, ws_url.group(1), await _screen_until(ws, _demo_words())

    with served("--demo") as base:
        status, ws_url, screen = asyncio.run(go(base))
    assert status == 200
    assert ws_url == base.replace("http://", "ws://") + "/ws"  # the request's own host
    for word in _demo_words():
        assert word in screen, f"{word!r} not in the app's first frames:\n{screen[:2000]}"
    assert "Scalars" in screen  # the tab bar: the app itself, not a summary


def test_a_logdir_is_served_through_the_shell_quoted(tmp_path: Path) -> None:
    """textual-serve runs the app command through /bin/sh, with stdout a pipe: the app must
    start anyway (the web driver) on exactly this logdir, and the shell run nothing else."""
    logdir = tmp_path / "logs $(touch PWNED); touch PWNED2 '"
    w = EventWriter(str(logdir / "run-one"))
    w.add_scalar("loss", 1.0, 0)
    w.close()

    async def go(base: str) -> str:
        async with (
            aiohttp.ClientSession() as s,
            s.ws_connect(base.replace("http://", "ws://") + "/ws?width=100&height=30") as ws,
        ):
            return await _screen_until(ws, ["run-one", "Scalars"])

    with served(str(logdir), cwd=tmp_path) as base:  # where `touch PWNED` would land
        screen = asyncio.run(go(base))
    assert "run-one" in screen and "Scalars" in screen, screen[:2000]
    assert not list(tmp_path.glob("PWNED*"))


def test_token_is_required_on_every_request_and_the_websocket() -> None:
    async def go(base: str) -> dict[str, object]:
        seen: dict[str, object] = {}
        ws_base = base.replace("http://", "ws://") + "/ws"
        async with aiohttp.ClientSession() as s:
            for name, path in [
                ("page", "/"),
                ("wrong", f"/?token={TOKEN}x"),
                ("static", "/static/js/textual.js"),
            ]:
                async with s.get(base + path) as r:
                    seen[name] = r.status
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with s.ws_connect(ws_base + "?width=80&height=24"):
                    pass
            seen["ws"] = refused.value.status
        # A browser's way: the page with ?token= sets a cookie; the websocket carries it.
        # (aiohttp keeps cookies of an IP address host only when told to: unsafe=True.)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            async with s.get(f"{base}/?token={TOKEN}") as r:
                seen["page_ok"] = r.status
                seen["cookie"] = r.cookies.get("tuiboard_token")
            async with s.get(base + "/static/js/textual.js") as r:
                seen["static_ok"] = r.status
            async with s.ws_connect(ws_base + "?width=120&height=40") as ws:
                seen["screen"] = await _screen_until(ws, ["resnet"])
        async with (  # or the token on the websocket URL
            aiohttp.ClientSession() as s,
            s.ws_connect(f"{ws_base}?token={TOKEN}&width=80&height=24") as ws,
        ):
            msg = await asyncio.wait_for(ws.receive(), timeout=30)
            seen["ws_query"] = msg.type
        return seen

    with served("--demo", "--token", TOKEN) as base:
        seen = asyncio.run(go(base))
    assert seen["page"] == 401
    assert seen["wrong"] == 401
    assert seen["static"] == 401
    assert seen["ws"] == 401
    assert seen["page_ok"] == 200
    cookie = seen["cookie"]
    assert cookie is not None and cookie.value == TOKEN  # type: ignore[attr-defined]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"  # type: ignore[index]
    assert seen["static_ok"] == 200
    assert "resnet" in str(seen["screen"])
    assert seen["ws_query"] == aiohttp.WSMsgType.BINARY


def test_foreign_host_and_cross_site_websocket_are_refused() -> None:
    async def go(base: str) -> tuple[int, int, int]:
        port = base.rsplit(":", 1)[1]
        async with aiohttp.ClientSession() as s:
            # DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host.
            async with s.get(base + "/", headers={"Host": f"evil.example:{port}"}) as r:
                rebound = r.status
            async with s.get(base + "/", headers={"Host": f"localhost:{port}"}) as r:
                local = r.status
            # Behind a TLS proxy: the page's own websocket URL is wss://, on the Host asked.
            proxied = {"Host": f"localhost:{port}", "X-Forwarded-Proto": "https"}
            async with s.get(base + "/", headers=proxied) as r:
                assert f'data-session-websocket-url="wss://localhost:{port}/ws"' in await r.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with s.ws_connect(
                    base.replace("http://", "ws://") + "/ws",
                    headers={"Origin": "http://evil.example"},
                ):
                    pass
        return rebound, local, refused.value.status

    with served("--demo") as base:
        rebound, local, cross_site = asyncio.run(go(base))
    assert (rebound, local, cross_site) == (403, 200, 403)


def test_a_public_host_needs_a_token() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tuiboard", "serve", "--demo", "--host", "0.0.0.0", "--port", "1"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--token" in out.stderr


def test_missing_textual_serve_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['textual_serve'] = None; "
        "from tuiboard.cli import main; sys.exit(main(['serve', '--demo']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "tuiboard[web]" in out.stderr


def test_the_app_command_quotes_a_hostile_logdir(tmp_path: Path) -> None:
    logdir = tmp_path / "logs $(touch PWNED); touch PWNED2 '"
    w = EventWriter(str(logdir / "run"))
    w.add_scalar("loss", 1.0, 0)
    w.close()
    command = app_command([str(logdir)])
    assert shlex.split(command)[-1] == str(logdir)
    env = _env()
    env.pop("TEXTUAL_DRIVER", None)
    # Piped, the app prints its summary instead: the shell ran exactly one tuiboard.
    out = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert re.search(r"^run\s", out.stdout, re.M), out.stdout
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()


def _refused(token: str | None, host: str, **kw: object) -> int | None:
    args: dict[str, object] = {"query_token": None, "cookie_token": None, "origin": None}
    args.update(kw)
    found = refusal(
        token=token,
        host_header=host,
        query_token=args["query_token"],  # type: ignore[arg-type]
        cookie_token=args["cookie_token"],  # type: ignore[arg-type]
        origin=args["origin"],  # type: ignore[arg-type]
        websocket=bool(args.get("websocket")),
    )
    return None if found is None else found[0]


def test_refusal_rules() -> None:
    assert _refused(None, "127.0.0.1:6006") is None
    assert _refused(None, "[::1]:6006") is None
    assert _refused(None, "localhost") is None
    assert _refused(None, "10.0.0.2:6006") == 403
    assert _refused("t", "10.0.0.2:6006") == 401
    assert _refused("t", "10.0.0.2:6006", query_token="u") == 401
    assert _refused("t", "10.0.0.2:6006", cookie_token="t") is None
    assert _refused("t", "h:1", query_token="t", websocket=True, origin="http://h:1") is None
    assert _refused("t", "h:1", query_token="t", websocket=True, origin="http://h:2") == 403
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
