"""Projector configs written by tensorboardX's add_embedding (and by hand), read by
tuiboard.core.projector, compared with protobuf's own text-format parser on TensorBoard's
ProjectorConfig message and with TensorBoard's projector plugin's TSV reader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from tensorboard.plugins.projector import projector_plugin
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboardX import SummaryWriter

from tuiboard.core import projector
from tuiboard.core.projector import parse_text_format, read_projector


def reference(path: Path) -> ProjectorConfig:
    return text_format.Parse(path.read_text(), ProjectorConfig())


def tb_rows(path: str) -> int:
    return int(projector_plugin._read_tensor_tsv_file(path).shape[0])


def test_tensorboardx_add_embedding(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    run = tmp_path / "run"
    words = [f"word{i}" for i in range(100)]
    with SummaryWriter(str(run)) as writer:
        writer.add_embedding(
            rng.normal(size=(100, 5)),
            metadata=words,
            label_img=rng.random((100, 3, 8, 8)),
            global_step=1,
            tag="words",
        )
        writer.add_embedding(
            rng.normal(size=(20, 16)),
            metadata=[[f"w{i}", i % 3] for i in range(20)],
            metadata_header=["name", "class"],
            global_step=2,
            tag="with header",
        )
        writer.add_embedding(rng.normal(size=(7, 3)), global_step=3)
    config_path = run / "projector_config.pbtxt"
    infos, warnings = read_projector(str(config_path))
    assert warnings == []
    want = reference(config_path)
    assert len(infos) == len(want.embeddings) == 3
    real_run = os.path.realpath(run)
    for info, emb in zip(infos, want.embeddings, strict=True):
        assert info.tensor_name == emb.tensor_name
        assert info.tensor_path == os.path.join(real_run, emb.tensor_path)
        if emb.metadata_path:
            assert info.metadata_path == os.path.join(real_run, emb.metadata_path)
        else:
            assert info.metadata_path == ""
        if emb.sprite.image_path:
            assert info.sprite_path == os.path.join(real_run, emb.sprite.image_path)
            assert os.path.exists(info.sprite_path)
        else:
            assert info.sprite_path == ""
        tensor = projector_plugin._read_tensor_tsv_file(info.tensor_path)
        assert info.shape == tensor.shape
    assert [i.shape for i in infos] == [(100, 5), (20, 16), (7, 3)]
    # TensorBoard: a metadata file with a tab in its first line has a header row
    assert [i.metadata_rows for i in infos] == [100, 20, 0]
    assert infos[0].tensor_name == "words:00001"


def test_text_format_matches_protobuf(tmp_path: Path) -> None:
    text = """# a hand-written config
model_checkpoint_path: "model.ckpt-100"
embeddings {
  tensor_name: 'emb' "edding"   # adjacent strings concatenate
  tensor_path: "data/vec\\164ors.bin"
  tensor_shape: [4, 2]
  metadata_path: "data/meta.tsv"
  sprite <
    image_path: "data/sprite.png"
    single_image_dim: 28 single_image_dim: 28
  >
}
embeddings: { tensor_name: "second"; tensor_path: "t2.tsv" }
"""
    path = tmp_path / "projector_config.pbtxt"
    path.write_text(text)
    (tmp_path / "data").mkdir()
    np.arange(8, dtype=np.float32).tofile(tmp_path / "data" / "vectors.bin")
    (tmp_path / "data" / "meta.tsv").write_text("a\nb\nc\nd\n")
    (tmp_path / "t2.tsv").write_text("1\t2\t3\n\n4\t5\t6")  # blank line, no final newline
    want = reference(path)
    parsed = parse_text_format(text)
    assert parsed["model_checkpoint_path"] == [want.model_checkpoint_path.encode()]
    first = parsed["embeddings"][0]
    assert first["tensor_name"] == [want.embeddings[0].tensor_name.encode()]
    assert first["tensor_path"] == [want.embeddings[0].tensor_path.encode()]
    assert first["tensor_shape"] == list(want.embeddings[0].tensor_shape)
    assert first["sprite"][0]["single_image_dim"] == list(
        want.embeddings[0].sprite.single_image_dim
    )
    infos, warnings = read_projector(str(path))
    assert warnings == []
    assert [i.tensor_name for i in infos] == ["embedding", "second"]
    assert infos[0].shape == (4, 2)  # declared: a binary tensor file is not counted
    assert infos[0].metadata_rows == 4
    assert infos[1].shape == (tb_rows(str(tmp_path / "t2.tsv")), 3) == (2, 3)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1024 * 1024])
def test_tsv_counting_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(projector, "CHUNK", chunk)
    cases = {
        "plain.tsv": "1\t2\n3\t4\n5\t6\n",
        "blank_lines.tsv": "\n1\t2\n\n\n3\t4\n\n",
        "no_final_newline.tsv": "1\t2\n3\t4",
        "empty.tsv": "",
        "one.tsv": "7",
    }
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        warnings: list[object] = []
        counted = projector._count_tsv(str(tmp_path / name), warnings)  # type: ignore[arg-type]
        assert counted is not None and not warnings
        want = tb_rows(str(tmp_path / name)) if content else 0
        assert counted[0] == want, name


def test_damage_and_paths_outside(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    secret = tmp_path / "secret.tsv"
    secret.write_text("1\t2\n")
    path = run / "projector_config.pbtxt"
    path.write_text(
        'embeddings { tensor_name: "a" tensor_path: "../secret.tsv" }\n'
        'embeddings { tensor_name: "b" tensor_path: "missing.tsv" metadata_path: "/etc/hosts" }\n'
    )
    infos, warnings = read_projector(str(path))
    assert [(i.tensor_name, i.shape, i.tensor_path) for i in infos] == [
        ("a", (), ""),
        ("b", (), str(run / "missing.tsv")),
    ]
    assert infos[1].metadata_path == "" and infos[1].metadata_rows == 0
    messages = [w.message for w in warnings]
    assert sum("outside the config directory" in m for m in messages) == 2
    assert any(w.file == str(run / "missing.tsv") for w in warnings)
    path.write_text('embeddings { tensor_name: "a" tensor_path: "x.tsv"')  # cut short
    infos, warnings = read_projector(str(path))
    assert infos == [] and "not readable" in warnings[0].message
    path.write_text('embeddings { tensor_name: "a\\q" }')
    infos, warnings = read_projector(str(path))
    assert infos == [] and "escape" in warnings[0].message
    infos, warnings = read_projector(str(run / "absent.pbtxt"))
    assert infos == [] and "cannot read" in warnings[0].message
