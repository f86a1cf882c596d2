"""Remote benchmark: tuiboard on an s3:// logdir of many runs in a local S3 server (moto).

Owns: the figures quoted for remote logdirs (core/remote.py). Needs `pip install
'tuiboard[s3]' 'moto[server]' boto3`. Must not import: textual or rich.

    python bench/bench_remote.py [--runs 1000] [--points 200] [--latency-ms 0]

Writes RUNS runs (one tfevents file each, POINTS scalar points, by tuiboard's EventWriter),
uploads them to a bucket on a moto server started here, then measures in this process:
  first load        tuiboard.open("s3://bench/logs"): one listing, the files' bytes
  no-change refresh Logdir.refresh() with nothing re-uploaded (median of 5)
  append refresh    10 runs re-uploaded with 100 more points each
each with the requests made (counted by core/remote.RemoteSource, checked against the server's
own access log), and the same first load with the parallel prefetch switched off (every file
read in turn). --latency-ms adds that delay to every request the server answers (a store
across a network, not on localhost: where parallel reads matter).
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--points", type=int, default=200)
    p.add_argument("--latency-ms", type=float, default=0.0)
    args = p.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer

    import tuiboard
    from tuiboard.core.remote import RemoteSource
    from tuiboard.writer import EventWriter

    server_seen = [0]

    class _Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            server_seen[0] += 1

    logging.getLogger("werkzeug").addHandler(_Count())
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    logging.getLogger("werkzeug").propagate = False
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    if args.latency_ms > 0:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        call = DomainDispatcherApplication.__call__

        def slow(self, environ, start_response):  # type: ignore[no-untyped-def]
            time.sleep(args.latency_ms / 1000)
            return call(self, environ, start_response)

        DomainDispatcherApplication.__call__ = slow  # type: ignore[method-assign]
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
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

        def load() -> tuple[float, tuiboard.Logdir, int]:
            before = server_seen[0]
            t = time.perf_counter()
            ld = tuiboard.open("s3://bench/logs")
            return time.perf_counter() - t, ld, server_seen[0] - before

        tuiboard.open("s3://bench/nothing-here")  # imports and the client session: not timed
        secs, ld, seen = load()
        src = ld._roots[0].remote
        assert src is not None and len(ld.runs) == args.runs, (len(ld.runs), ld.warnings)
        print(
            f"first load:        {secs:.2f} s, {src.requests} requests "
            f"({src.list_requests} listing), server saw {seen}; {ld.stats.points} points"
        )
        times, reqs = [], []
        for _ in range(5):
            before, seen0 = src.requests, server_seen[0]
            t = time.perf_counter()
            ch = ld.refresh()
            times.append(time.perf_counter() - t)
            reqs.append((src.requests - before, server_seen[0] - seen0))
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
        before, seen0 = src.requests, server_seen[0]
        t = time.perf_counter()
        ch = ld.refresh()
        print(
            f"append refresh:    {(time.perf_counter() - t) * 1000:.0f} ms for 10 runs "
            f"re-uploaded, {ch.points} points, {ch.bytes_read} bytes read, "
            f"{src.requests - before} requests, server saw {server_seen[0] - seen0}"
        )
        prefetch = RemoteSource.prefetch
        RemoteSource.prefetch = lambda self, urls: 0  # type: ignore[method-assign]
        try:
            secs, ld, seen = load()
            src = ld._roots[0].remote
            assert src is not None
            print(
                f"first load, no prefetch (one file after another): {secs:.2f} s, "
                f"{src.requests} requests"
            )
        finally:
            RemoteSource.prefetch = prefetch  # type: ignore[method-assign]
        for w in writers.values():
            w.close()
    server.stop()
    print(f"load average: {os.getloadavg()[0]:.1f} (others' work skews every figure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
