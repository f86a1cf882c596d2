"""read_events against TensorBoard's own readers, point by point, on files by real writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import metadata as hp_meta
from tensorboard.util import tensor_util

from tests.core import writers
from tuiboard.core import tfevents_fast, tfrecord
from tuiboard.core import types as t
from tuiboard.core.tfevents import read_events
from tuiboard.core.types import Parsed, TagMeta


def values_of(parsed: Parsed, kind: str, tag: str) -> list[t.ValueRecord]:
    return [rec for k, tg, _, rec in parsed.values if k == kind and tg == tag]


def assert_scalars_equal(parsed: Parsed, acc: object, tags: list[str]) -> None:
    for tag in tags:
        expected = acc.Scalars(tag)  # type: ignore[attr-defined]
        col = parsed.scalars[tag]
        assert col.step.tolist() == [e.step for e in expected], tag
        assert col.wall_time.tolist() == [e.wall_time for e in expected], tag
        assert col.value.astype(np.float64).tolist() == [e.value for e in expected], tag
        assert col.value.dtype == np.float32
        assert np.all(np.diff(col.seq) > 0)


@pytest.fixture(scope="module")
def tbx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tbx")
    writers.write_tbx_all(d)
    return d


@pytest.fixture(scope="module")
def tf2_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return writers.write_tf2(tmp_path_factory.mktemp("tf2"))


def test_tensorboardx_every_file_reads_whole(tbx_dir: Path) -> None:
    files = writers.event_files(tbx_dir)
    assert len(files) == 4  # main run, two add_scalars children, the hparams sub-run
    for path in files:
        res = writers.read_whole(path)
        assert res.consumed == path.stat().st_size
        assert res.need == 0 and not res.fatal and not res.parsed.warnings
        assert res.parsed.file_version == "brain.Event:2"
        assert res.parsed.records == len(writers.tb_events(path))


def test_tensorboardx_scalars_match_event_accumulator(tbx_dir: Path) -> None:
    for path in writers.event_files(tbx_dir):
        acc = writers.accumulator(path)
        parsed = writers.read_whole(path).parsed
        tags = acc.Tags()["scalars"]
        assert sorted(parsed.scalars) == sorted(tags)
        assert_scalars_equal(parsed, acc, tags)
    main = writers.read_whole(main_file(tbx_dir)).parsed
    assert "ünï_cödé/with_spaces//x/" in main.scalars  # tensorboardX's cleaned tag, as written


def main_file(tbx_dir: Path) -> Path:
    return next(p for p in writers.event_files(tbx_dir) if p.parent == tbx_dir)


def test_tensorboardx_histograms_images_audio(tbx_dir: Path) -> None:
    path = main_file(tbx_dir)
    acc = writers.accumulator(path)
    parsed = writers.read_whole(path).parsed
    hists = values_of(parsed, t.HISTOGRAMS, "weights")
    expected = acc.Histograms("weights")
    assert len(hists) == len(expected) == 3
    for got, exp in zip(hists, expected, strict=True):
        hv = exp.histogram_value
        assert isinstance(got, t.HistogramValue)
        assert (got.step, got.wall_time) == (exp.step, exp.wall_time)
        assert got.right.tolist() == list(hv.bucket_limit)
        assert got.counts.tolist() == list(hv.bucket)
        assert got.left.tolist() == [hv.min, *list(hv.bucket_limit)[:-1]]
        assert (got.count, got.min, got.max, got.sum, got.sum_squares) == (
            hv.num,
            hv.min,
            hv.max,
            hv.sum,
            hv.sum_squares,
        )
    images = values_of(parsed, t.IMAGES, "sample")
    expected_images = acc.Images("sample")
    assert len(images) == len(expected_images) == 3
    for got, exp in zip(images, expected_images, strict=True):
        assert isinstance(got, t.ImageValue)
        assert (got.step, got.wall_time, got.width, got.height) == (
            exp.step,
            exp.wall_time,
            exp.width,
            exp.height,
        )
        assert got.images == (exp.encoded_image_string,)
        assert got.content_type == "image/png"
    clips = values_of(parsed, t.AUDIO, "sound")
    expected_audio = acc.Audio("sound")
    assert len(clips) == len(expected_audio) == 3
    for got, exp in zip(clips, expected_audio, strict=True):
        assert isinstance(got, t.AudioValue)
        assert got.clips == (exp.encoded_audio_string,)
        assert (got.sample_rate, got.length_frames, got.content_type) == (
            exp.sample_rate,
            exp.length_frames,
            exp.content_type,
        )
        assert got.num_channels == 1


def tensor_events(acc: object, tag: str) -> list[tuple[int, float, np.ndarray]]:
    return [
        (e.step, e.wall_time, tensor_util.make_ndarray(e.tensor_proto))
        for e in acc.Tensors(tag)  # type: ignore[attr-defined]
    ]


def test_tensorboardx_text_pr_mesh_custom_scalars(tbx_dir: Path) -> None:
    path = main_file(tbx_dir)
    acc = writers.accumulator(path)
    parsed = writers.read_whole(path).parsed
    texts = values_of(parsed, t.TEXT, "notes/text_summary")
    expected = tensor_events(acc, "notes/text_summary")
    assert len(texts) == len(expected) == 3
    for got, (step, wall, arr) in zip(texts, expected, strict=True):
        assert isinstance(got, t.TextValue)
        assert (got.step, got.wall_time, got.shape) == (step, wall, arr.shape)
        assert got.cells == tuple(c.decode() for c in arr.reshape(-1))
    curves = values_of(parsed, t.PR_CURVES, "pr")
    expected = tensor_events(acc, "pr")
    assert len(curves) == len(expected) == 3
    for got, (step, wall, arr) in zip(curves, expected, strict=True):
        assert isinstance(got, t.PrCurveValue)
        assert (got.step, got.wall_time, got.num_thresholds) == (step, wall, 11)
        rows = [got.tp, got.fp, got.tn, got.fn, got.precision, got.recall]
        assert np.array_equal(np.stack(rows), arr.astype(np.float64))
    assert parsed.metadata["pr"].plugin == "pr_curves"
    meshes = [(tg, rec) for k, tg, _, rec in parsed.values if k == t.MESH]
    assert {tg for tg, _ in meshes} == set(acc.Tags()["tensors"]) & {tg for tg, _ in meshes}
    assert len(meshes) == 9
    for tag, rec in meshes:
        assert isinstance(rec, t.MeshValue)
        exp = next(a for s, _, a in tensor_events(acc, tag) if s == rec.step)
        assert np.array_equal(rec.data, exp) and rec.shape == exp.shape
        assert rec.component in ("vertices", "faces", "colors")
    assert {rec.component for _, rec in meshes} == {"vertices", "faces", "colors"}
    layouts = values_of(parsed, t.CUSTOM_SCALARS, "custom_scalars__config__")
    expected = acc.Tensors("custom_scalars__config__")
    assert len(layouts) == 1
    assert isinstance(layouts[0], t.TensorValue)
    assert layouts[0].data == expected[0].tensor_proto.string_val[0]


def test_tensorboardx_hparams_match_plugin_parsers(tbx_dir: Path) -> None:
    path = tbx_dir / "hp" / writers.only_file(tbx_dir / "hp").name
    parsed = writers.read_whole(path).parsed
    hp = {rec.kind: rec for k, _, _, rec in parsed.values if k == t.HPARAMS}
    assert set(hp) == {"experiment", "session_start", "session_end"}
    contents = {
        v.tag: v.metadata.plugin_data.content
        for ev in writers.tb_events(path)
        for v in ev.summary.value
        if v.metadata.plugin_data.plugin_name == "hparams"
    }
    start = hp_meta.parse_session_start_info_plugin_data(contents["_hparams_/session_start_info"])
    expected = {}
    for name, value in start.hparams.items():
        which = value.WhichOneof("kind")
        expected[name] = getattr(value, which)
    assert (
        hp["session_start"].hparams
        == expected
        == {
            "lr": 0.1,
            "bsize": 32.0,
            "opt": "adam",
            "flag": True,
        }
    )
    exp = hp_meta.parse_experiment_plugin_data(contents["_hparams_/experiment"])
    assert hp["experiment"].metrics == tuple(m.name.tag for m in exp.metric_infos)
    assert hp["experiment"].extra["hparam_infos"] == [h.name for h in exp.hparam_infos]
    end = hp_meta.parse_session_end_info_plugin_data(contents["_hparams_/session_end_info"])
    assert hp["session_end"].status == end.status
    assert parsed.scalars["hp/acc"].value.tolist() == [pytest.approx(0.9)]


def test_tf2_scalars_of_every_dtype(tf2_file: Path) -> None:
    acc = writers.accumulator(tf2_file)
    parsed = writers.read_whole(tf2_file).parsed
    tags = acc.Tags()["tensors"]
    scalar_tags = [
        "tf2/f32_pb",
        "tf2/f64",
        "tf2/i64",
        "tf2/i32",
        "typed/float_val",
        "typed/double_val",
        "typed/int64_val",
        "typed/int_val",
        "bare/f32",
    ]
    assert sorted(parsed.scalars) == sorted(scalar_tags)
    for tag in scalar_tags:
        assert tag in tags
        expected = tensor_events(acc, tag)
        col = parsed.scalars[tag]
        assert col.step.tolist() == [s for s, _, _ in expected]
        assert col.wall_time.tolist() == [w for _, w, _ in expected]
        assert col.value.tolist() == [float(a) for _, _, a in expected], tag
        is_f32 = expected[0][2].dtype == np.float32
        assert col.value.dtype == (np.float32 if is_f32 else np.float64), tag
    assert parsed.scalars["tf2/i64"].value.tolist()[-1] == -(11**5)


def test_tf2_tensor_kinds(tf2_file: Path) -> None:
    acc = writers.accumulator(tf2_file)
    parsed = writers.read_whole(tf2_file).parsed
    assert not parsed.warnings
    for got, (step, wall, arr) in zip(
        values_of(parsed, t.HISTOGRAMS, "tf2/hist"), tensor_events(acc, "tf2/hist"), strict=True
    ):
        assert isinstance(got, t.HistogramValue)
        assert (got.step, got.wall_time) == (step, wall)
        assert np.array_equal(np.stack([got.left, got.right, got.counts], 1), arr)
        assert got.count == arr[:, 2].sum() and got.sum is None
    images = values_of(parsed, t.IMAGES, "tf2/image")
    expected = tensor_events(acc, "tf2/image")
    assert len(images) == len(expected) == 3
    for got, (step, _, arr) in zip(images, expected, strict=True):
        assert isinstance(got, t.ImageValue)
        assert (got.step, got.width, got.height) == (step, int(arr[0]), int(arr[1]))
        assert got.images == tuple(arr[2:]) and got.content_type == "image/png"
    for got, (_, _, arr) in zip(
        values_of(parsed, t.AUDIO, "tf2/audio"), tensor_events(acc, "tf2/audio"), strict=True
    ):
        assert isinstance(got, t.AudioValue)
        assert got.clips == tuple(arr[:, 0]) and got.labels == ("label one", "two")
        assert (got.sample_rate, got.num_channels, got.length_frames) == (16000.0, 1, 400)
    for tag in ("tf2/text", "tf2/text0"):
        for got, (_, _, arr) in zip(
            values_of(parsed, t.TEXT, tag), tensor_events(acc, tag), strict=True
        ):
            assert isinstance(got, t.TextValue)
            assert got.shape == arr.shape
            assert got.cells == tuple(c.decode() for c in arr.reshape(-1))
    assert values_of(parsed, t.TEXT, "tf2/text")[0].cells == ("a", "b", "c", "dé")
    for got, (_, _, arr) in zip(
        values_of(parsed, t.PR_CURVES, "tf2/pr"), tensor_events(acc, "tf2/pr"), strict=True
    ):
        assert isinstance(got, t.PrCurveValue)
        assert got.num_thresholds == 7
        assert np.array_equal(
            np.stack([got.tp, got.fp, got.tn, got.fn, got.precision, got.recall]),
            arr.astype(np.float64),
        )
    other = values_of(parsed, "my_plugin", "other/plugin")
    assert len(other) == 3
    assert isinstance(other[0], t.TensorValue)
    assert other[0].dtype == "int16" and other[0].shape == (2, 3)
    assert np.array_equal(other[0].data, tensor_events(acc, "other/plugin")[0][2])
    assert parsed.metadata["other/plugin"] == TagMeta("my_plugin", content=b"cfg", data_class=0)


def test_tf2_hparams_sessions_graph(tf2_file: Path) -> None:
    parsed = writers.read_whole(tf2_file).parsed
    events = writers.tb_events(tf2_file)
    hp = {rec.kind: rec for k, _, _, rec in parsed.values if k == t.HPARAMS}
    assert hp["session_start"].hparams == {"lr": 0.01, "opt": "a", "deep": True, "layers": 4.0}
    contents = {
        v.tag: v.metadata.plugin_data.content
        for e in events
        for v in e.summary.value
        if v.metadata.plugin_data.plugin_name == "hparams"
    }
    start = hp_meta.parse_session_start_info_plugin_data(contents["_hparams_/session_start_info"])
    assert hp["session_start"].hparams == {
        k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()
    }
    assert hp["session_start"].extra["start_time_secs"] == start.start_time_secs
    assert hp["session_start"].extra["group_name"] == "t1"
    assert hp["experiment"].metrics == ("val/acc",)
    assert hp["experiment"].extra["hparam_infos"] == ["lr", "opt"]
    assert hp["session_end"].status == 1
    assert hp["session_end"].extra["end_time_secs"] == 1.7e9 + 30
    marks = [(m.status, m.step, m.wall_time, m.checkpoint_path) for m in parsed.sessions]
    expected = [
        (e.session_log.status, e.step, e.wall_time, e.session_log.checkpoint_path)
        for e in events
        if e.HasField("session_log")
    ]
    assert marks == expected and [m[0] for m in marks] == [1, 2, 3]
    seqs = [m.seq for m in parsed.sessions]
    assert all(0 <= s < parsed.records for s in seqs) and seqs == sorted(seqs)
    graphs = values_of(parsed, t.GRAPH, "graph_def")
    assert len(graphs) == 1 and isinstance(graphs[0], t.GraphValue)
    assert graphs[0].node_count == 4
    assert graphs[0].data == next(e.graph_def for e in events if e.graph_def)


def test_value_seqs_are_in_file_order(tf2_file: Path) -> None:
    parsed = writers.read_whole(tf2_file).parsed
    seqs = [s for _, _, s, _ in parsed.values]
    assert seqs == sorted(seqs)


def fast_share(data: bytes) -> float:
    """The share of records read by the template fast path."""
    buf = np.frombuffer(data, dtype=np.uint8)
    framing = tfrecord.frame_records(data, buf)
    batch = tfevents_fast.decode_batch(data, buf, framing)
    return sum(len(f.seq) for f in batch.fast) / len(framing.starts)


def write_many_scalars(path: Path, tags: list[str], steps: int, irregular: bool = False) -> None:
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(path), flush_secs=3600, max_queue=10_000)
    rng = np.random.default_rng(5)
    for step in range(steps):
        for tag in tags:
            if irregular and rng.random() < 0.4:
                continue  # tags logged at random steps: no period for the fast path to follow
            w.add_scalar(tag, float(rng.standard_normal()), step, walltime=1.7e9 + step * 0.1)
        if step % 100 == 0:
            w.add_histogram("h", rng.standard_normal(50), step)
    w.close()


@pytest.mark.parametrize(
    ("tags", "irregular"),
    [
        ([f"train/metric_{i:02d}" for i in range(16)], False),  # equal lengths: periodic groups
        ([f"train/metric_{i:02d}" for i in range(16)], True),  # equal lengths, no period
        (["loss", "a/b/accuracy", "lr", "grad norm", "x" * 120, "ü/" * 30], False),
    ],
)
def test_fast_path_matches_event_accumulator(
    tmp_path: Path, tags: list[str], irregular: bool
) -> None:
    write_many_scalars(tmp_path, tags, 300, irregular)  # steps cross the 1->2 byte varint
    path = writers.only_file(tmp_path)
    acc = writers.accumulator(path)
    parsed = writers.read_whole(path).parsed
    assert sorted(parsed.scalars) == sorted(acc.Tags()["scalars"])
    assert_scalars_equal(parsed, acc, list(parsed.scalars))
    assert len(values_of(parsed, t.HISTOGRAMS, "h")) == 3
    assert fast_share(path.read_bytes()) > 0.95


def test_tf2_tensor_scalars_fast_path_and_remembered_metadata(tmp_path: Path) -> None:
    from tensorboard.plugins.scalar import summary_v2 as scalar
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path))
    for step in range(200):
        ev = event_pb2.Event(step=step, wall_time=1.7e9 + step)
        ev.summary.value.extend(scalar.scalar_pb("pb/f32", np.float32(step / 8)).value)
        first = step == 0
        v = writers._tensor_value("raw/f64", np.float64(step / 3), "scalars" if first else "")
        ev.summary.value.append(v)
        w.add_event(ev)
        ev2 = event_pb2.Event(step=step, wall_time=1.7e9 + step)
        # a rank-0 float of a plugin that is not scalars: not a scalar series
        ev2.summary.value.append(
            writers._tensor_value("custom/thing", np.float32(step), "thing" if first else "")
        )
        ev2.summary.value.add(tag="also", simple_value=step / 2)  # shares the record
        w.add_event(ev2)
    w.close()
    path = writers.only_file(tmp_path)
    acc = writers.accumulator(path)
    data = path.read_bytes()
    assert fast_share(data) > 0.95
    tags: dict[str, TagMeta] = {}
    cut = len(data) // 2
    first = read_events(data[:cut], 0, "f", tags, at_eof=False)
    second = read_events(data[first.consumed :], first.consumed, "f", tags)
    assert set(first.parsed.metadata) == {"pb/f32", "raw/f64", "custom/thing"}
    assert second.parsed.metadata == {}
    assert tags["custom/thing"].plugin == "thing"
    for tag in ("pb/f32", "raw/f64"):
        expected = tensor_events(acc, tag)
        got = np.concatenate([r.parsed.scalars[tag].value for r in (first, second)])
        steps = np.concatenate([r.parsed.scalars[tag].step for r in (first, second)])
        assert steps.tolist() == [s for s, _, _ in expected]
        assert got.tolist() == [float(a) for _, _, a in expected]
    things = [rec for r in (first, second) for rec in values_of(r.parsed, "thing", "custom/thing")]
    assert [rec.step for rec in things] == list(range(200))
    assert all(isinstance(r, t.TensorValue) and r.shape == () for r in things)
    assert [float(r.data) for r in things] == [float(i) for i in range(200)]
    also = np.concatenate([r.parsed.scalars["also"].value for r in (first, second)])
    assert also.tolist() == [i / 2 for i in range(200)]
    assert (
        "custom/thing" not in first.parsed.scalars and "custom/thing" not in second.parsed.scalars
    )


def test_payloadless_value_and_bad_payloads_never_raise() -> None:
    video = event_pb2.Event(step=3, wall_time=1.0)
    video.summary.value.add(tag="video")  # add_video without moviepy: a tag, no payload
    broken_tensor = event_pb2.Event(step=4, wall_time=1.0)
    v = broken_tensor.summary.value.add(tag="bad")
    v.tensor.dtype = 1
    v.tensor.tensor_shape.dim.add(size=1_000_000_000)  # shape far larger than its one value
    v.tensor.tensor_content = b"\x00\x00\x80?"
    v.metadata.plugin_data.plugin_name = "histograms"
    data = (
        writers.frame(video.SerializeToString())
        + writers.frame(b"\xff\xff\xff")  # not an Event at all
        + writers.frame(broken_tensor.SerializeToString())
        + writers.frame(writers.scalar_event("ok", 5, 0.25))
    )
    res = read_events(data, 10, "f", {})
    assert res.consumed == len(data) and not res.fatal
    assert res.parsed.scalars["ok"].step.tolist() == [5]
    assert not res.parsed.values
    offsets = [w.offset for w in res.parsed.warnings]
    second = 10 + len(writers.frame(video.SerializeToString()))
    assert offsets[0] == second and len(offsets) == 2


def test_old_style_value_without_plugin_and_summary_metadata() -> None:
    ev = event_pb2.Event(step=1, wall_time=2.0)
    v = ev.summary.value.add(tag="disp", simple_value=1.5)
    v.metadata.display_name = "Display"
    v.metadata.summary_description = "desc"
    tags: dict[str, TagMeta] = {}
    res = read_events(writers.frame(ev.SerializeToString()), 0, "f", tags)
    assert res.parsed.scalars["disp"].value.tolist() == [1.5]
    assert tags["disp"] == TagMeta("", "Display", "desc")
    assert isinstance(summary_pb2.Summary, type)


def test_memoryview_and_bytearray_read_like_bytes(tf2_file: Path) -> None:
    data = tf2_file.read_bytes()
    ref = read_events(data, 0, "f", {})
    for form in (memoryview(data), bytearray(data), memoryview(bytearray(data))[0:]):
        res = read_events(form, 0, "f", {})
        assert (res.consumed, res.need, res.fatal) == (ref.consumed, ref.need, ref.fatal)
        assert res.parsed.records == ref.parsed.records
        assert {k: c.value.tolist() for k, c in res.parsed.scalars.items()} == {
            k: c.value.tolist() for k, c in ref.parsed.scalars.items()
        }
        assert [(k, tg, s) for k, tg, s, _ in res.parsed.values] == [
            (k, tg, s) for k, tg, s, _ in ref.parsed.values
        ]


def test_meta_graph_and_tagged_run_metadata_node_counts() -> None:
    from tensorboard.compat.proto import config_pb2, graph_pb2, meta_graph_pb2

    def graph(nodes: int) -> graph_pb2.GraphDef:
        g = graph_pb2.GraphDef()
        for i in range(nodes):
            g.node.add(name=f"n{i}", op="Add")
        return g

    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(graph(3))
    run = config_pb2.RunMetadata()
    run.partition_graphs.add().CopyFrom(graph(2))
    run.partition_graphs.add().CopyFrom(graph(5))
    ev1 = event_pb2.Event(step=1, wall_time=3.0, meta_graph_def=meta.SerializeToString())
    ev2 = event_pb2.Event(step=2, wall_time=4.0)
    ev2.tagged_run_metadata.tag = "step2 trace"
    ev2.tagged_run_metadata.run_metadata = run.SerializeToString()
    data = writers.frame(ev1.SerializeToString()) + writers.frame(ev2.SerializeToString())
    parsed = read_events(data, 0, "f", {}).parsed
    got = [(k, tg, rec.node_count, rec.source, rec.step) for k, tg, _, rec in parsed.values]
    assert got == [
        (t.GRAPH, "meta_graph_def", 3, "meta_graph_def", 1),
        (t.GRAPH, "step2 trace", 7, "tagged_run_metadata", 2),
    ]
    assert parsed.values[1][3].data == run.SerializeToString()


def test_torch_new_style_scalars_without_shape(tmp_path: Path) -> None:
    """torch's add_scalar(new_style=True): float_val, no tensor_shape, metadata every time."""
    from tensorboard.compat.proto import tensor_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path))
    for step in range(300):
        ev = event_pb2.Event(step=step, wall_time=1.7e9 + step)
        v = ev.summary.value.add(tag="loss")
        v.tensor.CopyFrom(tensor_pb2.TensorProto(dtype=1, float_val=[step / 16]))
        v.metadata.plugin_data.plugin_name = "scalars"
        w.add_event(ev)
    w.close()
    path = writers.only_file(tmp_path)
    assert fast_share(path.read_bytes()) > 0.95
    parsed = writers.read_whole(path).parsed
    expected = tensor_events(writers.accumulator(path), "loss")
    assert parsed.scalars["loss"].value.dtype == np.float32
    assert parsed.scalars["loss"].value.tolist() == [float(a) for _, _, a in expected]
    assert parsed.scalars["loss"].step.tolist() == [s for s, _, _ in expected]
