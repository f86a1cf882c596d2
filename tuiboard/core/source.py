"""Where a file's bytes come from: the local disk, or a remote store (core/remote.py) for URLs.

Owns: the small interface the loader, discovery and the small-file readers use instead of
`os.stat` and `open` (`stat`, `open_binary`, `read_range`, `read_whole`), which remote source
serves a URL (`reading`, `remote_for`: the sources of the Logdir reading on this thread, else
the newest live one), RemoteUnavailable (a URL whose fsspec package is missing),
StoreError (a remote root whose listing fails: what the status line says), `retry_delay` (the
backoff of a failing store) and `redact` (no secret in any message). A local path (anything
without "://") goes straight to `os.stat` / `open`: no fsspec import, the same calls as before
this module existed.
Must not import: textual, rich, fsspec (core/remote.py imports it, and only for a URL).
"""

from __future__ import annotations

import builtins
import os
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tuiboard.core.remote import RemoteSource


class FileStat(Protocol):
    """What the loader needs of a stat: os.stat_result has it, and so has remote.RemoteStat."""

    @property
    def st_ino(self) -> int: ...
    @property
    def st_size(self) -> int: ...
    @property
    def st_mtime(self) -> float: ...
    @property
    def st_mtime_ns(self) -> int: ...


class RemoteUnavailable(Exception):
    """A remote logdir that cannot be opened at all: its fsspec package is not installed, or
    its protocol is unknown. The message is one line the user can act on."""


@dataclass(frozen=True, slots=True)
class StoreError:
    """A remote root whose latest listing failed (replaced by None once one succeeds)."""

    url: str
    protocol: str
    reason: str
    """A few words, never a secret: "access denied", "credentials refused", "credentials
    expired", "throttled", "store unreachable", "no such bucket", or the error's own words."""
    failures: int
    """Listings failed in a row (1 for the first)."""
    since: float
    """time.time() of the first failure of the row."""

    def describe(self) -> str:
        """The state in a few words: "s3: access denied" (the app adds when it retries)."""
        return f"{self.protocol}: {self.reason}"


BACKOFF_CAP = 300.0
"""The longest wait between two listings of a failing store (5 min)."""


def retry_delay(base: float, failures: int) -> float:
    """Seconds until the next listing of a store that failed `failures` times in a row: the
    usual `base` after the first failure, then doubling (10, 20, 40, ... s), at most
    BACKOFF_CAP (never less than `base`)."""
    if failures <= 0:
        return base
    return max(base, min(BACKOFF_CAP, base * 2.0 ** min(failures - 1, 32)))


_SECRET_WORDS = ("secret", "token", "password", "passwd", "key", "credential", "sas", "sig")
_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS_JSON",
)


def redact(text: str, options: dict[str, object] | None = None) -> str:
    """`text` with every secret this process knows replaced by "***": the values of storage
    options whose name says secret/token/key/password (the command line's and `options`), and
    the standard secret environment variables of AWS and Azure."""
    secrets: set[str] = set()
    for opts in (STORAGE_OPTIONS, options or {}):
        for name, value in opts.items():
            if isinstance(value, str) and any(w in name.lower() for w in _SECRET_WORDS):
                secrets.add(value)
    for name in _SECRET_ENV:
        value = os.environ.get(name)
        if value:
            secrets.add(value)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


STORAGE_OPTIONS: dict[str, object] = {}
"""Process-wide fsspec options for URL roots opened without their own (the command line's
`--storage-option KEY=VALUE`, set by cli.py once before any logdir is opened)."""

_READING: ContextVar[tuple[RemoteSource, ...]] = ContextVar("tuiboard_reading", default=())
"""The remote sources of the Logdir reading on this thread (or asyncio task) now: set by
`reading` around each of its listings and reads, so that two Logdirs open on the same URL (two
`tuiboard.open(url)` in a notebook, each with its own storage options or endpoint) each read
through their own filesystem and listing."""

_OPEN: list[weakref.ref[RemoteSource]] = []
"""Every remote source still alive, oldest first (weak: a Logdir dropped takes its sources
with it). Serves a read made outside any Logdir's `reading` (a test's, or a lazy read such as
the embeddings dashboard's in a process that has one Logdir): the newest source holding it."""
_OPEN_LOCK = threading.Lock()


def is_url(path: str) -> bool:
    """Whether `path` names a remote store ("proto://...") rather than a local file."""
    return "://" in path


def register(source: RemoteSource) -> None:
    """Note a source just opened (core/remote.make_source does); forgotten when it is freed."""
    with _OPEN_LOCK:
        _OPEN[:] = [ref for ref in _OPEN if ref() is not None]
        _OPEN.append(weakref.ref(source))


@contextmanager
def reading(sources: tuple[RemoteSource, ...]) -> Iterator[None]:
    """Within the block (this thread only), URLs under these sources' roots are read through
    them, whatever other sources were opened on the same roots."""
    token = _READING.set(sources)
    try:
        yield
    finally:
        _READING.reset(token)


def _holder(sources: Iterable[RemoteSource | None], url: str) -> RemoteSource | None:
    """The source whose root holds `url` (the longest root; the last of equal ones)."""
    best: RemoteSource | None = None
    for src in sources:
        if src is None:
            continue
        root = src.url
        if (url == root or url.startswith(root + "/")) and (
            best is None or len(root) >= len(best.url)
        ):
            best = src
    return best


def remote_for(url: str) -> RemoteSource:
    """The source that reads `url`: the one of the Logdir reading on this thread (`reading`),
    else the newest live source whose root holds it."""
    best = _holder(_READING.get(), url)
    if best is None:
        best = _holder((ref() for ref in list(_OPEN)), url)
    if best is None:
        raise FileNotFoundError(f"no remote logdir holds {url}")
    return best


def stat(path: str) -> FileStat:
    """os.stat for a local path; a remote file's size and time from its last listing."""
    if "://" not in path:
        return os.stat(path)
    return remote_for(path).stat(path)


def open_binary(path: str) -> IO[bytes]:
    """open(path, "rb") for a local path; a file object reading byte ranges for a URL."""
    if "://" not in path:
        return builtins.open(path, "rb")
    return remote_for(path).open(path)


READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
"""os.open's flags for reading a local file (Windows opens in text mode without O_BINARY)."""


def read_whole(path: str, least: int, most: int) -> tuple[int, bytes] | None:
    """(inode, bytes) of a whole file of `least` to `most` bytes, in one read; None for any
    other size, or when it changed or failed meanwhile (the caller reads it the usual way). A
    local file is read through the bare file descriptor (a first load of 10,000 small runs
    reads 10,000 files: an `open()` file object costs about twice the read itself); a remote
    file's bytes are usually the prefetch's GET (remote.RemoteSource.prefetch)."""
    st: FileStat
    try:
        if "://" not in path:
            fd = os.open(path, READ_FLAGS)
            try:
                st = os.fstat(fd)
                if not least <= st.st_size <= most:
                    return None
                data = os.read(fd, most + 1)
            finally:
                os.close(fd)
        else:
            src = remote_for(path)
            st = src.stat(path)
            if not least <= st.st_size <= most:
                return None
            data = src.read_range(path, 0, st.st_size)
    except OSError:
        return None
    return (st.st_ino, data) if len(data) == st.st_size else None


def read_range(path: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of a file (fewer at its end)."""
    if "://" not in path:
        with builtins.open(path, "rb") as fh:
            fh.seek(start)
            return fh.read(max(0, end - start))
    return remote_for(path).read_range(path, start, end)
