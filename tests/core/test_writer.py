"""tuiboard.writer is checked by TensorBoard's own reader and protos, never by ours."""

from __future__ import annotations

import io
import json
import math
import os
import re
import wave

import numpy as np
import pytest
import yaml
from PIL import Image
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.util import tensor_util
from tensorboardX.record_writer import RecordWriter
from tensorboardX.summary import compute_curve

from tests.reference import accumulate
from tuiboard.writer import START, STOP, EventWriter, JsonlWriter, frame_record

T0 = 1_700_000_000.0


def raw_events(path: str) -> list[event_pb2.Event]:
    # EventFileLoader checks both CRCs of every record (its pure-Python reader raises on a bad one).
    return list(event_file_loader.LegacyEventFileLoader(path).Load())


def test_frame_record_matches_tensorboardx_framing(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "records")
    payloads = [b"", b"x", bytes(range(256)) * 7, "ünïcode".encode()]
    w = RecordWriter(path)
    for p in payloads:
        w.write(p)
    w.close()
    with open(path, "rb") as fh:
        assert fh.read() == b"".join(frame_record(p) for p in payloads)


def test_file_name_and_version_record(tmp_path: object) -> None:
    d = str(tmp_path)
    w = EventWriter(d, filename_suffix=".v2", start_time=T0)
    w.add_scalar("loss", 0.5, 1, wall_time=T0 + 1)
    w.close()
    (name,) = os.listdir(d)
    assert re.fullmatch(
        rf"events\.out\.tfevents\.{int(T0)}\.[^.]+(\.[^.]+)*\.{os.getpid()}\.\d+\.v2", name
    )
    events = raw_events(w.path)
    assert events[0].file_version == "brain.Event:2"
    assert events[0].wall_time == T0
    assert events[1] == event_pb2.Event(
        wall_time=T0 + 1,
        step=1,
        summary=summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="loss", simple_value=0.5)]
        ),
    )


def test_scalars_point_by_point(tmp_path: object) -> None:
    d = str(tmp_path)
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(size=300) * 1e3, [np.nan, np.inf, -np.inf, -0.0, 3e38]])
    steps = np.arange(values.size) * 7 + (1 << 40)  # multi-byte varints, int64 range
    with EventWriter(d, start_time=T0) as w:
        for i, (s, v) in enumerate(zip(steps, values, strict=True)):
            w.add_scalar("loss/train", v, int(s), wall_time=T0 + i * 0.25)
            w.add_scalar_tensor("tf2/acc", v, int(s), wall_time=T0 + i * 0.25)
        w.add_scalar("neg", 1.0, -5, wall_time=T0)
    acc = accumulate(d)
    got = acc.Scalars("loss/train")
    assert [e.step for e in got] == steps.tolist()
    assert [e.wall_time for e in got] == [T0 + i * 0.25 for i in range(values.size)]
    np.testing.assert_array_equal(
        np.array([e.value for e in got], np.float32), values.astype(np.float32)
    )
    assert [e.step for e in acc.Scalars("neg")] == [-5]

    tensors = acc.Tensors("tf2/acc")
    assert [e.step for e in tensors] == steps.tolist()
    arr = np.array([tensor_util.make_ndarray(e.tensor_proto) for e in tensors])
    assert arr.dtype == np.float32 and arr.shape == (values.size,)
    np.testing.assert_array_equal(arr, values.astype(np.float32))
    meta = acc.SummaryMetadata("tf2/acc")
    assert meta.plugin_data.plugin_name == "scalars"
    assert meta.data_class == summary_pb2.DATA_CLASS_SCALAR
    # Metadata rides on the first value of the tag only.
    with_meta = [
        v.HasField("metadata")
        for e in raw_events(w.path)
        for v in e.summary.value
        if v.tag == "tf2/acc"
    ]
    assert with_meta == [True] + [False] * (values.size - 1)


def test_histograms(tmp_path: object) -> None:
    d = str(tmp_path)
    rng = np.random.default_rng(2)
    samples = [rng.normal(loc=i, size=500 + i) for i in range(5)]
    with EventWriter(d) as w:
        for i, s in enumerate(samples):
            w.add_histogram("weights/w", s, i * 10, wall_time=T0 + i, bins=17)
    got = accumulate(d).Histograms("weights/w")
    assert [e.step for e in got] == [0, 10, 20, 30, 40]
    for e, s in zip(got, samples, strict=True):
        h = e.histogram_value
        counts, edges = np.histogram(s, bins=17)
        assert (h.min, h.max, h.num) == (s.min(), s.max(), s.size)
        assert h.sum == pytest.approx(s.sum(), rel=1e-12)
        assert h.sum_squares == pytest.approx((s * s).sum(), rel=1e-12)
        np.testing.assert_array_equal(h.bucket_limit, edges[1:])
        np.testing.assert_array_equal(h.bucket, counts)


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_image_png_decodes_with_pillow(tmp_path: object, channels: int | None) -> None:
    d = str(tmp_path)
    rng = np.random.default_rng(3)
    shape = (13, 21) if channels is None else (13, 21, channels)
    img = rng.integers(0, 256, size=shape, dtype=np.uint8)
    with EventWriter(d) as w:
        w.add_image("samples/img", img, 4, wall_time=T0)
    (e,) = accumulate(d).Images("samples/img")
    assert (e.step, e.height, e.width) == (4, 13, 21)
    decoded = np.asarray(Image.open(io.BytesIO(e.encoded_image_string)))
    np.testing.assert_array_equal(decoded, img.reshape(decoded.shape))
    assert decoded.size == img.size


def test_text_tensors(tmp_path: object) -> None:
    d = str(tmp_path)
    table = [["lr", "0.1"], ["optimizer", "sgd | ünï"]]
    with EventWriter(d) as w:
        w.add_text("notes", "# Hello\n*markdown* `x`", 1, wall_time=T0)
        w.add_text("notes", ["a", "b", "c"], 2, wall_time=T0 + 1)
        w.add_text("table", table, 3, wall_time=T0 + 2)
    acc = accumulate(d)
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"
    notes = acc.Tensors("notes")
    first = tensor_util.make_ndarray(notes[0].tensor_proto)
    assert first.shape == () and first.item() == b"# Hello\n*markdown* `x`"
    second = tensor_util.make_ndarray(notes[1].tensor_proto)
    assert second.tolist() == [b"a", b"b", b"c"]
    (t,) = acc.Tensors("table")
    arr = tensor_util.make_ndarray(t.tensor_proto)
    assert arr.shape == (2, 2)
    assert [[c.decode() for c in row] for row in arr] == table


def test_pr_curve_matches_tensorboardx(tmp_path: object) -> None:
    d = str(tmp_path)
    rng = np.random.default_rng(4)
    labels = rng.random(400) < 0.3
    predictions = np.clip(labels * 0.3 + rng.random(400) * 0.7, 0, 1)
    with EventWriter(d) as w:
        w.add_pr_curve("pr/cls0", labels, predictions, 9, wall_time=T0, num_thresholds=33)
    acc = accumulate(d)
    (t,) = acc.Tensors("pr/cls0")
    got = tensor_util.make_ndarray(t.tensor_proto)
    expected = compute_curve(labels.astype(np.float64), predictions, num_thresholds=33)
    assert got.shape == (6, 33) and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected.astype(np.float32))
    content = acc.PluginTagToContent("pr_curves")["pr/cls0"]
    assert pr_metadata.parse_plugin_metadata(content).num_thresholds == 33


def test_audio_wav_decodes_with_wave_module(tmp_path: object) -> None:
    d = str(tmp_path)
    t = np.arange(800) / 8000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.cos(2 * np.pi * 220 * t)], axis=1)
    with EventWriter(d) as w:
        w.add_audio("audio/tone", stereo, 2, wall_time=T0, sample_rate=8000)
    (e,) = accumulate(d).Audio("audio/tone")
    assert (e.step, e.sample_rate, e.length_frames, e.content_type) == (2, 8000, 800, "audio/wav")
    with wave.open(io.BytesIO(e.encoded_audio_string)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (2, 8000, 800)
        pcm = np.frombuffer(wav.readframes(800), "<i2").reshape(800, 2)
    np.testing.assert_allclose(pcm / 32767.0, stereo, atol=1 / 32767)


def test_hparams_and_session_logs(tmp_path: object) -> None:
    d = str(tmp_path)
    hp = {"lr": 0.1, "layers": 3, "optimizer": "adam", "nesterov": True}
    with EventWriter(d) as w:
        w.session_log(START, 0, wall_time=T0)
        w.add_hparams(hp, ["loss/val", "metrics/accuracy"], group_name="g", wall_time=T0)
        w.add_scalar("loss/val", 1.0, 5, wall_time=T0 + 5)
        w.end_hparams(1, wall_time=T0 + 9)
        w.session_log(STOP, 5, wall_time=T0 + 9, msg="done")
    acc = accumulate(d)
    content = acc.PluginTagToContent("hparams")
    assert set(content) == {
        hparams_metadata.EXPERIMENT_TAG,
        hparams_metadata.SESSION_START_INFO_TAG,
        hparams_metadata.SESSION_END_INFO_TAG,
    }
    start = hparams_metadata.parse_session_start_info_plugin_data(
        content[hparams_metadata.SESSION_START_INFO_TAG]
    )
    assert start.group_name == "g" and start.start_time_secs == T0
    got = {k: v.WhichOneof("kind") for k, v in start.hparams.items()}
    assert got == {
        "lr": "number_value",
        "layers": "number_value",
        "optimizer": "string_value",
        "nesterov": "bool_value",
    }
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["layers"].number_value == 3
    assert start.hparams["optimizer"].string_value == "adam"
    assert start.hparams["nesterov"].bool_value is True
    exp = hparams_metadata.parse_experiment_plugin_data(content[hparams_metadata.EXPERIMENT_TAG])
    assert [i.name for i in exp.hparam_infos] == list(hp)
    assert [m.name.tag for m in exp.metric_infos] == ["loss/val", "metrics/accuracy"]
    end = hparams_metadata.parse_session_end_info_plugin_data(
        content[hparams_metadata.SESSION_END_INFO_TAG]
    )
    assert (end.status, end.end_time_secs) == (1, T0 + 9)
    sessions = [e.session_log for e in raw_events(w.path) if e.HasField("session_log")]
    assert [(s.status, s.msg) for s in sessions] == [
        (event_pb2.SessionLog.START, ""),
        (event_pb2.SessionLog.STOP, "done"),
    ]


def test_append_continues_a_file(tmp_path: object) -> None:
    d = str(tmp_path)
    with EventWriter(d, start_time=T0) as w:
        w.add_scalar("x", 1.0, 1, wall_time=T0)
    with EventWriter(d, filename=os.path.basename(w.path), append=True) as w2:
        w2.add_scalar("x", 2.0, 2, wall_time=T0 + 1)
    assert len(os.listdir(d)) == 1
    events = raw_events(w.path)
    assert [e.file_version for e in events] == ["brain.Event:2", "", ""]
    assert [(e.step, e.value) for e in accumulate(d).Scalars("x")] == [(1, 1.0), (2, 2.0)]


def test_flush_makes_records_visible_before_close(tmp_path: object) -> None:
    d = str(tmp_path)
    w = EventWriter(d)
    w.add_scalar("x", 1.0, 1)
    assert len(raw_events(w.path)) == 1  # buffered: only the file_version record is on disk
    w.flush()
    assert len(raw_events(w.path)) == 2
    w.close()


def test_jsonl_lines_and_configs(tmp_path: object) -> None:
    d = str(tmp_path)
    with JsonlWriter(d) as w:
        w.log(0, {"loss": 1.5, "val": {"acc": 0.25}}, wall_time=T0)
        w.log(
            1,
            {"loss": math.nan, "grad": math.inf, "hist": [1, 2, 3], "note": "é"},
            wall_time=T0 + 1,
        )
        w.log(2, {"loss": np.float32(0.5), "count": np.int64(7)}, wall_time=T0 + 2)
    with open(w.path, encoding="utf-8") as fh:
        text = fh.read()
    assert text.endswith("\n") and text.count("\n") == 3
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0] == {"step": 0, "wall_time": T0, "loss": 1.5, "val": {"acc": 0.25}}
    assert math.isnan(lines[1]["loss"]) and lines[1]["grad"] == math.inf
    assert lines[1]["hist"] == [1, 2, 3] and lines[1]["note"] == "é"
    assert lines[2] == {"step": 2, "wall_time": T0 + 2, "loss": 0.5, "count": 7}

    config = {
        "model": {"name": "resnet50", "depth": 50, "dropout": 1e-05, "tiny": 3e-310},
        "optim": {"lr": 0.1, "betas": [0.9, 0.999], "nesterov": False, "clip": None},
        "yes": "no",
        "weird key: x": "#not a comment",
        "nan": math.nan,
        "inf": -math.inf,
        "empty": {},
        "multi": "line\none",
    }
    for name in ("hparams.yaml", "config.yaml"):
        with open(w.write_config(config, name), encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh)
        assert math.isnan(loaded.pop("nan"))
        expected = {k: v for k, v in config.items() if k != "nan"}
        assert loaded == expected
    with open(w.write_config(config), encoding="utf-8") as fh:
        loaded = json.load(fh)
    assert math.isnan(loaded.pop("nan"))
    assert loaded == {k: v for k, v in config.items() if k != "nan"}


def test_jsonl_detectron2_style_keys(tmp_path: object) -> None:
    d = str(tmp_path)
    with JsonlWriter(d, "metrics.json", step_key="iteration", time_key=None) as w:
        w.log(19, {"total_loss": 2.0, "time": 0.31})
    with open(os.path.join(d, "metrics.json"), encoding="utf-8") as fh:
        assert json.loads(fh.readline()) == {"iteration": 19, "total_loss": 2.0, "time": 0.31}
