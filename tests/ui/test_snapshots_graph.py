"""Snapshots of the Graph tab at 80x24 and 160x45: PyTorch's graph of a small CNN (as add_graph
writes it) beside a Keras model, a node's detail with its inputs and outputs, and a trace.

Deterministic: fixed wall times, pinned file times, the app's clock injected, no text cursor.
Update after a reviewed visual change:
pytest tests/ui/test_snapshots_graph.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

import tuiboard
from tests.core import graph_writers as W
from tests.ui.conftest import make_app, pin_mtimes, until
from tests.ui.test_snapshots import LARGE, SMALL, then
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.graph_view import GraphView

SnapCompare = Callable[..., bool]


@pytest.fixture
def graph_logdir(tmp_path: Path) -> Logdir:
    root = tmp_path / "graphs"
    W.write_events(
        root / "cnn",
        [
            W.graph_event(W.torch_cnn_graph()),
            W.run_metadata_event("step1", W.profiled_run_metadata()),
        ],
    )
    W.write_events(root / "keras", [W.keras_event(W.keras3_mnist_convnet())])
    pin_mtimes(root)
    return tuiboard.open(str(root))


async def graph_tab(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    view = app.query_one(GraphView)
    app.action_show_tab("graph")
    await until(pilot, lambda: view.loaded is not None and view.loaded.source.run == "cnn")
    view.follow(view.loaded.graph.index["Net/Conv2d[conv1]/input.3"])  # type: ignore[union-attr]
    await pilot.pause()


async def trace(pilot: Pilot[int]) -> None:
    await pilot.press("t")


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_graph_node(
    snap_compare: SnapCompare, graph_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(graph_logdir), terminal_size=size, run_before=then(graph_tab))


def test_graph_trace(snap_compare: SnapCompare, graph_logdir: Logdir, utc: None) -> None:
    assert snap_compare(
        make_app(graph_logdir), terminal_size=LARGE, run_before=then(graph_tab, trace)
    )
