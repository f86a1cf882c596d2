"""Remote benchmark: tuiboard on an s3:// logdir of many runs in a local S3 server (moto).

Owns: the figures quoted for remote logdirs (core/remote.py). Needs `pip install
'tuiboard[s3]' 'moto[server]' boto3`. Must not import: textual or rich.

    python bench/bench_remote.py [--runs 1000] [--points 200] [--latency-ms 0]

Writes RUNS runs (one tfevents file each, POINTS scalar points, by tuiboard's EventWriter),
uploads them to a bucket on a moto server started in its own process (`python -m moto.server`:
it does not share this interpreter's GIL; `--in-process` for the old ThreadedMotoServer), then
measures in this process:
  first load        tuiboard.open("s3://bench/logs"): one listing, the files' bytes (CPU
                    seconds of this process and of the server's beside the wall time)
  no-change refresh Logdir.refresh() with nothing re-uploaded (median of 5)
  append refresh    10 runs re-uploaded with 100 more points each
each with the requests made (counted by core/remote.RemoteSource, checked against the server's
own access log), and the same first load as it was before (every GET done before the first
file is decoded, botocore's 10 connections) and with the prefetch switched off (every file
read in turn). --latency-ms adds that delay to every request the server answers (a store
across a network, not on localhost: where parallel reads matter). The server's requests are
counted from its access log.
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


class _Server:
    """moto's S3 server, its own process (or a thread of this one), answering each request
    after `latency_ms`; `seen()` is the number of requests it has logged."""

    def __init__(self, latency_ms: float, in_process: bool) -> None:
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
        self._proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(port), str(latency_ms)],
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
            return sum(1 for line in fh if b'"' in line and b" HTTP/1.1" in line)

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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--points", type=int, default=200)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--in-process", action="store_true", help="moto in this process (threads)")
    p.add_argument("--skip-tb", action="store_true", help="skip TensorBoard's reading")
    args = p.parse_args()

    import boto3

    import tuiboard
    from tuiboard.core.remote import RemoteSource
    from tuiboard.writer import EventWriter

    server = _Server(args.latency_ms, args.in_process)
    server_seen = server.seen
    os.environ.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bench")
    with tempfile.TemporaryDirectory() as tmp:
        writers = {}
        for i in range(args.runs):
            w = EventWriter(os.path.join(tmp, f"run{i:05d}"), filename="events.out.tfevents.1.b")
            for s in range(args.points):
                w.add_scalar("loss", 1.0 / (s + 1), s, wall_time=1.7e9 + s)
            w.flush()
            writers[i] = w

        def put(i: int) -> None:
            path = writers[i].path
            s3.upload_file(path, "bench", f"logs/run{i:05d}/{os.path.basename(path)}")

        t = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(args.runs)))
        size = sum(os.path.getsize(w.path) for w in writers.values())
        print(
            f"{args.runs} runs x {args.points} points, {size / 1e6:.1f} MB uploaded in "
            f"{time.perf_counter() - t:.1f} s; server latency added: {args.latency_ms} ms"
        )

        def load(label: str, **options: object) -> tuiboard.Logdir:
            before, server0, cpu = server_seen(), server.cpu(), time.process_time()
            t = time.perf_counter()
            ld = tuiboard.Logdir(["s3://bench/logs"], storage_options=options or None)
            ld.refresh()
            secs = time.perf_counter() - t
            src = ld._roots[0].remote
            assert src is not None and len(ld.runs) == args.runs, (len(ld.runs), ld.warnings)
            server_cpu = server.cpu() - server0
            print(
                f"{label}{secs:.2f} s, {src.requests} requests ({src.list_requests} listing), "
                f"server saw {server_seen() - before}; {ld.stats.points} points; CPU: "
                f"ours {time.process_time() - cpu:.2f} s"
                + (f", server's {server_cpu:.2f} s" if server_cpu >= 0 else "")
            )
            return ld

        tuiboard.open("s3://bench/nothing-here")  # imports and the client session: not timed
        ld = load("first load:        ")
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
        # Before this session: every prefetched GET awaited (one cat_ranges) before the first
        # file was decoded, through botocore's default pool of 10 connections.
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
        if not args.skip_tb:
            _tensorboard(args.runs, server_seen, server)
        for w in writers.values():
            w.close()
    server.stop()
    print(f"load average: {os.getloadavg()[0]:.1f} (others' work skews every figure)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(_serve(*sys.argv[2:4]))
    sys.exit(main())
