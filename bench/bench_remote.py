"""Remote benchmark: tuiboard on an s3:// logdir of many runs in a local S3 server (moto).

Owns: the figures quoted for remote logdirs (core/remote.py). Needs `pip install
'tuiboard[s3]' 'moto[server]' boto3`. Must not import: textual or rich.

    python bench/bench_remote.py [--runs 1000] [--points 200] [--latency-ms 0]
        [--server moto|canned] [--repeat N] [--client-defaults] [--skip-old] [--skip-tb]
        [--fresh N]

Writes RUNS runs (one tfevents file each, POINTS scalar points, by tuiboard's EventWriter),
uploads them to a bucket on a moto server started in its own process (`python -m moto.server`:
it does not share this interpreter's GIL; `--in-process` for the old ThreadedMotoServer), then
measures in this process:
  first load        tuiboard.open("s3://bench/logs"): one listing, the files' bytes (CPU
                    seconds of this process and of the server's beside the wall time), with
                    its timeline: when the GETs started and ended, how many were in flight,
                    the connections opened, the CPU of fsspec's event-loop thread (botocore
                    and aiohttp: signing, sending, parsing) apart from the rest (decoding)
  no-change refresh Logdir.refresh() with nothing re-uploaded (median of 5)
  append refresh    10 runs re-uploaded with 100 more points each
each with the requests made (counted by core/remote.RemoteSource, checked against the server's
own access log); unless --skip-old, the first load with the prefetch's GETs all awaited before
the first file is decoded through botocore's 10 connections, and with the prefetch switched off
(every file read in turn). --client-defaults: after each first load, one more with botocore's
own client defaults instead of remote.s3_options' (User-Agent, checksums, timestamps).
--fresh N: N first loads each in a fresh process, without (TUIBOARD_WORKERS=1) and with the
GET worker (core/remote_worker.py, forked when the root is opened, which this process cannot do
once its own loads started fsspec's event-loop thread), interleaved: wall, our CPU, the
worker's CPU (reaped child), requests. The worker is forked whatever the machine's load
(remote_worker.SPARE_CORE off in those processes).
--latency-ms adds that delay to every request the server answers (a store across a network,
not on localhost: where parallel reads matter).

--server canned: instead of moto, a store of this file's own (`--serve-canned`) that serves the
files as they are on disk with connections kept alive and no signature checked, in its own
process: our side's cost with almost none of a server's (moto spends ~3 ms of CPU a request in
one process and closes every connection), as against a store across a network.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _add_latency(latency_ms: float) -> None:
    """Every request moto answers waits `latency_ms` first (a store across a network)."""
    if latency_ms <= 0:
        return
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    call = DomainDispatcherApplication.__call__

    def slow(self, environ, start_response):  # type: ignore[no-untyped-def]
        time.sleep(latency_ms / 1000)
        return call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = slow  # type: ignore[method-assign]


def _serve(port: str, latency_ms: str) -> int:
    """`bench_remote.py --serve PORT LATENCY_MS`: the server process."""
    from moto.server import main as moto_main

    _add_latency(float(latency_ms))
    moto_main(["-H", "127.0.0.1", "-p", port])
    return 0


def _serve_canned(port: str, latency_ms: str, root: str) -> int:
    """`bench_remote.py --serve-canned PORT LATENCY_MS ROOT`: a store that answers S3's
    ListObjectsV2, GetObject (ranged) and HeadObject from the files under ROOT (ROOT/BUCKET/KEY,
    read from disk at each request, so a file written meanwhile is a re-uploaded object), with
    connections kept alive (moto's server, werkzeug's, closes every one) and no signature
    checked: our side's cost with (almost) none of a server's, as against a store across a
    network. Not a test double for S3's semantics: the tests use moto. One line a request on
    stderr (counted by _Server.seen)."""
    import asyncio
    from datetime import datetime, timezone
    from email.utils import formatdate
    from xml.sax.saxutils import escape

    from aiohttp import web

    delay = float(latency_ms) / 1000
    log = sys.stderr.fileno()

    def etag(st: os.stat_result) -> str:
        return f'"{st.st_size:x}{st.st_mtime_ns:x}"'

    def listing(bucket: str, query: Any) -> web.Response:
        prefix, delim = query.get("prefix", ""), query.get("delimiter", "")
        after = query.get("continuation-token") or query.get("start-after") or ""
        most = int(query.get("max-keys", "1000"))
        base = os.path.join(root, bucket)
        keys = sorted(
            key
            for d, _, files in os.walk(base)
            for key in (
                os.path.relpath(os.path.join(d, f), base).replace(os.sep, "/") for f in files
            )
            if key.startswith(prefix) and key > after
        )
        contents: list[str] = []
        prefixes: list[str] = []
        for key in keys:
            rest = key[len(prefix) :]
            if delim and delim in rest:
                common = prefix + rest.split(delim, 1)[0] + delim
                if common not in prefixes:
                    prefixes.append(common)
            else:
                contents.append(key)
        page, more = contents[:most], len(contents) > most
        out = [
            '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns='
            f'"http://s3.amazonaws.com/doc/2006-03-01/"><Name>{bucket}</Name>'
            f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page) + len(prefixes)}</KeyCount>"
            f"<MaxKeys>{most}</MaxKeys><IsTruncated>{str(more).lower()}</IsTruncated>"
        ]
        for key in page:
            st = os.stat(os.path.join(base, key))
            when = datetime.fromtimestamp(st.st_mtime, timezone.utc)
            out.append(
                f"<Contents><Key>{escape(key)}</Key><LastModified>"
                f"{when:%Y-%m-%dT%H:%M:%S.000Z}</LastModified><ETag>{escape(etag(st))}</ETag>"
                f"<Size>{st.st_size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        out.extend(
            f"<CommonPrefixes><Prefix>{escape(c)}</Prefix></CommonPrefixes>" for c in prefixes
        )
        if more:
            out.append(f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>")
        out.append("</ListBucketResult>")
        return web.Response(body="".join(out).encode(), content_type="application/xml")

    async def handle(request: web.Request) -> web.StreamResponse:
        os.write(log, f"R {request.method} {request.path_qs}\n".encode())
        if delay:
            await asyncio.sleep(delay)
        bucket, _, key = request.path.lstrip("/").partition("/")
        if not key:
            if request.method == "GET" and request.query.get("list-type") == "2":
                return listing(bucket, request.query)
            return web.Response(status=200 if os.path.isdir(os.path.join(root, bucket)) else 404)
        path = os.path.join(root, bucket, *key.split("/"))
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not os.path.isfile(path):
            body = b"<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>"
            return web.Response(status=404, body=None if request.method == "HEAD" else body)
        headers = {
            "ETag": etag(st),
            "Last-Modified": formatdate(st.st_mtime, usegmt=True),
            "Accept-Ranges": "bytes",
            "Content-Type": "binary/octet-stream",
        }
        if request.method == "HEAD":
            headers["Content-Length"] = str(st.st_size)
            return web.Response(headers=headers)
        lo, hi, status = 0, st.st_size - 1, 200
        ask = request.headers.get("Range", "")
        if ask.startswith("bytes="):
            a, _, b = ask[6:].partition("-")
            lo, hi, status = int(a or 0), min(int(b or hi), hi), 206
            headers["Content-Range"] = f"bytes {lo}-{hi}/{st.st_size}"
        with open(path, "rb") as fh:
            fh.seek(lo)
            data = fh.read(max(0, hi - lo + 1))
        return web.Response(status=status, body=data, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=int(port), print=None, access_log=None)
    return 0


class _Server:
    """moto's S3 server, its own process (or a thread of this one), answering each request
    after `latency_ms`; `seen()` is the number of requests it has logged."""

    def __init__(self, latency_ms: float, in_process: bool, canned: str = "") -> None:
        import socket
        import subprocess
        import urllib.error
        import urllib.request

        self._thread = None
        self._count = [0]
        if in_process:
            from moto.server import ThreadedMotoServer

            count = self._count

            class _Count(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    count[0] += 1

            log = logging.getLogger("werkzeug")
            log.addHandler(_Count())
            log.setLevel(logging.INFO)
            log.propagate = False
            self._thread = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._thread.start()
            _add_latency(latency_ms)
            host, port = self._thread.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
            return
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self._log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log")  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        serve = (
            ["--serve-canned", str(port), str(latency_ms), canned]
            if canned
            else ["--serve", str(port), str(latency_ms)]
        )
        self._proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), *serve],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)

    def cpu(self) -> float:
        """CPU seconds the server process has used (-1 in process: not separable)."""
        if self._thread is not None:
            return -1.0
        with open(f"/proc/{self._proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def seen(self) -> int:
        if self._thread is not None:
            return self._count[0]
        with open(self._log.name, "rb") as fh:
            return sum(
                1 for line in fh if line[:2] == b"R " or (b'"' in line and b" HTTP/1.1" in line)
            )

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
        else:
            self._proc.kill()
            self._proc.wait()
            self._log.close()


def _tensorboard(runs: int, server_seen, server) -> None:  # type: ignore[no-untyped-def]
    """TensorBoard on the same bucket: its EventMultiplexer (what `tensorboard --logdir
    s3://... --load_fast=false` runs; RustBoard, its fast loader, reads no s3://) through its
    own gfile, whose S3 support is boto3 (no TensorFlow needed; S3_ENDPOINT names the store).
    Timed to the same point as ours: every run's scalars read."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem

    os.environ["S3_ENDPOINT"] = os.environ["AWS_ENDPOINT_URL"]
    logging.getLogger("tensorboard").setLevel(logging.ERROR)
    before, server0, cpu = server_seen(), server.cpu(), time.process_time()
    t = time.perf_counter()
    mux = pem.EventMultiplexer(max_reload_threads=os.cpu_count() or 1)
    mux.AddRunsFromDirectory("s3://bench/logs")
    mux.Reload()
    secs = time.perf_counter() - t
    found = mux.Runs()
    points = sum(len(mux.Tensors(r, "loss")) for r in found if "loss" in found[r]["tensors"])
    server_cpu = server.cpu() - server0
    print(
        f"TensorBoard {_tb_version()} (EventMultiplexer, {os.cpu_count()} reload threads): "
        f"{secs:.2f} s, {len(found)}/{runs} runs, {points} points, server saw "
        f"{server_seen() - before} requests; CPU: ours {time.process_time() - cpu:.2f} s"
        + (f", server's {server_cpu:.2f} s" if server_cpu >= 0 else "")
    )
    before = server_seen()
    t = time.perf_counter()
    mux.AddRunsFromDirectory("s3://bench/logs")
    mux.Reload()
    print(
        f"TensorBoard no-change reload: {(time.perf_counter() - t) * 1000:.0f} ms, "
        f"server saw {server_seen() - before} requests"
    )


def _tb_version() -> str:
    from tensorboard.version import VERSION

    return str(VERSION)


class _Timeline:
    """While on: every GET's start and end (s3fs's _cat_file), the connections opened
    (aiohttp), the time this process's reader waited for a GET (RemoteSource._settle), and
    the CPU of fsspec's event-loop thread (signing, sending, parsing: botocore/aiohttp) apart
    from the rest of the process (discovery, decoding, storing)."""

    def __init__(self) -> None:
        self.gets: list[tuple[float, float]] = []
        self.connections = 0
        self.waited = 0.0

    def __enter__(self) -> _Timeline:
        import aiohttp.connector
        import s3fs

        from tuiboard.core.remote import RemoteSource

        gets, me = self.gets, self
        cat, connect, settle = (
            s3fs.S3FileSystem._cat_file,
            aiohttp.connector.TCPConnector._create_connection,
            RemoteSource._settle,
        )
        self._undo = [
            (s3fs.S3FileSystem, "_cat_file", cat),
            (aiohttp.connector.TCPConnector, "_create_connection", connect),
            (RemoteSource, "_settle", settle),
        ]

        async def timed_cat(self, path, start=None, end=None, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return await cat(self, path, start=start, end=end, **kw)
            finally:
                gets.append((t, time.perf_counter()))

        async def counted(self, *args, **kw):  # type: ignore[no-untyped-def]
            me.connections += 1
            return await connect(self, *args, **kw)

        def timed_settle(self, url):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return settle(self, url)
            finally:
                me.waited += time.perf_counter() - t

        s3fs.S3FileSystem._cat_file = timed_cat
        aiohttp.connector.TCPConnector._create_connection = counted
        RemoteSource._settle = timed_settle
        self.io0 = _io_thread_cpu()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.io = _io_thread_cpu() - self.io0
        self.cpu = time.process_time() - self.cpu0
        for owner, name, value in self._undo:
            setattr(owner, name, value)

    def report(self) -> None:
        gets = sorted(self.gets)
        if not gets:
            return
        t0, n = self.t0, len(gets)
        took = sorted(b - a for a, b in gets)
        flight = sum(took) / max(1e-9, gets[-1][0] - gets[0][0] + took[-1])
        print(
            f"  timeline: listing done and first GET at {gets[0][0] - t0:.2f} s, last GET "
            f"started {gets[-1][0] - t0:.2f} s, last done {max(b for _, b in gets) - t0:.2f} s "
            f"of {self.wall:.2f} s; {n} GETs, each {took[n // 2] * 1000:.0f} ms (median) / "
            f"{took[n * 9 // 10] * 1000:.0f} ms (90th) from asked to read, {flight:.1f} in "
            f"flight on average; {self.connections} connections opened"
        )
        print(
            f"  our CPU {self.cpu:.2f} s: fsspec's event-loop thread {self.io:.2f} s "
            f"({self.io / n * 1000:.2f} ms a GET: signing, sending, parsing), the rest "
            f"{self.cpu - self.io:.2f} s (listing's walk, decoding, storing); the reader "
            f"waited {self.waited:.2f} s for GETs"
        )
        tenth = self.wall / 10
        done = [0] * 10
        for _, b in gets:
            done[min(9, int((b - t0) / tenth))] += 1
        print(f"  GETs done in each tenth of the load ({tenth:.2f} s): {done}")


def _io_thread_cpu() -> float:
    """CPU seconds of fsspec's event-loop thread ("fsspecIO"), from /proc (Linux; 0 else)."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "fsspecIO" and thread.native_id is not None:
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                return 0.0
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--points", type=int, default=200)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument(
        "--server",
        choices=("moto", "canned"),
        default="moto",
        help="moto (S3's semantics; closes every connection) or canned (files served as they\n"
        "are, connections kept alive: our side's cost alone)",
    )
    p.add_argument("--in-process", action="store_true", help="moto in this process (threads)")
    p.add_argument(
        "--fresh",
        type=int,
        default=0,
        metavar="N",
        help="N first loads in fresh processes without and with the GET worker, interleaved\n"
        "(the loads in this process have none: its event-loop thread runs)",
    )
    p.add_argument("--skip-tb", action="store_true", help="skip TensorBoard's reading")
    p.add_argument(
        "--skip-old", action="store_true", help="skip the first loads as they were before"
    )
    p.add_argument("--repeat", type=int, default=1, help="first loads measured (each afresh)")
    p.add_argument(
        "--client-defaults",
        action="store_true",
        help="each first load again with botocore's client defaults (before remote.s3_options)",
    )
    args = p.parse_args()

    import boto3

    import tuiboard
    from tuiboard.core import remote
    from tuiboard.writer import EventWriter

    canned = args.server == "canned"
    with tempfile.TemporaryDirectory() as tmp:
        server = _Server(args.latency_ms, args.in_process and not canned, tmp if canned else "")
        try:
            server_seen = server.seen
            os.environ.update(
                AWS_ENDPOINT_URL=server.endpoint,
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_DEFAULT_REGION="us-east-1",
            )
            s3 = boto3.client("s3", region_name="us-east-1")
            logs = os.path.join(tmp, "bench", "logs")
            if not canned:
                s3.create_bucket(Bucket="bench")
            writers = {}
            for i in range(args.runs):
                w = EventWriter(
                    os.path.join(logs, f"run{i:05d}"), filename="events.out.tfevents.1.b"
                )
                for s in range(args.points):
                    w.add_scalar("loss", 1.0 / (s + 1), s, wall_time=1.7e9 + s)
                w.flush()
                writers[i] = w

            def put(i: int) -> None:
                if canned:
                    return  # the server reads the file as it is now
                path = writers[i].path
                s3.upload_file(path, "bench", f"logs/run{i:05d}/{os.path.basename(path)}")

            t = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(put, range(args.runs)))
            size = sum(os.path.getsize(w.path) for w in writers.values())
            print(
                f"{args.runs} runs x {args.points} points, {size / 1e6:.1f} MB "
                + ("served from disk" if canned else f"uploaded in {time.perf_counter() - t:.1f} s")
                + f" ({args.server}); server latency added: {args.latency_ms} ms"
            )

            def load(label: str, timeline: bool = False, **options: object) -> tuiboard.Logdir:
                before, server0 = server_seen(), server.cpu()
                with _Timeline() as tl:
                    ld = tuiboard.Logdir(["s3://bench/logs"], storage_options=options or None)
                    ld.refresh()
                src = ld._roots[0].remote
                assert src is not None and len(ld.runs) == args.runs, (len(ld.runs), ld.warnings)
                server_cpu = server.cpu() - server0
                print(
                    f"{label}{tl.wall:.2f} s, {src.requests} requests "
                    f"({src.list_requests} listing), server saw {server_seen() - before}; "
                    f"{ld.stats.points} points; CPU: "
                    f"ours {tl.cpu:.2f} s"
                    + (f", server's {server_cpu:.2f} s" if server_cpu >= 0 else "")
                )
                if timeline:
                    tl.report()
                return ld

            if args.fresh:
                _fresh_loads(args.fresh, server.endpoint)
            tuiboard.open("s3://bench/nothing-here")  # imports and the client session: not timed
            for _ in range(args.repeat):
                ld = load("first load:        ", timeline=True)
                if args.client_defaults:
                    from aiobotocore.session import AioSession

                    load(
                        "first load, botocore's client defaults: ",
                        timeline=True,
                        session=AioSession(),  # botocore's timestamp parser (dateutil)
                        config_kwargs={
                            "max_pool_connections": remote.PARALLEL,
                            "user_agent": None,
                            "response_checksum_validation": "when_supported",
                            "parameter_validation": True,
                        },
                    )
            src = ld._roots[0].remote
            assert src is not None
            times, reqs = [], []
            for _ in range(5):
                before, seen0 = src.requests, server_seen()
                t = time.perf_counter()
                ch = ld.refresh()
                times.append(time.perf_counter() - t)
                reqs.append((src.requests - before, server_seen() - seen0))
                assert not ch
            print(
                f"no-change refresh: {statistics.median(times) * 1000:.0f} ms (median of 5), "
                f"requests (ours, server's) {sorted(set(reqs))}"
            )
            time.sleep(1.1)  # a rewrite in the same second as the write keeps its mtime (canned)
            for i in range(10):
                for s in range(args.points, args.points + 100):
                    writers[i].add_scalar("loss", 0.0, s, wall_time=1.7e9 + s)
                writers[i].flush()
                put(i)
            before, seen0 = src.requests, server_seen()
            t = time.perf_counter()
            ch = ld.refresh()
            print(
                f"append refresh:    {(time.perf_counter() - t) * 1000:.0f} ms for 10 runs "
                f"re-uploaded, {ch.points} points, {ch.bytes_read} bytes read, "
                f"{src.requests - before} requests, server saw {server_seen() - seen0}"
            )
            if not args.skip_old:
                _old_loads(load)
            if not args.skip_tb and not canned:
                _tensorboard(args.runs, server_seen, server)
            for w in writers.values():
                w.close()
        finally:  # never an orphan server, whatever stops the bench
            server.stop()
    print(f"load average: {os.getloadavg()[0]:.1f} (others' work skews every figure)")
    return 0


def _old_loads(load: Any) -> None:
    """The first load as it was before session 4 (every prefetched GET awaited, one
    cat_ranges, before the first file is decoded; botocore's default pool of 10 connections)
    and with no prefetch at all (one file after another)."""
    from tuiboard.core.remote import RemoteSource

    start_gets = RemoteSource._start_gets

    def blocking(self, loop, urls, starts, ends):  # type: ignore[no-untyped-def]
        got = self.fs.cat_ranges([self.fs_path(u) for u in urls], starts, ends)
        for url, lo, data in zip(urls, starts, got, strict=True):
            self._keep(url, lo, data)

    RemoteSource._start_gets = blocking  # type: ignore[method-assign]
    try:
        load(
            "first load, fetch all then decode, 10 connections: ",
            config_kwargs={"max_pool_connections": 10},
        )
    finally:
        RemoteSource._start_gets = start_gets  # type: ignore[method-assign]
    prefetch = RemoteSource.prefetch
    RemoteSource.prefetch = lambda self, urls: 0  # type: ignore[method-assign]
    try:
        load("first load, no prefetch (one file after another): ")
    finally:
        RemoteSource.prefetch = prefetch  # type: ignore[method-assign]


def _one_load() -> int:
    """`bench_remote.py --one-load`: one first load of s3://bench/logs in this fresh process
    (the environment names the store; TUIBOARD_WORKERS=1 or not decides the GET worker), the
    imports untimed. Prints its figures as one JSON line."""
    import json
    import resource

    import s3fs  # noqa: F401 - imported before the clock starts, as the parent's are

    import tuiboard
    from tuiboard.core import remote_worker

    # measuring the worker: whatever the machine's load (its rule would fork only with a core
    # to spare, remote_worker.SPARE_CORE)
    remote_worker.SPARE_CORE = False

    def children() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    child0, cpu0, t = children(), time.process_time(), time.perf_counter()
    ld = tuiboard.Logdir(["s3://bench/logs"])
    ld.refresh()
    wall = time.perf_counter() - t
    cpu = time.process_time() - cpu0
    src = ld._roots[0].remote
    assert src is not None
    worker = src.worker
    if worker is not None:  # its CPU counts once it is reaped (it exits after its answers)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "loop": _io_thread_cpu(),
                "worker_cpu": children() - child0,
                "worker_gets": worker.gets if worker is not None else 0,
                "requests": src.requests,
                "runs": len(ld.runs),
                "points": ld.stats.points,
            }
        )
    )
    return 0


def _fresh_loads(rounds: int, endpoint: str) -> None:
    """First loads in fresh processes, without and with the GET worker, interleaved."""
    import json
    import subprocess

    got: dict[str, list[dict[str, float]]] = {"1": [], "0": []}
    for _ in range(rounds):
        for workers in ("1", "0"):
            env = dict(os.environ, TUIBOARD_WORKERS=workers, AWS_ENDPOINT_URL=endpoint)
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--one-load"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            got[workers].append(r)
            print(
                f"fresh process, {'one process' if workers == '1' else 'GET worker '}: "
                f"{r['wall']:.2f} s, {r['requests']} requests, {r['runs']} runs; CPU: ours "
                f"{r['cpu']:.2f} s (event loop {r['loop']:.2f}), worker's {r['worker_cpu']:.2f} s "
                f"({r['worker_gets']} GETs)"
            )
    for workers, label in (("1", "one process"), ("0", "GET worker")):
        rs = got[workers]
        med = {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "worker_cpu")}
        print(
            f"  median of {len(rs)}, {label}: wall {med['wall']:.2f} s, CPU ours "
            f"{med['cpu']:.2f} s, worker's {med['worker_cpu']:.2f} s, the longer of the two "
            f"{statistics.median(max(r['cpu'], r['worker_cpu']) for r in rs):.2f} s"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one-load"]:
        sys.exit(_one_load())
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(_serve(*sys.argv[2:4]))
    if sys.argv[1:2] == ["--serve-canned"]:
        sys.exit(_serve_canned(*sys.argv[2:5]))
    sys.exit(main())
