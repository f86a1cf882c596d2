"""tuiboard.SummaryWriter against TensorBoard's own reader (EventAccumulator), point by point, and
against tensorboardX's SummaryWriter making the same calls."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboardX import SummaryWriter as TbxWriter

import tuiboard
from tests.reference import accumulate

T0 = 1_700_000_000.0


class FakeTensor:
    """What a torch tensor offers (detach, cpu, numpy), without torch."""

    def __init__(self, a: Any) -> None:
        self.a = np.asarray(a)

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.a


def tensor(w: Any, a: Any) -> Any:
    """A tensor-like for our writer; numpy for tensorboardX (it only takes real torch ones)."""
    return FakeTensor(a) if isinstance(w, tuiboard.SummaryWriter) else np.asarray(a)


def both(tmp_path: Path, calls: Any) -> tuple[str, str]:
    """Run `calls(writer)` on ours and tensorboardX's writer; return their log dirs."""
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "tbx")
    with tuiboard.SummaryWriter(ours) as w:
        calls(w)
    with TbxWriter(theirs) as w:
        calls(w)
    return ours, theirs


def decode(data: bytes) -> np.ndarray:
    with PILImage.open(io.BytesIO(data)) as img:
        return np.asarray(img)


def test_add_scalar_point_by_point(tmp_path: Path) -> None:
    values = [1.0, 0.5, float("nan"), float("inf"), -2.25, 1e-30, 3.3]

    def calls(w: Any) -> None:
        for i, v in enumerate(values):
            w.add_scalar("loss", v, i, walltime=T0 + i)
        w.add_scalar("tensor", tensor(w, np.float32(0.25)), 7, walltime=T0)
        w.add_scalar("numpy", np.array([1.5]), 8, walltime=T0)

    ours, theirs = both(tmp_path, calls)
    a, b = accumulate(ours), accumulate(theirs)
    got = [(e.step, e.wall_time, e.value) for e in a.Scalars("loss")]
    assert got[:2] == [(0, T0, 1.0), (1, T0 + 1, 0.5)]
    for (s1, w1, v1), (s2, w2, v2), v in zip(
        got, [(e.step, e.wall_time, e.value) for e in b.Scalars("loss")], values, strict=True
    ):
        assert (s1, w1) == (s2, w2)
        assert (v1 == v2 == np.float32(v)) or (np.isnan(v1) and np.isnan(v2) and np.isnan(v))
    assert [e.value for e in a.Scalars("tensor")] == [0.25]
    assert [(e.step, e.value) for e in a.Scalars("numpy")] == [(8, 1.5)]


def test_new_style_scalars(tmp_path: Path) -> None:
    with tuiboard.SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("f32", 0.1, 1, new_style=True)
        w.add_scalar("f64", 0.1, 2, new_style=True, double_precision=True)
    acc = accumulate(tmp_path)
    from tensorboard.util import tensor_util

    (f32,) = acc.Tensors("f32")
    (f64,) = acc.Tensors("f64")
    assert tensor_util.make_ndarray(f32.tensor_proto) == np.float32(0.1)
    assert tensor_util.make_ndarray(f64.tensor_proto).dtype == np.float64
    assert tensor_util.make_ndarray(f64.tensor_proto) == 0.1
    assert acc.SummaryMetadata("f32").plugin_data.plugin_name == "scalars"


def test_add_scalars_makes_pytorch_sub_runs(tmp_path: Path) -> None:
    def calls(w: Any) -> None:
        for i in range(3):
            w.add_scalars("loss", {"train": 1.0 / (i + 1), "val": 2.0 + i}, i, walltime=T0)

    ours, theirs = both(tmp_path, calls)
    subs = sorted(d for d in os.listdir(ours) if os.path.isdir(os.path.join(ours, d)))
    assert subs == ["loss_train", "loss_val"]
    for sub in subs:  # tensorboardX nests them (loss/train): the values are the same
        a = accumulate(os.path.join(ours, sub))
        b = accumulate(os.path.join(theirs, *sub.split("_")))
        assert a.Tags()["scalars"] == b.Tags()["scalars"] == ["loss"]
        got = [(e.step, e.wall_time, e.value) for e in a.Scalars("loss")]
        assert got == [(e.step, e.wall_time, e.value) for e in b.Scalars("loss")]
    a = accumulate(os.path.join(ours, "loss_val"))
    assert [e.value for e in a.Scalars("loss")] == [2.0, 3.0, 4.0]


TORCH_SCRIPT = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter
sys.path.insert(0, sys.argv[2])
import tuiboard

T0 = 1_700_000_000.0
torch.manual_seed(0)
weights = torch.randn(500, requires_grad=True)  # a parameter: needs detach()
image = torch.rand(3, 6, 8)
batch = torch.randint(0, 256, (5, 1, 4, 4), dtype=torch.uint8)
labels = torch.rand(100) > 0.5
scores = torch.rand(100)


def calls(w, root):
    for i in range(3):
        w.add_scalar("loss", torch.tensor(1.0 / (i + 1)), i, walltime=T0 + i)
    w.add_scalar("tensor_step", 0.5, torch.tensor(7), walltime=T0)
    w.add_scalar("new", 0.25, 1, walltime=T0, new_style=True)
    w.add_scalars("run/loss", {"train": torch.tensor(1.0), "val": 2.0}, 0, walltime=T0)
    w.add_histogram("weights", weights, 2, walltime=T0)
    w.add_histogram("weights_auto", weights, 3, bins="auto", walltime=T0)
    w.add_image("image", image, 1, walltime=T0)
    w.add_images("batch", batch, 1, walltime=T0)
    fig = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1, 2], [1, 0, 1])
    w.add_figure("figure", fig, 2, walltime=T0)
    w.add_text("notes", "*md* text", 4, walltime=T0)
    w.add_pr_curve("pr", labels, scores, 5, walltime=T0)
    w.add_hparams({"lr": 0.01, "nesterov": True, "opt": "adam"}, {"hp/acc": 0.9}, run_name="hp")


with TorchWriter(sys.argv[1] + "/torch") as w:
    calls(w, "torch")
with tuiboard.SummaryWriter(sys.argv[1] + "/ours") as w:
    calls(w, "ours")
assert "torch" in sys.modules  # (the script's own import; tuiboard never imports it)
"""


def test_same_calls_as_pytorchs_own_writer(tmp_path: Path) -> None:
    """Every method called with real torch tensors through PyTorch's own SummaryWriter and
    ours, in one process: the same directories, tags, steps, wall times and values read back by
    TensorBoard (tensorboardX differs from PyTorch in add_scalars' directories and bools)."""
    pytest.importorskip("torch")
    script = tmp_path / "torch_writer.py"
    script.write_text(TORCH_SCRIPT)
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, str(script), str(tmp_path), str(root)], check=True, timeout=300)
    from tensorboard.util import tensor_util

    def dirs(top: Path) -> list[str]:
        return sorted(str(Path(d).relative_to(top)) for d, _, f in os.walk(top) if f)

    assert dirs(tmp_path / "ours") == dirs(tmp_path / "torch")
    assert dirs(tmp_path / "ours") == [".", "hp", "run_loss_train", "run_loss_val"]
    for sub in dirs(tmp_path / "ours"):
        a, b = accumulate(tmp_path / "ours" / sub), accumulate(tmp_path / "torch" / sub)
        ta, tb = a.Tags(), b.Tags()
        for kind in ("scalars", "histograms", "images", "tensors"):
            assert sorted(ta[kind]) == sorted(tb[kind]), (sub, kind)
        for tag in ta["scalars"]:  # add_hparams takes no walltime: its metrics are "now"
            got = [(e.step, e.wall_time if sub != "hp" else 0, e.value) for e in a.Scalars(tag)]
            want = [(e.step, e.wall_time if sub != "hp" else 0, e.value) for e in b.Scalars(tag)]
            assert got == want, tag
        for tag in ta["histograms"]:
            (x,), (y,) = a.Histograms(tag), b.Histograms(tag)
            hx, hy = x.histogram_value, y.histogram_value
            assert (x.step, x.wall_time, hx.min, hx.max, hx.num) == (
                y.step,
                y.wall_time,
                hy.min,
                hy.max,
                hy.num,
            )
            assert hx.sum == pytest.approx(hy.sum) and hx.sum_squares == pytest.approx(
                hy.sum_squares
            )
            assert list(hx.bucket_limit) == list(hy.bucket_limit)
            assert list(hx.bucket) == list(hy.bucket)
        for tag in ta["images"]:
            (x,), (y,) = a.Images(tag), b.Images(tag)
            assert (x.step, x.wall_time, x.width, x.height) == (
                y.step,
                y.wall_time,
                y.width,
                y.height,
            )
            assert np.array_equal(decode(x.encoded_image_string), decode(y.encoded_image_string))
        for tag in ta["tensors"]:
            for x, y in zip(a.Tensors(tag), b.Tensors(tag), strict=True):
                assert (x.step, x.wall_time) == (y.step, y.wall_time), tag
                xa = tensor_util.make_ndarray(x.tensor_proto)
                ya = tensor_util.make_ndarray(y.tensor_proto)
                assert xa.shape == ya.shape and xa.tolist() == ya.tolist(), tag
        if sub == "hp":
            ca, cb = a.PluginTagToContent("hparams"), b.PluginTagToContent("hparams")
            tag = hparams_metadata.SESSION_START_INFO_TAG
            sa = hparams_metadata.parse_session_start_info_plugin_data(ca[tag])
            sb = hparams_metadata.parse_session_start_info_plugin_data(cb[tag])
            assert sa == sb  # bools as numbers, no group name or start time: PyTorch's
            tag = hparams_metadata.EXPERIMENT_TAG
            ea = hparams_metadata.parse_experiment_plugin_data(ca[tag])
            assert ea == hparams_metadata.parse_experiment_plugin_data(cb[tag])
            tag = hparams_metadata.SESSION_END_INFO_TAG
            end_a = hparams_metadata.parse_session_end_info_plugin_data(ca[tag])
            assert end_a == hparams_metadata.parse_session_end_info_plugin_data(cb[tag])


@pytest.mark.parametrize("bins", ["tensorflow", "auto", 7])
def test_add_histogram_matches_tensorboardx(tmp_path: Path, bins: Any) -> None:
    rng = np.random.default_rng(1)
    samples = [rng.normal(size=1000), rng.exponential(size=50), np.array([3.0, 3.0, 3.0])]

    def calls(w: Any) -> None:
        for i, s in enumerate(samples):
            w.add_histogram("w", s, i, bins=bins, walltime=T0)
        w.add_histogram("t", tensor(w, samples[0].astype(np.float32)), 5, walltime=T0)

    ours, theirs = both(tmp_path, calls)
    a, b = accumulate(ours), accumulate(theirs)
    for tag in ("w", "t"):
        for x, y in zip(a.Histograms(tag), b.Histograms(tag), strict=True):
            hx, hy = x.histogram_value, y.histogram_value
            assert x.step == y.step
            assert (hx.min, hx.max, hx.num) == (hy.min, hy.max, hy.num)
            assert hx.sum == pytest.approx(hy.sum) and hx.sum_squares == pytest.approx(
                hy.sum_squares
            )
            assert list(hx.bucket_limit) == list(hy.bucket_limit)
            assert list(hx.bucket) == list(hy.bucket)
    first = a.Histograms("w")[0].histogram_value
    assert first.num == 1000 and sum(first.bucket) == 1000
    assert first.min == samples[0].min() and first.max == samples[0].max()


def test_add_histogram_raw(tmp_path: Path) -> None:
    with tuiboard.SummaryWriter(str(tmp_path)) as w:
        w.add_histogram_raw("r", -1.0, 2.0, 6, 3.0, 9.0, [0.0, 1.0, 2.0], [1, 2, 3], 4)
        with pytest.raises(ValueError):
            w.add_histogram_raw("r", 0, 1, 1, 1, 1, [1.0], [1, 2], 5)
    (h,) = accumulate(tmp_path).Histograms("r")
    v = h.histogram_value
    assert (h.step, v.min, v.max, v.num, v.sum, v.sum_squares) == (4, -1, 2, 6, 3, 9)
    assert (list(v.bucket_limit), list(v.bucket)) == ([0, 1, 2], [1, 2, 3])


def test_add_image_and_images_match_tensorboardx(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    chw_float = rng.random((3, 5, 7)).astype(np.float32)
    hwc_uint8 = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    grey = rng.random((1, 3, 3))
    rgba = rng.integers(0, 256, (4, 2, 2), dtype=np.uint8)
    batch = rng.integers(0, 256, (11, 1, 2, 3), dtype=np.uint8)

    def calls(w: Any) -> None:
        w.add_image("chw", chw_float, 0, walltime=T0)
        w.add_image("hwc", hwc_uint8, 1, walltime=T0, dataformats="HWC")
        w.add_image("grey", tensor(w, grey), 2, walltime=T0)
        w.add_image("rgba", rgba, 3, walltime=T0)
        w.add_image("hw", hwc_uint8[:, :, 0], 4, walltime=T0, dataformats="HW")
        w.add_images("batch", batch, 5, walltime=T0)

    ours, theirs = both(tmp_path, calls)
    a, b = accumulate(ours), accumulate(theirs)
    assert sorted(a.Tags()["images"]) == sorted(b.Tags()["images"])
    for tag in a.Tags()["images"]:
        for x, y in zip(a.Images(tag), b.Images(tag), strict=True):
            assert (x.step, x.wall_time, x.width, x.height) == (
                y.step,
                y.wall_time,
                y.width,
                y.height,
            )
            assert np.array_equal(decode(x.encoded_image_string), decode(y.encoded_image_string)), (
                tag
            )
    chw = decode(a.Images("chw")[0].encoded_image_string)
    expected = (chw_float.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    assert np.array_equal(chw, expected)
    assert np.array_equal(decode(a.Images("hwc")[0].encoded_image_string), hwc_uint8)
    grid = decode(a.Images("batch")[0].encoded_image_string)
    assert grid.shape == (4, 24, 3)  # 8 columns, 2 rows
    assert np.array_equal(grid[0:2, 3:6, 0], batch[1, 0]) and np.all(grid[2:4, 9:, :] == 0)


def test_add_figure_matches_tensorboardx(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure() -> Any:
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [1, 3, 2])
        return fig

    def calls(w: Any) -> None:
        fig = figure()
        w.add_figure("fig", fig, 1, walltime=T0)
        assert not plt.fignum_exists(fig.number)  # close=True closed it
        w.add_figure("figs", [figure(), figure()], 2, walltime=T0)

    ours, theirs = both(tmp_path, calls)
    a, b = accumulate(ours), accumulate(theirs)
    for tag in ("fig", "figs"):
        (x,), (y,) = a.Images(tag), b.Images(tag)
        assert (x.width, x.height) == (y.width, y.height)
        assert np.array_equal(decode(x.encoded_image_string), decode(y.encoded_image_string))
    assert (a.Images("fig")[0].width, a.Images("fig")[0].height) == (100, 75)


def test_add_text_and_pr_curve_match_tensorboardx(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(200) > 0.5
    predictions = rng.random(200)
    weights = rng.random(200)

    def calls(w: Any) -> None:
        w.add_text("notes", "# Title\n*markdown* ünïcode", 3, walltime=T0)
        w.add_pr_curve("pr", labels, predictions, 1, walltime=T0)
        w.add_pr_curve("prw", labels, predictions, 2, num_thresholds=500, weights=weights)

    ours, theirs = both(tmp_path, calls)
    a, b = accumulate(ours), accumulate(theirs)
    from tensorboard.util import tensor_util

    assert sorted(a.Tags()["tensors"]) == sorted(b.Tags()["tensors"])
    for tag in a.Tags()["tensors"]:
        (x,), (y,) = a.Tensors(tag), b.Tensors(tag)
        assert x.step == y.step
        xa, ya = tensor_util.make_ndarray(x.tensor_proto), tensor_util.make_ndarray(y.tensor_proto)
        assert xa.shape == ya.shape and xa.dtype == ya.dtype
        assert np.array_equal(xa, ya) if xa.dtype != object else list(xa) == list(ya)
        assert a.SummaryMetadata(tag).plugin_data.plugin_name == (
            b.SummaryMetadata(tag).plugin_data.plugin_name
        )
    (text,) = a.Tensors("notes/text_summary")
    assert text.tensor_proto.string_val == ["# Title\n*markdown* ünïcode".encode()]
    (prw,) = a.Tensors("prw")
    assert tensor_util.make_ndarray(prw.tensor_proto).shape == (6, 127)


def test_add_hparams_sub_run(tmp_path: Path) -> None:
    hp = {"lr": 0.01, "layers": 3, "opt": "adam", "nesterov": True, "skip": None}
    metrics = {"hp/acc": 0.9, "hp/loss": 0.25}

    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "tbx")
    with tuiboard.SummaryWriter(ours) as w:
        w.add_hparams(hp, metrics, hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="hp")
    with TbxWriter(theirs) as w:  # no hparam_domain_discrete there; `name` for run_name
        w.add_hparams(hp, metrics, name="hp")
    a, b = accumulate(os.path.join(ours, "hp")), accumulate(os.path.join(theirs, "hp"))
    ca, cb = a.PluginTagToContent("hparams"), b.PluginTagToContent("hparams")
    assert (
        set(ca)
        == set(cb)
        == {
            hparams_metadata.EXPERIMENT_TAG,
            hparams_metadata.SESSION_START_INFO_TAG,
            hparams_metadata.SESSION_END_INFO_TAG,
        }
    )
    sa = hparams_metadata.parse_session_start_info_plugin_data(
        ca[hparams_metadata.SESSION_START_INFO_TAG]
    )
    sb = hparams_metadata.parse_session_start_info_plugin_data(
        cb[hparams_metadata.SESSION_START_INFO_TAG]
    )
    # tensorboardX writes the bool as bool_value; PyTorch (and we) as a number (test above).
    del sb.hparams["nesterov"]
    assert sa.hparams["nesterov"].number_value == 1.0
    del sa.hparams["nesterov"]
    assert dict(sa.hparams) == dict(sb.hparams)
    assert "skip" not in sa.hparams
    ea = hparams_metadata.parse_experiment_plugin_data(ca[hparams_metadata.EXPERIMENT_TAG])
    eb = hparams_metadata.parse_experiment_plugin_data(cb[hparams_metadata.EXPERIMENT_TAG])
    kinds = [(i.name, i.type) for i in ea.hparam_infos if i.name != "nesterov"]
    assert kinds == [(i.name, i.type) for i in eb.hparam_infos if i.name != "nesterov"]
    assert [m.name.tag for m in ea.metric_infos] == list(metrics)
    opt = next(i for i in ea.hparam_infos if i.name == "opt")
    assert [v.string_value for v in opt.domain_discrete.values] == ["adam", "sgd"]
    end = hparams_metadata.parse_session_end_info_plugin_data(
        ca[hparams_metadata.SESSION_END_INFO_TAG]
    )
    assert end.status == 1
    for tag, value in metrics.items():
        assert [e.value for e in a.Scalars(tag)] == [np.float32(value)]
    # and tuiboard reads the sub-run as an hparams session
    run = tuiboard.open(ours).run("hp")
    assert run is not None and run.hparams["opt"] == "adam" and run.hparams["lr"] == 0.01


def test_flush_queue_purge_step_and_default_dir(tmp_path: Path, monkeypatch: Any) -> None:
    w = tuiboard.SummaryWriter(str(tmp_path / "q"), max_queue=3, purge_step=5)
    w.add_scalar("a", 1.0, 5)
    w.add_scalar("a", 2.0, 6)
    assert accumulate(tmp_path / "q").Tags()["scalars"] == []  # queued
    w.add_scalar("a", 3.0, 7)  # the third: the queue is written
    assert [e.value for e in accumulate(tmp_path / "q").Scalars("a")] == [1.0, 2.0, 3.0]
    w.add_scalar("a", 4.0, 8)
    w.flush()
    assert len(accumulate(tmp_path / "q").Scalars("a")) == 4
    w.close()
    w.close()
    with pytest.raises(RuntimeError):
        w.add_scalar("a", 5.0, 9)
    from tests.core.test_writer import raw_events

    (path,) = list((tmp_path / "q").iterdir())
    events = list(raw_events(str(path)))
    assert events[0].file_version == "brain.Event:2"
    assert events[1].session_log.status == 1 and events[1].step == 5
    monkeypatch.chdir(tmp_path)
    with tuiboard.SummaryWriter(comment="_x") as d:
        assert d.get_logdir().startswith("runs" + os.sep) and d.get_logdir().endswith("_x")
