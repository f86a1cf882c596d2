"""`save_media`: the stored image and audio bytes written as files, compared with TensorBoard's
reader, and hostile run names and tags that must never write outside the target directory.

Owns: the tests of export.save_media / safe_component. Must not import: textual.

Writers: tensorboardX's SummaryWriter (add_image; audio as add_audio writes it, through
tests/core/writers.add_audio_proto, since add_audio needs soundfile) and tensorboard's
EventFileWriter with raw protos for tags tensorboardX would rename (it replaces characters such
as "." runs and control characters and strips a leading "/"). Reference: EventAccumulator.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tuiboard
from tests.core.writers import add_audio_proto
from tests.reference import accumulate
from tuiboard.export import safe_component, safe_relpath, save_media

T0 = 1_700_000_000.0


def png(value: int, size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), value, dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def files_under(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def write_raw_images(run_dir: Path, tags_steps: list[tuple[str, int, bytes]]) -> None:
    """Image summaries through tensorboard's EventFileWriter: tags exactly as given."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(run_dir))
    for tag, step, data in tags_steps:
        img = summary_pb2.Summary.Image(height=3, width=4, colorspace=3, encoded_image_string=data)
        ev = event_pb2.Event(step=step, wall_time=T0 + step)
        ev.summary.value.add(tag=tag, image=img)
        w.add_event(ev)
    w.close()


def test_bytes_and_layout_equal_tensorboards(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    logs = tmp_path / "logs"
    rng = np.random.default_rng(0)
    for run in ("train", "train/eval"):
        w = SummaryWriter(str(logs / run), flush_secs=3600)
        for step in (0, 10):
            w.add_image("img/x", rng.random((3, 5, 7)).astype(np.float32), step, walltime=T0)
            add_audio_proto(w, "sound", np.sin(np.arange(300) / (step + 3.0)) * 0.5, step, 8000)
        w.add_image("other", (rng.random((6, 6, 3)) * 255).astype(np.uint8), 2, dataformats="HWC")
        w.close()
    logdir = tuiboard.open(str(logs))
    out = tmp_path / "out"
    assert save_media(logdir, str(out), "images") == 6
    got = files_under(out)
    assert sorted(got) == [
        "train/eval/img/x/0_0.png",
        "train/eval/img/x/10_0.png",
        "train/eval/other/2_0.png",
        "train/img/x/0_0.png",
        "train/img/x/10_0.png",
        "train/other/2_0.png",
    ]
    for run in ("train", "train/eval"):
        acc = accumulate(logs / run)
        for tag in ("img/x", "other"):
            for e in acc.Images(tag):
                assert got[f"{run}/{tag}/{e.step}_0.png"] == e.encoded_image_string
    audio = tmp_path / "audio"
    assert save_media(logdir, str(audio), "audio", runs_query="eval") == 2
    got = files_under(audio)
    assert sorted(got) == ["train/eval/sound/0_0.wav", "train/eval/sound/10_0.wav"]
    for e in accumulate(logs / "train" / "eval").Audio("sound"):
        assert got[f"train/eval/sound/{e.step}_0.wav"] == e.encoded_audio_string
    assert save_media(logdir, str(tmp_path / "none"), "images", tags_re="^nothing$") == 0
    assert not (tmp_path / "none").exists()
    with pytest.raises(ValueError):
        save_media(logdir, str(tmp_path / "bad"), "scalars")


def test_tensor_form_samples_and_formats(tmp_path: Path) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.image import metadata as image_meta
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    jpeg, gif = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (4, 3), (1, 2, 3)).save(jpeg, "JPEG")
    Image.new("RGB", (4, 3), (1, 2, 3)).save(gif, "GIF")
    blobs = [png(9), jpeg.getvalue(), gif.getvalue(), b"not an image"]
    w = EventFileWriter(str(tmp_path / "logs" / "tf2"))
    v = summary_pb2.Summary.Value(tag="samples")
    v.tensor.CopyFrom(tensor_util.make_tensor_proto(np.array([b"4", b"3", *blobs], dtype=object)))
    v.metadata.plugin_data.plugin_name = "images"
    v.metadata.plugin_data.content = image_meta.create_summary_metadata("", "").plugin_data.content
    ev = event_pb2.Event(step=7, wall_time=T0)
    ev.summary.value.append(v)
    w.add_event(ev)
    w.close()
    out = tmp_path / "out"
    assert save_media(tuiboard.open(str(tmp_path / "logs")), str(out), "images") == 4
    ref = accumulate(tmp_path / "logs" / "tf2").Tensors("samples")[0]
    cells = tensor_util.make_ndarray(ref.tensor_proto).tolist()
    got = files_under(out)
    names = ["7_0.png", "7_1.jpg", "7_2.gif", "7_3.bin"]
    assert sorted(got) == [f"tf2/samples/{n}" for n in names]
    for i, name in enumerate(names):
        assert got[f"tf2/samples/{name}"] == cells[2 + i] == blobs[i]


def test_hostile_names_stay_inside(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    hostile = [
        "../../etc/x",
        "/abs",
        "a\x1b[31m",
        "..",
        ".",
        "",
        "a//b/",
        "..\\..\\win",
        "\u202egpj.exe",
        "x" * 400,
        "nul\x00byte",
    ]
    write_raw_images(logs / "run\x1b]0;t\x07", [(t, 3, png(i)) for i, t in enumerate(hostile)])
    logdir = tuiboard.open(str(logs))
    [run] = logdir.runs
    assert sorted(run.tags("images")) == sorted(hostile)
    out = tmp_path / "out" / "media"
    assert save_media(logdir, str(out), "images") == len(hostile)
    assert sorted(os.listdir(tmp_path)) == ["logs", "out"]
    assert os.listdir(tmp_path / "out") == ["media"]
    got = files_under(out)
    assert len(got) == len(hostile)
    root = os.path.realpath(out)
    for rel in got:
        full = os.path.realpath(out / rel)
        assert os.path.commonpath([root, full]) == root
        for part in rel.split("/"):
            assert part not in ("", ".", "..")
            assert part.isprintable() and "\\" not in part
            assert len(part.encode()) <= 200
    assert sorted(got.values()) == sorted(png(i) for i in range(len(hostile)))
    by_name = dict(zip(hostile, (png(i) for i in range(len(hostile))), strict=True))
    assert got["run_]0;t_/_../_../etc/x/3_0.png"] == by_name["../../etc/x"]
    assert got["run_]0;t_/_/abs/3_0.png"] == by_name["/abs"]
    assert got["run_]0;t_/a_[31m/3_0.png"] == by_name["a\x1b[31m"]
    assert got["run_]0;t_/a/_/b/_/3_0.png"] == by_name["a//b/"]


def test_safe_component() -> None:
    assert safe_component("..") == "_.."
    assert safe_component(".") == "_."
    assert safe_component("") == "_"
    assert safe_component("ok name é") == "ok name é"
    assert safe_component("a\x1b[0m\x9b\x7f") == "a_[0m__"
    long_a, long_b = safe_component("é" * 300), safe_component("é" * 301)
    assert long_a != long_b and len(long_a.encode()) <= 200
    assert safe_relpath("/abs/../x") == ["_", "abs", "_..", "x"]


def test_colliding_directories_and_raw_duplicates(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_raw_images(logs / "a", [("b/c", 1, png(1))])
    write_raw_images(logs / "a" / "b", [("c", 1, png(2))])
    # A restart: step 5 written twice. The clean line keeps the second; --raw keeps both.
    write_raw_images(logs / "r", [("t", 5, png(3)), ("t", 6, png(4)), ("t", 5, png(5))])
    logdir = tuiboard.open(str(logs))
    out = tmp_path / "out"
    assert save_media(logdir, str(out), "images") == 3
    got = files_under(out)
    assert got == {
        "a/b/c/1_0.png": png(1),
        "a/b/c~2/1_0.png": png(2),
        "r/t/5_0.png": png(5),
    }
    raw = tmp_path / "raw"
    assert save_media(logdir, str(raw), "images", runs_query="^r$", raw=True) == 3
    assert files_under(raw) == {
        "r/t/5_0.png": png(3),
        "r/t/6_0.png": png(4),
        "r/t/5_0-1.png": png(5),
    }
