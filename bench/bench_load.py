"""Load benchmark: tuiboard against TensorBoard's Python loader and RustBoard, in one run.

Owns: the measurements quoted in the README's Performance section.
Must not import: textual or rich; tuiboard and tensorboard are imported only in the child
processes that measure them, so each loader pays its own imports and nothing else.

    python bench/bench_load.py [--size medium|large|restarts] [--skip-tb] [--skip-rustboard]
                               [--skip-tuiboard] [--repeat N] [--tb plugin|legacy|both]
                               [--no-refresh] [--json FILE]

Each loader reads the logdir once in a fresh process with the page cache warm (the parent reads
every file first). Figures per loader:
  seconds      open + full read (tuiboard: tuiboard.open(d, load=False) then refresh();
               TensorBoard: EventMultiplexer AddRunsFromDirectory + Reload; RustBoard: the
               duration of its "Finished load cycle" log line)
  events/s     records in the logdir (scalars, histograms, headers) / seconds
  peak RSS     the process's peak resident set size (VmHWM)
  B/point peak (peak RSS - peak RSS of a baseline process that loads the same code and no
               data) / scalar points stored
  B/point held (RSS once loaded, after a gc - the baseline's) / points: what stays
Then: tuiboard's refresh after appending 1,000 events to a ~100 MB file (median) and a refresh of
a 1,000-run logdir where nothing changed (median), with TensorBoard's Reload for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
REPO = os.path.dirname(HERE)


# --- child processes: each measures one thing and prints one JSON line --------------------


def _maxrss_kb() -> int:
    """Peak RSS of this process image. Not ru_maxrss: Linux carries the parent's peak across
    fork + exec into it, and the parent here is bigger than a baseline child."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _rss_now_kb() -> int:
    """Current resident set size after a garbage collection (the steady state, not the peak)."""
    import gc

    gc.collect()
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _child_tuiboard(path: str, baseline: bool) -> dict[str, Any]:
    import numpy  # noqa: F401

    import tuiboard
    from tuiboard.core import logdir as _logdir  # noqa: F401  (resolve the lazy imports)

    if baseline:
        tuiboard.open(os.path.join(DATA, "_empty"), load=False).refresh()
        return {"maxrss_kb": _maxrss_kb(), "rss_kb": _rss_now_kb()}
    t0, c0 = time.perf_counter(), time.process_time()
    ld = tuiboard.open(path, load=False)
    ld.refresh()
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = ld.stats
    warnings = sum(len(r.warnings) for r in ld.runs) + len(ld.warnings)
    return {
        "seconds": seconds,
        "points": stats.points,
        "records": stats.records,
        "runs": stats.runs,
        "warnings": warnings,
        "maxrss_kb": _maxrss_kb(),
        "rss_kb": _rss_now_kb(),
        "children_maxrss_kb": kids.ru_maxrss,
        "cpu_s": cpu,
        "children_cpu_s": kids.ru_utime + kids.ru_stime,
    }


def _tb_multiplexer(legacy: bool) -> Any:
    if legacy:
        from tensorboard.backend.event_processing import event_accumulator, event_multiplexer

        return event_multiplexer.EventMultiplexer(size_guidance={event_accumulator.SCALARS: 0})
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    return plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"scalars": 0})


def _tb_points(mux: Any, legacy: bool) -> int:
    if legacy:
        return sum(
            len(mux.Scalars(run, tag))
            for run, tags in mux.Runs().items()
            for tag in tags["scalars"]
        )
    return sum(
        len(mux.Tensors(run, tag))
        for run, tags in mux.PluginRunToTagToContent("scalars").items()
        for tag in tags
    )


def _quiet_tensorboard() -> None:
    import logging

    # TensorBoard logs every restart purge at WARNING; the bench prints its own figures.
    logging.getLogger("tensorboard").setLevel(logging.ERROR)


def _child_tb(path: str, baseline: bool, legacy: bool) -> dict[str, Any]:
    _quiet_tensorboard()
    mux = _tb_multiplexer(legacy)
    if baseline:
        mux.AddRunsFromDirectory(os.path.join(DATA, "_empty"))
        mux.Reload()
        return {"maxrss_kb": _maxrss_kb(), "rss_kb": _rss_now_kb()}
    t0 = time.perf_counter()
    mux.AddRunsFromDirectory(path)
    mux.Reload()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "points": _tb_points(mux, legacy),
        "runs": len(mux.Runs()),
        "maxrss_kb": _maxrss_kb(),
        "rss_kb": _rss_now_kb(),
    }


def _child_incremental(path: str, repeat: int) -> dict[str, Any]:
    """Copy the ~100 MB single-file run, load it, then `repeat` times: append 1,000 scalar
    events (not timed) and time ld.refresh()."""
    import tuiboard
    from tuiboard.writer import EventWriter

    work = os.path.join(DATA, "_work", "append")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(path, work)
    run_dir = os.path.join(work, "run_00")
    (name,) = [f for f in os.listdir(run_dir) if "tfevents" in f]
    size_mb = os.path.getsize(os.path.join(run_dir, name)) / 1e6
    ld = tuiboard.open(work)
    first_points = ld.stats.points
    run = ld.runs[0]
    tags = run.tags("scalars")
    step = int(run.last_step or 0) + 1
    times, points = [], []
    with EventWriter(run_dir, filename=name, append=True) as w:
        for _ in range(repeat):
            for i in range(1_000):
                w.add_scalar(tags[i % len(tags)], 0.5, step + i // len(tags), 1.8e9 + step)
            step += 1_000 // len(tags) + 1
            w.flush()
            t0 = time.perf_counter()
            changes = ld.refresh()
            times.append(time.perf_counter() - t0)
            points.append(changes.points)
    shutil.rmtree(work, ignore_errors=True)
    return {"file_mb": size_mb, "loaded_points": first_points, "times": times, "points": points}


def _child_nochange(path: str, repeat: int) -> dict[str, Any]:
    import tuiboard

    t0 = time.perf_counter()
    ld = tuiboard.open(path)
    load = time.perf_counter() - t0
    times, changed = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        changes = ld.refresh()
        times.append(time.perf_counter() - t0)
        changed.append(bool(changes))
    return {"runs": len(ld.runs), "load": load, "times": times, "changed": changed}


def _child_tb_nochange(path: str, repeat: int, legacy: bool) -> dict[str, Any]:
    _quiet_tensorboard()
    mux = _tb_multiplexer(legacy)
    t0 = time.perf_counter()
    mux.AddRunsFromDirectory(path)
    mux.Reload()
    load = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        mux.AddRunsFromDirectory(path)  # what TensorBoard's reload loop does each cycle
        mux.Reload()
        times.append(time.perf_counter() - t0)
    return {"runs": len(mux.Runs()), "load": load, "times": times}


def child_main(argv: list[str]) -> int:
    kind, path = argv[0], argv[1]
    extra = argv[2:]
    legacy = "--legacy" in extra
    repeat = int(extra[extra.index("--repeat") + 1]) if "--repeat" in extra else 1
    if kind in ("tuiboard", "tuiboard-baseline"):
        out = _child_tuiboard(path, kind.endswith("baseline"))
    elif kind in ("tb", "tb-baseline"):
        out = _child_tb(path, kind.endswith("baseline"), legacy)
    elif kind == "incremental":
        out = _child_incremental(path, repeat)
    elif kind == "nochange":
        out = _child_nochange(path, repeat)
    elif kind == "tb-nochange":
        out = _child_tb_nochange(path, repeat, legacy)
    else:
        raise SystemExit(f"unknown child {kind!r}")
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# --- parent: runs the children, RustBoard, and prints the table ----------------------------


def run_child(
    kind: str, path: str, *extra: str, timeout: float = 3_600, workers: bool = True
) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if not workers:
        env["TUIBOARD_WORKERS"] = "1"
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", kind, path, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"child {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def rustboard_binary() -> str | None:
    try:
        import tensorboard_data_server
    except ImportError:
        return None
    return tensorboard_data_server.server_binary()


def _proc_status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


_DURATION = re.compile(r"Finished load cycle \(([\d.]+)(ms|s|µs|us)\)")


def run_rustboard(binary: str, path: str, timeout: float = 3_600) -> dict[str, Any]:
    """Start RustBoard with --reload once; time it to its "Finished load cycle" line; read its
    peak RSS then; stop it by closing its stdin."""
    env = dict(os.environ, RUST_LOG="info")
    args = [binary, "--logdir", path, "--reload", "once", "--samples-per-plugin", "scalars=all"]
    args += ["--port", "0", "--die-after-stdin"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stderr is not None and proc.stdin is not None
    deadline = time.monotonic() + timeout
    result: dict[str, Any] | None = None
    for line in proc.stderr:
        if "Finished load cycle" in line:
            wall = time.perf_counter() - t0
            m = _DURATION.search(line)
            seconds = wall
            if m:
                scale = {"ms": 1e-3, "s": 1.0, "µs": 1e-6, "us": 1e-6}[m.group(2)]
                seconds = float(m.group(1)) * scale
            result = {
                "seconds": seconds,
                "wall": wall,
                "maxrss_kb": _proc_status_kb(proc.pid, "VmHWM"),
                "rss_kb": _proc_status_kb(proc.pid, "VmRSS"),
            }
            break
        if time.monotonic() > deadline:
            break
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if result is None:
        raise RuntimeError("RustBoard exited without finishing a load cycle")
    return result


def warm_page_cache(path: str) -> None:
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                while fh.read(1 << 24):
                    pass


def ensure_data(size: str) -> dict[str, Any]:
    sys.path.insert(0, HERE)
    import gen_logdir

    out = os.path.join(DATA, size)
    m = gen_logdir.generate(size, out)
    return dict(vars(m))


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.1f}k"


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e3:.1f} ms (min {min(xs) * 1e3:.1f}, n={len(xs)})"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return child_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", default="medium", choices=["medium", "large", "restarts"])
    p.add_argument("--skip-tb", action="store_true", help="skip TensorBoard's Python loader")
    p.add_argument("--skip-rustboard", action="store_true")
    p.add_argument("--skip-tuiboard", action="store_true")
    p.add_argument("--repeat", type=int, default=3, help="tuiboard and RustBoard loads (median)")
    p.add_argument(
        "--tb",
        choices=["plugin", "legacy", "both"],
        help="TensorBoard's plugin_event_multiplexer (what `tensorboard --load_fast=false` runs, "
        "~1.5 KB a point), its legacy event_multiplexer, or both (default: both; legacy for large)",
    )
    p.add_argument("--no-refresh", action="store_true", help="skip the refresh timings")
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args(argv)

    os.makedirs(os.path.join(DATA, "_empty"), exist_ok=True)
    manifest = ensure_data(a.size)
    path = manifest["path"]
    records, points = manifest["records"], manifest["scalar_points_clean"]
    warm_page_cache(path)
    tb_kind = a.tb or ("legacy" if a.size == "large" else "both")
    tb_variants = {
        "plugin": ("TB Python (plugin mux)", []),
        "legacy": ("TB Python (legacy mux)", ["--legacy"]),
    }
    tbs = [] if a.skip_tb else [v for k, v in tb_variants.items() if tb_kind in (k, "both")]
    print(
        f"{a.size}: {manifest['runs']} runs, {records:,} events ({points:,} scalar points), "
        f"{manifest['bytes'] / 1e6:.1f} MB, page cache warm; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: dict[str, dict[str, Any]] = {}

    def add_row(name: str, runs: list[dict[str, Any]], base: dict[str, Any]) -> None:
        seconds = statistics.median(r["seconds"] for r in runs)
        peak_kb = max(r["maxrss_kb"] for r in runs)
        held_kb = max(r["rss_kb"] for r in runs)
        got_points = runs[0].get("points", points)
        rows[name] = {
            "seconds": seconds,
            "events_per_s": records / seconds,
            "peak_rss_mb": peak_kb / 1024,
            "baseline_rss_mb": base["maxrss_kb"] / 1024,
            "bytes_per_point": (peak_kb - base["maxrss_kb"]) * 1024 / max(1, got_points),
            "held_bytes_per_point": (held_kb - base["rss_kb"]) * 1024 / max(1, got_points),
            "points": got_points,
            "all_seconds": [r["seconds"] for r in runs],
        }
        print(f"  {name}: {seconds:.3f} s, {got_points:,} points", flush=True)

    if not a.skip_tuiboard:
        base = run_child("tuiboard-baseline", path)
        # with worker processes (the default) and in one process, interleaved so both see
        # the same machine
        runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for _ in range(a.repeat):
            for workers in (True, False):
                runs[workers].append(run_child("tuiboard", path, workers=workers))
        add_row("tuiboard", runs[True], base)
        add_row("tuiboard (1 process)", runs[False], base)
        # CPU time per process: on a busy machine the wall time of parallel work says little;
        # with a core free for each, the wall time is about the larger of the two
        for label, rs in (("workers", runs[True]), ("1 process", runs[False])):
            cpu = statistics.median(r["cpu_s"] for r in rs)
            kids = statistics.median(r["children_cpu_s"] for r in rs)
            print(f"    CPU s ({label}): this process {cpu:.3f}, worker processes {kids:.3f}")
        peak = max(r["children_maxrss_kb"] for r in runs[True]) / 1024
        print(f"    workers' peak RSS (ru_maxrss, the parent's at fork included): {peak:.1f} MB")
    for tb_name, legacy in tbs:
        base = run_child("tb-baseline", path, *legacy)
        add_row(tb_name, [run_child("tb", path, *legacy)], base)
    binary = None if a.skip_rustboard else rustboard_binary()
    if binary:
        base = run_rustboard(binary, os.path.join(DATA, "_empty"))
        add_row("RustBoard", [run_rustboard(binary, path) for _ in range(a.repeat)], base)
    elif not a.skip_rustboard:
        print("  RustBoard: tensorboard-data-server is not installed; skipped")

    print()
    print(
        f"{'loader':<26}{'seconds':>8}{'events/s':>10}{'peak RSS MB':>13}{'baseline MB':>13}"
        f"{'B/point peak':>14}{'B/point held':>14}"
    )
    for name, r in rows.items():
        print(
            f"{name:<26}{r['seconds']:>8.3f}{_fmt_rate(r['events_per_s']):>10}"
            f"{r['peak_rss_mb']:>13.1f}{r['baseline_rss_mb']:>13.1f}"
            f"{r['bytes_per_point']:>14.1f}{r['held_bytes_per_point']:>14.1f}"
        )
    if "tuiboard" in rows:
        t = rows["tuiboard"]
        for name, r in rows.items():
            if name == "tuiboard":
                continue
            print(
                f"tuiboard vs {name}: {r['seconds'] / t['seconds']:.1f}x faster, "
                f"{r['bytes_per_point'] / max(t['bytes_per_point'], 1e-9):.1f}x fewer bytes "
                "per point (below 1: slower / more)"
            )
        if t["points"] != points:
            print(f"  note: tuiboard stored {t['points']:,} points, the manifest says {points:,}")

    refresh: dict[str, Any] = {}
    if not a.no_refresh and not a.skip_tuiboard:
        app = ensure_data("append")
        warm_page_cache(app["path"])
        inc = run_child("incremental", app["path"], "--repeat", "9")
        refresh["incremental"] = inc
        print(
            f"\nrefresh after appending 1,000 events to a {inc['file_mb']:.0f} MB file: "
            f"{_ms(inc['times'])}; points seen {sorted(set(inc['points']))}"
        )
        many = ensure_data("many")
        warm_page_cache(many["path"])
        nc = run_child("nochange", many["path"], "--repeat", "9")
        refresh["nochange"] = nc
        print(
            f"refresh of {nc['runs']:,} runs, nothing changed: {_ms(nc['times'])} "
            f"(first load {nc['load']:.2f} s; changed: {any(nc['changed'])})"
        )
        for tb_name, legacy in tbs:
            tbn = run_child("tb-nochange", many["path"], "--repeat", "3", *legacy)
            refresh["tb_nochange" + "_legacy" * bool(legacy)] = tbn
            print(f"  {tb_name} Reload of the same: {_ms(tbn['times'])} (load {tbn['load']:.2f} s)")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (others' work skews every figure)")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(
                {"size": a.size, "manifest": manifest, "loaders": rows, **refresh}, fh, indent=1
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
