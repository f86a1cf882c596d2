"""Free TCP ports for the servers the tests start in other processes (moto, the GCS emulator,
Azurite, `tuiboard serve`, the notebook's `--app`).

Owns: `free_port`. Must not import: tuiboard (a helper of the tests and nothing else).

A port is handed to a server that binds it a second or two later (a Python or Node process
starting). Asking the kernel for port 0 would give one of its ephemeral ports, the range that
every outgoing connection on the machine draws from: in that window a client socket of another
test (pytest-xdist workers run side by side) may take it, and the server fails to bind or, worse,
the test talks to someone else's server. So the port is drawn at random from below the ephemeral
range, where the kernel never hands out ports by itself, and checked free by binding it; random
so that workers (and other test runs on the machine) drawing at the same moment do not collide.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_FLOOR = 10_000
"""Lowest port drawn: above the well-known and registered ports that services commonly use."""


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux: 32768 by default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to now, outside the ephemeral range."""
    high = _ephemeral_low() - 1
    if high - _FLOOR >= 1000:
        rng = random.SystemRandom()
        for _ in range(50):
            port = rng.randint(_FLOOR, high)
            if _bindable(port):
                return port
    with socket.socket() as s:  # no room below the ephemeral range: the kernel's choice
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
