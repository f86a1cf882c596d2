"""Event files written by real writers, and TensorBoard's own readings of them, for the tfevents
tests. Framing helpers here compute CRCs with google_crc32c directly (not tuiboard's crc module).

Owns: fixtures of test_tfrecord.py, test_tfevents.py, test_tfevents_fuzz.py.
Must not import textual or rich.
"""

from __future__ import annotations

import glob
import io
import os
import struct
import wave
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tests.reference import accumulate
from tuiboard.core.tfevents import EventsRead, read_events
from tuiboard.core.types import TagMeta


def masked_crc(data: bytes) -> int:
    c = google_crc32c.value(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """One TFRecord."""
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", masked_crc(header))
        + payload
        + struct.pack("<I", masked_crc(payload))
    )


def scalar_event(tag: str, step: int, value: float, wall: float = 1.7e9) -> bytes:
    ev = event_pb2.Event(wall_time=wall, step=step)
    ev.summary.value.add(tag=tag, simple_value=value)
    return ev.SerializeToString()


def event_files(directory: Path) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(directory / "**" / "*tfevents*"), recursive=True))


def only_file(directory: Path) -> Path:
    files = event_files(directory)
    assert len(files) == 1, files
    return files[0]


def read_whole(path: Path, tags: dict[str, TagMeta] | None = None) -> EventsRead:
    data = path.read_bytes()
    return read_events(data, 0, str(path), {} if tags is None else tags, at_eof=True)


def accumulator(path: Path) -> ea.EventAccumulator:
    """TensorBoard's Python reader with everything kept."""
    return accumulate(path)


def tb_events(path: Path) -> list[event_pb2.Event]:
    """The Event protos as TensorBoard's own loader reads them."""
    return list(event_file_loader.EventFileLoader(str(path)).Load())


# --- tensorboardX -------------------------------------------------------------------------------


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


def write_tbx_all(logdir: Path, steps: int = 30) -> None:
    """Every value kind tensorboardX writes (add_graph is torch-only: see graph_event)."""
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(7)
    w = SummaryWriter(str(logdir), flush_secs=3600)
    for step in range(steps):
        w.add_scalar("loss", float(rng.standard_normal()), step)
        w.add_scalar("ünï cödé/with spaces//x/", float(rng.standard_normal()), step)
        w.add_scalars("Loss/compare", {"train": step * 0.5, "val": step * 0.25}, step)
        if step % 10 == 0:
            w.add_histogram("weights", rng.standard_normal(500), step)
            img = (rng.random((3, 8, 12)) * 255).astype(np.uint8)
            w.add_image("sample", img, step)
            w.add_text("notes", f"step **{step}**", step)
            labels = rng.integers(0, 2, 64)
            w.add_pr_curve("pr", labels, rng.random(64), step, num_thresholds=11)
            add_audio_proto(w, "sound", np.sin(np.arange(800) / 10.0) * 0.5, step, 8000)
            verts = rng.random((1, 5, 3)).astype(np.float32)
            faces = np.array([[[0, 1, 2], [1, 2, 3]]], dtype=np.int32)
            colors = (rng.random((1, 5, 3)) * 255).astype(np.uint8)
            w.add_mesh("mesh", verts, colors=colors, faces=faces, global_step=step)
    w.add_embedding(rng.random((10, 4)), metadata=[str(i) for i in range(10)], global_step=0)
    w.add_hparams({"lr": 0.1, "bsize": 32, "opt": "adam", "flag": True}, {"hp/acc": 0.9}, name="hp")
    w.add_custom_scalars({"group": {"losses": ["Multiline", ["loss", "Loss/compare"]]}})
    w.close()


def add_audio_proto(writer: Any, tag: str, samples: np.ndarray, step: int, rate: int) -> None:
    """What add_audio writes (a Summary.Audio), built with tensorboardX's own protos: its
    add_audio needs the soundfile package, which is not installed here."""
    from tensorboardX.proto.summary_pb2 import Summary

    audio = Summary.Audio(
        sample_rate=rate,
        num_channels=1,
        length_frames=samples.shape[0],
        encoded_audio_string=wav_bytes(samples, rate),
        content_type="audio/wav",
    )
    writer.file_writer.add_summary(Summary(value=[Summary.Value(tag=tag, audio=audio)]), step)


# --- tensorboard's EventFileWriter with TF2-style tensor summaries ------------------------------


def _tensor_value(
    tag: str, array: Any, plugin: str, content: bytes = b"", dtype: Any = None
) -> summary_pb2.Summary.Value:
    from tensorboard.util import tensor_util

    v = summary_pb2.Summary.Value(tag=tag)
    v.tensor.CopyFrom(tensor_util.make_tensor_proto(array, dtype=dtype))
    if plugin:
        v.metadata.plugin_data.plugin_name = plugin
        v.metadata.plugin_data.content = content
    return v


def write_tf2(logdir: Path) -> Path:
    """TF2-form summaries through EventFileWriter; returns the file."""
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.plugins.audio import metadata as audio_meta
    from tensorboard.plugins.histogram import summary_v2 as hist
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.image import metadata as image_meta
    from tensorboard.plugins.pr_curve import metadata as pr_meta
    from tensorboard.plugins.scalar import summary_v2 as scalar
    from tensorboard.plugins.text import summary_v2 as text

    rng = np.random.default_rng(3)
    w = EventFileWriter(str(logdir))

    def put(step: int, *values: summary_pb2.Summary.Value, wall: float | None = None) -> None:
        ev = event_pb2.Event(step=step, wall_time=wall if wall is not None else 1.7e9 + step)
        ev.summary.value.extend(values)
        w.add_event(ev)

    start = event_pb2.Event(step=0, wall_time=1.7e9)
    start.session_log.status = event_pb2.SessionLog.START
    w.add_event(start)
    for step in range(12):
        # scalar_pb: float in tensor (float_val or content, as tensorboard writes it)
        put(step, *scalar.scalar_pb("tf2/f32_pb", np.float32(step * 0.125)).value)
        put(step, _tensor_value("tf2/f64", np.float64(step / 3.0), "scalars"))
        put(step, _tensor_value("tf2/i64", np.int64(-(step**5)), "scalars"))
        put(step, _tensor_value("tf2/i32", np.int32(step - 6), "scalars"))
        # typed fields instead of tensor_content
        for tag, dtype, field, val in (
            ("typed/float_val", types_pb2.DT_FLOAT, "float_val", step * 0.5),
            ("typed/double_val", types_pb2.DT_DOUBLE, "double_val", step / 7.0),
            ("typed/int64_val", types_pb2.DT_INT64, "int64_val", step * 1000),
            ("typed/int_val", types_pb2.DT_INT32, "int_val", -step),
        ):
            tp = tensor_pb2.TensorProto(
                dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto()
            )
            getattr(tp, field).append(val)
            v = summary_pb2.Summary.Value(tag=tag, tensor=tp)
            if step == 0:
                v.metadata.plugin_data.plugin_name = "scalars"
            put(step, v)
        # a rank-0 tensor with no metadata at all
        put(step, _tensor_value("bare/f32", np.float32(step + 0.5), ""))
        if step % 4 == 0:
            put(step, *hist.histogram_pb("tf2/hist", rng.standard_normal(100), buckets=5).value)
            png = b"\x89PNG\r\n\x1a\nfake-png-%d" % step
            put(
                step,
                _tensor_value(
                    "tf2/image",
                    np.array([b"12", b"8", png, png + b"2"], dtype=object),
                    "images",
                    image_meta.create_summary_metadata("", "").plugin_data.content,
                ),
            )
            wav = wav_bytes(np.sin(np.arange(400) / 5.0) * 0.3, 16000)
            put(
                step,
                _tensor_value(
                    "tf2/audio",
                    np.array([[wav, b"label one"], [wav, b"two"]], dtype=object),
                    "audio",
                    audio_meta.create_summary_metadata("", "", 1).plugin_data.content,
                ),
            )
            put(step, *text.text_pb("tf2/text", np.array([["a", "b"], ["c", "dé"]])).value)
            put(step, *text.text_pb("tf2/text0", "rank zero **md**").value)
            n = 7
            pr = rng.random((6, n)).astype(np.float32)
            put(
                step,
                _tensor_value(
                    "tf2/pr",
                    pr,
                    "pr_curves",
                    pr_meta.create_summary_metadata("", "", n).plugin_data.content,
                ),
            )
            put(
                step,
                _tensor_value(
                    "other/plugin", np.arange(6, dtype=np.int16).reshape(2, 3), "my_plugin", b"cfg"
                ),
            )
    put(
        5,
        *hp.hparams_config_pb(
            [
                hp.HParam("lr", hp.RealInterval(0.001, 0.1)),
                hp.HParam("opt", hp.Discrete(["a", "b"])),
            ],
            [hp.Metric("val/acc")],
        ).value,
    )
    put(
        5,
        *hp.hparams_pb(
            {"lr": 0.01, "opt": "a", "deep": True, "layers": 4},
            trial_id="t1",
            start_time_secs=1.7e9,
        ).value,
    )
    put(11, session_end_value())
    stop = event_pb2.Event(step=11, wall_time=1.7e9 + 20)
    stop.session_log.status = event_pb2.SessionLog.STOP
    w.add_event(stop)
    ckpt = event_pb2.Event(step=11, wall_time=1.7e9 + 21)
    ckpt.session_log.status = event_pb2.SessionLog.CHECKPOINT
    ckpt.session_log.checkpoint_path = "/ckpt/model-11"
    w.add_event(ckpt)
    w.add_event(graph_event(step=0))
    w.close()
    return only_file(logdir)


def graph_event(step: int = 0) -> event_pb2.Event:
    """A GraphDef event built by hand (tensorboardX's add_graph needs torch)."""
    from tensorboard.compat.proto import graph_pb2

    g = graph_pb2.GraphDef()
    for i in range(4):
        node = g.node.add(name=f"layer{i}", op="MatMul")
        if i:
            node.input.append(f"layer{i - 1}")
    return event_pb2.Event(step=step, wall_time=1.7e9, graph_def=g.SerializeToString())


def session_end_value() -> summary_pb2.Summary.Value:
    from tensorboard.plugins.hparams import metadata as hm
    from tensorboard.plugins.hparams import plugin_data_pb2

    end = plugin_data_pb2.SessionEndInfo(status=1, end_time_secs=1.7e9 + 30)
    content = plugin_data_pb2.HParamsPluginData(session_end_info=end, version=0)
    v = summary_pb2.Summary.Value(tag=hm.SESSION_END_INFO_TAG)
    v.metadata.CopyFrom(hm.create_summary_metadata(content))
    return v


def write_tb_layout(run_dir: Path, layouts: list[Any], step0: int = 0) -> None:
    """Layouts written as TensorBoard's custom_scalar summary op writes them: a string tensor
    under custom_scalars__config__ with plugin custom_scalars, through EventFileWriter."""
    from tensorboard.util import tensor_util

    w = EventFileWriter(str(run_dir))
    for i, layout in enumerate(layouts):
        v = summary_pb2.Summary.Value(tag="custom_scalars__config__")
        v.tensor.CopyFrom(tensor_util.make_tensor_proto(layout.SerializeToString()))
        v.metadata.plugin_data.plugin_name = "custom_scalars"
        ev = event_pb2.Event(step=step0 + i, wall_time=1.7e9 + i)
        ev.summary.value.append(v)
        w.add_event(ev)
    w.close()
