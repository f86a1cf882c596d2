"""`tuiboard plot --kind K` and `tuiboard export --kind images --save DIR` through the real
command line, on the tutorial-like logdir tensorboardX wrote (tests/ui/conftest.py), with the
expected values from TensorBoard's own reader."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import Projector, accumulate
from tests.ui.conftest import (
    CS_RUNS,
    MEDIA_STEPS,
    write_custom_scalars_runs,
    write_embedding_runs,
    write_media_runs,
)
from tuiboard.cli import main


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    write_media_runs(root)
    return root


def plot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plot", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("kind", ["images", "text", "pr_curves", "hparams"])
def test_plot_each_kind_piped_has_no_escape(
    media: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    code, out, _ = plot(capsys, str(media), "--kind", kind, "--width", "80")
    assert code == 0 and out.strip()
    assert "\x1b" not in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_plot_text_step_picks_the_value_at_or_before(
    media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, latest, _ = plot(capsys, str(media), "--kind", "text", "--runs", "^cnn$")
    assert "Epoch 2 of cnn" in latest and "[red]literal[/red]" in latest
    _, earlier, _ = plot(
        capsys, str(media), "--kind", "text", "--runs", "^cnn$", "--step", str(MEDIA_STEPS[1] + 5)
    )
    assert "Epoch 1 of cnn" in earlier and "Epoch 2" not in earlier


def test_plot_images_luminance_when_piped_and_colour_when_asked(
    media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plain, _ = plot(capsys, str(media), "--kind", "images", "--runs", "^cnn$", "--width", "60")
    assert any(ch in plain for ch in "░▒▓█") and "samples/input" in plain
    _, coloured, _ = plot(
        capsys, str(media), "--kind", "images", "--runs", "^cnn$", "--width", "60", "--color"
    )
    assert "▀" in coloured and "\x1b[38;5;" in coloured  # 256 colours unless COLORTERM says 24-bit


def test_plot_hparams_json_matches_tensorboard(
    media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = plot(capsys, str(media), "--kind", "hparams", "--json")
    assert code == 0
    rows = {r["run"]: r for r in map(json.loads, out.splitlines())}
    assert set(rows) == {"cnn/hp", "mlp/hp"}
    for run in rows:
        acc = accumulate(media / run)
        from tensorboard.plugins.hparams import plugin_data_pb2

        content = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        for name, value in start.hparams.items():
            kind = value.WhichOneof("kind")
            expected = getattr(value, kind)
            assert rows[run]["hparams"][name] == expected
        metric = acc.Scalars("hparam/accuracy")[-1].value
        assert rows[run]["metrics"]["hparam/accuracy"] == pytest.approx(metric)


def test_plot_unknown_kind_and_nothing_matched(
    media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(["plot", str(media), "--kind", "nope"])
    assert e.value.code == 2
    code, _, err = plot(capsys, str(media), "--kind", "images", "--tags", "^nothing$")
    assert code == 1 and "no images data matched" in err


def test_export_save_writes_exact_bytes_and_refuses_the_logdir(
    media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "saved"
    assert main(["export", str(media), "--kind", "images", "--save", str(out)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("run,tag,step") and len(rows) == 1 + 2 * len(MEDIA_STEPS)
    for run in ("cnn", "mlp"):
        events = accumulate(media / run).Images("samples/input")
        for ev in events:
            path = out / run / "samples" / "input" / f"{ev.step}_0.png"
            assert path.read_bytes() == ev.encoded_image_string
    code = main(["export", str(media), "--kind", "images", "--save", str(media / "cnn" / "x")])
    assert code == 2 and "refusing" in capsys.readouterr().err
    assert not (media / "cnn" / "x").exists()


def test_installed_command_plots_pr_curves(media: Path) -> None:
    """The real process: `python -m tuiboard plot --kind pr_curves`, piped."""
    done = subprocess.run(
        [sys.executable, "-m", "tuiboard", "plot", "--logdir", str(media), "--kind", "pr_curves"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pr/cat" in done.stdout and "precision" in done.stdout and "\x1b" not in done.stdout


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("custom")
    write_custom_scalars_runs(root)
    return root


@pytest.fixture(scope="module")
def projector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("projector")
    write_embedding_runs(root)
    return root


def braille_dots(lines: list[str]) -> set[tuple[int, int]]:
    bits = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3))
    out = set()
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            code = ord(ch) - 0x2800
            if 0 < code < 256:
                out |= {
                    (2 * c + dx, 4 * r + dy) for k, (dx, dy) in enumerate(bits) if code >> k & 1
                }
    return out


def test_plot_embeddings_prints_the_pca_coloured_by_metadata(
    projector: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    from tuiboard.render.embeddings import bounds_of, fit_dots

    code, out, _ = plot(
        capsys, str(projector), "--kind", "embeddings", "--runs", "^words$", "--height", "20"
    )
    assert code == 0 and "\x1b" not in out
    lines = out.splitlines()
    assert all(len(line) == 100 for line in lines)  # the default width when piped
    assert lines[0].startswith("emb:00000  ■ words  60 × 16")
    # TensorBoard's tensor; numpy's SVD of it centred (16 dimensions: no spherize by default).
    tensor = Projector(projector).tensor("words", "emb:00000", 16).astype(np.float64)
    y = tensor - tensor.mean(axis=0)
    _, sv, vt = np.linalg.svd(y, full_matrices=False)
    fractions = sv**2 / (sv**2).sum()
    assert lines[1].split() == [
        "PCA", "centred", "PC1", f"{100 * fractions[0]:.1f}%", "PC2", f"{100 * fractions[1]:.1f}%",
        "(total", f"{100 * fractions[:2].sum():.1f}%)",
    ]  # fmt: skip
    assert lines[-2].startswith("colour class  ■ cat 20  ■ dog 20  ■ bird 20")
    assert "word: over 50 values, not numeric" in lines[-1]
    scatter = lines[2:-2]
    assert len(scatter) == 20 - 4
    signs = [np.sign(vt[j, np.argmax(np.abs(vt[j]))]) for j in range(2)]  # tuiboard's sign rule
    coords = (y @ vt.T[:, :2]) * signs
    want = np.rint(fit_dots(coords, 100, len(scatter), bounds_of(coords))).astype(int)
    assert braille_dots(scatter) == {(int(c), int(r)) for c, r in want}
    _, coloured, _ = plot(capsys, str(projector), "--kind", "embeddings", "--color")
    assert "\x1b[" in coloured and "small:00003" in coloured and "emb:00000" in coloured
    code, _, err = plot(capsys, str(projector), "--kind", "embeddings", "--tags", "^nothing$")
    assert code == 1 and "no embeddings data matched" in err


def test_plot_custom_scalars(custom: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plot(capsys, str(custom), "--kind", "custom_scalars", "--width", "100")
    assert code == 0 and "\x1b" not in out
    assert all(len(line) <= 100 for line in out.splitlines())
    blocks = out.strip().split("\n\n")
    assert [b.splitlines()[0].strip() for b in blocks] == [
        "Losses · all losses",
        "Losses · train only",
        "Losses · validation",
        "Accuracy · top1 with CI",
        "Schedule · lr",
    ]
    # The "validation" chart lists the tags `re.match` picks among TensorBoard's scalar tags.
    validation = blocks[2]
    names = [
        f"{tag} ({run})"
        for run in sorted(CS_RUNS)
        for tag in sorted(accumulate(custom / run).Tags()["scalars"])
        if re.match("val", tag) or re.match("loss/val", tag)
    ]
    assert f"Matches ({len(names)})" in validation
    assert all(name in validation for name in names)
    assert "⚠ invalid regex '(unclosed'" in blocks[1]
    assert "⚠ run baseline lacks acc/lower, acc/upper" in blocks[3]


def test_plot_custom_scalars_runs_tags_and_usage(
    custom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --runs picks the lines; the layout still comes from every run (baseline has none).
    code, out, _ = plot(
        capsys, str(custom), "--kind", "custom_scalars", "--runs", "^baseline$", "--tags", "^lr"
    )
    assert code == 0 and "Schedule · lr" in out and "lr (baseline)" in out
    assert "(adam)" not in out and "Losses" not in out
    code, _, err = plot(capsys, str(custom), "--kind", "custom_scalars", "--tags", "^nothing$")
    assert code == 1 and "no custom_scalars data matched" in err
    code, _, err = plot(capsys, str(custom), "--kind", "custom_scalars", "--smoothing", "1.5")
    assert code == 2 and "--smoothing" in err


def test_installed_command_plots_custom_scalars(custom: Path) -> None:
    """The real process: `python -m tuiboard plot --kind custom_scalars`, piped."""
    args = ["plot", "--logdir", str(custom), "--kind", "custom_scalars", "--tags", "top1"]
    done = subprocess.run(
        [sys.executable, "-m", "tuiboard", *args, "--x", "relative", "--height", "30"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Accuracy · top1 with CI" in done.stdout and "acc/mean (adam)" in done.stdout
    assert "⣿" in done.stdout  # the band (several cells tall at this height)
