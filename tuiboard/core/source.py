"""Where a file's bytes come from: the local disk, or a remote store (core/remote.py) for URLs.

Owns: the small interface the loader, discovery and the small-file readers use instead of
`os.stat` and `open` (`stat`, `open_binary`, `read_range`), the registry of remote roots opened
by a Logdir, and RemoteUnavailable (a URL whose fsspec package is missing). A local path
(anything without "://") goes straight to `os.stat` / `open`: no fsspec import, the same calls
as before this module existed.
Must not import: textual, rich, fsspec (core/remote.py imports it, and only for a URL).
"""

from __future__ import annotations

import builtins
import os
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


STORAGE_OPTIONS: dict[str, object] = {}
"""Process-wide fsspec options for URL roots opened without their own (the command line's
`--storage-option KEY=VALUE`, set by cli.py once before any logdir is opened)."""

_REMOTES: dict[str, RemoteSource] = {}
"""Root URL (no trailing "/") -> the source reading it. Filled by register(); a root opened
again replaces its source (the latest listing wins)."""


def is_url(path: str) -> bool:
    """Whether `path` names a remote store ("proto://...") rather than a local file."""
    return "://" in path


def register(source: RemoteSource) -> None:
    _REMOTES[source.url] = source


def remote_for(url: str) -> RemoteSource:
    """The registered source whose root holds `url` (the longest such root)."""
    best: RemoteSource | None = None
    for root, src in _REMOTES.items():
        if (url == root or url.startswith(root + "/")) and (
            best is None or len(root) > len(best.url)
        ):
            best = src
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


def read_range(path: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of a file (fewer at its end)."""
    if "://" not in path:
        with builtins.open(path, "rb") as fh:
            fh.seek(start)
            return fh.read(max(0, end - start))
    return remote_for(path).read_range(path, start, end)
