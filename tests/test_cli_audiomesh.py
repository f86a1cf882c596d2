"""`tuiboard plot --kind audio|mesh` and `tuiboard export --kind audio --save DIR` through the real
command line, on what tensorboardX and TensorBoard's protos wrote (tests/audiomesh.py), with the
expected values from TensorBoard's own reader (EventAccumulator.Audio / Tensors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.audiomesh import AM_RUNS, AM_STEPS, TF2_LABELS, write_audiomesh_runs
from tests.reference import accumulate
from tuiboard.cli import main
from tuiboard.core.mesh import MeshFrame
from tuiboard.render.mesh import Camera, mesh_block
from tuiboard.render.theme import default_theme


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("am")
    write_audiomesh_runs(root)
    return root


def plot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plot", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def blocks_of(out: str) -> dict[str, list[str]]:
    """Printed blocks by their head line."""
    return {b.split("\n")[0].rstrip(): b.split("\n")[1:] for b in out.rstrip("\n").split("\n\n")}


@pytest.mark.parametrize("kind", ["audio", "mesh"])
def test_plot_piped_has_no_escape_and_keeps_the_width(
    am: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    code, out, _ = plot(capsys, str(am), "--kind", kind, "--width", "70", "--height", "8")
    assert code == 0 and out.strip()
    assert "\x1b" not in out
    assert all(len(line) == 70 for line in out.splitlines() if line)
    _, coloured, _ = plot(capsys, str(am), "--kind", kind, "--width", "70", "--color")
    assert "\x1b[38;5;" in coloured


def test_plot_audio_shows_each_clip_at_the_step_asked(
    am: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = plot(capsys, str(am), "--kind", "audio", "--width", "80")
    heads = list(blocks_of(out))
    assert heads == [
        f"sound/tone · cnn · step {AM_STEPS[-1]} · clip 1/1",
        f"sound/tone · mlp · step {AM_STEPS[-1]} · clip 1/1",
        f"voice · tf2 · step {AM_STEPS[-1]} · clip 1/2",
        f"voice · tf2 · step {AM_STEPS[-1]} · clip 2/2",
    ]
    blocks = blocks_of(out)
    for run in AM_RUNS:
        event = accumulate(am / run).Audio("sound/tone")[-1]
        facts = blocks[f"sound/tone · {run} · step {AM_STEPS[-1]} · clip 1/1"][0]
        seconds = event.length_frames / event.sample_rate
        assert facts.startswith(f"{seconds:.2f} s · {event.sample_rate:g} Hz · mono · 16-bit")
    assert blocks[f"voice · tf2 · step {AM_STEPS[-1]} · clip 2/2"][1].rstrip() == TF2_LABELS[1]
    _, earlier, _ = plot(capsys, str(am), "--kind", "audio", "--runs", "^cnn$", "--step", "15")
    assert list(blocks_of(earlier)) == [f"sound/tone · cnn · step {AM_STEPS[1]} · clip 1/1"]
    code, _, err = plot(capsys, str(am), "--kind", "audio", "--tags", "^nothing$")
    assert code == 1 and "no audio data matched" in err


def test_plot_mesh_draws_tensorboards_arrays(am: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each mesh block is the renderer's drawing of the arrays TensorBoard's reader returns."""
    from tensorboard.util import tensor_util

    width, height = 90, 14
    _, out, _ = plot(
        capsys, str(am), "--kind", "mesh", "--width", str(width), "--height", str(height)
    )
    blocks = blocks_of(out)
    assert list(blocks) == [
        f"shape/cube · cnn · step {AM_STEPS[-1]} · sample 1/1 · 8 vertices · 12 faces · colours",
        f"shape/cube · mlp · step {AM_STEPS[-1]} · sample 1/1 · 8 vertices · 12 faces · colours",
        f"cloud · tf2 · step {AM_STEPS[-1]} · sample 1/2 · 300 vertices · point cloud · colours",
        f"cloud · tf2 · step {AM_STEPS[-1]} · sample 2/2 · 300 vertices · point cloud · colours",
        f"tetra · tf2 · step {AM_STEPS[-1]} · sample 1/1 · 4 vertices · 4 faces",
    ]

    def arrays(run: str, tags: tuple[str, ...]) -> list[np.ndarray | None]:
        acc = accumulate(am / run)
        have = set(acc.Tags()["tensors"])
        return [
            tensor_util.make_ndarray(acc.Tensors(t)[-1].tensor_proto) if t in have else None
            for t in tags
        ]

    theme = default_theme(color=False)
    cases = [
        ("cnn", "shape/cube", ("shape/cube_1", "shape/cube_2", "shape/cube_3"), 0),
        ("tf2", "cloud", ("cloud_VERTEX", "cloud_FACE", "cloud_COLOR"), 1),
        ("tf2", "tetra", ("tetra_VERTEX", "tetra_FACE", "tetra_COLOR"), 0),
    ]
    for run, name, tags, sample in cases:
        v, f, c = arrays(run, tags)
        assert v is not None
        frame = MeshFrame(AM_STEPS[-1], 0.0, v, f, c)
        drawn = mesh_block(frame, sample, Camera(), width, height, "", theme).plain.split("\n")
        head = next(h for h in blocks if h.startswith(f"{name} · {run} ") and f"{sample + 1}/" in h)
        assert blocks[head] == drawn


def test_export_audio_save_writes_every_clip_as_tensorboard_reads_it(
    am: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tensorboard.util import tensor_util

    out = tmp_path / "clips"
    assert main(["export", str(am), "--kind", "audio", "--save", str(out)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("run,tag,step") and len(rows) == 1 + 3 * len(AM_STEPS)
    for run in AM_RUNS:
        for event in accumulate(am / run).Audio("sound/tone"):
            saved = out / run / "sound" / "tone" / f"{event.step}_0.wav"
            assert saved.read_bytes() == event.encoded_audio_string
    for event in accumulate(am / "tf2").Tensors("voice"):
        cells = tensor_util.make_ndarray(event.tensor_proto)
        for i, clip in enumerate(cells[:, 0]):
            assert (out / "tf2" / "voice" / f"{event.step}_{i}.wav").read_bytes() == clip
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert len(written) == len(AM_RUNS) * len(AM_STEPS) + 2 * len(AM_STEPS)  # tf2: 2 clips
    code = main(["export", str(am), "--kind", "audio", "--save", str(am / "cnn" / "clips")])
    assert code == 2 and "refusing" in capsys.readouterr().err
    assert not (am / "cnn" / "clips").exists()


def test_installed_command_plots_meshes(am: Path) -> None:
    """The real process: `python -m tuiboard plot --kind mesh`, piped."""
    done = subprocess.run(
        [sys.executable, "-m", "tuiboard", "plot", "--logdir", str(am), "--kind", "mesh"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "shape/cube · cnn" in done.stdout and "\x1b" not in done.stdout
    assert any(0x2800 < ord(ch) <= 0x28FF for ch in done.stdout)
