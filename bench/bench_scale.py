"""Benchmark of tuiboard at 10,000 small runs (issue 11, "10,000 runs"); not a test.

Owns: generating the logdir once (cached under /tmp/tuiboard-bench-scale-<runs>): a nested sweep
layout sweep_XX/group_Y/trial_ZZZZZ, half the runs tfevents written by tuiboard.writer.EventWriter,
half JSONL runs written by JsonlWriter, each 3 scalar tags x 50 steps; and measuring against the
issue's targets:

- `tuiboard.open` cold (every run read)
- `summary`: the headless command's whole work in process (open + rows + text), and
  `python -m tuiboard summary LOGDIR` as a subprocess (target < 2 s)
- a no-change `refresh()` (target < 100 ms)
- the app's first paint with every run listed: Textual run_test headless, from start until the
  run panel holds every run and the first Scalars chart drew (target < 1 s)
- key-press latency in the run panel: `down` up to `--keys` times (20) while the runs are read
  (from the key event to the cursor moved: median, p95 and slowest, wall and the UI thread's
  CPU), 100 times once every run is read (and the UI thread's CPU per key)
- the UI thread's CPU per store change applied during the first load (median, p95, slowest)
- the Overview tab once every run is read: time to show it, series listed, rows made, a sort
  by `last`
- idle CPU of the app over ~10 s with nothing written (process CPU time delta, target < 1 %)
- with --command: the `tuiboard LOGDIR` command in tmux, from its launch until every run is
  listed and a chart drawn (the interpreter's start and the UI's imports included)

    python bench/bench_scale.py [--runs 10000] [--idle 10] [--size 160x50] [--skip-app] [--keys 20]
    python bench/bench_scale.py --skip-headless --start-only [--poll pilot|sleep]
                                                       (the app's start alone)
    python bench/bench_scale.py --skip-headless --skip-app --command 5
                                 (the `tuiboard LOGDIR` command's start in tmux, median of 5)
    python bench/bench_scale.py --profile open|summary|refresh|app   (cProfile, top 25 by cumtime)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tuiboard.writer import EventWriter, JsonlWriter  # noqa: E402

TAGS = ("train/loss", "val/acc", "optim/lr")
STEPS = 50
TARGETS = {
    "summary subprocess (s)": 2.0,
    "summary subprocess 1 process (s)": 2.0,
    "summary in process (s)": 2.0,
    "no-change refresh (ms)": 100.0,
    "app: runs listed + first chart (s)": 1.0,
    "idle CPU (%)": 1.0,
}


def generate(root: Path, runs: int) -> None:
    """`runs` runs under root/sweep_XX/group_Y/trial_ZZZZZ (100 per group, 10 groups a sweep);
    even trials tfevents, odd ones JSONL. Written to root.tmp then renamed: a crash mid-way
    leaves no half cache."""
    tmp = root.with_name(root.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    rng = np.random.default_rng(0)
    now = time.time() - 86400.0
    steps = np.arange(STEPS) * 10
    for i in range(runs):
        d = tmp / f"sweep_{i // 1000:02d}" / f"group_{(i // 100) % 10}" / f"trial_{i:05d}"
        loss = np.exp(-np.linspace(0, 3, STEPS)) + rng.uniform(0, 0.05, STEPS)
        acc = 1 - loss / 2
        lr = 0.1 * 0.97 ** np.arange(STEPS)
        start = now - i
        if i % 2 == 0:
            w = EventWriter(
                str(d), filename="events.out.tfevents.0000000000.bench.0.0", start_time=start
            )
            for s in range(STEPS):
                t = start + s
                w.add_scalar(TAGS[0], float(loss[s]), int(steps[s]), wall_time=t)
                w.add_scalar(TAGS[1], float(acc[s]), int(steps[s]), wall_time=t)
                w.add_scalar(TAGS[2], float(lr[s]), int(steps[s]), wall_time=t)
            w.close()
        else:
            with JsonlWriter(str(d)) as j:
                for s in range(STEPS):
                    j.log(
                        int(steps[s]),
                        {TAGS[0]: float(loss[s]), TAGS[1]: float(acc[s]), TAGS[2]: float(lr[s])},
                        wall_time=start + s,
                    )
    tmp.rename(root)


def logdir_for(runs: int) -> Path:
    root = Path(f"/tmp/tuiboard-bench-scale-{runs}")
    if not root.is_dir():
        t = time.perf_counter()
        generate(root, runs)
        print(f"generated {runs} runs in {time.perf_counter() - t:.1f} s: {root}")
    return root


def headless(root: Path) -> dict[str, float]:
    import tuiboard
    from tuiboard.cli import main as cli_main

    figures: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    ld = tuiboard.open(str(root))
    figures["tuiboard.open cold (s)"] = time.perf_counter() - t0
    figures["tuiboard.open cold, CPU here (s)"] = time.process_time() - c0
    figures["runs read"] = float(len(ld.runs))
    reps = []
    for _ in range(5):
        t = time.perf_counter()
        ld.refresh()
        reps.append(time.perf_counter() - t)
    figures["no-change refresh (ms)"] = statistics.median(reps) * 1e3
    out = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out):
        cli_main(["summary", str(root)])
    figures["summary in process (s)"] = time.perf_counter() - t
    figures["summary lines"] = float(out.getvalue().count("\n"))
    cmd = [sys.executable, "-m", "tuiboard", "summary", str(root)]
    # with worker processes (the default) and in one process (TUIBOARD_WORKERS=1), interleaved
    # so both see the same machine; CPU time is the command's and its workers' (on a busy
    # machine the wall time of parallel work says little)
    times: dict[str, list[float]] = {"": [], " 1 process": []}
    cpus: dict[str, list[float]] = {"": [], " 1 process": []}
    for _ in range(3):
        for label in times:
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            if label:
                env["TUIBOARD_WORKERS"] = "1"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, check=False
            )
            times[label].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[label].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    for label in times:
        figures[f"summary subprocess{label} (s)"] = statistics.median(times[label])
        figures[f"summary subprocess{label}, CPU (s)"] = statistics.median(cpus[label])
    return figures


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


async def app_figures(
    root: Path,
    runs: int,
    size: tuple[int, int],
    idle: float,
    keys_loading: int = 20,
    start_only: bool = False,
    poll: str = "pilot",
) -> dict[str, float]:
    """`poll`: how the start is watched, every 5 ms: "pilot" (Pilot.pause, as since session
    4: each one also makes the screen refresh at once, ~0.15-0.3 s of the UI thread's CPU at
    10,000 runs that the app does not spend in a terminal) or "sleep" (asyncio.sleep: the app
    refreshes on its own timer, as in a terminal)."""
    import tuiboard
    from tuiboard.ui.app import TuiboardApp
    from tuiboard.ui.widgets.run_panel import RunTree
    from tuiboard.ui.widgets.scalar_chart import ScalarChart

    figures: dict[str, float] = {}
    drawn: list[float] = []
    original = ScalarChart.draw

    def timed_draw(self: ScalarChart, width: int, height: int):  # type: ignore[no-untyped-def]
        out = original(self, width, height)
        if not drawn:
            drawn.append(time.perf_counter())
        return out

    ScalarChart.draw = timed_draw  # type: ignore[method-assign]
    walks = walk_probe()
    forks = fork_probe()
    listing = listing_probe()
    start = time.perf_counter()
    cpu_start = time.process_time()
    ui_start = time.thread_time()
    children_start = children_cpu()
    faults_start = faults()
    logdir = tuiboard.open(str(root), load=False)
    app = TuiboardApp(logdir)
    # the UI thread's CPU per store change applied (apply_changes runs on the UI thread)
    change_cpu: list[float] = []
    change_runs: list[int] = []
    apply_changes = app.apply_changes

    def timed_apply(changes):  # type: ignore[no-untyped-def]
        c = time.thread_time()
        apply_changes(changes)
        change_cpu.append(time.thread_time() - c)
        change_runs.append(len(changes.runs | changes.new_runs | changes.removed_runs))

    app.apply_changes = timed_apply  # type: ignore[method-assign]
    async with app.run_test(size=size) as pilot:
        tree = app.query_one(RunTree)

        def listed() -> int:
            return tree.run_count()

        t_listed = None
        cpu_listed = None
        while time.perf_counter() - start < 120:
            if t_listed is None and listed() >= runs:
                t_listed = time.perf_counter()
                cpu_listed = time.process_time()
            if t_listed is not None and drawn:
                break
            if poll == "sleep":
                await asyncio.sleep(0.005)
            else:
                await pilot.pause(0.005)
        end = time.perf_counter()
        cpu_end = time.process_time()
        ui_cpu_end = time.thread_time()
        watcher_cpu = thread_cpu("tuiboard-watcher")
        children_end = children_cpu()
        figures["app: runs listed (s)"] = (t_listed or end) - start
        # the process's CPU (both threads) until then: steadier than wall time on a busy machine
        figures["app: runs listed, process CPU (s)"] = (
            cpu_listed or time.process_time()
        ) - cpu_start
        figures["app: first chart drawn (s)"] = (drawn[0] if drawn else end) - start
        figures["app: runs listed + first chart (s)"] = end - start
        figures["app: runs listed + first chart, process CPU (s)"] = cpu_end - cpu_start
        # where that CPU went, per thread (time.thread_time and the threads' CPU clocks: on a
        # busy machine the split says more than the wall time)
        figures["  the listing in the watcher's hands (s)"] = (
            listing[0] if listing else end
        ) - start
        figures["  UI thread CPU (s)"] = ui_cpu_end - ui_start
        figures["  walk in a thread, CPU (s)"] = sum(walks)
        figures["  walk in a child process (1 yes, 0 no)"] = float(any(forks))
        figures["  watcher thread CPU (s)"] = watcher_cpu
        figures["  child processes CPU (s)"] = children_end - children_start
        figures["  minor page faults here (thousands)"] = (faults() - faults_start) / 1e3
        if start_only:
            if app._watcher is not None:
                app._watcher.stop()  # nothing more posted while the app closes
            await pilot.pause()
            ScalarChart.draw = original  # type: ignore[method-assign]
            return figures
        # keys while the rest is read: from the key event posted to the run panel's cursor
        # moved, median of 20 (Pilot.press waits for the process to idle, up to 1 s, which it
        # never is while reading)
        from textual import events

        tree.focus()
        await pilot.pause()
        # the UI thread's CPU from the key posted to the cursor moved (this loop's own polling
        # included, a few us): what a key waited for on the UI thread (store changes applied
        # before it, drawing), steadier than wall time on a shared machine
        waits: list[float] = []
        key_cpu: list[float] = []
        for _ in range(keys_loading):
            if app._progress is None and waits:
                break  # the load is over: the keys after it are measured below
            before = tree.cursor_line
            t, c = time.perf_counter(), time.thread_time()
            app.post_message(events.Key("down", None))
            while tree.cursor_line == before and time.perf_counter() - t < 10:
                await asyncio.sleep(0.001)
            waits.append(time.perf_counter() - t)
            key_cpu.append(time.thread_time() - c)
            await asyncio.sleep(0.02)
        figures["run panel while loading: keys pressed"] = float(len(waits))
        figures["run panel while loading: key down handled (ms, median)"] = (
            statistics.median(waits) * 1e3
        )
        figures["run panel while loading: key down handled (ms, p95)"] = _p95(waits) * 1e3
        figures["run panel while loading: key down handled (ms, max)"] = max(waits) * 1e3
        figures["  the same, UI thread CPU (ms, median)"] = statistics.median(key_cpu) * 1e3
        figures["  the same, UI thread CPU (ms, p95)"] = _p95(key_cpu) * 1e3
        figures["  the same, UI thread CPU (ms, max)"] = max(key_cpu) * 1e3
        # wait for the whole load, then keys
        # (Logdir.stats walks every run: asked only once the load says it is done)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 120:
            await pilot.pause(0.05)
            if app._progress is None and logdir.stats.points >= runs * len(TAGS) * STEPS:
                break
        figures["app: every run read (s)"] = time.perf_counter() - start
        # every store change applied until now (the first load), UI thread CPU
        reading = [c for c, k in zip(change_cpu, change_runs, strict=True) if k]
        if reading:
            figures["store changes applied"] = float(len(reading))
            figures["  runs named per change (median)"] = statistics.median(
                [k for k in change_runs if k]
            )
            figures["  UI thread CPU per change (ms, median)"] = statistics.median(reading) * 1e3
            figures["  UI thread CPU per change (ms, p95)"] = _p95(reading) * 1e3
            figures["  UI thread CPU per change (ms, max)"] = max(reading) * 1e3
            figures["  UI thread CPU, all changes (s)"] = sum(reading)
        await pilot.pause(0.5)
        tree.focus()
        await pilot.pause()
        t, c = time.perf_counter(), time.process_time()
        per_key: list[float] = []
        for _ in range(100):
            k = time.thread_time()
            await pilot.press("down")
            per_key.append(time.thread_time() - k)
        # wall time includes the Pilot's own waits for idle; CPU time is what the app spent
        figures["run panel: key down, wall (ms/key)"] = (time.perf_counter() - t) * 10
        figures["run panel: key down, CPU (ms/key)"] = (time.process_time() - c) * 10
        figures["  UI thread CPU a key (ms, median)"] = statistics.median(per_key) * 1e3
        figures["  UI thread CPU a key (ms, max)"] = max(per_key) * 1e3
        # the Overview (every run read): one row per run x tag, made only for the rows drawn
        from tuiboard.ui.widgets.overview import OverviewView

        t = time.perf_counter()
        app.action_show_tab("overview")
        await pilot.pause()
        view = app.query_one(OverviewView)
        figures["overview: shown (s)"] = time.perf_counter() - t
        figures["overview: series"] = float(view.table.row_count)
        figures["overview: rows made"] = float(len(view.rows))
        t, c = time.perf_counter(), time.thread_time()
        view.sort_by("last")
        ui_cpu = time.thread_time() - c
        await pilot.pause()
        while getattr(view, "sorting", False):  # sorted on a worker thread (since session 5)
            await pilot.pause(0.01)
        figures["overview: sort by last (s)"] = time.perf_counter() - t
        figures["overview: sort by last, UI thread blocked (s)"] = ui_cpu
        app.action_show_tab("scalars")
        await pilot.pause(1.0)
        c0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle)
        figures["idle CPU (%)"] = (time.process_time() - c0) / (time.perf_counter() - w0) * 100
    ScalarChart.draw = original  # type: ignore[method-assign]
    return figures


def command_figures(root: Path, runs: int, size: tuple[int, int], rounds: int) -> dict[str, float]:
    """The `tuiboard LOGDIR` command in a real terminal (tmux, a private server), from its
    launch until the screen shows every run listed ("N/N runs shown") and a chart drawn
    (braille), polled every 10 ms: what a user waits for, the interpreter's start and the UI's
    imports included (the app's figures above start after them). Median of `rounds`."""
    import shutil
    import uuid

    if shutil.which("tmux") is None:
        print("  (no tmux: the command's start is not measured)")
        return {}
    listed: list[float] = []
    charted: list[float] = []
    width, height = size
    for _ in range(rounds):
        server = ["tmux", "-L", f"bench-scale-{uuid.uuid4().hex[:8]}"]
        command = f"env -u COLUMNS -u LINES PYTHONPATH={ROOT} {sys.executable} -m tuiboard {root}"
        start = time.perf_counter()
        subprocess.run(
            [*server, "new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height),
             "-e", "TERM=xterm-256color", command],
            check=True,
        )  # fmt: skip
        t_listed = t_chart = None
        try:
            while time.perf_counter() - start < 60 and (t_listed is None or t_chart is None):
                screen = subprocess.run(
                    [*server, "capture-pane", "-p", "-t", "app"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                now = time.perf_counter() - start
                if t_listed is None and f"{runs}/{runs} runs shown" in screen:
                    t_listed = now
                if t_chart is None and any("\u2800" < c <= "\u28ff" for c in screen):
                    t_chart = now
                time.sleep(0.01)
        finally:
            subprocess.run([*server, "kill-server"], capture_output=True, check=False)
        listed.append(t_listed or float("nan"))
        charted.append(max(t_listed or float("nan"), t_chart or float("nan")))
    return {
        "command: runs listed (s)": statistics.median(listed),
        "command: runs listed + first chart (s)": statistics.median(charted),
    }


def walk_probe() -> list[float]:
    """The CPU time of each Logdir.discover() made on a thread other than the watcher's (the
    walk begun when the app is made: watch.discover_ahead), filled in as they end."""
    import threading

    from tuiboard.core.logdir import Logdir

    spent: list[float] = []
    original = Logdir.discover

    def timed(self: Logdir):  # type: ignore[no-untyped-def]
        c = time.thread_time()
        try:
            return original(self)
        finally:
            if threading.current_thread().name != "tuiboard-watcher":
                spent.append(time.thread_time() - c)

    Logdir.discover = timed  # type: ignore[method-assign]
    return spent


def fork_probe() -> list[bool]:
    """Whether each first walk begun ran in a child process (walk_ahead.fork_discover forked)
    or on a thread (another thread was alive, one core, ...); [] before session 6's code."""
    try:
        from tuiboard.core import walk_ahead, watch
    except ImportError:
        return []
    forked: list[bool] = []
    original = walk_ahead.fork_discover

    def noted(logdir):  # type: ignore[no-untyped-def]
        result = original(logdir)
        forked.append(result is not None)
        return result

    watch.fork_discover = noted  # type: ignore[attr-defined]
    return forked


def listing_probe() -> list[float]:
    """perf_counter() when the watcher had the first walk's listing in hand (its first
    refresh_iter: the walk on a thread or in a child process done, adopted)."""
    from tuiboard.core.logdir import Logdir

    when: list[float] = []
    original = Logdir.refresh_iter

    def timed(self: Logdir, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not when:
            when.append(time.perf_counter())
        return original(self, *args, **kwargs)

    Logdir.refresh_iter = timed  # type: ignore[method-assign]
    return when


def thread_cpu(name: str) -> float:
    """The CPU time so far of the live thread called `name` (0 when there is none)."""
    import threading

    for t in threading.enumerate():
        if t.name == name and t.ident is not None:
            with contextlib.suppress(OSError):
                return time.clock_gettime(time.pthread_getcpuclockid(t.ident))
    return 0.0


def children_cpu() -> float:
    """CPU time of this process's child processes that ended (a forked walk's, workers')."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def faults() -> int:
    """Minor page faults of this process so far (copy-on-write after a fork among them)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def profile(
    what: str, root: Path, runs: int, size: tuple[int, int], start_only: bool = False
) -> None:
    import tuiboard

    prof = cProfile.Profile()
    if what == "open":
        prof.enable()
        tuiboard.open(str(root))
        prof.disable()
    elif what == "summary":
        from tuiboard.cli import main as cli_main

        prof.enable()
        with contextlib.redirect_stdout(io.StringIO()):
            cli_main(["summary", str(root)])
        prof.disable()
    elif what == "refresh":
        ld = tuiboard.open(str(root))
        prof.enable()
        for _ in range(5):
            ld.refresh()
        prof.disable()
    else:
        prof.enable()
        asyncio.run(app_figures(root, runs, size, 1.0, start_only))
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats("tuiboard/", 40)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--size", default="160x50")
    ap.add_argument("--skip-app", action="store_true")
    ap.add_argument("--skip-headless", action="store_true")
    ap.add_argument(
        "--keys", type=int, default=20, help="keys pressed while the runs are read, at most"
    )
    ap.add_argument(
        "--poll",
        choices=("pilot", "sleep"),
        default="pilot",
        help="how the app's start is watched (app_figures): pilot (the figures before session"
        " 6) or sleep (no refresh forced by the bench)",
    )
    ap.add_argument(
        "--command",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="also time the `tuiboard LOGDIR` command's start in tmux, median of ROUNDS",
    )
    ap.add_argument(
        "--start-only",
        action="store_true",
        help="the app's start only (until every run is listed and the first chart drawn)",
    )
    ap.add_argument("--profile", choices=("open", "summary", "refresh", "app"))
    args = ap.parse_args()
    root = logdir_for(args.runs)
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.profile:
        profile(args.profile, root, args.runs, (width, height), args.start_only)
        return
    print(f"tuiboard at scale: {args.runs} runs x {len(TAGS)} tags x {STEPS} steps, {root}")
    print(
        "  (s) and (ms) are wall time unless the line says CPU; this process's CPU leaves out"
        " its child processes' (a forked walk, workers): see 'child processes CPU'"
    )
    if sys.dont_write_bytecode:
        # An installed tuiboard has its .pyc files (pip compiles them); a checkout run with
        # PYTHONDONTWRITEBYTECODE=1 compiles every module it imports from source, each run: the
        # app's start imports its dashboards' modules lazily, ~0.2-0.5 s of it at 10,000 runs.
        print(
            "  note: PYTHONDONTWRITEBYTECODE is set: modules imported while timing compile from"
            " source (unset it to measure as an installed tuiboard runs)"
        )
    if not args.skip_headless:
        show(headless(root))
    if args.command:
        show(command_figures(root, args.runs, (width, height), args.command))
    if not args.skip_app:
        app = app_figures(
            root, args.runs, (width, height), args.idle, args.keys, args.start_only, args.poll
        )
        show(asyncio.run(app))


def show(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"target < {target:g}: " + ("ok" if value < target else "MISSED")
        print(f"  {name:55s} {value:10.3f}   {verdict}", flush=True)


if __name__ == "__main__":
    main()
