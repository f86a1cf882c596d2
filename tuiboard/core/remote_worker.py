"""A second process making 3 in 5 of a remote source's GETs on its first load (core/remote.py).

Owns: GetWorker (forked when an s3:// root is opened, serving that root's first prefetch, then
ending), `may_fork` (the rule: PARALLEL, TUIBOARD_WORKERS=1, cores, threads, SPARE_CORE),
MIN_GETS, SHARE
and the pipe's framing. Must not import: textual, rich; fsspec only in the child (through
core/remote.py).

Why: a GET costs our process ~1.4 ms of CPU in botocore and aiohttp (signing, request building,
events, response parsing), all in fsspec's event-loop thread under one GIL, so 1,000 new runs
cost ~1.4 s of one core whatever the store's latency. A forked process with its own filesystem
object makes 3 in 5 GETs of a big first prefetch on the second core and sends the bytes back
through a pipe (bench/README.md "Remote logdirs", session 6, for the figures).

Forking is safe only while this process has no other thread (a thread holding a lock at the
fork leaves it held forever in the child): the worker is forked in make_source before the
root's filesystem object exists, since fsspec starts its event-loop thread when one is made.
The commands and the app open their logdir before any thread starts; a second remote Logdir in
the same process (fsspec's thread runs), a notebook kernel, the app's --demo: no worker, every
GET here as before.

The child makes its own filesystem and client at once (its own event-loop thread, connections
and credentials, from the same URL and storage options: while this process lists the root),
makes the GETs PARALLEL at a time and writes each answer as it arrives: (index, ok, length)
then the bytes. It serves the first load only: the request pipe is closed once the first
prefetch is handed out (its GETs or none), or when its source is freed, or with this process,
and the child exits when it sees that. A GET that failed there is failed here with its reason,
and the reader asks again itself (meeting and reporting the error as before); a worker that
dies fails every GET it held the same way. Request counts are unchanged (each GET is made once,
by one of the two processes).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any

from tuiboard.core import forking

PARALLEL = True
"""Off: every GET in this process (TUIBOARD_WORKERS=1 in the environment does the same)."""
SPARE_CORE = True
"""Fork only when the last minute's load average leaves a core free (at most cores - 1): the
worker's GETs cost more CPU in all (its own client, the pipe: +6-24 % measured), which pays
only on a core that would idle; at load 5 on 2 cores one process was faster (bench/README.md)."""
MIN_GETS = 256
"""A prefetch of fewer GETs is made here alone (a refresh's few), all of a bigger one shared."""
SHARE = (1, 2, 4)
"""The GETs the worker makes: those whose index modulo 5 is in SHARE (3 in 5). This process
also lists the root and decodes what arrives, so an even split left it the slower of the two
(bench/README.md)."""
_HEADER = struct.Struct("<QBQ")
"""An answer: GET index, 1 if it succeeded (then bytes) or 0 (then the error's text), length."""
_BATCH = struct.Struct("<Q")
"""A batch of requests: its pickled length."""


def may_fork(protocol: str, options: dict[str, object]) -> bool:
    """Whether an s3:// root opened now gets a worker: PARALLEL on, TUIBOARD_WORKERS not 1,
    Linux, at least two cores, no other thread in this process, a core to spare (SPARE_CORE),
    and plain storage options (a session object or a callable made here is not sure to work
    in a forked child)."""
    if not PARALLEL or protocol not in ("s3", "s3a"):
        return False
    cores = forking.fork_cores()
    if not cores:
        return False
    if SPARE_CORE and os.getloadavg()[0] > cores - 1:
        return False
    return _plain(options)


def _plain(value: object) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


class GetWorker:
    """The parent's end: `submit` a batch of (fs path, start, end), get one Future a GET."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid = pid
        self._requests = requests
        self._answers = answers
        self._lock = threading.Lock()
        self._waiting: dict[int, Future[bytes]] = {}
        """GET index -> its Future, until the answer comes (or the worker ends)."""
        self._next = 0
        self._dead = False
        self._reader: threading.Thread | None = None
        self.gets = 0
        """GETs handed to the worker so far."""

    @classmethod
    def fork(cls, url: str, options: dict[str, object]) -> GetWorker | None:
        """Fork the worker for root `url` (call only when may_fork said so); None if the
        fork fails (then every GET is made here)."""
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (req_r, req_w, ans_r, ans_w):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(req_w)
                os.close(ans_r)
                # nothing of its own on this process's terminal or pipes (a command's
                # captured output ends when this process exits, not when the child does)
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                _serve(url, options, req_r, ans_w)
                code = 0
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(ans_w)
        return cls(pid, req_w, ans_r)  # (os.pipe's ends are not inherited by exec'd children)

    @property
    def alive(self) -> bool:
        """Whether it takes GETs (not closed, not ended)."""
        return not self._dead and self._requests >= 0

    def submit(self, gets: list[tuple[str, int, int]]) -> list[Future[bytes]] | None:
        """Hand `gets` to the worker; None when it has ended (make them here)."""
        futures: list[Future[bytes]] = [Future() for _ in gets]
        with self._lock:
            if self._dead or self._requests < 0:
                return None
            base = self._next
            self._next += len(gets)
            for i, fut in enumerate(futures):
                self._waiting[base + i] = fut
            if self._reader is None:
                self._reader = threading.Thread(
                    target=self._read_answers, name="tuiboard-get-worker", daemon=True
                )
                self._reader.start()
        body = pickle.dumps([(base + i, *g) for i, g in enumerate(gets)], protocol=5)
        try:
            forking.write_all(self._requests, _BATCH.pack(len(body)) + body)
        except OSError:
            self._end(OSError("the GET worker ended"))
            return None
        self.gets += len(gets)
        return futures

    def close(self) -> None:
        """End the worker: it exits when it sees the request pipe closed. Idempotent (the
        first prefetch closes it, then its source's finalizer): each of its file descriptors
        is closed once, since a number closed twice may by then be another file's."""
        with self._lock:
            fd, self._requests = self._requests, -1
            answers = -1
            if self._reader is None:  # no GET given: no thread reading its answers
                answers, self._answers = self._answers, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if answers >= 0:
            with contextlib.suppress(OSError):
                os.close(answers)
            self._end(OSError("the GET worker ended"))

    def _read_answers(self) -> None:
        try:
            with os.fdopen(self._answers, "rb", buffering=1 << 16) as answers:
                while True:
                    head = answers.read(_HEADER.size)
                    if len(head) < _HEADER.size:
                        break
                    index, ok, length = _HEADER.unpack(head)
                    data = answers.read(length)
                    if len(data) < length:
                        break
                    with self._lock:
                        fut = self._waiting.pop(index, None)
                    if fut is None:
                        continue
                    with contextlib.suppress(InvalidStateError):  # cancelled: a new listing
                        if ok:
                            fut.set_result(data)
                        else:
                            fut.set_exception(OSError(data.decode("utf-8", "replace")))
        except (OSError, ValueError):
            pass
        self._end(OSError("the GET worker ended"))

    def _end(self, error: OSError) -> None:
        with self._lock:
            if self._dead:
                return
            self._dead = True
            waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            with contextlib.suppress(InvalidStateError):
                fut.set_exception(error)
        with self._lock:
            fd, self._requests = self._requests, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if threading.current_thread() is self._reader:
            _reap(self.pid)
        else:  # never wait here (a finalizer may run on any thread): the child may be busy
            threading.Thread(target=_reap, args=(self.pid,), daemon=True).start()


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def _serve(url: str, options: dict[str, object], requests: int, answers: int) -> None:
    """The child's loop: a batch in, its answers out as they arrive, until the pipe closes."""
    import asyncio

    from tuiboard.core import remote

    fs: Any = None
    write = threading.Lock()
    with contextlib.suppress(Exception):  # else made (and its error met) at the first batch
        fs = remote.make_fs(url, options)
        import fsspec.asyn

        # its client made now, while the parent lists the root: ~0.15 s of CPU off the load
        fsspec.asyn.sync(fs.loop, fs.set_session)
    while True:
        head = forking.read_exactly(requests, _BATCH.size)
        if head is None:
            return
        body = forking.read_exactly(requests, _BATCH.unpack(head)[0])
        if body is None:
            return
        gets: list[tuple[int, str, int, int]] = pickle.loads(body)
        if fs is None:
            fs = remote.make_fs(url, options)

        async def run(fs: Any, gets: list[tuple[int, str, int, int]]) -> None:
            gate = asyncio.Semaphore(remote.PARALLEL)

            async def one(index: int, path: str, lo: int, hi: int) -> None:
                async with gate:
                    try:
                        data = bytes(await fs._cat_file(path, start=lo, end=hi))
                        ok = 1
                    except Exception as error:  # the parent's read meets it again itself
                        data, ok = f"{type(error).__name__}: {error}".encode(), 0
                with write:
                    forking.write_all(answers, _HEADER.pack(index, ok, len(data)) + data)

            await asyncio.gather(*(one(*g) for g in gets))

        import fsspec.asyn

        fsspec.asyn.sync(fs.loop, run, fs, gets)
