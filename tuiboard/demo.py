"""The built-in demo: a realistic logdir written with tuiboard's own writers.

Owns: ``write_demo`` and the list of runs it promises (``DEMO_RUNS``). Static output is a pure
function of the seed (fixed wall times from ``DEMO_START``), so two calls give identical bytes.
``live=True`` adds two runs that grow every ~0.5 s like a training job until ``stop`` is set.
Must not import: textual, rich, tuiboard.core (it writes files; it never reads them).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tuiboard.writer import START, STOP, EventWriter, JsonlWriter

DEMO_START = 1_700_000_000.0
"""Wall time of step 0 of the static runs (2023-11-14T22:13:20Z)."""
SECONDS_PER_STEP = 1.2
STEPS = 3_000
LOG_EVERY = 10
VAL_EVERY = 100
HIST_EVERY = 100
LIVE_TICK = 0.5
"""Seconds between two live appends."""
LIVE_STEPS_PER_TICK = 20

DEMO_RUNS: dict[str, tuple[str, ...]] = {
    "resnet/lr=0.1": (
        "scalars",
        "histograms",
        "images",
        "mesh",
        "text",
        "hparams",
        "graph",
        "custom_scalars",
    ),
    "resnet/lr=0.01": ("scalars", "histograms", "pr_curves", "text", "hparams", "custom_scalars"),
    "vit/base": (
        "scalars",
        "histograms",
        "audio",
        "text",
        "hparams",
        "embeddings",
        "custom_scalars",
    ),
    "jsonl/detectron2-style": ("scalars",),
    "jsonl/mlp": ("scalars", "histograms", "text"),
}
"""Static run name -> the kinds of data it holds."""


@dataclass(frozen=True)
class _Plan:
    """One simulated training job."""

    name: str
    model: str
    lr: float
    batch_size: int
    optimizer: str
    tau: float
    """Steps for the loss to fall by e; smaller learns faster."""
    floor: float
    """Loss it converges to."""
    tf2: bool
    """Scalars as TF2 tensors (plugin "scalars") instead of simple_value."""


_PLANS = (
    _Plan("resnet/lr=0.1", "resnet50", 0.1, 256, "sgd", 350.0, 0.42, False),
    _Plan("resnet/lr=0.01", "resnet50", 0.01, 256, "sgd", 900.0, 0.35, False),
    _Plan("vit/base", "vit-b/16", 0.003, 512, "adamw", 600.0, 0.30, True),
)


class _Curves:
    """Deterministic metrics of a plan as functions of the step, plus seeded noise."""

    def __init__(self, plan: _Plan, seed: int) -> None:
        self.plan = plan
        self.rng = np.random.default_rng(seed)
        self.spike_step = int(self.rng.integers(80, 250)) * LOG_EVERY
        """The one step where grad_norm spikes."""
        self.nan_step = 2_870 if plan.name == "resnet/lr=0.1" else -1
        """A late step whose training loss is NaN (an fp16 overflow, say)."""

    def lr(self, step: int) -> float:
        warmup = min(1.0, (step + 1) / 100)
        decay = 0.1 ** ((step >= 1_500) + (step >= 2_500))
        return self.plan.lr * warmup * decay

    def clean_loss(self, step: int) -> float:
        p = self.plan
        return p.floor + (2.3 - p.floor) * math.exp(-step / p.tau) - 0.02 * (step >= 1_500)

    def train(self, step: int) -> dict[str, float]:
        noise = self.rng.normal()
        loss = self.clean_loss(step) * (1 + 0.06 * noise)
        if step == self.nan_step:
            loss = math.nan
        grad = 0.6 + 2.0 * math.exp(-step / 800) + 0.15 * abs(self.rng.normal())
        if step == self.spike_step:
            grad *= 25.0
        return {"loss/train": loss, "lr": self.lr(step), "grad_norm": grad}

    def val(self, step: int) -> dict[str, float]:
        base = self.clean_loss(step)
        overfit = 0.05 * step / STEPS
        loss = base + 0.08 + overfit + 0.01 * self.rng.normal()
        acc = 0.97 - 0.87 * math.exp(-step / (1.3 * self.plan.tau)) - overfit / 3
        acc += 0.004 * self.rng.normal()
        # A 95% interval of the accuracy (as a bootstrap over the validation set would give),
        # narrowing as the model settles: the custom scalars margin chart's band.
        half = 0.04 + 0.12 * math.exp(-step / 600)
        return {
            "loss/val": loss,
            "metrics/accuracy": acc,
            "metrics/accuracy_lo": acc - half,
            "metrics/accuracy_hi": min(1.0, acc + half * 0.8),
        }

    def weights(self, layer: int, step: int) -> np.ndarray:
        drift = (layer + 1) * 0.2 * step / STEPS
        scale = 1.0 / (layer + 1) * (1.0 - 0.4 * step / STEPS) + 0.05
        return self.rng.normal(loc=drift, scale=scale, size=400)


def _file_name(start: float, n: int) -> str:
    return f"events.out.tfevents.{int(start)}.tuiboard-demo.1.{n}"


class _TfRun:
    """Writes a plan's scalars and histograms into one event file."""

    def __init__(self, writer: EventWriter, curves: _Curves) -> None:
        self.w = writer
        self.curves = curves

    def scalar(self, tag: str, value: float, step: int, wall: float) -> None:
        if self.curves.plan.tf2:
            self.w.add_scalar_tensor(tag, value, step, wall)
        else:
            self.w.add_scalar(tag, value, step, wall)

    def steps(self, first: int, stop: int, wall_of: _WallClock) -> None:
        for step in range(first, stop):
            if step % LOG_EVERY == 0:
                wall = wall_of(step)
                for tag, v in self.curves.train(step).items():
                    self.scalar(tag, v, step, wall)
            if step % VAL_EVERY == 0 and step > 0:
                wall = wall_of(step)
                for tag, v in self.curves.val(step).items():
                    self.scalar(tag, v, step, wall)
            if step % HIST_EVERY == 0:
                wall = wall_of(step)
                for layer in range(3):
                    self.w.add_histogram(
                        f"weights/layer{layer + 1}", self.curves.weights(layer, step), step, wall
                    )

    def layout(self, wall: float) -> None:
        """The custom scalars layout: both model families share "Training" (merged by title,
        the shared chart once); ViT adds its gradient norm there."""
        training: dict[str, tuple[str, list[str]]] = {
            "losses": ("Multiline", ["loss/"]),
            "learning rate": ("Multiline", ["lr$"]),
        }
        if self.curves.plan.model.startswith("vit"):
            training = {"losses": training["losses"], "gradient norm": ("Multiline", ["grad"])}
        self.w.add_custom_scalars(
            {
                "Training": training,
                "Validation": {
                    "accuracy (95% interval)": (
                        "Margin",
                        ["metrics/accuracy", "metrics/accuracy_lo", "metrics/accuracy_hi"],
                    ),
                },
            },
            wall,
        )

    def hparams(self, wall: float) -> None:
        p = self.curves.plan
        hp = {"model": p.model, "lr": p.lr, "batch_size": p.batch_size, "optimizer": p.optimizer}
        self.w.add_hparams(hp, ["loss/val", "metrics/accuracy"], wall_time=wall)


class _WallClock:
    """step -> wall time: a start time plus a fixed pace."""

    def __init__(self, start: float, pace: float = SECONDS_PER_STEP, first_step: int = 0) -> None:
        self.start = start
        self.pace = pace
        self.first_step = first_step

    def __call__(self, step: int) -> float:
        return self.start + (step - self.first_step) * self.pace


def _image(step: int, rng: np.random.Generator) -> np.ndarray:
    """A 32x32 RGB picture that sharpens as training goes."""
    y, x = np.mgrid[0:32, 0:32] / 31.0
    clarity = min(1.0, step / STEPS)
    r = (np.sin(6 * x + 3 * y) + 1) / 2
    g = np.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) * 8)
    b = y
    img = np.stack([r, g, b], axis=-1)
    img = clarity * img + (1 - clarity) * rng.random(img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _shape(step: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A reconstructed 3D shape (vertices, faces, colours, each [1, N, 3]): a sphere with six
    lobes whose noise fades as training goes, coloured by direction."""
    lat = np.linspace(0.2, np.pi - 0.2, 8)
    lon = np.linspace(0, 2 * np.pi, 18, endpoint=False)
    th, ph = np.meshgrid(lat, lon, indexing="ij")
    clarity = min(1.0, step / STEPS)
    radius = 1 + 0.25 * np.cos(3 * ph) * np.sin(th) ** 2
    radius = radius + (1 - clarity) * 0.3 * rng.standard_normal(radius.shape)
    unit = np.stack([np.sin(th) * np.cos(ph), np.cos(th), np.sin(th) * np.sin(ph)], -1)
    vertices = (unit * radius[..., None]).reshape(-1, 3).astype(np.float32)
    i, j = np.meshgrid(np.arange(7), np.arange(18), indexing="ij")
    a, b = i * 18 + j, i * 18 + (j + 1) % 18
    c, d = (i + 1) * 18 + (j + 1) % 18, (i + 1) * 18 + j
    faces = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)]).reshape(-1, 3)
    colours = ((unit.reshape(-1, 3) + 1) * 127.5).astype(np.uint8)
    return vertices[None], faces.astype(np.int32)[None], colours[None]


def _notes(plan: _Plan) -> str:
    return (
        f"## {plan.name}\n\n"
        f"Model **{plan.model}**, {plan.optimizer} at lr {plan.lr}, batch {plan.batch_size}.\n\n"
        "| schedule | steps |\n|---|---|\n| warmup | 100 |\n| decay x0.1 | 1500, 2500 |\n"
    )


GraphNode = tuple[str, str, list[str], list[int] | None]


def resnet50_graph(batch: int = 32) -> list[GraphNode]:
    """ResNet-50's graph as PyTorch's add_graph names it (scopes `ResNet/Sequential[layer1]/
    Bottleneck[0]/Conv2d[conv1]`, GetAttr parameters, numbered prim::Constant arguments, IO
    nodes), with output shapes for a batch of 224x224 images. ~900 nodes."""
    nodes: list[GraphNode] = [("input/input.1", "IO Node", [], [batch, 3, 224, 224])]
    count = iter(range(2, 1_000_000))

    def value(scope: str) -> str:
        return f"{scope}/input.{next(count)}"

    def params(scope: str, names: tuple[str, ...]) -> list[str]:
        out = []
        for p in names:
            name = f"{scope}/{p}/{p}.{next(count)}"
            nodes.append((name, "prim::GetAttr", [], None))
            out.append(name)
        return out

    def consts(scope: str, k: int) -> list[str]:
        out = []
        for _ in range(k):
            name = f"{scope}/{next(count)}"
            nodes.append((name, "prim::Constant", [], []))
            out.append(name)
        return out

    def conv(scope: str, x: str, shape: list[int]) -> str:
        args = params(scope, ("weight",)) + consts(scope, 5)
        out = value(scope)
        nodes.append((out, "aten::_convolution", [x, *args], shape))
        return out

    def bn(scope: str, x: str, shape: list[int]) -> str:
        args = params(scope, ("weight", "bias", "running_mean", "running_var")) + consts(scope, 3)
        out = value(scope)
        nodes.append((out, "aten::batch_norm", [x, *args], shape))
        return out

    def op(scope: str, kind: str, inputs: list[str], shape: list[int]) -> str:
        out = value(scope)
        nodes.append((out, kind, inputs, shape))
        return out

    top = "ResNet"
    size = 112
    x = conv(f"{top}/Conv2d[conv1]", "input/input.1", [batch, 64, size, size])
    x = bn(f"{top}/BatchNorm2d[bn1]", x, [batch, 64, size, size])
    x = op(f"{top}/ReLU[relu]", "aten::relu_", [x], [batch, 64, size, size])
    size //= 2
    x = op(f"{top}/MaxPool2d[maxpool]", "aten::max_pool2d", [x], [batch, 64, size, size])
    width_in = 64
    for layer, (blocks, width) in enumerate(((3, 64), (4, 128), (6, 256), (3, 512)), start=1):
        for b in range(blocks):
            scope = f"{top}/Sequential[layer{layer}]/Bottleneck[{b}]"
            if b == 0 and layer > 1:
                size //= 2
            mid, out_w = [batch, width, size, size], [batch, width * 4, size, size]
            y = conv(f"{scope}/Conv2d[conv1]", x, mid)
            y = bn(f"{scope}/BatchNorm2d[bn1]", y, mid)
            y = op(f"{scope}/ReLU[relu]", "aten::relu_", [y], mid)
            y = conv(f"{scope}/Conv2d[conv2]", y, mid)
            y = bn(f"{scope}/BatchNorm2d[bn2]", y, mid)
            y = op(f"{scope}/ReLU[relu]", "aten::relu_", [y], mid)
            y = conv(f"{scope}/Conv2d[conv3]", y, out_w)
            y = bn(f"{scope}/BatchNorm2d[bn3]", y, out_w)
            skip = x
            if b == 0:
                down = f"{scope}/Sequential[downsample]"
                skip = conv(f"{down}/Conv2d[0]", x, out_w)
                skip = bn(f"{down}/BatchNorm2d[1]", skip, out_w)
            y = op(scope, "aten::add_", [y, skip, *consts(scope, 1)], out_w)
            x = op(f"{scope}/ReLU[relu]", "aten::relu_", [y], out_w)
            width_in = width * 4
    x = op(
        f"{top}/AdaptiveAvgPool2d[avgpool]",
        "aten::adaptive_avg_pool2d",
        [x],
        [batch, width_in, 1, 1],
    )
    x = op(top, "aten::flatten", [x, *consts(top, 2)], [batch, width_in])
    fc = f"{top}/Linear[fc]"
    x = op(fc, "aten::linear", [x, *params(fc, ("weight", "bias"))], [batch, 1000])
    nodes.append(("output/output.1", "IO Node", [x], [batch, 1000]))
    return nodes


def _write_tf_runs(root: str, seed: int) -> None:
    for index, plan in enumerate(_PLANS):
        run_dir = os.path.join(root, *plan.name.split("/"))
        curves = _Curves(plan, seed * 1_000 + index)
        clock = _WallClock(DEMO_START + 600 * index)
        if plan.name == "vit/base":
            _write_restarted(run_dir, curves, clock)
            continue
        with EventWriter(run_dir, filename=_file_name(clock(0), 0), start_time=clock(0)) as w:
            run = _TfRun(w, curves)
            w.session_log(START, 0, clock(0))
            run.hparams(clock(0))
            run.layout(clock(0))
            w.add_text("notes", _notes(plan), 0, clock(0))
            run.steps(0, STEPS + 1, clock)
            if plan.name == "resnet/lr=0.1":
                w.add_graph(resnet50_graph(), 0, clock(0))
                img_rng = np.random.default_rng(seed + 17)
                shape_rng = np.random.default_rng(seed + 29)
                for step in (0, 1_000, 2_000, 3_000):
                    w.add_image("samples/reconstruction", _image(step, img_rng), step, clock(step))
                    v, f, c = _shape(step, shape_rng)
                    w.add_mesh("samples/shape", v, step, clock(step), faces=f, colors=c)
            else:
                pr_rng = np.random.default_rng(seed + 23)
                for step in (1_000, 2_000, 3_000):
                    labels = pr_rng.random(500) < 0.4
                    skill = step / STEPS
                    scores = np.clip(labels * skill * 0.6 + pr_rng.random(500) * 0.7, 0, 1)
                    w.add_pr_curve("pr/class_cat", labels, scores, step, clock(step), 51)
            w.end_hparams(1, clock(STEPS))
            w.session_log(STOP, STEPS, clock(STEPS))


def _write_restarted(run_dir: str, curves: _Curves, clock: _WallClock) -> None:
    """vit/base crashed at step 2000 and resumed from its step-1500 checkpoint: a second file
    whose steps go back, opened by a SessionLog START."""
    crash, resume = 2_000, 1_500
    with EventWriter(run_dir, filename=_file_name(clock(0), 0), start_time=clock(0)) as w:
        run = _TfRun(w, curves)
        w.session_log(START, 0, clock(0))
        run.hparams(clock(0))
        run.layout(clock(0))
        w.add_text("notes", _notes(curves.plan), 0, clock(0))
        t = np.arange(4_000) / 8_000
        chirp = 0.4 * np.sin(2 * np.pi * (300 + 900 * t) * t)
        w.add_audio("samples/chirp", chirp, 0, clock(0), sample_rate=8_000)
        run.steps(0, crash + 1, clock)
        for step in range(500, crash + 1, 500):
            w.session_log(3, step, clock(step), checkpoint_path=f"ckpt/model-{step}.pt")
    restart = _WallClock(clock(crash) + 900, first_step=resume)
    with EventWriter(
        run_dir, filename=_file_name(restart(resume), 1), start_time=restart(resume)
    ) as w:
        run = _TfRun(w, curves)
        w.session_log(START, resume, restart(resume), msg="resumed from ckpt/model-1500.pt")
        w.add_text(
            "notes",
            "Resumed from `ckpt/model-1500.pt` after a node failure.",
            resume,
            restart(resume),
        )
        run.steps(resume, STEPS + 1, restart)
        t = np.arange(4_000) / 8_000
        w.add_audio(
            "samples/chirp",
            0.4 * np.sin(2 * np.pi * 440 * t),
            STEPS,
            restart(STEPS),
            sample_rate=8_000,
        )
        w.end_hparams(1, restart(STEPS))
        w.session_log(STOP, STEPS, restart(STEPS))
    _write_projector(run_dir, curves.rng)


def _write_projector(run_dir: str, rng: np.random.Generator) -> None:
    """A small embedding for the projector: 3 clusters of 40 points in 8 dimensions."""
    centers = rng.normal(scale=3.0, size=(3, 8))
    labels = np.repeat(np.arange(3), 40)
    points = centers[labels] + rng.normal(size=(labels.size, 8))
    with open(os.path.join(run_dir, "tensors.tsv"), "w", encoding="utf-8", newline="\n") as fh:
        for row in points:
            fh.write("\t".join(f"{x:.5f}" for x in row) + "\n")
    names = ("cat", "dog", "bird")
    with open(os.path.join(run_dir, "metadata.tsv"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(f"{names[k]}\n" for k in labels))
    with open(
        os.path.join(run_dir, "projector_config.pbtxt"), "w", encoding="utf-8", newline="\n"
    ) as fh:
        fh.write(
            'embeddings {\n  tensor_name: "classifier/embedding"\n'
            '  tensor_path: "tensors.tsv"\n  metadata_path: "metadata.tsv"\n}\n'
        )


def _detectron2_lines(rng: np.random.Generator, iters: Iterator[int]) -> Iterator[tuple[int, dict]]:
    for it in iters:
        progress = it / 1_000
        cls = 0.25 + 0.6 * math.exp(-it / 250) + 0.02 * rng.normal()
        box = 0.18 + 0.3 * math.exp(-it / 400) + 0.015 * rng.normal()
        line = {
            "data_time": round(0.004 + 0.002 * abs(rng.normal()), 6),
            "eta_seconds": round(max(0, 1_000 - it) * 0.31, 2),
            "fast_rcnn/cls_accuracy": 0.7 + 0.25 * (1 - math.exp(-it / 300)),
            "loss_box_reg": box,
            "loss_cls": cls,
            "lr": 0.02 * min(1.0, (it + 1) / 100) * (0.1 if it >= 800 else 1.0),
            "time": round(0.3 + 0.02 * abs(rng.normal()), 6),
            "total_loss": cls + box + 0.1 * (1 - progress),
        }
        yield it, line
        if (it + 1) % 200 == 0:  # EVAL_PERIOD
            ap = 10 + 28 * (1 - math.exp(-it / 400))
            yield it, {"bbox/AP": ap, "bbox/AP50": ap * 1.6, "bbox/AP75": ap * 1.05}


def _write_jsonl_runs(root: str, seed: int) -> None:
    rng = np.random.default_rng(seed * 1_000 + 500)
    d2 = os.path.join(root, "jsonl", "detectron2-style")
    with JsonlWriter(d2, "metrics.json", step_key="iteration", time_key=None) as w:
        for it, metrics in _detectron2_lines(rng, iter(range(19, 1_000, 20))):
            w.log(it, metrics)
        w.write_config(
            {
                "MODEL": {
                    "META_ARCHITECTURE": "GeneralizedRCNN",
                    "WEIGHTS": "detectron2://ImageNetPretrained/MSRA/R-50.pkl",
                    "RESNETS": {"DEPTH": 50},
                    "ROI_HEADS": {"NUM_CLASSES": 80, "SCORE_THRESH_TEST": 0.05},
                },
                "SOLVER": {
                    "BASE_LR": 0.02,
                    "IMS_PER_BATCH": 16,
                    "MAX_ITER": 1000,
                    "STEPS": [800],
                },
                "INPUT": {"MIN_SIZE_TRAIN": [640, 672, 704], "FORMAT": "BGR"},
                "TEST": {"EVAL_PERIOD": 200},
                "SEED": seed,
            },
            "config.yaml",
        )
    mlp = os.path.join(root, "jsonl", "mlp")
    with JsonlWriter(mlp) as w:
        for epoch in range(40):
            wall = DEMO_START + 3_600 + epoch * 12.5
            train = 1.2 * math.exp(-epoch / 8) + 0.1 + 0.02 * rng.normal()
            line: dict[str, object] = {
                "epoch": epoch,
                "train": {"loss": train, "acc": 1 - train / 1.5},
                "val": {"loss": train + 0.05 + 0.002 * epoch},
            }
            if epoch % 10 == 0:
                line["activations"] = np.round(rng.normal(size=64), 4).tolist()
                line["note"] = f"epoch {epoch}: checkpoint saved"
            w.log(epoch * 100, line, wall)
        w.write_config(
            {"model": {"hidden": [256, 128], "dropout": 0.1}, "lr": 1e-3, "epochs": 40},
            "hparams.yaml",
        )


def write_demo(
    root: str, *, live: bool = False, seed: int = 0, stop: threading.Event | None = None
) -> None:
    """Write the demo logdir into ``root`` (created if needed).

    ``live=False``: the static runs of ``DEMO_RUNS``, identical bytes for a given seed.
    ``live=True``: the static runs first if ``root`` does not hold them yet, then two new runs,
    ``live/job-<HHMMSS>`` (tfevents) and ``live/job-<HHMMSS>-jsonl``, that grow every
    ``LIVE_TICK`` seconds until ``stop`` is set (forever without one).
    """
    os.makedirs(root, exist_ok=True)
    if not live or not os.path.isdir(os.path.join(root, "jsonl", "mlp")):
        _write_tf_runs(root, seed)
        _write_jsonl_runs(root, seed)  # last: its presence says the static part is complete
    if live:
        _run_live(root, seed, stop if stop is not None else threading.Event())


def _run_live(root: str, seed: int, stop: threading.Event) -> None:
    stamp = time.strftime("%H%M%S", time.gmtime())
    name = f"job-{stamp}"
    n = 1
    while os.path.exists(os.path.join(root, "live", name)):
        n += 1
        name = f"job-{stamp}-{n}"
    plan = _Plan(f"live/{name}", "resnet18", 0.05, 128, "sgd", 500.0, 0.38, False)
    curves = _Curves(plan, seed * 1_000 + 900)
    d2_rng = np.random.default_rng(seed * 1_000 + 901)
    tf_dir = os.path.join(root, "live", name)
    now = time.time()
    with (
        EventWriter(tf_dir, start_time=now) as w,
        JsonlWriter(
            os.path.join(root, "live", f"{name}-jsonl"),
            "metrics.json",
            step_key="iteration",
            time_key=None,
        ) as jw,
    ):
        run = _TfRun(w, curves)
        w.session_log(START, 0, now)
        run.hparams(now)
        w.flush()
        step = 0
        d2_iters = iter(range(19, 10**9, 20))
        lines = _detectron2_lines(d2_rng, d2_iters)
        while True:
            clock = _WallClock(time.time(), pace=0.0)
            run.steps(step, step + LIVE_STEPS_PER_TICK, clock)
            step += LIVE_STEPS_PER_TICK
            w.flush()
            it, line = next(lines)
            jw.log(it, line)
            if stop.wait(LIVE_TICK):
                break
        w.end_hparams(1, time.time())
        w.session_log(STOP, step, time.time())
