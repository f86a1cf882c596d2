"""The demo logdir, checked with TensorBoard's own reader (and json / pyyaml for JSONL runs)."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from tensorboard.backend.event_processing import (
    event_accumulator,
    event_file_loader,
    plugin_event_accumulator,
)
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util

from tests.reference import accumulate
from tuiboard.demo import DEMO_RUNS, STEPS, write_demo


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def plugin_tags(acc: event_accumulator.EventAccumulator, plugin: str) -> dict[str, bytes]:
    try:
        return acc.PluginTagToContent(plugin)
    except KeyError:  # the accumulator's way of saying "no tag of that plugin"
        return {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    write_demo(str(root))
    return root


def test_same_seed_same_bytes_other_seed_other_bytes(demo: Path, tmp_path: Path) -> None:
    write_demo(str(tmp_path / "again"))
    write_demo(str(tmp_path / "seed1"), seed=1)
    first = tree(demo)
    assert tree(tmp_path / "again") == first
    other = tree(tmp_path / "seed1")
    assert other.keys() == first.keys()
    assert other != first
    assert 100_000 < sum(map(len, first.values())) < 1_000_000


def test_runs_are_the_promised_ones(demo: Path) -> None:
    event_dirs = {str(p.parent.relative_to(demo)) for p in demo.rglob("*") if "tfevents" in p.name}
    jsonl_dirs = {
        str(p.parent.relative_to(demo)) for p in demo.rglob("metrics.json*") if p.is_file()
    }
    assert event_dirs | jsonl_dirs == set(DEMO_RUNS)
    assert jsonl_dirs == {"jsonl/detectron2-style", "jsonl/mlp"}


@pytest.mark.parametrize("run", ["resnet/lr=0.1", "resnet/lr=0.01", "vit/base"])
def test_tfevents_runs_hold_their_kinds(demo: Path, run: str) -> None:
    acc = accumulate(demo / run)
    tags = acc.Tags()
    kinds = set(DEMO_RUNS[run])
    scalar_tags = {"loss/train", "loss/val", "lr", "grad_norm"}
    scalar_tags |= {"metrics/accuracy", "metrics/accuracy_lo", "metrics/accuracy_hi"}
    if run == "vit/base":  # TF2 form: rank-0 tensors with plugin "scalars"
        assert scalar_tags <= set(acc.PluginTagToContent("scalars"))
        assert tensor_util.make_ndarray(acc.Tensors("lr")[0].tensor_proto).shape == ()
    else:
        assert set(tags["scalars"]) == scalar_tags
    assert set(tags["histograms"]) == {f"weights/layer{i}" for i in (1, 2, 3)}
    assert ("images" in kinds) == bool(tags["images"])
    assert ("audio" in kinds) == bool(tags["audio"])
    assert ("mesh" in kinds) == bool(plugin_tags(acc, "mesh"))
    assert ("pr_curves" in kinds) == bool(plugin_tags(acc, "pr_curves"))
    assert ("graph" in kinds) == tags["graph"]
    assert "notes" in plugin_tags(acc, "text")
    note = tensor_util.make_ndarray(acc.Tensors("notes")[0].tensor_proto).item().decode()
    assert run in note
    start = hparams_metadata.parse_session_start_info_plugin_data(
        acc.PluginTagToContent("hparams")[hparams_metadata.SESSION_START_INFO_TAG]
    )
    assert {"model", "lr", "batch_size", "optimizer"} == set(start.hparams)
    assert ("embeddings" in kinds) == (demo / run / "projector_config.pbtxt").exists()
    # The custom scalars layout, as TensorBoard parses it: a margin chart over the accuracy and
    # its interval, and the "Training" category every run shares.
    from tensorboard.plugins.custom_scalar import layout_pb2

    (config,) = acc.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(config.tensor_proto.string_val[0])
    assert [c.title for c in layout.category] == ["Training", "Validation"]
    (margin,) = layout.category[1].chart
    series = margin.margin.series[0]
    assert (series.value, series.lower, series.upper) == (
        "metrics/accuracy",
        "metrics/accuracy_lo",
        "metrics/accuracy_hi",
    )
    assert {series.value, series.lower, series.upper} <= scalar_tags
    assert layout.category[0].chart[0].multiline.tag == ["loss/"]


def scalar_values(
    acc: event_accumulator.EventAccumulator, tag: str
) -> tuple[list[int], list[float]]:
    if tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        return [e.step for e in events], [e.value for e in events]
    events = acc.Tensors(tag)
    return [e.step for e in events], [
        float(tensor_util.make_ndarray(e.tensor_proto)) for e in events
    ]


def test_curves_have_a_late_nan_a_spike_and_drifting_weights(demo: Path) -> None:
    acc = accumulate(demo / "resnet/lr=0.1")
    steps, values = scalar_values(acc, "loss/train")
    nan_steps = [s for s, v in zip(steps, values, strict=True) if math.isnan(v)]
    assert len(nan_steps) == 1 and nan_steps[0] > STEPS * 2 // 3
    finite = np.array([v for v in values if not math.isnan(v)])
    assert finite[:10].mean() > 3 * finite[-10:].mean()  # it learns
    _, grad = scalar_values(acc, "grad_norm")
    assert max(grad) > 10 * float(np.median(grad))
    means = [
        h.histogram_value.sum / h.histogram_value.num for h in acc.Histograms("weights/layer3")
    ]
    assert means[-1] - means[0] > 0.4
    for run in ("resnet/lr=0.01", "vit/base"):
        assert not any(
            math.isnan(v) for v in scalar_values(accumulate(demo / run), "loss/train")[1]
        )


def test_vit_restarts_from_a_checkpoint(demo: Path) -> None:
    files = sorted((demo / "vit/base").glob("*tfevents*"))
    assert len(files) == 2
    per_file = []
    for f in files:
        events = list(event_file_loader.LegacyEventFileLoader(str(f)).Load())
        starts = [e.step for e in events if e.session_log.status == e.session_log.START]
        steps = [e.step for e in events if any(v.tag == "loss/train" for v in e.summary.value)]
        per_file.append((starts, steps))
    (starts0, steps0), (starts1, steps1) = per_file
    assert starts0 == [0] and starts1 == [steps1[0]]
    assert steps1[0] < steps0[-1]  # the second file goes back in time
    # TensorBoard's Python loader (the plugin accumulator its server uses) purges at the
    # second START: one increasing line remains.
    acc = plugin_event_accumulator.EventAccumulator(
        str(demo / "vit/base"), size_guidance={"tensors": 0}
    )
    acc.Reload()
    steps = [e.step for e in acc.Tensors("loss/train")]
    assert steps == list(range(0, STEPS + 1, 10))


def test_jsonl_runs(demo: Path) -> None:
    d2 = demo / "jsonl/detectron2-style"
    lines = [json.loads(x) for x in (d2 / "metrics.json").read_text().splitlines()]
    assert all("iteration" in x for x in lines)
    assert sum("total_loss" in x for x in lines) == 50
    assert sum("bbox/AP" in x for x in lines) == 5
    config = yaml.safe_load((d2 / "config.yaml").read_text())
    assert config["SOLVER"]["BASE_LR"] == 0.02 and config["SOLVER"]["STEPS"] == [800]
    mlp = demo / "jsonl/mlp"
    lines = [json.loads(x) for x in (mlp / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [e * 100 for e in range(40)]
    assert all(x["wall_time"] > 1e9 for x in lines)
    assert sum(isinstance(x.get("activations"), list) for x in lines) == 4
    assert yaml.safe_load((mlp / "hparams.yaml").read_text())["lr"] == 1e-3


def test_live_appends_until_stopped(tmp_path: Path) -> None:
    root = tmp_path / "live"
    write_demo(str(root))
    static = tree(root)
    stop = threading.Event()
    t0 = time.time()
    thread = threading.Thread(
        target=write_demo, args=(str(root),), kwargs={"live": True, "stop": stop}
    )
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(list(root.glob("live/*/metrics.json"))) < 1:
        time.sleep(0.05)
    (jsonl,) = root.glob("live/*/metrics.json")
    while time.monotonic() < deadline and jsonl.read_text().count("\n") < 3:
        time.sleep(0.05)  # three ticks, ~1 s; polled, so a busy machine only makes it slower
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    after = tree(root)
    assert {k: after[k] for k in static} == static  # the static runs are left alone
    (job,) = (root / "live").glob("job-*[0-9]")
    acc = accumulate(job)
    steps, _ = scalar_values(acc, "loss/train")
    assert len(steps) >= 6 and steps == sorted(steps)  # three ticks of two points at least
    walls = [e.wall_time for e in acc.Scalars("loss/train")]
    assert t0 - 1 <= walls[0] <= walls[-1] <= time.time() + 1
    lines = (root / "live" / f"{job.name}-jsonl" / "metrics.json").read_text().splitlines()
    assert len(lines) >= 3
    assert os.path.getsize(next(job.glob("*tfevents*"))) > 0


def test_tuiboard_reads_what_the_demo_promises(demo: Path) -> None:
    import tuiboard

    ld = tuiboard.open(str(demo))
    assert [r.name for r in ld.runs] == sorted(DEMO_RUNS)
    for run in ld.runs:
        assert set(DEMO_RUNS[run.name]) <= set(run.kinds()), run.name
        assert not run.warnings, run.name
    # The restart collapses to one clean line, as TensorBoard's loaders show it.
    vit = ld.run("vit/base")
    assert vit is not None
    assert vit.scalars("loss/train").step.tolist() == list(range(0, STEPS + 1, 10))
