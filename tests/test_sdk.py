"""tuiboard.init / run.log: W&B's quickstart through `import tuiboard as wandb`, W&B's step rules
compared with real wandb 0.31 offline, media through tuiboard.open(), SIGKILL, threads.

Every logging script runs in a subprocess (the SDK installs exit hooks and a thread); real wandb
only in subprocesses with every directory in tmp_path (WANDB_MODE=offline).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import tuiboard
from tuiboard.core.types import IMAGES

from .wandb_runs import wandb_env

ROOT = Path(__file__).resolve().parent.parent

# W&B's quickstart ("Track your first run"), verbatim but for its first line.
QUICKSTART = """\
import random

# start a new wandb run to track this script
wandb.init(
    # set the wandb project where this run will be logged
    project="my-awesome-project",

    # track hyperparameters and run metadata
    config={
    "learning_rate": 0.02,
    "architecture": "CNN",
    "dataset": "CIFAR-100",
    "epochs": 10,
    }
)

# simulate training
epochs = 10
offset = random.random() / 5
for epoch in range(2, epochs):
    acc = 1 - 2 ** -epoch - random.random() / epoch - offset
    loss = 2 ** -epoch + random.random() / epoch + offset

    # log metrics to wandb
    wandb.log({"acc": acc, "loss": loss})

# [optional] finish the wandb run, necessary in notebooks
wandb.finish()
"""

# The docs' current form (docs.wandb.ai, "Custom metrics"): the run as a context manager.
DOCS_CONTEXT_MANAGER = """\
import random

epochs = 10

with wandb.init(project="basic-intro") as run:
  # Block simulates a training loop logging metrics
  offset = random.random() / 5
  for epoch in range(2, epochs):
      acc = 1 - 2 ** -epoch - random.random() / epoch - offset
      loss = 2 ** -epoch + random.random() / epoch + offset

      # Log metrics from your script to W&B
      run.log({"acc": acc, "loss": loss})
"""


def run_script(
    code: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    script = cwd / "script.py"
    script.write_text(code)
    full = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}  # env may hold PYTHONPATH
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def only_run(logdir: Path) -> tuiboard.Run:
    ld = tuiboard.open(str(logdir))
    assert len(ld.runs) == 1, [r.name for r in ld.runs]
    return ld.runs[0]


@pytest.mark.parametrize(
    ("tutorial", "project", "config"),
    [
        (
            QUICKSTART,
            "my-awesome-project",
            {"learning_rate": 0.02, "architecture": "CNN", "dataset": "CIFAR-100", "epochs": 10},
        ),
        (DOCS_CONTEXT_MANAGER, "basic-intro", {}),
    ],
)
def test_wandb_tutorials_unchanged(
    tmp_path: Path, tutorial: str, project: str, config: dict[str, Any]
) -> None:
    run_script("import tuiboard as wandb\nimport random\nrandom.seed(7)\n" + tutorial, tmp_path)
    # The values the tutorial's own arithmetic gives with that seed.
    import random

    rng = random.Random(7)
    offset = rng.random() / 5
    acc, loss = [], []
    for epoch in range(2, 10):
        acc.append(1 - 2**-epoch - rng.random() / epoch - offset)
        loss.append(2**-epoch + rng.random() / epoch + offset)
    run = only_run(tmp_path / "logs")
    assert run.name.startswith(project + "/")
    assert run.meta.display_name == run.name.split("/", 1)[1]
    assert run.meta.project == project
    assert run.meta.exit_code == 0
    for tag, expected in (("acc", acc), ("loss", loss)):
        s = run.scalars(tag)
        assert s.step.tolist() == list(range(8))
        assert s.value.tolist() == expected
        assert np.all(np.diff(s.wall_time) >= 0) and s.wall_time[0] > 1e9
    assert run.config == config
    assert run.meta.summary == {"acc": acc[-1], "loss": loss[-1]}
    assert not run.warnings


# -- W&B's step rules, against real wandb ----------------------------------------------------------

STEP_CALLS = """
run.define_metric("dm", summary="min,max,mean,last")
run.define_metric("quiet", summary="none")
run.define_metric("glob/*", summary="max")
log({"dm": 3.0, "quiet": 1, "glob/a": 2.0})
log({"dm": 1.0, "quiet": 2, "glob/a": 5.0})
log({"dm": 2.0, "glob/a": 1.0, "glob": {"b": 4.0}})
log({"x": 1})
log({"y": 2}, commit=False)
log({"z": 3})
log({"w": 4}, step=5)
log({"v": 5}, step=5)
log({"u": 6})
log({"t": 7}, step=3)
log({"s": 8}, step=10, commit=True)
log({"r": 9})
log({"q": 10}, step=12, commit=False)
log({"n": {"a": 1, "b": {"c": 2}}})
log({})
log({"a": 1}, commit=False)
log({"b": 2}, step=20)
log({}, step=22)
log({"c": 3}, step=24, commit=True)
log({"d": 4}, step=24)
log({"m": {"a": 1}}, commit=False)
log({"m": {"b": 2}, "e": 1})
log({"e": 2}, commit=False)
log({"e": 3}, commit=True)
run.summary["manual"] = 5
run.summary["kept"] = 7
log({"manual": 1, "f": 1.5}, step=30)
steps.append(run.step)
log({"g": float("nan"), "h": float("inf"), "i": -0.0}, step=31, commit=True)
steps.append(run.step)
log({"last": 1}, step=40)
pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
hist = Histogram(np_histogram=([1, 2], [0, 0.5, 1]))
log({"media/img": Image(pixels, caption="c"), "hist": hist})
"""

WANDB_SIDE = """
import json, os
import numpy as np
import wandb
from wandb import Histogram, Image

run = wandb.init(project="steps")
log = run.log
steps = []
{calls}
run.finish()
json.dump(
    {{"steps": steps, "file": run.settings.sync_file, "dir": os.path.dirname(run.dir)}},
    open("wandb-steps.json", "w"),
)
"""

# Reads the .wandb file with wandb's own protobuf classes, in its own process once the run's
# exit record is there (wandb-core writes the file's tail on its own after finish() returns).
WANDB_READ = """
import json, struct, sys, time
from wandb.proto import wandb_internal_pb2 as pb

def records(path):
    data = open(path, "rb").read()
    pos, buf = 7, b""
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        if left < 7:
            pos += left
            continue
        crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        payload = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield payload
        elif kind == 2:
            buf = payload
        elif kind == 3:
            buf += payload
        elif kind == 4:
            yield buf + payload

path = json.load(open("wandb-steps.json"))["file"]
deadline = time.monotonic() + 60
while True:
    parsed = []
    for raw in records(path):
        r = pb.Record()
        r.ParseFromString(raw)
        parsed.append(r)
    if any(r.WhichOneof("record_type") == "exit" for r in parsed) or time.monotonic() > deadline:
        break
    time.sleep(0.2)
rows, summary = [], {}
for r in parsed:
    kind = r.WhichOneof("record_type")
    if kind == "history":
        rows.append({"/".join(i.nested_key) or i.key: i.value_json for i in r.history.item})
    elif kind == "summary":
        summary.update({"/".join(i.nested_key) or i.key: i.value_json for i in r.summary.update})
json.dump({"rows": rows, "summary": summary}, open("wandb.json", "w"))
"""

TUIBOARD_SIDE = """
import json, warnings
import numpy as np
import tuiboard
from tuiboard import Histogram, Image
caught = []
warnings.showwarning = lambda m, *a, **k: caught.append(str(m))
run = tuiboard.init(project="steps", name="calls", dir="logs")
log = run.log
steps = []
{calls}
run.finish()
json.dump({{"steps": steps, "warnings": caught}}, open("tuiboard.json", "w"))
"""


@pytest.fixture(scope="module")
def wandb_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("wandb")
    tmp = tmp_path_factory.mktemp("wandb")
    run_script(WANDB_SIDE.format(calls=STEP_CALLS), tmp, wandb_env(tmp))
    run_script(WANDB_READ, tmp, wandb_env(tmp))
    out: dict[str, Any] = json.loads((tmp / "wandb.json").read_text())
    facts = json.loads((tmp / "wandb-steps.json").read_text())
    out["steps"], out["dir"] = facts["steps"], facts["dir"]
    assert out["rows"], "wandb wrote no history"
    return out


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_step_rules_match_real_wandb(tmp_path: Path, wandb_rows: dict[str, Any]) -> None:
    run_script(TUIBOARD_SIDE.format(calls=STEP_CALLS), tmp_path)
    ours = json.loads((tmp_path / "tuiboard.json").read_text())
    lines = (tmp_path / "logs/steps/calls/metrics.jsonl").read_text().splitlines()
    rows = [_flat(json.loads(line)) for line in lines]

    def comparable(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("_runtime", "_timestamp")}

    # wandb-core writes -0.0 as "-0": parse integers as floats to keep the sign.
    theirs = [
        comparable({k: json.loads(v, parse_int=float) for k, v in r.items()})
        for r in wandb_rows["rows"]
    ]
    mine = [comparable(r) for r in rows]
    assert [r["_step"] for r in mine] == [r["_step"] for r in theirs]
    assert [sorted(r) for r in mine] == [sorted(r) for r in theirs]
    for a, b in zip(mine, theirs, strict=True):
        for key in a:
            if isinstance(a[key], (str, list)):  # media objects' fields: the same
                assert a[key] == b[key], key
                continue
            x, y = float(a[key]), float(b[key])
            assert (x == y and np.signbit(x) == np.signbit(y)) or (np.isnan(x) and np.isnan(y))
    # The image is the same file under the same name (PNG by Pillow, named by its sha256).
    path = mine[-1]["media/img/path"]
    assert path.startswith("media/images/media/img_")
    wandb_file = Path(wandb_rows["dir"]) / "files" / path
    assert (tmp_path / "logs/steps/calls" / path).read_bytes() == wandb_file.read_bytes()
    assert ours["steps"] == wandb_rows["steps"]
    # Both refuse the two steps below the current one, with wandb's words.
    assert len(ours["warnings"]) == 2
    assert all(w.startswith("Tried to log to step") for w in ours["warnings"])
    # The summary, as our reader gives it: last values, explicit keys kept until a later log
    # replaces them, define_metric aggregates ({"max": ..}) in place of last values.
    run = only_run(tmp_path / "logs")
    summary = _flat(run.meta.summary)
    wsum = _flat({k: json.loads(v) for k, v in wandb_rows["summary"].items()})
    media = {k[: -len("/_type")] for k in wsum if k.endswith("/_type")}
    assert media == {"media/img", "hist"}  # media objects: in the history, not our summary
    wsum = {
        k: v for k, v in wsum.items() if not k.startswith("_") and k.rsplit("/", 1)[0] not in media
    }
    assert set(summary) == set(wsum)
    for key, value in summary.items():
        assert str(value) == str(wsum[key]) or float(value) == float(wsum[key]), key
    assert summary["manual"] == 1 and summary["kept"] == 7
    assert run.meta.summary["dm"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "last": 2.0}
    assert run.meta.summary["glob/a"] == {"max": 5.0} and "quiet" not in run.meta.summary
    assert run.meta.summary["glob/b"] == 4.0  # a nested key: wandb's globs leave it alone
    # And the reader shows the same rows.
    assert run.scalars("n/b/c").step.tolist() == [12]
    assert run.scalars("e").step.tolist() == [25, 26]
    assert run.scalars("e").value.tolist() == [1.0, 3.0]
    assert run.meta.summary["manual"] == 1


# -- config, summary, names, context manager, exit codes -------------------------------------------


def test_config_summary_and_names(tmp_path: Path) -> None:
    code = """
import argparse, json, tuiboard
run = tuiboard.init(project="p", name="same", config={"lr": 0.1, "model": {"depth": 4}},
                    tags=["a", "b"], notes="first try", dir="logs")
assert tuiboard.run is run and tuiboard.config is run.config
tuiboard.config.batch = 32
tuiboard.config["opt"] = "adam"
tuiboard.config.update(argparse.Namespace(seed=3))
assert (tuiboard.config.lr, tuiboard.config["batch"], tuiboard.config.seed) == (0.1, 32, 3)
tuiboard.log({"acc": 0.5})
tuiboard.summary["best"] = 0.7
tuiboard.log({"acc": 0.6})
assert tuiboard.summary["acc"] == 0.6 and tuiboard.summary.best == 0.7
tuiboard.finish()
assert tuiboard.run is None
second = tuiboard.init(project="p", name="same", dir="logs")
second.finish()
third = tuiboard.init(project="p", dir="logs")
third.finish()
print(json.dumps([run.dir, second.dir, third.dir, third.name]))
"""
    done = run_script(code, tmp_path)
    first, second, third, name = json.loads(done.stdout)
    assert Path(first).name == "same" and Path(second).name == "same-2"
    parts = name.split("-")
    assert len(parts) == 3 and parts[2] == "3" and Path(third).name == name
    assert json.loads((Path(first) / "config.json").read_text()) == {
        "lr": 0.1,
        "model": {"depth": 4},
        "batch": 32,
        "opt": "adam",
        "seed": 3,
    }
    ld = tuiboard.open(str(tmp_path / "logs"))
    assert sorted(r.name for r in ld.runs) == sorted(["p/" + name, "p/same", "p/same-2"])
    run = ld.run("p/same")
    assert run is not None
    assert run.meta.tags == ("a", "b") and run.meta.notes == "first try"
    assert run.meta.summary == {"acc": 0.6, "best": 0.7}
    assert run.config["model/depth"] == 4
    assert ld.run("p/same-2").meta.display_name == "same"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("with tuiboard.init(dir='logs') as run:\n    run.log({'a': 1})\n", 0),
        ("with tuiboard.init(dir='logs') as run:\n    run.log({'a': 1})\n    raise KeyError\n", 1),
        ("tuiboard.init(dir='logs')\ntuiboard.log({'a': 1})\n", 0),
        ("tuiboard.init(dir='logs')\ntuiboard.log({'a': 1})\nraise ValueError('x')\n", 1),
        ("import sys\ntuiboard.init(dir='logs')\ntuiboard.log({'a': 1})\nsys.exit(3)\n", 3),
    ],
)
def test_exit_code_recorded(tmp_path: Path, body: str, code: int) -> None:
    done = run_script("import tuiboard\n" + body, tmp_path, check=False)
    assert done.returncode == code, done.stderr
    run = only_run(tmp_path / "logs")
    assert run.meta.exit_code == code
    assert run.scalars("a").value.tolist() == [1.0]


def test_live_run_visible_before_finish(tmp_path: Path) -> None:
    """A run is listed from init on, its rows appear within a flush, its exit code at finish."""
    logs = tmp_path / "logs"
    code = f"""
import sys, time, tuiboard
run = tuiboard.init(project="live", name="r", dir={str(logs)!r})
print("started", flush=True)
sys.stdin.readline()
for i in range(5):
    run.log({{"loss": 1.0 / (i + 1)}})
print("logged", flush=True)
sys.stdin.readline()
run.finish()
"""
    script = tmp_path / "live.py"
    script.write_text(code)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "started"
        ld = tuiboard.open(str(logs))
        run = ld.run("live/r")
        assert run is not None and run.meta.display_name == "r" and run.meta.exit_code is None
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "logged"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ld.refresh()
            run = ld.run("live/r")
            assert run is not None
            if "loss" in run.tags("scalars") and len(run.scalars("loss")) == 5:
                break
            time.sleep(0.1)
        assert run.scalars("loss").step.tolist() == [0, 1, 2, 3, 4]
        assert run.meta.exit_code is None  # still running
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
        ld.refresh()
        run = ld.run("live/r")
        assert run is not None and run.meta.exit_code == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- media -----------------------------------------------------------------------------------------


def decode(data: bytes) -> np.ndarray:
    with PILImage.open(io.BytesIO(data)) as img:
        return np.asarray(img)


def test_images_and_histograms_through_open(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    grey_float = rng.random((5, 7))
    chw = rng.integers(0, 256, (3, 4, 5), dtype=np.uint8)
    samples = rng.normal(size=1000)
    counts, edges = np.histogram(rng.random(50), bins=5)
    np.save(tmp_path / "rgb.npy", rgb)
    np.save(tmp_path / "grey.npy", grey_float)
    np.save(tmp_path / "chw.npy", chw)
    np.save(tmp_path / "samples.npy", samples)
    code = f"""
import numpy as np, tuiboard
from PIL import Image
d = {str(tmp_path)!r}
rgb, grey = np.load(d + "/rgb.npy"), np.load(d + "/grey.npy")
chw, samples = np.load(d + "/chw.npy"), np.load(d + "/samples.npy")
run = tuiboard.init(project="m", name="media", dir=d + "/logs")
run.log({{"img": tuiboard.Image(rgb, caption="a cat"), "loss": 1.0}})
flipped = tuiboard.Image(Image.fromarray(rgb[::-1]))
run.log({{"img": flipped, "val": {{"grey": tuiboard.Image(grey)}}}})
run.log({{"batch": [tuiboard.Image(rgb), tuiboard.Image(chw)]}}, step=5)
run.log({{"w": tuiboard.Histogram(samples, num_bins=20)}}, step=6, commit=True)
run.log({{"w": tuiboard.Histogram(np_histogram=({counts.tolist()}, {edges.tolist()}))}})
run.log({{"big": np.arange(100.0), "small": np.arange(3), "one": np.float32(2.5)}})
run.finish()
"""
    run_script(code, tmp_path)
    run = only_run(tmp_path / "logs")
    assert not run.warnings
    imgs = run.values(IMAGES, "img")
    assert [v.step for v in imgs] == [0, 1]
    assert (imgs[0].width, imgs[0].height, imgs[0].content_type) == (9, 6, "image/png")
    assert np.array_equal(decode(imgs[0].images[0]), rgb)
    assert np.array_equal(decode(imgs[1].images[0]), rgb[::-1])
    assert (imgs[0].captions, imgs[1].captions) == (("a cat",), ())
    (grey,) = run.values(IMAGES, "val/grey")
    expected = np.clip(np.rint(grey_float * 255), 0, 255).astype(np.uint8)
    assert np.array_equal(decode(grey.images[0]), expected)
    (batch,) = run.values(IMAGES, "batch")
    assert batch.step == 5 and len(batch.images) == 2
    assert np.array_equal(decode(batch.images[1]), chw.transpose(1, 2, 0))
    hists = run.histograms("w")
    assert [h.step for h in hists] == [6, 7]
    c20, e20 = np.histogram(samples, bins=20)
    assert hists[0].counts.tolist() == c20.tolist()
    assert hists[0].left.tolist() == e20[:-1].tolist()
    assert hists[0].right.tolist() == e20[1:].tolist()
    assert hists[1].counts.tolist() == counts.tolist()
    assert run.histograms("big")[0].count == 100  # > 32 elements: a histogram, as wandb does
    assert run.histograms("small")[0].count == 3  # a list: a histogram sample for our reader
    assert run.scalars("one").value.tolist() == [2.5]
    line0 = json.loads((tmp_path / "logs/m/media/metrics.jsonl").read_text().splitlines()[0])
    obj = line0["img"]
    assert obj["_type"] == "image-file" and obj["caption"] == "a cat"
    assert obj["path"].startswith("media/images/img_0_") and obj["path"].endswith(".png")
    assert (obj["width"], obj["height"], obj["format"]) == (9, 6, "png")


def test_missing_and_escaping_media_are_warnings(tmp_path: Path) -> None:
    run_dir = tmp_path / "logs" / "r"
    run_dir.mkdir(parents=True)
    (tmp_path / "logs" / "secret.png").write_bytes(b"\x89PNG not really")
    lines = [
        {"_step": 0, "loss": 1.0, "img": {"_type": "image-file", "path": "media/images/gone.png"}},
        {"_step": 1, "loss": 0.5, "img": {"_type": "image-file", "path": "../secret.png"}},
        {"_step": 2, "loss": 0.2, "img": {"_type": "image-file", "path": "/etc/passwd"}},
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    run = only_run(tmp_path / "logs")
    assert run.scalars("loss").value.tolist() == [1.0, 0.5, 0.2]
    assert IMAGES not in run.kinds()
    (warning,) = run.warnings
    assert warning.line == 1 and "3 media files not shown" in warning.message
    assert "gone.png" in warning.message


# -- speed and safety ------------------------------------------------------------------------------


def test_sigkill_loses_at_most_the_last_second(tmp_path: Path) -> None:
    code = f"""
import time, tuiboard
run = tuiboard.init(project="k", name="killed", dir={str(tmp_path / "logs")!r})
i = 0
while True:
    run.log({{"i": i, "t": time.time(), "text": "x" * (i % 50)}})
    i += 1
    time.sleep(0.0005)
"""
    script = tmp_path / "kill.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    metrics = tmp_path / "logs/k/killed/metrics.jsonl"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            not metrics.exists() or metrics.stat().st_size < 20_000
        ):
            time.sleep(0.1)
        time.sleep(2.3)  # mid-way between two flushes, more or less
    finally:
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    raw = metrics.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1].decode().splitlines()
    rows = [json.loads(line) for line in complete]  # every complete line parses
    assert [r["_step"] for r in rows] == list(range(len(rows)))
    assert [r["i"] for r in rows] == list(range(len(rows)))
    assert killed_at - rows[-1]["t"] < 1.8  # one flush interval, and slack for a busy machine
    run = only_run(tmp_path / "logs")
    assert len(run.scalars("i")) == len(rows)
    assert run.meta.exit_code is None and not run.warnings


def test_many_threads_logging(tmp_path: Path) -> None:
    code = f"""
import threading, tuiboard
run = tuiboard.init(project="t", name="threads", dir={str(tmp_path / "logs")!r})
def work(k):
    for i in range(500):
        run.log({{f"t{{k}}": i, "shared": k}})
threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
run.finish()
"""
    run_script(code, tmp_path)
    rows = [
        json.loads(line)
        for line in (tmp_path / "logs/t/threads/metrics.jsonl").read_text().splitlines()
    ]
    assert [r["_step"] for r in rows] == list(range(4000))
    for k in range(8):
        mine = [r[f"t{k}"] for r in rows if f"t{k}" in r]
        assert mine == list(range(500))
        assert all(r["shared"] == k for r in rows if f"t{k}" in r)


def test_sdk_imports_nothing_heavy(tmp_path: Path) -> None:
    code = f"""
import sys, tuiboard
run = tuiboard.init(dir={str(tmp_path / "logs")!r})
run.log({{"loss": 0.5, "nested": {{"a": 1}}}})
run.finish()
heavy = ("numpy", "textual", "rich", "torch", "tensorboard", "wandb", "PIL", "tuiboard.core")
print(",".join(m for m in sys.modules if m.startswith(heavy)))
"""
    assert run_script(code, tmp_path).stdout.strip() == ""


def test_log_rejects_what_wandb_rejects(tmp_path: Path) -> None:
    code = f"""
import tuiboard
run = tuiboard.init(dir={str(tmp_path / "logs")!r})
for bad in ({{1: 2}}, [("a", 1)]):
    try:
        run.log(bad)
    except TypeError:
        pass
    else:
        raise SystemExit("accepted " + repr(bad))
run.finish()
try:
    run.log({{"a": 1}})
except RuntimeError:
    print("closed")
try:
    tuiboard.log({{"a": 1}})
except RuntimeError as e:
    print(e)
"""
    out = run_script(code, tmp_path).stdout.splitlines()
    assert out == ["closed", "You must call tuiboard.init() before tuiboard.log()"]


def test_forked_child_does_not_write_the_parents_run(tmp_path: Path) -> None:
    """A DataLoader-style fork: the child inherits the run, must neither write rows nor finish
    it at its exit (its atexit hooks run too when it exits normally)."""
    code = f"""
import os, sys, warnings, tuiboard
run = tuiboard.init(project="f", name="fork", dir={str(tmp_path / "logs")!r})
run.log({{"parent": 1}})
run.log({{"pending": 1}}, commit=False)
pid = os.fork()
if pid == 0:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log({{"child": 1}})
    assert "forked child" in str(caught[0].message), caught
    sys.exit(0)  # a normal exit: atexit hooks run in the child
_, status = os.waitpid(pid, 0)
assert status == 0, status
run.log({{"parent": 2}})
tuiboard.finish()
"""
    run_script(code, tmp_path)
    lines = (tmp_path / "logs/f/fork/metrics.jsonl").read_text().splitlines()
    rows = [{k: v for k, v in json.loads(x).items() if not k.startswith("_")} for x in lines]
    assert rows == [{"parent": 1}, {"pending": 1, "parent": 2}]
    run = only_run(tmp_path / "logs")
    assert run.meta.exit_code == 0


def test_image_from_a_file_and_a_figure(tmp_path: Path) -> None:
    pixels = np.random.default_rng(5).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "photo.jpg", quality=90)
    code = f"""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import tuiboard
run = tuiboard.init(project="m", name="files", dir={str(tmp_path / "logs")!r})
fig = plt.figure(figsize=(2, 1), dpi=40)
plt.plot([0, 1], [1, 0])
run.log({{"photo": tuiboard.Image({str(tmp_path / "photo.jpg")!r}), "fig": tuiboard.Image(fig)}})
run.finish()
"""
    run_script(code, tmp_path)
    run = only_run(tmp_path / "logs")
    (photo,) = run.values(IMAGES, "photo")
    assert photo.images == ((tmp_path / "photo.jpg").read_bytes(),)  # the file as it was
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 12, 10)
    (fig,) = run.values(IMAGES, "fig")
    assert (fig.content_type, fig.width, fig.height) == ("image/png", 80, 40)
    line = json.loads((tmp_path / "logs/m/files/metrics.jsonl").read_text())
    assert line["photo"]["format"] == "jpg" and line["photo"]["path"].endswith(".jpg")


def test_reinit_and_disabled_mode_as_wandb(tmp_path: Path) -> None:
    code = f"""
import json, os, tuiboard
d = {str(tmp_path / "logs")!r}
a = tuiboard.init(project="r", name="a", dir=d)
assert tuiboard.init(project="r", name="ignored", dir=d) is a  # wandb's default: return it
b = tuiboard.init(project="r", name="b", dir=d, reinit="create_new")
assert tuiboard.run is a and b is not a
tuiboard.log({{"x": 1}})
b.log({{"y": 2}})
c = tuiboard.init(project="r", name="c", dir=d, reinit="finish_previous")
assert tuiboard.run is c and a.exit_code == 0 and b.exit_code == 0
c.finish()
off = tuiboard.init(project="r", name="off", dir=d, mode="disabled")
off.log({{"z": 1}})
off.config.lr = 0.1
assert off.step == 1 and off.summary["z"] == 1 and off.dir == ""
off.finish()
print(json.dumps(sorted(os.listdir(os.path.join(d, "r")))))
"""
    assert json.loads(run_script(code, tmp_path).stdout) == ["a", "b", "c"]
    ld = tuiboard.open(str(tmp_path / "logs"))
    assert ld.run("r/a").scalars("x").value.tolist() == [1.0]  # type: ignore[union-attr]
    assert ld.run("r/b").scalars("y").value.tolist() == [2.0]  # type: ignore[union-attr]


def test_undecodable_strings_and_odd_values_are_written(tmp_path: Path) -> None:
    """A str made from undecodable bytes (os.fsdecode) cannot be UTF-8: it is written as its
    JSON escape and the rest of the row survives; odd objects are written as their str()."""
    code = f"""
import tuiboard
run = tuiboard.init(project="o", name="odd", dir={str(tmp_path / "logs")!r})
run.log({{"name\\udc80": "x\\udcff", "loss": 0.5, "obj": object, "t": (1, 2)}})
run.finish()
"""
    run_script(code, tmp_path)
    (line,) = (tmp_path / "logs/o/odd/metrics.jsonl").read_text().splitlines()
    row = json.loads(line)
    assert row["name\udc80"] == "x\udcff" and row["loss"] == 0.5
    assert row["obj"] == "<class 'object'>" and row["t"] == [1, 2]
    run = only_run(tmp_path / "logs")
    assert run.scalars("loss").value.tolist() == [0.5] and not run.warnings
