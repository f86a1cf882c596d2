"""The first walk of a logdir in a forked child process, begun before the viewer starts.

Owns: `fork_discover`, which forks a child that walks the logdir (Logdir.discover) and sends
back the whole listing as one marshal blob (Logdir.discover_packed: runs, warnings, sniff
verdicts, directory listings), and the parent's side, which adopts it (Logdir.adopt_discovered)
or, when the child failed in any way, walks here instead: the result is always what
Logdir.discover() would have returned and left behind.

Why a process: the walk of 10,000 runs is ~0.4 s of Python, and on a thread it waits for the
interpreter while the app's UI thread builds its screen (both need the GIL: the walk's 0.4 s of
CPU took 0.9-1.5 s of wall; bench/bench_scale.py). A child runs it on another core; the parent
pays the fork (2-10 ms) and the blob's adoption (~35 ms at 10,000 runs).

Forking is only safe with a single thread (a lock held by another thread would stay locked in
the child forever), so the fork happens only when this thread is the only one, before the app
starts any; only on Linux (macOS: forking after numpy's BLAS started is unsafe; Windows: no
fork), with at least two cores, and for local roots only (a URL root's walk runs on fsspec's
threads). Must not import: textual, rich.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import struct
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from tuiboard.core import forking
from tuiboard.core.discovery import RunFiles
from tuiboard.core.source import is_url

if TYPE_CHECKING:
    from tuiboard.core.logdir import Logdir

ENABLED = True
"""Off: the first walk always runs on a thread (TUIBOARD_WORKERS=1 does the same)."""
_HEADER = struct.Struct("<Q")
"""The blob's length, before it: a child that died mid-write is told from one that finished."""


def can_fork(logdir: Logdir) -> bool:
    """Whether forking the walk is safe and worth it here and now (module docstring)."""
    if not ENABLED or not forking.fork_cores():
        return False
    return not any(is_url(path) for _, path in logdir.roots)


def fork_discover(logdir: Logdir) -> Callable[[], dict[str, RunFiles]] | None:
    """Fork a child that walks `logdir` now; the returned callable (call it once, from any
    thread) waits for the child's listing and returns what logdir.discover() would have,
    having left in `logdir` what it would have left. None when forking is not safe or not
    worth it here (can_fork): walk some other way."""
    if not can_fork(logdir):
        return None
    # The child writes its blob into an anonymous file and exits; the parent, having waited
    # for it, reads the blob in one system call (a pipe would take ~70 reads of 64 KiB at
    # 10,000 runs, each taking the GIL back from a busy UI thread).
    fd = _anonymous_file()
    try:
        pid = os.fork()
    except OSError:
        os.close(fd)
        return None
    if pid == 0:  # the child: walk, write, exit (no atexit handlers, no buffers flushed twice)
        code = 1
        try:
            gc.disable()  # a collection would touch (and so copy) every page of the parent's heap
            blob = logdir.discover_packed()
            forking.write_all(fd, _HEADER.pack(len(blob)) + blob)
            code = 0
        finally:
            os._exit(code)
    return _Child(logdir, pid, fd).result


def _anonymous_file() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("tuiboard-walk", os.MFD_CLOEXEC)
    import tempfile

    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


def _end(pid: int, fd: int) -> None:
    """A child whose result was never asked for (an app made and never run), once its parent
    forgets it or exits: ended, reaped (no zombie), its file freed. Its pid cannot belong to
    another process: it was not waited for yet."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        os.close(fd)


class _Child:
    """The parent's side of one forked walk."""

    __slots__ = ("__weakref__", "fd", "logdir", "pid", "unasked")

    def __init__(self, logdir: Logdir, pid: int, fd: int) -> None:
        self.logdir = logdir
        self.pid = pid
        """The child's process id; 0 once it was waited for."""
        self.fd = fd
        self.unasked = weakref.finalize(self, _end, pid, fd)

    def result(self) -> dict[str, RunFiles]:
        if not self.pid:
            raise RuntimeError("a forked walk's result is taken once")
        self.unasked.detach()
        blob = self._receive()
        if blob is not None:
            with contextlib.suppress(ValueError, EOFError, TypeError, IndexError):
                return self.logdir.adopt_discovered(blob)
        return self.logdir.discover()  # the child failed: walk here

    def _receive(self) -> bytes | None:
        """The child's blob, or None when it died, failed or wrote something cut short."""
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped by someone else (a SIGCHLD handler): look anyway
            status = 0
        self.pid = 0
        try:
            if status != 0:
                return None
            size = os.fstat(self.fd).st_size
            data = os.pread(self.fd, size, 0) if size >= _HEADER.size else b""
        except OSError:
            return None
        finally:
            os.close(self.fd)
        if len(data) < _HEADER.size:
            return None
        (n,) = _HEADER.unpack_from(data)
        if len(data) != _HEADER.size + n:
            return None
        return data[_HEADER.size :]
