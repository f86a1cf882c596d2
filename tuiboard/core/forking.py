"""What every forked helper process of tuiboard shares: when a fork is safe, and whole messages
over a pipe's file descriptor.

Owns: `fork_cores` (the cores a fork may use now, or 0: the one rule of the loader's workers,
the first walk's child, the one-shot summary's processes and the remote GET worker),
`workers_wanted` (TUIBOARD_WORKERS), `write_all`, `fill` and `read_exactly`. Must not import:
textual, rich, other tuiboard modules.

Forking is safe only while this process has one thread: a lock another thread holds at the fork
stays held forever in the child. Only on Linux (macOS: forking after numpy's BLAS started is
unsafe; Windows: no fork). TUIBOARD_WORKERS=1 in the environment keeps everything in this
process.
"""

from __future__ import annotations

import os
import sys
import threading


def workers_wanted() -> int:
    """TUIBOARD_WORKERS as a number (0 when unset or not a number)."""
    try:
        return int(os.environ.get("TUIBOARD_WORKERS", ""))
    except ValueError:
        return 0


def fork_cores() -> int:
    """The cores a fork could use now (at least 2), or 0 when forking is off, unsafe or useless:
    TUIBOARD_WORKERS=1, another thread alive, not Linux, a single usable core."""
    if workers_wanted() == 1 or not sys.platform.startswith("linux"):
        return 0
    if threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores is not None and cores >= 2 else 0


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """All of `data` into the pipe (os.write may take part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fill(fd: int, view: memoryview) -> bool:
    """`view` filled from the pipe; False when the other end closed first."""
    at = 0
    size = view.nbytes
    while at < size:
        got = os.readv(fd, [view[at:]])
        if got <= 0:
            return False
        at += got
    return True


def read_exactly(fd: int, n: int) -> bytearray | None:
    """The next `n` bytes of the pipe, or None when the other end closed first."""
    buf = bytearray(n)
    return buf if fill(fd, memoryview(buf)) else None
