"""`--on-alert`: a real shell command, run exactly once per transition into an unhealthy status,
with the run, status, tag, step, value and reason in its environment; failures are reported and
never fatal. Driven by a clock the test controls, then once end to end in a real process."""

from __future__ import annotations

import io
import math
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

import tuiboard
from tests.headless.runs import T0, JsonlRun, TbRun
from tuiboard.headless.alerts import Alert, AlertRunner, AlertTracker
from tuiboard.headless.commands import BlockView, JsonView, Monitor
from tuiboard.headless.summary import Summarizer

FIELDS = ("RUN", "STATUS", "TAG", "STEP", "VALUE", "REASON")


def recorder(path: Path) -> str:
    """A shell command appending the alert's environment to `path` as one |-separated line."""
    fmt = "|".join(["%s"] * len(FIELDS)) + "\\n"
    args = " ".join(f'"$TUIBOARD_{f}"' for f in FIELDS)
    return f"printf '{fmt}' {args} >> {shlex.quote(str(path))}"


def recorded(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split("|") for line in path.read_text().splitlines()]


def f32(x: float) -> str:
    return repr(float(np.float32(x)))


def test_fires_once_per_transition(tmp_path: Path) -> None:
    logs, out = tmp_path / "logs", tmp_path / "alerts.txt"
    job = TbRun(logs / "job")
    for i in range(10):
        job.scalar("loss", i, 1.0 - i / 20, T0 + i * 10)
    job.flush(mtime=T0 + 90)
    ld = tuiboard.open(str(logs))
    runner = AlertRunner(recorder(out))
    mon = Monitor(ld, Summarizer(), AlertTracker(), runner)

    def tick(now: float) -> list[tuple[str, str]]:
        return [(a.run, a.status) for a in mon.tick(now)[2]]

    assert tick(T0 + 100) == []  # the baseline
    assert tick(T0 + 300) == []
    assert tick(T0 + 391) == [("job", "stalled")]
    assert tick(T0 + 500) == [] and tick(T0 + 5000) == []  # still stalled: no repeat

    for i in range(10, 15):  # new data: live again, no alert
        job.scalar("loss", i, 0.5, T0 + 600 + i)
    job.flush(mtime=T0 + 640)
    ld.refresh()
    assert tick(T0 + 650) == []
    assert tick(T0 + 640 + 301) == [("job", "stalled")]  # a second stall is a new transition

    job.scalar("loss", 15, math.nan, T0 + 1000)  # writing again, but a NaN
    job.flush(mtime=T0 + 1000)
    ld.refresh()
    assert tick(T0 + 1001) == [("job", "diverged")]
    assert tick(T0 + 1002) == []
    assert tick(T0 + 1000 + 301) == [("job", "stalled")]  # diverged and now stalled too

    new = JsonlRun(logs / "new")  # a run born damaged fires
    new.log(step=0, loss=1.0, time=T0 + 1300)
    new.raw("{broken\n")
    new.touch(T0 + 1300)
    ld.refresh()
    assert tick(T0 + 1302) == [("new", "damaged")]
    assert tick(T0 + 1303) == []

    runner.close(timeout=30)
    assert runner.failures == 0
    lines = recorded(out)
    assert [line[:5] for line in lines] == [
        ["job", "stalled", "loss", "9", f32(0.55)],
        ["job", "stalled", "loss", "14", f32(0.5)],
        ["job", "diverged", "loss", "15", "nan"],
        ["job", "stalled", "loss", "15", "nan"],
        ["new", "damaged", "loss", "0", "1.0"],
    ]
    assert lines[0][5] == "no new data for 5m01s (limit 5m)"
    assert lines[2][5] == "NaN in loss at step 15"
    assert lines[4][5].startswith("1 reader warning: ")


def test_already_unhealthy_at_start_does_not_fire(tmp_path: Path) -> None:
    run = JsonlRun(tmp_path / "old")
    run.log(step=0, loss=math.nan, time=T0)
    run.touch(T0)
    tracker = AlertTracker()
    rows, _ = Summarizer().rows(tuiboard.open(str(tmp_path)), T0 + 86400)
    assert rows[0].health.statuses == ("diverged", "stalled")
    assert tracker.update((r.facts, r.health) for r in rows) == []
    assert tracker.update((r.facts, r.health) for r in rows) == []
    # without a baseline every unhealthy status fires once
    fresh = AlertTracker(baseline=False)
    fired = fresh.update((r.facts, r.health) for r in rows)
    assert [(a.status, a.step) for a in fired] == [("diverged", 0), ("stalled", 0)]
    assert fresh.update((r.facts, r.health) for r in rows) == []


def test_failing_commands_are_reported_never_fatal(tmp_path: Path) -> None:
    alert = Alert("run\x00x", "stalled", "loss", 3, 0.5, "why")
    err = io.StringIO()
    runner = AlertRunner("echo boom; exit 3", stderr=err)
    assert runner.run_one(alert) is False
    assert "boom" in err.getvalue()
    assert "failed with exit status 3" in err.getvalue()

    err = io.StringIO()
    runner = AlertRunner("no-such-command-tuiboard-test", stderr=err, timeout=10)
    assert runner.run_one(alert) is False
    assert "exit status 127" in err.getvalue()

    err = io.StringIO()
    runner = AlertRunner("sleep 5", stderr=err, timeout=0.3)
    t = time.monotonic()
    assert runner.run_one(alert) is False
    assert time.monotonic() - t < 4
    assert "killed after 0.3s" in err.getvalue()

    # the queue goes on after a failure, in order
    out = tmp_path / "ok.txt"
    runner = AlertRunner(f'[ "$TUIBOARD_STEP" = 1 ] && exit 1; {recorder(out)}', stderr=err)
    for step in (1, 2):
        runner.fire(Alert("r", "stalled", "loss", step, 1.0, "x"))
    runner.close(timeout=30)
    assert [line[3] for line in recorded(out)] == ["2"]
    assert (runner.runs, runner.failures) == (2, 1)


def test_piped_watch_prints_a_block_only_when_something_changed(tmp_path: Path) -> None:
    job = JsonlRun(tmp_path / "job")
    job.log(step=0, loss=1.0, time=T0)
    job.touch(T0)
    ld = tuiboard.open(str(tmp_path))
    mon = Monitor(ld, Summarizer())
    out = io.StringIO()
    view = BlockView(out, "name")
    for now in (T0 + 1, T0 + 2, T0 + 3):
        rows, tags, _ = mon.tick(now)
        view.show(rows, tags, now)
    assert out.getvalue().count("\n# ") + out.getvalue().startswith("# ") == 1
    rows, tags, _ = mon.tick(T0 + 400)  # the status changes: a new block
    view.show(rows, tags, T0 + 400)
    job.log(step=1, loss=0.5, time=T0 + 401)  # data changes: a new block
    job.touch(T0 + 401)
    ld.refresh()
    rows, tags, _ = mon.tick(T0 + 402)
    view.show(rows, tags, T0 + 402)
    blocks = out.getvalue().split("\n\n")
    assert [b.split("\n")[0].split("  ")[1] for b in blocks if b] == [
        "1 run: 1 live",
        "1 run: 1 stalled",
        "1 run: 1 live",
    ]

    jout = io.StringIO()
    jview = JsonView(jout, "name")
    for now in (T0 + 403, T0 + 404):
        rows, tags, _ = mon.tick(now)
        jview.show(rows, tags, now)
    assert len(jout.getvalue().splitlines()) == 1


def test_watch_process_runs_the_command_once(tmp_path: Path) -> None:
    """`tuiboard summary --watch --poll --on-alert` as a real process, piped."""
    logs, out = tmp_path / "logs", tmp_path / "alerts.txt"
    job = JsonlRun(logs / "job")
    now = time.time()
    for s in range(5):
        job.log(step=s, loss=1.0 / (s + 1), time=now - 5 + s)
    cmd = [sys.executable, "-m", "tuiboard", "summary", str(logs), "--json"]
    cmd += ["--watch", "0.2", "--poll", "0.1", "--on-alert", recorder(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lines, proc.stderr.read() if proc.poll() is not None else "no output"  # type: ignore[union-attr]
        job.log(step=5, loss=math.nan, time=time.time())
        deadline = time.monotonic() + 30
        while not recorded(out) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # several more ticks and polls: it must not fire again
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        reader.join(timeout=10)
    assert code == 130
    assert [line[:5] for line in recorded(out)] == [["job", "diverged", "loss", "5", "nan"]]
    import json

    statuses = [json.loads(line)["status"] for line in lines]
    assert statuses[0] == "live" and statuses[-1] == "diverged"


def test_watch_before_the_logdir_is_not_taken_for_seconds(tmp_path: Path) -> None:
    import argparse

    from tuiboard.cli import build_parser
    from tuiboard.headless.commands import DEFAULT_WATCH, _watch_seconds

    _, parser = build_parser()
    for argv, watch, logdirs in (
        (["summary", "--watch", "logs"], DEFAULT_WATCH, ["logs"]),
        (["summary", "--watch", "logs", "more"], DEFAULT_WATCH, ["logs", "more"]),
        (["summary", "--watch", "5", "logs"], 5.0, ["logs"]),
        (["summary", "logs", "--watch"], DEFAULT_WATCH, ["logs"]),
        (["summary", "logs"], None, ["logs"]),
    ):
        args: argparse.Namespace = parser.parse_args(argv)
        _watch_seconds(args)
        assert (args.watch, args.logdirs) == (watch, logdirs), argv
