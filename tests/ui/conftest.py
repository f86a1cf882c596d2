"""Logdirs for the UI tests, written by real writers with fixed wall times and file times."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from tensorboardX import SummaryWriter
from textual.pilot import Pilot

import tuiboard
from tuiboard.core.logdir import Logdir
from tuiboard.demo import write_demo
from tuiboard.ui.app import TuiboardApp

FIXED_TIME = 1_795_700_000.0
"""Every file's mtime and the app's clock (plus NOW_OFFSET): no real clock reaches a frame."""
NOW_OFFSET = 30.0
T0 = 1_795_690_000.0
"""First wall time written by tbx_logdir."""

TBX_RUNS = ("a/lr=0.1", "a/lr=0.01", "b")
TBX_STEPS = 50
TBX_SCALARS = ("loss/train", "loss/val", "acc/top1", "lr")
TBX_HISTOGRAM = "weights/dense"
TBX_HIST_STEPS = 12


def pin_mtimes(root: Path, t: float = FIXED_TIME) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), (t, t))


def write_tbx_runs(root: Path) -> None:
    """Three runs (one nested level) with four scalar tags and one histogram tag."""
    for k, run in enumerate(TBX_RUNS):
        rng = np.random.default_rng(k)
        with SummaryWriter(str(root / run), flush_secs=1) as w:
            for i in range(TBX_STEPS):
                step = i * 10
                wall = T0 + k * 7 + i * 3.5
                noise = float(rng.normal(0, 0.05))
                w.add_scalar("loss/train", 2.0 * np.exp(-i / (15 + k)) + noise, step, walltime=wall)
                w.add_scalar(
                    "loss/val", 2.1 * np.exp(-i / (17 + k)) + noise / 2, step, walltime=wall
                )
                w.add_scalar("acc/top1", 1 - np.exp(-i / (10 + k)), step, walltime=wall)
                w.add_scalar("lr", 0.1 / (k + 1) * 0.97**i, step, walltime=wall)
                if i < TBX_HIST_STEPS:
                    data = rng.normal(i * 0.1, 1.0 + k * 0.2, 500)
                    w.add_histogram(TBX_HISTOGRAM, data, step, walltime=wall)
    pin_mtimes(root)


async def started(pilot: Pilot[int]) -> TuiboardApp:
    """The app once its first store update is applied."""
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    await until(pilot, lambda: app.applied, step=None)
    await pilot.pause()
    return app


async def until(
    pilot: Pilot[int],
    check: Callable[[], object],
    timeout: float = 30.0,
    step: float | None = 0.02,
) -> bool:
    """Let the app run until `check()` is true (then True) or `timeout` seconds have passed
    (then False: the test's own assert says what is missing); between two checks it pauses
    `step` seconds (None: until the app is idle, Pilot.pause()). The budget is wall time, not a
    count of pauses: on a loaded machine (pytest-xdist workers on 2 cores) a worker thread that
    decodes or reads takes longer, and the test waits for it instead of failing."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(step)
        if check():
            return True
        if time.monotonic() > deadline:
            return False


def make_app(logdir: Logdir) -> TuiboardApp:
    """The app on a store the test already filled; no watcher thread, a fixed clock."""
    return TuiboardApp(logdir, watch=False, clock=lambda: FIXED_TIME + NOW_OFFSET)


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (anyio's pytest plugin drives the async tests)."""
    return "asyncio"


@pytest.fixture
def utc() -> Iterator[None]:
    """Wall-time labels in UTC, whatever the machine's zone."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def tbx_root(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    write_tbx_runs(root)
    return root


@pytest.fixture
def tbx_logdir(tbx_root: Path) -> Logdir:
    return tuiboard.open(str(tbx_root))


@pytest.fixture
def demo_logdir(tmp_path: Path) -> Logdir:
    root = tmp_path / "demo"
    write_demo(str(root), live=False, seed=0)
    pin_mtimes(root)
    return tuiboard.open(str(root))


MEDIA_RUNS = ("cnn", "mlp")
MEDIA_STEPS = (0, 10, 20)


def write_media_runs(root: Path) -> None:
    """What the PyTorch TensorBoard tutorial writes, by tensorboardX: per run an image per step
    (a gradient that changes with the step), a Markdown text, a PR curve and add_hparams."""
    for k, run in enumerate(MEDIA_RUNS):
        rng = np.random.default_rng(10 + k)
        with SummaryWriter(str(root / run), flush_secs=1) as w:
            for j, step in enumerate(MEDIA_STEPS):
                wall = T0 + k * 7 + j * 3.5
                w.add_scalar("loss", 1.0 / (j + 1 + k), step, walltime=wall)
                y, x = np.mgrid[0:16, 0:24]
                img = np.stack([x * 10 % 256, y * 16 % 256, np.full_like(x, 40 * j + 60 * k)])
                w.add_image("samples/input", img.astype(np.uint8), step, walltime=wall)
                w.add_text(
                    "notes",
                    f"# Epoch {j} of {run}\n\n- lr **{0.1 / (k + 1)}**\n- [red]literal[/red]",
                    step,
                    walltime=wall,
                )
                labels = rng.integers(0, 2, 200)
                preds = np.clip(labels * 0.4 + rng.random(200) * (0.6 + 0.1 * j), 0, 1)
                w.add_pr_curve("pr/cat", labels, preds, step, num_thresholds=21, walltime=wall)
            w.add_hparams(
                {"lr": 0.1 / (k + 1), "arch": run, "dropout": bool(k)},
                {"hparam/accuracy": 0.8 + 0.05 * k},
                name="hp",
            )
    pin_mtimes(root)


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    write_media_runs(root)
    return root


@pytest.fixture
def media_logdir(media_root: Path) -> Logdir:
    return tuiboard.open(str(media_root))


EMBEDDING_CLASSES = ("cat", "dog", "bird")
EMBEDDING_POINTS = 60


def write_embedding_runs(root: Path) -> None:
    """What tensorboardX's add_embedding writes, the way its docs show it: run "words", 60 points
    in 16 dimensions in three clusters, with a metadata header (word, class, score), and a sprite
    of 8x8 thumbnails (a colour per class, brighter with the score); run "plain", 30 points with
    one metadata column and no sprite."""
    rng = np.random.default_rng(5)
    labels = np.arange(EMBEDDING_POINTS) % len(EMBEDDING_CLASSES)
    centres = rng.normal(scale=4.0, size=(len(EMBEDDING_CLASSES), 16))
    mat = centres[labels] + rng.normal(size=(EMBEDDING_POINTS, 16))
    score = np.round(rng.random(EMBEDDING_POINTS), 3)
    meta = [
        [f"{EMBEDDING_CLASSES[c]}{i}", EMBEDDING_CLASSES[c], float(score[i])]
        for i, c in enumerate(labels)
    ]
    images = np.zeros((EMBEDDING_POINTS, 3, 8, 8))
    for i, c in enumerate(labels):
        images[i, c] = 0.4 + 0.6 * score[i]
        images[i, :, 2:6, 2:6] = 1.0 if i % 2 else 0.0
    with SummaryWriter(str(root / "words"), flush_secs=1) as w:
        w.add_scalar("loss", 1.0, 0, walltime=T0)
        w.add_embedding(
            mat,
            metadata=meta,
            label_img=images,
            metadata_header=["word", "class", "score"],
            tag="emb",
            global_step=0,
        )
    plain = rng.normal(size=(30, 4)) * np.array([3.0, 1.0, 0.5, 0.1])
    with SummaryWriter(str(root / "plain"), flush_secs=1) as w:
        w.add_scalar("loss", 2.0, 0, walltime=T0)
        w.add_embedding(plain, metadata=[f"p{i}" for i in range(30)], tag="small", global_step=3)


CS_RUNS = ("adam", "sgd", "baseline")
CS_STEPS = tuple(range(0, 200, 10))
CS_LAYOUTS: dict[str, dict[str, dict[str, list[object]]]] = {
    "adam": {
        "Losses": {
            "all losses": ["Multiline", ["loss/"]],
            "train only": ["Multiline", [r"loss/train$", "(unclosed"]],
        },
        "Accuracy": {"top1 with CI": ["Margin", ["acc/mean", "acc/lower", "acc/upper"]]},
    },
    "sgd": {
        "Losses": {
            "all losses": ["Multiline", ["loss/"]],
            "validation": ["Multiline", ["val", "loss/val"]],
        },
        "Schedule": {"lr": ["Multiline", ["lr"]]},
    },
}
"""tensorboardX's add_custom_scalars layout of each run ("baseline" writes none). "Losses" is in
both (merged by title, "all losses" once); "(unclosed" is an invalid regex."""


def write_custom_scalars_runs(root: Path) -> None:
    """Three runs by tensorboardX: the layouts of CS_LAYOUTS and the scalars they name. Tags that
    a start-anchored regex must tell apart: "loss/train" and "loss/val" ("loss/"), "val/loss"
    (matched by "val", not by "loss/"), "lossy" and "lr". acc/mean, acc/lower, acc/upper are a
    margin series; sgd writes acc/upper only every other step (steps differ) and baseline has
    acc/mean alone (lacks the others)."""
    for k, run in enumerate(CS_RUNS):
        rng = np.random.default_rng(20 + k)
        with SummaryWriter(str(root / run), flush_secs=1) as w:
            if run in CS_LAYOUTS:
                w.add_custom_scalars(CS_LAYOUTS[run])
            for j, step in enumerate(CS_STEPS):
                wall = T0 + k * 7 + j * 3.5
                noise = float(rng.normal(0, 0.05))
                w.add_scalar("loss/train", 2.0 * np.exp(-j / (6 + k)) + noise, step, walltime=wall)
                w.add_scalar("loss/val", 2.2 * np.exp(-j / (7 + k)) + noise, step, walltime=wall)
                w.add_scalar("val/loss", 2.3 * np.exp(-j / (8 + k)), step, walltime=wall)
                w.add_scalar("lossy", 0.5 + noise, step, walltime=wall)
                w.add_scalar("lr", 0.1 * 0.9**j, step, walltime=wall)
                mean = 1 - np.exp(-j / (5 + k))
                w.add_scalar("acc/mean", mean, step, walltime=wall)
                if run == "baseline":
                    continue
                w.add_scalar("acc/lower", mean - 0.1 - 0.02 * noise, step, walltime=wall)
                if run == "adam" or j % 2 == 0:
                    w.add_scalar("acc/upper", mean + 0.08 + 0.02 * noise, step, walltime=wall)
    pin_mtimes(root)


@pytest.fixture
def embedding_root(tmp_path: Path) -> Path:
    root = tmp_path / "embeddings"
    write_embedding_runs(root)
    return root


@pytest.fixture
def embedding_logdir(embedding_root: Path) -> Logdir:
    return tuiboard.open(str(embedding_root))


@pytest.fixture
def cs_root(tmp_path: Path) -> Path:
    root = tmp_path / "custom"
    write_custom_scalars_runs(root)
    return root


@pytest.fixture
def cs_logdir(cs_root: Path) -> Logdir:
    return tuiboard.open(str(cs_root))
