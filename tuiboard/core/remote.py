"""Remote logdirs (s3://, gs://, ssh://, any fsspec protocol): listing and byte-range reads.

Owns: RemoteSource (one remote root: its fsspec filesystem, the sizes and times of its objects
from the last listing, byte-range reads, a count of the requests made), make_source (URL ->
source, or RemoteUnavailable naming the extra to install), discover_remote (discovery over
one listing of the whole prefix) and the s3 client's settings that make a GET cheaper
(s3_options, parse_timestamp). Paths everywhere above this module stay URLs
("s3://bucket/logs/run/events..."); only this module speaks fsspec's protocol-less paths.
Must not import: textual, rich. Imports fsspec (and for s3://, aiobotocore and botocore), and
only when a URL logdir is opened.

Requests: a refresh lists the root once (`find`: S3's ListObjectsV2 without a delimiter, paged
by 1,000 keys, so one request per 1,000 objects, not one per directory), takes every size and
time from that listing (never a HEAD per file), and reads only byte ranges: a file's new bytes
from the loader's remembered offset, in one ranged GET (larger files in a few growing ones).
Object stores have no append: a writer re-uploads the whole object. Its size grows and its
first bytes stay the same, so it is read from the offset; one whose first bytes changed is read
again from scratch (loader.py's FileCursor.head). One rewritten with exactly the same size (and
perhaps the same time: S3's has 1 s resolution) is known by its ETag/generation from the listing
(RemoteStat.etag, FileCursor.etag), and its run read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any, cast

from tuiboard.core import discovery, remote_worker, source
from tuiboard.core.config import CONFIG_NAMES
from tuiboard.core.csvlog import is_csv_candidate
from tuiboard.core.jsonl import FRAMEWORK_NAMES
from tuiboard.core.remote_worker import GetWorker
from tuiboard.core.runmeta import RUN_META
from tuiboard.core.types import ReadWarning

EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "ssh": "ssh",
    "sftp": "ssh",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
}
"""URL protocol -> tuiboard's pip extra that installs its fsspec package."""
FIRST_FETCH = 1 << 20
"""Bytes the first ranged GET of a file asks for at least (a sniff reads 4 KiB: one request)."""
MAX_FETCH = 64 << 20
"""Largest single ranged GET; a longer read takes several (doubling from FIRST_FETCH)."""
RECENT_BYTES = 64 << 20
"""Bytes of recent GETs kept (per source) so the next read of the same range is no request:
the sniff of a JSONL file, the loader's head check and its first chunk are one GET. Dropped at
each listing (the objects may have changed); past this total, the oldest go first."""
PARALLEL = 64
"""Requests in flight at most while prefetching (and s3fs's connection pool, unless
--storage-option config_kwargs sets max_pool_connections): with botocore's default pool of 10,
1,000 GETs from a store 50 ms away wait 5 s at least (`python bench/bench_remote.py
--latency-ms 50`: first load 12.5-13.2 s before, 9.5 s with 32 and decoding as they arrive);
with 64, 0.8 s, below our CPU for them (~1.2 ms a GET: bench/README.md)."""
HEAD_FETCH = 4096
"""The head range prefetched for a file that grew: the loader's check of its first bytes
(64) and a sniff's first read (4 KiB) are served from it."""


@dataclass(frozen=True, slots=True)
class RemoteStat:
    """A remote object's size and time as the listing gave them (source.FileStat)."""

    st_size: int
    st_mtime: float
    st_mtime_ns: int
    etag: str = ""
    st_ino: int = 0
    """Objects have no inode: a constant, so a re-upload is judged by its size and head."""


def protocol_of(url: str) -> str:
    return url.split("://", 1)[0].lower()


def install_hint(protocol: str) -> str:
    extra = EXTRAS.get(protocol)
    if extra is not None:
        return f"pip install 'tuiboard[{extra}]'"
    return f"install the fsspec package for {protocol}://"


def make_source(url: str, storage_options: dict[str, object] | None = None) -> RemoteSource:
    """A source for the root `url`, registered with core/source.py. Raises RemoteUnavailable
    (one line: which extra to install) when fsspec or the protocol's package is missing."""
    protocol = protocol_of(url)
    try:
        import fsspec
    except ImportError:
        raise RemoteUnavailable(url, protocol) from None
    options = source.STORAGE_OPTIONS if storage_options is None else storage_options
    if protocol in ("s3", "s3a"):
        options = s3_options(options)
    worker = None
    if remote_worker.may_fork(protocol, options):
        with contextlib.suppress(ImportError, ValueError):  # make_fs says what is missing
            fsspec.get_filesystem_class(protocol)  # imported once, for both processes
        # before the filesystem object: fsspec starts its event-loop thread when one is made
        worker = GetWorker.fork(url, options)
    try:
        fs = make_fs(url, options)
    except BaseException:
        if worker is not None:
            worker.close()
        raise
    src = RemoteSource(url.rstrip("/"), protocol, fs)
    src.options = dict(options)
    if worker is not None:
        src.worker = worker
        weakref.finalize(src, worker.close)
    source.register(src)
    return src


def make_fs(url: str, options: dict[str, object]) -> Any:
    """The fsspec filesystem of root `url` with `options` (s3_options already applied): raises
    RemoteUnavailable as make_source does."""
    protocol = protocol_of(url)
    try:
        import fsspec
    except ImportError:
        raise RemoteUnavailable(url, protocol) from None
    try:
        # url_to_fs: the URL's own parts (ssh's host and port) become options too
        fs, _ = fsspec.core.url_to_fs(
            url,
            skip_instance_cache=True,
            **options,
        )
    except ImportError:
        raise RemoteUnavailable(url, protocol) from None
    except ValueError as error:  # fsspec: "Protocol not known"
        raise source.RemoteUnavailable(f"{url}: {error}") from None
    except TypeError as error:  # a storage option the filesystem does not take
        raise source.RemoteUnavailable(f"{url}: bad storage option: {error}") from None
    except OSError as error:  # a filesystem that connects when made (ssh)
        raise source.RemoteUnavailable(f"cannot open {url}: {_why(error, options)}") from None
    if protocol in ("s3", "s3a"):
        _cheap_timestamps(fs)
    return fs


def s3_options(options: dict[str, object]) -> dict[str, object]:
    """s3fs's options with tuiboard's defaults for botocore's client config (each one only
    where `options`' config_kwargs does not set it), which cut our CPU per GET by a quarter
    (1.40 -> 1.08 ms against a store that keeps connections alive, 1,000 GETs 32 at a time;
    `python bench/bench_remote.py --server canned --client-defaults`, bench/README.md):
      max_pool_connections  PARALLEL: botocore's 10 would cap the GETs in flight.
      user_agent            a fixed string: by default botocore builds its User-Agent header
                            from ~30 parts twice per request (~0.15 ms).
      response_checksum_validation  "when_required": every read here is a ranged GET, for
                            which S3 sends no whole-object checksum to check; records carry
                            their own CRCs where the format has them (tfevents).
      parameter_validation  False (botocore's documented switch "for performance"): s3fs's
                            calls (a bucket, a key, a range) need no check against the model
                            before each request (~5 %)."""
    config = options.get("config_kwargs")
    config = dict(config) if isinstance(config, dict) else {}
    config.setdefault("max_pool_connections", PARALLEL)
    config.setdefault("user_agent", _user_agent())
    config.setdefault("response_checksum_validation", "when_required")
    config.setdefault("parameter_validation", False)
    return {**options, "config_kwargs": config}


def _user_agent() -> str:
    import platform

    from tuiboard import __version__

    parts = [f"tuiboard/{__version__}"]
    for name in ("aiobotocore", "botocore"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        parts.append(f"{name}/{getattr(module, '__version__', '?')}")
    parts.append(f"Python/{platform.python_version()}")
    return " ".join(parts)


def _cheap_timestamps(fs: Any) -> None:
    """Give an s3fs filesystem (not connected yet, no session of the caller's) the session it
    would make itself, whose responses' timestamps are parsed by parse_timestamp: botocore's
    default (dateutil) costs ~0.1 ms each, one per GET (Last-Modified) and one per object of
    a listing."""
    if getattr(fs, "session", True) is not None or getattr(fs, "_s3", True) is not None:
        return
    try:
        from aiobotocore.session import AioSession  # type: ignore[import-untyped]

        session = AioSession(**getattr(fs, "kwargs", {}))
        factory = session.get_component("response_parser_factory")
        factory.set_parser_defaults(timestamp_parser=parse_timestamp)
        _share_loader(session)
    except Exception:  # an option the session does not take: s3fs makes its own and says so
        return
    fs.session = session


_LOADERS: dict[object, Any] = {}
"""botocore's data loader by its search path (AWS_DATA_PATH), one per process."""
_LOADERS_LOCK = threading.Lock()


def _share_loader(session: Any) -> None:
    """Give `session` the data loader of the first session made in this process with the same
    search path. botocore's Loader keeps each JSON file it parsed (the S3 model, its endpoint
    rules, the partitions), but every session makes its own loader, so each Logdir opened on
    an s3:// URL parsed them again (~0.1 s of CPU: `python bench/bench_remote.py`'s loads
    after the first). The loader only reads files and hands out what it parsed; botocore does
    not change what it returns."""
    path = session.get_config_variable("data_path")
    with _LOADERS_LOCK:
        loader = _LOADERS.get(path)
        if loader is None:
            _LOADERS[path] = session.get_component("data_loader")
            return
    session.register_component("data_loader", loader)


def parse_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser (an aware datetime) for the two forms S3 sends, ISO 8601
    ("2026-12-07T10:42:17.000Z", listings) and RFC 7231 ("Mon, 07 Dec 2026 10:42:17 GMT",
    headers), without dateutil; anything else goes to botocore's own."""
    if isinstance(value, str) and len(value) >= 20:
        try:
            if value[-1] == "Z" and value[4] == "-":
                return datetime.fromisoformat(value[:-1] + "+00:00")
            if value.endswith(" GMT") and value[3] == ",":
                return parsedate_to_datetime(value)
        except (ValueError, TypeError, IndexError):
            pass
    from botocore.utils import parse_timestamp as botocore_parse  # type: ignore[import-untyped]

    return cast(datetime, botocore_parse(value))


class RemoteUnavailable(source.RemoteUnavailable):
    def __init__(self, url: str, protocol: str) -> None:
        super().__init__(f"cannot read {url}: {install_hint(protocol)}")


class RemoteSource:
    """One remote root. Listing and reads may be called from any thread (the count is locked)."""

    def __init__(self, url: str, protocol: str, fs: Any) -> None:
        self.url = url
        """The root URL, no trailing "/"."""
        self.protocol = protocol
        self.fs = fs
        stripped = fs._strip_protocol(url)
        self._prefix = url[: -len(stripped)] if stripped and url.endswith(stripped) else ""
        """What goes before a protocol-less path to make its URL ("s3://", "ssh://host:22")."""
        self.listing: dict[str, RemoteStat] = {}
        """URL -> the object's size and time, from the latest listing (replaced whole)."""
        self.last_found: dict[str, discovery.RunFiles] = {}
        """The runs of the latest listing that succeeded (kept while the store errors)."""
        self.error: source.StoreError | None = None
        """Why the latest listing failed (None: it succeeded). The app's status line shows it
        and the watcher backs off while it is set."""
        self.options: dict[str, object] = {}
        """The storage options it was opened with (their secrets are redacted from messages)."""
        self.requests = 0
        """Requests made: one per listing call, one per ranged read."""
        self.list_requests = 0
        self._lock = threading.Lock()
        self._recent: dict[str, list[tuple[int, bytes]]] = {}
        """URL -> (start, bytes) of its recent GETs under the current listing."""
        self._recent_bytes = 0
        self._pending: dict[str, list[tuple[int, int, Future[bytes]]]] = {}
        """URL -> (start, end, its GET in flight) of the prefetch: a read of that range waits
        for it instead of asking again (the loader decodes the first runs while the later
        ones are still coming)."""
        self.worker: GetWorker | None = None
        """A process forked when the root was opened, making 3 in 5 GETs of the first
        prefetch if it is big (core/remote_worker.py), then ending; None: every GET here."""
        self._read_end: dict[str, tuple[int, RemoteStat]] = {}
        """URL -> (end of the furthest range read, listing entry then): where the loader's
        next read of the object starts when it grows (the prefetch's guess)."""

    def _count(self, listing: bool = False) -> None:
        with self._lock:
            self.requests += 1
            if listing:
                self.list_requests += 1

    def fs_path(self, url: str) -> str:
        if self._prefix and url.startswith(self._prefix):
            return url[len(self._prefix) :]
        return str(self.fs._strip_protocol(url))

    def url_of(self, fs_path: str) -> str:
        return (self._prefix or f"{self.protocol}://") + fs_path

    # -- listing -----------------------------------------------------------------------------

    def list_tree(self) -> dict[str, RemoteStat]:
        """Every object under the root with its size and time (raises OSError when the store
        refuses). Replaces `listing`."""
        root = self.fs_path(self.url)
        self._count(listing=True)
        try:
            self.fs.invalidate_cache()  # every refresh must see the store as it is now
            found = self.fs.find(root, detail=True)
        except OSError:
            raise
        except Exception as error:  # botocore / aiohttp errors not translated by fsspec
            raise OSError(f"{type(error).__name__}: {error}") from error
        out: dict[str, RemoteStat] = {}
        for path, info in found.items():
            if info.get("type", "file") != "file":
                continue
            mtime = _mtime(info)
            etag = str(info.get("ETag") or info.get("etag") or info.get("generation") or "")
            out[self.url_of(path)] = RemoteStat(
                int(info.get("size") or 0), mtime, int(mtime * 1e9), etag
            )
        with self._lock:
            self.listing = out
            self._recent.clear()
            self._recent_bytes = 0
            pending, self._pending = self._pending, {}
        for held in pending.values():
            for _, _, fut in held:
                fut.cancel()
        return out

    # -- files -------------------------------------------------------------------------------

    def stat(self, url: str) -> RemoteStat:
        st = self.listing.get(url)
        if st is None:
            raise FileNotFoundError(url)
        return st

    def read_range(self, url: str, start: int, end: int, need: int | None = None) -> bytes:
        """Bytes [start, end) (fewer at the object's end). With `need`, bytes already held
        that cover [start, need) are returned as they are (perhaps short of `end`): a file
        reading ahead asks for more than it needs."""
        if end <= start:
            return b""
        need = end if need is None else min(need, end)
        if self._pending:
            self._settle(url)
        stamp = self.listing.get(url)
        size = stamp.st_size if stamp is not None else None
        for at, buf in self._recent.get(url, ()):
            stop = at + len(buf)
            if at <= start and (need <= stop or (size is not None and stop >= size)):
                self._note_read(url, start + len(buf[start - at : end - at]), stamp)
                return buf[start - at : end - at]
        self._count()
        try:
            data = cast(bytes, self.fs.cat_file(self.fs_path(url), start=start, end=end))
        except OSError:
            raise
        except Exception as error:
            raise OSError(f"{type(error).__name__}: {error}") from error
        self._keep(url, start, data)
        self._note_read(url, start + len(data), stamp)
        return data

    def _note_read(self, url: str, end: int, stamp: RemoteStat | None) -> None:
        if stamp is not None:
            held = self._read_end.get(url)
            if held is None or held[1] != stamp or held[0] < end:
                self._read_end[url] = (end, stamp)

    def _keep(self, url: str, start: int, data: bytes) -> None:
        if len(data) > RECENT_BYTES:
            return
        with self._lock:
            while self._recent and self._recent_bytes + len(data) > RECENT_BYTES:
                oldest = next(iter(self._recent))
                self._recent_bytes -= sum(len(b) for _, b in self._recent.pop(oldest))
            self._recent.setdefault(url, []).append((start, data))
            self._recent_bytes += len(data)

    def _settle(self, url: str) -> None:
        """Wait for the prefetch's GETs of `url` (if any) and keep what they brought; a failed
        one is forgotten (the read asks again and meets the error itself)."""
        with self._lock:
            held = self._pending.pop(url, None)
        for start, _, fut in held or ():
            try:
                data = fut.result()
            except Exception:  # cancelled, or the store's error: the read asks again
                continue
            if isinstance(data, bytes):
                self._keep(url, start, data)

    def prefetch(self, urls: list[str]) -> int:
        """Fetch in parallel what reading `urls` is about to need: a new object's first
        FIRST_FETCH bytes; a grown one's head and the bytes after the furthest range read
        before. Unchanged objects cost nothing. On an async store (s3fs, gcsfs, adlfs,
        sshfs) the GETs are started, at most PARALLEL at a time in `urls`' order, and this
        returns at once: each read waits only for its own (the first runs decode while the
        rest arrive). Others: one blocking cat_ranges. Errors are left for the read itself
        to meet and report. Returns the number of ranges asked for."""
        paths: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        budget = RECENT_BYTES
        for url in urls:
            st = self.listing.get(url)
            if st is None or st.st_size == 0:
                continue
            held = self._read_end.get(url)
            if held is None:
                want = [(0, min(st.st_size, FIRST_FETCH))]
            elif held[1] == st or held[0] >= st.st_size:
                continue
            else:
                at = min(held[0], st.st_size)
                want = [(0, min(HEAD_FETCH, st.st_size))]
                want.append((at, min(st.st_size, at + FIRST_FETCH)))
            for lo, hi in want:
                if hi > lo and budget >= hi - lo:
                    budget -= hi - lo
                    paths.append(url)
                    starts.append(lo)
                    ends.append(hi)
        if not paths:
            return 0
        with self._lock:
            self.requests += len(paths)
        loop = getattr(self.fs, "loop", None) if getattr(self.fs, "async_impl", False) else None
        if loop is not None and hasattr(self.fs, "_cat_file"):
            worker = self.worker
            if worker is not None and worker.alive and len(paths) >= remote_worker.MIN_GETS:
                self._share(loop, worker, paths, starts, ends)
            else:
                self._start_gets(loop, paths, starts, ends)
            if worker is not None:
                worker.close()  # it serves the first load only (exits once it answered)
            return len(paths)
        try:
            got = self.fs.cat_ranges(
                [self.fs_path(u) for u in paths], starts, ends, on_error="return"
            )
        except Exception:  # a prefetch is a hint: the reads themselves meet and report errors
            return 0
        for url, lo, data in zip(paths, starts, got, strict=False):
            if isinstance(data, bytes):
                self._keep(url, lo, data)
        return len(paths)

    def _share(
        self,
        loop: asyncio.AbstractEventLoop,
        worker: GetWorker,
        paths: list[str],
        starts: list[int],
        ends: list[int],
    ) -> None:
        """3 in 5 GETs to the worker (remote_worker.SHARE), the rest here, both down the list
        in the loader's order; ours start first (handing the worker its batch may wait for it
        to finish making its client). A worker gone takes none: they are all made here."""
        share = [i % 5 in remote_worker.SHARE for i in range(len(paths))]
        mine = [i for i, s in enumerate(share) if not s]
        theirs = [i for i, s in enumerate(share) if s]
        self._start_gets(loop, *_pick(mine, paths, starts, ends))
        futures = worker.submit([(self.fs_path(paths[i]), starts[i], ends[i]) for i in theirs])
        if futures is None:
            self._start_gets(loop, *_pick(theirs, paths, starts, ends))
            return
        with self._lock:
            for i, fut in zip(theirs, futures, strict=True):
                self._pending.setdefault(paths[i], []).append((starts[i], ends[i], fut))

    def _start_gets(
        self, loop: asyncio.AbstractEventLoop, urls: list[str], starts: list[int], ends: list[int]
    ) -> None:
        """Ranged GETs on fsspec's event loop (its own thread), PARALLEL at a time, FIFO."""
        gate: list[asyncio.Semaphore] = []

        async def get(path: str, lo: int, hi: int) -> bytes:
            if not gate:  # made on the loop's thread, shared by this batch
                gate.append(asyncio.Semaphore(PARALLEL))
            async with gate[0]:
                return cast(bytes, await self.fs._cat_file(path, start=lo, end=hi))

        with self._lock:
            for url, lo, hi in zip(urls, starts, ends, strict=True):
                fut = asyncio.run_coroutine_threadsafe(get(self.fs_path(url), lo, hi), loop)
                self._pending.setdefault(url, []).append((lo, hi, fut))

    def open(self, url: str) -> IO[bytes]:
        st = self.listing.get(url)
        return cast(IO[bytes], _RangeFile(self, url, st.st_size if st is not None else None))


def _pick(
    which: list[int], paths: list[str], starts: list[int], ends: list[int]
) -> tuple[list[str], list[int], list[int]]:
    return [paths[i] for i in which], [starts[i] for i in which], [ends[i] for i in which]


class _RangeFile(io.RawIOBase):
    """A read-only file over ranged GETs: each read past the buffer fetches from the current
    position, at least FIRST_FETCH bytes, doubling up to MAX_FETCH (a loader reading 192 KiB
    chunks of a 10 MB file makes 4 requests, not 53)."""

    def __init__(self, src: RemoteSource, url: str, size: int | None) -> None:
        super().__init__()
        self._src = src
        self._url = url
        self._size = size
        self._pos = 0
        self._buf = b""
        self._buf_at = 0
        self._fetch = FIRST_FETCH

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            if self._size is None:
                raise OSError("size unknown")
            self._pos = self._size + offset
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        end = self._size if n is None or n < 0 else self._pos + n
        if end is None:
            raise OSError("size unknown: read with a length")
        if self._size is not None:
            end = min(end, self._size)
        if end <= self._pos:
            return b""
        lo, hi = self._buf_at, self._buf_at + len(self._buf)
        if not (lo <= self._pos and end <= hi):
            want = max(end - self._pos, self._fetch)
            stop = self._pos + want if self._size is None else min(self._size, self._pos + want)
            self._buf = self._src.read_range(self._url, self._pos, stop, need=end)
            self._buf_at = self._pos
            self._fetch = min(self._fetch * 2, MAX_FETCH)
            lo, hi = self._buf_at, self._buf_at + len(self._buf)
        out = self._buf[self._pos - lo : end - lo]
        self._pos += len(out)
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _mtime(info: dict[str, Any]) -> float:
    for key in ("LastModified", "mtime", "updated", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


@dataclass(frozen=True, slots=True)
class _Entry:
    """One name in a directory of the listing, shaped like the os.DirEntry discovery reads."""

    name: str
    path: str
    dir: bool

    def is_dir(self, follow_symlinks: bool = True) -> bool:
        return self.dir

    def is_symlink(self) -> bool:
        return False


def discover_remote(
    src: RemoteSource, known_jsonl: dict[str, bool] | None = None
) -> tuple[dict[str, discovery.RunFiles], list[ReadWarning]]:
    """discovery.discover() over one listing of the root: the same rules, run names and file
    lists (URLs); a store error is one warning on the root, and no runs."""
    try:
        listing = src.list_tree()
    except OSError as error:
        # The runs found last time stay (a store that errors for a while, expired credentials,
        # throttling, must not empty the screen); their files are not read until it lists.
        before = src.error
        src.error = source.StoreError(
            url=src.url,
            protocol=src.protocol,
            reason=error_reason(error, src.options),
            failures=1 if before is None else before.failures + 1,
            since=time.time() if before is None else before.since,
        )
        found = dict(src.last_found)
        why = _why(error, src.options)
        if not why.startswith(src.error.reason):
            why = f"{src.error.reason}: {why}"
        return found, [ReadWarning(file=src.url, message=f"cannot list: {why}")]
    src.error = None
    dirs: dict[str, dict[str, _Entry]] = {src.url: {}}
    for url in listing:
        parent, _, base = url.rpartition("/")
        dirs.setdefault(parent, {})[base] = _Entry(base, url, False)
        # every directory up to the root holds the one below it
        while parent != src.url and parent.startswith(src.url + "/"):
            up, _, name = parent.rpartition("/")
            held = dirs.setdefault(up, {})
            if name in held:
                break
            held[name] = _Entry(name, parent, True)
            parent = up
    if not listing:
        src.last_found = {}
        return {}, [ReadWarning(file=src.url, message="no objects under this prefix")]

    src.prefetch([u for u in listing if _may_read(u.rpartition("/")[2])])

    def listdir(path: str) -> list[_Entry]:
        return list(dirs.get(path, {}).values())

    runs, warnings = discovery.discover_listed(src.url, listdir, known_jsonl)
    src.last_found = runs
    return runs, warnings


_READ_NAMES = frozenset(
    {*CONFIG_NAMES, *FRAMEWORK_NAMES, RUN_META, discovery.WANDB_SUMMARY, discovery.PROJECTOR_CONFIG}
)


def _may_read(name: str) -> bool:
    """Whether discovery or the loader reads a file of this name (what is worth prefetching;
    a checkpoint beside the logs is not)."""
    return (
        "tfevents" in name
        or name.endswith((".jsonl", discovery.WANDB_SUFFIX))
        or name in _READ_NAMES
        or is_csv_candidate(name)
    )


def _why(error: OSError, options: dict[str, object] | None = None) -> str:
    text = error.strerror or str(error) or type(error).__name__
    return source.redact(" ".join(text.split()), options)[:300]


_REASONS = (
    (("ExpiredToken", "TokenRefreshRequired", "RequestExpired", "token has expired"),
     "credentials expired"),
    (("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidClientTokenId",
      "NoCredentialsError", "Unable to locate credentials", "AuthenticationFailed",
      "invalid_grant", "Unauthorized", "Permission denied (publickey"),
     "credentials refused"),
    (("AccessDenied", "Access Denied", "Forbidden", "AuthorizationFailure", "PermissionError"),
     "access denied"),
    (("SlowDown", "Throttl", "TooManyRequests", "RequestLimitExceeded", "Rate exceeded",
      "ServerBusy", "Too Many Requests"),
     "throttled"),
    (("NoSuchBucket", "ContainerNotFound", "bucket does not exist", "FileNotFoundError"),
     "no such bucket or path"),
    (("EndpointConnectionError", "Could not connect", "ConnectionRefused", "ClientConnector",
      "ConnectTimeout", "ConnectionError", "TimeoutError", "timed out", "Connection refused",
      "Name or service not known"),
     "store unreachable"),
    (("InternalError", "ServiceUnavailable", "Service Unavailable", "Internal Server Error"),
     "store failing"),
)  # fmt: skip
"""Words in an error (its type names, its cause's, their messages) -> what the status line
says; the first match wins, so expired credentials are not reported as merely refused."""


def error_reason(error: BaseException, options: dict[str, object] | None = None) -> str:
    """A few words saying why a store refused (no secret): see _REASONS; anything else is the
    error's first words, redacted."""
    chain: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and len(chain) < 5 and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(f"{type(x).__name__}: {x}" for x in chain)
    for words, reason in _REASONS:
        if any(w in text for w in words):
            return reason
    first = str(error) or type(error).__name__
    return source.redact(" ".join(first.split()), options)[:80]
