"""`tuiboard plot --kind graph [--depth N]` through the real command line, on graphs written as
PyTorch and Keras write them; counts checked against TensorBoard's reader of the same files."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.core import graph_writers as W
from tests.reference import accumulate
from tuiboard.cli import main


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graphs")
    W.write_events(root / "cnn", [W.graph_event(W.torch_cnn_graph())])
    W.write_events(root / "keras", [W.keras_event(W.keras3_mnist_convnet())])
    return root


def plot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plot", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plot_graph_prints_the_scope_tree_with_counts(
    graphs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = plot(capsys, str(graphs), "--kind", "graph", "--runs", "cnn", "--width", "100")
    assert code == 0 and "\x1b" not in out
    lines = [line.rstrip() for line in out.splitlines()]
    reference = accumulate(graphs / "cnn").Graph()
    assert lines[0].startswith(f"cnn · op graph · {len(reference.node)} nodes · 17 edges")
    net = [n for n in reference.node if n.name.startswith("Net/")]
    ops = Counter(n.op for n in net).most_common()
    top3 = ", ".join(f"{op} {k}" for op, k in sorted(ops, key=lambda p: (-p[1], p[0]))[:3])
    assert lines[1] == f"├─ Net  {len(net)} · {top3}, +{len(ops) - 3} ops"
    # Depth 2: Net's children, not their children.
    assert (
        "│  ├─ Conv2d[conv1]  9 · prim::Constant 6, prim::GetAttr 2, aten::_convolution 1" in lines
    )
    assert not any("[23-28]" in line for line in lines)
    assert all(len(line) <= 100 for line in lines)


def test_depth_opens_more_levels(graphs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, two, _ = plot(capsys, str(graphs), "--kind", "graph", "--runs", "cnn")
    _, three, _ = plot(capsys, str(graphs), "--kind", "graph", "--runs", "cnn", "--depth", "3")
    _, one, _ = plot(capsys, str(graphs), "--kind", "graph", "--runs", "cnn", "--depth", "1")
    assert "│  │  ├─ [23-28]  6 × prim::Constant" in three and "[23-28]" not in two
    assert [line.split("  ")[0] for line in one.splitlines()[1:]] == [
        "├─ Net",
        "├─ input",
        "└─ output",
    ]


def test_plot_graph_keras_prints_the_layer_table(
    graphs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = plot(capsys, str(graphs), "--kind", "graph", "--tags", "Keras")
    assert code == 0
    assert "keras · Keras model keras · 8 nodes · 7 edges · 34,826 params" in out
    assert "conv2d_1 (Conv2D)               (None, 11, 11, 64)   18,496  max_pooling2d" in out


def test_nothing_matched(graphs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = plot(capsys, str(graphs), "--kind", "graph", "--tags", "^nope$")
    assert code == 1 and out == "" and "no graph data matched" in err


def test_installed_command(graphs: Path) -> None:
    exe = shutil.which("tuiboard")
    assert exe, "install the package (pip install -e .) so the tuiboard command exists"
    env = {**os.environ, "NO_COLOR": ""}
    out = subprocess.run(
        [exe, "plot", str(graphs), "--kind", "graph", "--depth", "1", "--width", "90"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout
    assert "cnn · op graph · 18 nodes" in out and "└─ functional  8 · Conv2D 2" in out
