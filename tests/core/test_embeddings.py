"""Embeddings as tensorboardX's add_embedding writes them, read by tuiboard.core.embeddings and
compared with what TensorBoard's projector plugin serves (its HTTP routes on a multiplexer) and
reads (`_read_tensor_tsv_file`, `_read_tensor_binary_file`), point by point; PCA against numpy's
SVD, nearest neighbours against brute force."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tensorboard.plugins.projector import projector_plugin
from tensorboardX import SummaryWriter

from tests.reference import Projector
from tuiboard.core import embeddings, projection
from tuiboard.core.embedding_metadata import js_number, parse_metadata
from tuiboard.core.embeddings import load
from tuiboard.core.projection import Neighbours, pca, search
from tuiboard.core.projector import read_projector
from tuiboard.core.types import EmbeddingInfo

TRICKY = np.array(
    [0.0, -0.0, 1e-45, -1.4e-45, 3.4028234e38, 1e-300, 1e300, 0.1, 1 / 3, -2.5e-7, 123456789.0],
)


def infos(run: Path) -> list[EmbeddingInfo]:
    found, warnings = read_projector(str(run / "projector_config.pbtxt"))
    assert warnings == []
    return found


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e300
def test_tensors_are_what_tensorboard_serves(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    run = tmp_path / "run"
    wide = rng.normal(size=(40, 12))  # float64: its repr has 17 digits
    wide[0, : TRICKY.size] = TRICKY
    wide[1, :3] = [np.nan, np.inf, -np.inf]
    narrow = rng.normal(size=(25, 5)).astype(np.float32)
    with SummaryWriter(str(run)) as w:
        w.add_embedding(wide, metadata=[f"w{i}" for i in range(40)], tag="wide", global_step=1)
        w.add_embedding(narrow, tag="narrow", global_step=2)
    reference = Projector(tmp_path)
    for info, dims in zip(infos(run), (12, 5), strict=True):
        loaded = load(info)
        assert loaded.warnings == ()
        assert loaded.tensor is not None and loaded.tensor.dtype == np.float32
        served = reference.tensor("run", info.tensor_name, dims)
        read = projector_plugin._read_tensor_tsv_file(info.tensor_path)
        assert served.shape == read.shape == loaded.tensor.shape
        assert np.array_equal(loaded.tensor.view(np.uint32), served.view(np.uint32))  # bit for bit
        assert np.array_equal(loaded.tensor, read, equal_nan=True)
        assert not loaded.tensor.flags.writeable


@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_tsv_forms_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Blank lines, CRLF, no final newline, Python-only number forms (1_0), a line cut across
    blocks: each as TensorBoard's reader reads it."""
    monkeypatch.setattr(embeddings, "CHUNK", chunk)
    text = "\n1.5\t-2\r\n\n1_0\t.5\n3e-2\t+7\n\n  4 \t5.\n-inf\tnan\n6\t7"
    path = tmp_path / "t.tsv"
    path.write_bytes(text.encode())
    want = projector_plugin._read_tensor_tsv_file(str(path))
    loaded = load(EmbeddingInfo("t", str(path), "", ()))
    assert loaded.warnings == ()
    assert loaded.tensor is not None
    assert np.array_equal(loaded.tensor, want, equal_nan=True)


def test_bad_tensor_files_name_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "CHUNK", 8)
    path = tmp_path / "t.tsv"
    for text, line, words in (
        ("1\t2\n3\t4\n5\tx7\n", 3, "not a number: 'x7'"),
        ("1\t2\n\n3\t4\t5\n", 3, "3 fields where the first line has 2"),
        ("1\t2\n3\n", 2, "1 fields"),
    ):
        path.write_text(text)
        with pytest.raises(ValueError):  # TensorBoard fails on each as well
            np.asarray(projector_plugin._read_tensor_tsv_file(str(path)), dtype=np.float32)
        loaded = load(EmbeddingInfo("t", str(path), "", ()))
        assert loaded.tensor is None
        (warning,) = loaded.warnings
        assert warning.line == line and words in warning.message


def test_binary_tensor_file_as_tensorboard_reads_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(30, 7)).astype(np.float32)
    data.tofile(tmp_path / "vectors.bin")
    (tmp_path / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "b" tensor_path: "vectors.bin" tensor_shape: [30, 7] }'
    )
    (info,) = infos(tmp_path)
    loaded = load(info)
    want = projector_plugin._read_tensor_binary_file(info.tensor_path, [30, 7])
    assert loaded.tensor is not None and np.array_equal(loaded.tensor, want)


def test_a_tensor_too_large_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("1\t2\t3\n" * 100 + "not\ta\tnumber\n")  # a parse would complain
    info = EmbeddingInfo("t", str(path), "", (101, 3))
    loaded = load(info, limit=1000)
    assert loaded.tensor is None
    (warning,) = loaded.warnings
    assert warning.message.startswith("101 x 3 float32 = 1.2 KB: more than the 1.0 KB")
    assert "not read" in warning.message
    # Shape unknown (too large to count when the config was read): estimated from the first line.
    loaded = load(EmbeddingInfo("t", str(path), "", ()), limit=1000)
    (warning,) = loaded.warnings
    assert warning.message.startswith("about 102 x 3 float32")  # 613 bytes / 6 a line
    # The default limit: half of what the machine has available.
    free = embeddings.available_memory()
    assert free is not None and free > 0
    assert embeddings.memory_limit() == int(free * embeddings.MEMORY_SHARE)
    monkeypatch.setattr(embeddings, "available_memory", lambda: 2000)
    assert load(info).tensor is None
    monkeypatch.setattr(embeddings, "available_memory", lambda: 10**9)
    assert "not a number" in load(info).warnings[0].message  # allowed: read (and found bad)


# -- metadata -------------------------------------------------------------------------------------


def test_metadata_as_tensorboard_serves_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    words = [[f"w{i}", ["a", "b", "c"][i % 3], i * 0.5] for i in range(60)]
    with SummaryWriter(str(run)) as w:
        w.add_embedding(np.eye(60), metadata=words, metadata_header=["word", "kind", "x"], tag="h")
        w.add_embedding(np.eye(4), metadata=["1", "0", "1", "2"], tag="single", global_step=1)
    reference = Projector(tmp_path)
    with_header, single = infos(run)
    meta = load(with_header).metadata
    assert meta is not None and meta.header
    served = reference.metadata("run", with_header.tensor_name).splitlines()
    assert [c.name for c in meta.columns] == served[0].split("\t")
    assert meta.rows == len(served) - 1 == 60
    for k, col in enumerate(meta.columns):
        assert list(col.values) == [line.split("\t")[k] for line in served[1:]]
    word, kind, x = meta.columns
    assert (word.numeric, word.too_many, word.colourable) == (False, True, False)
    assert (kind.numeric, kind.too_many, kind.categories) == (False, False, ("a", "b", "c"))
    assert (x.numeric, x.too_many, x.lo, x.hi) == (True, True, 0.0, 29.5)
    assert np.array_equal(kind.codes, np.arange(60) % 3)
    assert meta.label_column() == 0
    one = load(single).metadata
    assert one is not None and not one.header and one.rows == 4
    (label,) = one.columns
    assert label.name == "label" and label.numeric
    # JavaScript's Object.keys order: integer-like keys ascending.
    assert label.categories == ("0", "1", "2") and list(label.codes) == [1, 0, 1, 2]
    assert one.label_column() == 0  # every column numeric: the first


def test_metadata_rules_of_the_frontend() -> None:
    text = "\n\nname\tscore\tnote\r\nb\t 12 \t\nz\t0x1f\tx\n\n10\t1e3\ta\tignored\n2\tInfinity\n"
    meta = parse_metadata(text)
    assert meta.header and meta.rows == 4
    name, score, note = meta.columns
    assert name.values == ("b", "z", "10", "2")
    assert name.categories == ("2", "10", "b", "z")  # "2" < "10" as numbers, then first seen
    assert score.numeric and list(score.numbers) == [12.0, 31.0, 1000.0, np.inf]
    assert note.values == (None, "x", "a", None)  # empty and absent fields are missing
    assert list(note.codes) == [-1, 0, 1, -1]
    assert [js_number(s) for s in ("", " ", "-.5e1", "inf", "nan", "1_0", "0b11", "1e")] == [
        0.0, 0.0, -5.0, None, None, None, 3.0, None,
    ]  # fmt: skip
    assert parse_metadata("one\ntwo\n").columns[0].name == "label"


def test_row_count_mismatch_keeps_the_rows_both_have(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("1\t2\n3\t4\n5\t6\n")
    (tmp_path / "m.tsv").write_text("label\na\nb\nc\n")  # a header row on a single column
    info = EmbeddingInfo("t", str(tmp_path / "t.tsv"), str(tmp_path / "m.tsv"), (3, 2), 4)
    loaded = load(info)
    assert loaded.metadata is not None and loaded.metadata.rows == 4
    (warning,) = loaded.warnings
    assert "Number of tensors (3) do not match the number of lines in metadata (4)" in (
        warning.message
    )
    assert "single column metadata should not have a header row" in warning.message


# -- sprites --------------------------------------------------------------------------------------


def test_sprite_cells_are_the_images_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    images = rng.random((10, 3, 6, 6))
    run = tmp_path / "run"
    with SummaryWriter(str(run)) as w:
        w.add_embedding(rng.normal(size=(10, 3)), label_img=images, tag="s")
    (info,) = infos(run)
    assert info.sprite_dim == (6, 6)
    loaded = load(info)
    assert loaded.sprite == Projector(tmp_path).sprite("run", info.tensor_name)
    sheet = np.asarray(Image.open(io.BytesIO(loaded.sprite)).convert("RGB"))
    for i in range(10):
        cell = embeddings.sprite_cell(sheet, info.sprite_dim, i)
        want = np.uint8((images[i].transpose(1, 2, 0) * 255).clip(0, 255))
        assert cell is not None and np.array_equal(cell, want)
    # tensorboardX pads the sheet to a square: 4 per row, 3 rows; no 17th cell.
    assert embeddings.sprite_cell(sheet, info.sprite_dim, 12) is not None
    assert embeddings.sprite_cell(sheet, info.sprite_dim, 16) is None


def test_sprite_without_dims_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("1\t2\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "s.png")
    info = EmbeddingInfo(
        "t", str(tmp_path / "t.tsv"), "", (1, 2), sprite_path=str(tmp_path / "s.png")
    )
    loaded = load(info)
    assert loaded.sprite is None and "single_image_dim" in loaded.warnings[0].message


# -- PCA ------------------------------------------------------------------------------------------


def reference_pca(
    x: np.ndarray, spherize: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(components (d, k), variance fractions, coordinates) from numpy's SVD."""
    y = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    if spherize:
        norms = np.linalg.norm(y, axis=1, keepdims=True)
        y = np.divide(y, norms, out=np.zeros_like(y), where=norms > 0)
    _, s, vt = np.linalg.svd(y, full_matrices=False)
    return vt.T, s**2 / (s**2).sum(), y @ vt.T


def structured(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = 10.0 * 0.7 ** np.arange(d)  # a clear spectrum: components are well defined
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return ((rng.normal(size=(n, d)) * scales) @ basis.T + 5.0).astype(np.float32)


@pytest.mark.parametrize(
    ("n", "d", "spherize"),
    [(400, 20, False), (400, 120, False), (400, 120, True), (60, 3000, False), (50, 2, False)],
    ids=["eigh", "iteration", "spherized", "matrix-free", "two-dims"],
)
def test_pca_matches_numpy_svd(n: int, d: int, spherize: bool) -> None:
    x = structured(n, d, seed=d)
    result = pca(x, 3, spherize=spherize)
    k = min(3, d)
    comps, fractions, coords = reference_pca(x, spherize)
    assert result.spherized is spherize
    assert np.allclose(result.variance, fractions[:k], rtol=1e-6, atol=1e-9)
    for j in range(k):
        sign = np.sign(comps[:, j] @ result.components[:, j])  # SVD's sign is arbitrary
        assert np.allclose(result.components[:, j], sign * comps[:, j], atol=1e-6)
        assert np.allclose(result.coords[:, j], sign * coords[:, j], rtol=1e-4, atol=1e-4)
        # our own sign rule: the largest entry is positive
        assert result.components[np.argmax(np.abs(result.components[:, j])), j] > 0


def test_pca_falls_back_to_eigh_when_iteration_does_not_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = structured(300, 100, seed=3)
    calls: list[int] = []
    real = np.linalg.eigh

    def counting(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(a.shape[0])
        return real(a)

    monkeypatch.setattr(projection.np.linalg, "eigh", counting)
    fast = pca(x, 3)
    assert 100 not in calls  # converged without the full eigh
    original = projection._top_eigen

    def stubborn(*args: object, **kw: object) -> object:
        return original(*args, **{**kw, "iterations": 1})  # type: ignore[arg-type]

    monkeypatch.setattr(projection, "_top_eigen", stubborn)
    slow = pca(x, 3)
    assert 100 in calls
    assert np.allclose(fast.components, slow.components, atol=1e-6)


def test_rows_holding_nan_or_inf_are_left_out() -> None:
    x = structured(200, 12, seed=5)
    bad = x.copy()
    bad[3, 4] = np.nan
    bad[150, 0] = np.inf
    result = pca(bad, 3, spherize=True)
    keep = np.setdiff1d(np.arange(200), [3, 150])
    comps, fractions, coords = reference_pca(bad[keep], spherize=True)
    assert result.left_out == 2 and np.isnan(result.coords[[3, 150]]).all()
    assert np.allclose(result.variance, fractions[:3], rtol=1e-6)
    signs = np.sign((comps[:, :3] * result.components).sum(axis=0))
    assert np.allclose(result.coords[keep], coords[:, :3] * signs, atol=1e-4)
    rows, dist = Neighbours(bad).query(0, 199)
    assert 3 not in rows[:197] and 150 not in rows[:197] and np.isinf(dist[-2:]).all()
    assert pca(x, 3).left_out == 0


def test_pca_of_degenerate_data() -> None:
    same = np.ones((5, 4), dtype=np.float32)
    result = pca(same, 3)
    assert np.all(result.variance == 0) and np.all(result.coords == 0)
    one = pca(np.arange(4, dtype=np.float32).reshape(1, 4), 3)
    assert one.coords.shape == (1, 3)


# -- neighbours and search ------------------------------------------------------------------------


def test_neighbours_match_brute_force() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 24)).astype(np.float32)
    x[7] = 0.0  # a zero vector: cosine distance 1 to everything
    x[8] = x[9] * 3  # same direction: cosine distance 0
    x[10] = x[11]  # a duplicate: euclidean 0, tie broken by row order with 11's own
    index = Neighbours(x)
    x64 = x.astype(np.float64)
    norms = np.linalg.norm(x64, axis=1)
    for i in (0, 7, 8, 10, 299):
        for metric in ("cosine", "euclidean"):
            rows, dist = index.query(i, 12, metric)
            if metric == "cosine":
                denom = norms * norms[i]
                cos = np.divide(x64 @ x64[i], denom, out=np.zeros(300), where=denom > 0)
                want = 1 - np.clip(cos, -1, 1)
            else:
                want = np.linalg.norm(x64 - x64[i], axis=1)
            want[i] = np.inf
            order = np.lexsort((np.arange(300), want))[:12]
            assert list(rows) == list(order), (i, metric)
            assert np.allclose(dist, want[order], atol=1e-12)
    assert list(index.query(8, 1, "cosine")[0]) == [9]
    assert index.query(10, 1, "euclidean")[1][0] == 0.0
    assert index.query(0, 1000)[0].shape == (299,)


def test_search_is_a_case_insensitive_regex() -> None:
    values = ("Cat", "dog", None, "category", "a.b", "axb")
    assert list(search(values, "^cat")) == [0, 3]
    assert list(search(values, "a.b")) == [4, 5]
    assert list(search(values, "(")) == []  # not a regex: searched literally
    assert list(search(["x(1", "y"], "x(")) == [0]


def test_memory_of_a_load_stays_under_twice_the_tensor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and projecting allocate blocks, never a second copy of the tensor (blocks of
    64 KB of text here, so that they are small beside the 1 MB tensor)."""
    import tracemalloc

    monkeypatch.setattr(embeddings, "CHUNK", 1 << 16)
    monkeypatch.setattr(projection, "BLOCK_ROWS", 256)
    x = structured(4000, 64, seed=9)
    path = tmp_path / "t.tsv"
    with open(path, "w") as fh:
        for row in x:
            fh.write("\t".join(repr(float(v)) for v in row) + "\n")
    info = EmbeddingInfo("t", str(path), "", (4000, 64))
    tracemalloc.start()
    try:
        loaded = load(info)
        assert loaded.tensor is not None
        pca(loaded.tensor, 3, spherize=True)
        Neighbours(loaded.tensor).query(0, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * x.nbytes, peak
    assert os.path.getsize(path) > 4 * x.nbytes  # the text itself was never held whole
