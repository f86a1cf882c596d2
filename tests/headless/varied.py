"""A varied logdir for comparing one process's summary with several processes' (tests/headless/
test_oneshot.py; bench/README.md's output checks at 400 runs): runs written by tensorboardX and
JsonlWriter under enough top-level directories for the walk to be split, with NaN/inf, restarts,
sessions stopped, hparams sub-runs, JSONL without times or steps, damaged lines, cut and
corrupted event records, long (5,000-point) series, many tags, files at the root, hidden and
skipped directories, and every file's time set so that the statuses are fixed for a clock.

    python -m tests.headless.varied DIR [RUNS]      (RUNS: about how many; default 400)
"""

from __future__ import annotations

import glob
import math
import os
import sys
from pathlib import Path

from tensorboardX import SummaryWriter
from tensorboardX.proto.event_pb2 import Event, SessionLog

from tuiboard.writer import JsonlWriter

T0 = 1_700_000_000.0
"""Wall-time origin of every run."""
CLOCK = T0 + 4000.0
"""A clock at which some runs are live (written within 5 min) and the others are not."""
KINDS = 12
"""Run kinds made in turn (make_varied)."""


def _date(run: Path, mtime: float) -> None:
    for f in glob.glob(os.path.join(str(run), "*")):
        if os.path.isfile(f):
            os.utime(f, (mtime, mtime))


def _tbx(run: Path, i: int, steps: int, *, nan_at: int = -1, stop: bool = False) -> float:
    w = SummaryWriter(str(run), flush_secs=3600, max_queue=100_000)
    t = T0
    for s in range(steps):
        t = T0 + 10.0 * s + (i % 7)
        loss = 1.0 / (s + 1 + i % 5)
        if s == nan_at:
            loss = math.nan if i % 2 else math.inf
        w.add_scalar("train/loss", loss, s, walltime=t)
        w.add_scalar("val/acc", 1.0 - loss / 2 if math.isfinite(loss) else 0.5, s, walltime=t)
        if s % 5 == 0:
            w.add_scalar("optim/lr", 0.1 * 0.9 ** (s // 5), s, walltime=t)
    if stop:
        ev = Event(wall_time=t + 1, step=steps - 1, session_log=SessionLog(status=SessionLog.STOP))
        w._get_file_writer().add_event(ev)
    w.close()
    return t


def _jsonl(run: Path, i: int, steps: int, *, time_key: str | None = "wall_time") -> float:
    w = JsonlWriter(str(run), time_key=time_key)
    t = T0
    for s in range(steps):
        t = T0 + 10.0 * s + (i % 3)
        w.log(s, {"loss": 2.0 / (s + 2 + i % 4), "acc": s / (steps + 1), "tokens": s * 128}, t)
    w.close()
    return t


def _one(run: Path, i: int) -> None:
    """Run number `i`: its kind is i % KINDS."""
    kind = i % KINDS
    live = i % 3 == 0
    if kind == 0:
        t = _tbx(run, i, 50)
    elif kind == 1:
        t = _jsonl(run, i, 50)
    elif kind == 2:  # diverged
        t = _tbx(run, i, 40, nan_at=20 + i % 10)
    elif kind == 3:  # finished: SessionLog STOP
        t = _tbx(run, i, 30, stop=True)
    elif kind == 4:  # restarted: a second writer from an earlier step, in a new file
        _tbx(run, i, 40)
        w = SummaryWriter(str(run), flush_secs=3600, filename_suffix=".b")
        for s in range(20, 45):
            w.add_scalar("train/loss", 0.5 / (s + 1), s, walltime=T0 + 1000 + s)
        w.close()
        t = T0 + 1044
    elif kind == 5:  # JSONL with damaged lines, NaN, a partial last line
        t = _jsonl(run, i, 30)
        with open(run / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write('{"step": 30, "loss": NaN, "wall_time": %r}\n' % (t + 10))
            fh.write("this is not json\n")
            fh.write('{"step": 31, "loss": 0.1, "wall_time": %r}\n' % (t + 20))
            fh.write('{"step": 32, "loss": 0.0')
        t += 20
    elif kind == 6:  # JSONL without times
        t = _jsonl(run, i, 40, time_key=None)
    elif kind == 7:  # long series (past the batch's 4,096 points)
        t = _tbx(run, i, 5000) if i % 2 else _jsonl(run, i, 5000)
    elif kind == 8:  # event file cut mid-record
        t = _tbx(run, i, 30)
        (f,) = glob.glob(str(run / "*tfevents*"))
        size = os.path.getsize(f)
        with open(f, "r+b") as fh:
            fh.truncate(size - 7)
    elif kind == 9:  # a record's CRC broken mid-file
        t = _tbx(run, i, 30)
        (f,) = glob.glob(str(run / "*tfevents*"))
        with open(f, "r+b") as fh:
            fh.seek(os.path.getsize(f) // 2)
            b = fh.read(1)
            fh.seek(-1, 1)
            fh.write(bytes([b[0] ^ 0xFF]))
    elif kind == 10:  # many tags, none loss- or accuracy-like for half of the runs
        w = SummaryWriter(str(run), flush_secs=3600)
        t = T0
        for s in range(20):
            t = T0 + 5.0 * s
            for k in range(12):
                name = f"layer{k}/grad_norm" if i % 2 else f"metric/m{k}"
                w.add_scalar(name, k + s / 10, s, walltime=t)
        w.add_hparams({"lr": 0.01 * (i % 4), "arch": f"a{i % 3}"}, {"hp/score": float(i % 9)})
        w.close()
    else:  # tfevents and JSONL in one run
        _tbx(run, i, 25)
        t = _jsonl(run, i, 25)
    # live runs wrote within the last minute of CLOCK; the others long before
    _date(run, CLOCK - 30 if live else t)


def make_varied(root: Path, runs: int = 400, top: int = 10) -> list[str]:
    """About `runs` runs under `top` top-level directories (two levels below each), plus a
    run at the root itself, a hidden and a __pycache__ directory (skipped) and an empty
    directory. Returns the run directories made (relative)."""
    made = []
    root.mkdir(parents=True, exist_ok=True)
    for i in range(runs):
        rel = f"exp_{i % top:02d}/g{(i // top) % 3}/run_{i:04d}"
        _one(root / rel, i)
        made.append(rel)
    _jsonl(root, 0, 10)
    _date(root, T0 + 500)
    for skipped in (".hidden/run", "__pycache__/run"):
        _tbx(root / skipped, 0, 5)
    (root / "exp_00" / "empty").mkdir(parents=True, exist_ok=True)
    return made


if __name__ == "__main__":
    make_varied(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 400)
