"""Snapshots of the Audio and Mesh tabs at 80x24 and 160x45 on what tensorboardX and
TensorBoard's protos wrote (tests/audiomesh.py), and of a mesh turned, tilted and zoomed.

Deterministic: fixed wall times, pinned file times, the app's clock injected, UTC.
Update after a reviewed visual change:
    pytest tests/ui/test_snapshots_audiomesh.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tuiboard
from tests.audiomesh import write_audiomesh_runs
from tests.ui.conftest import make_app, pin_mtimes
from tests.ui.test_snapshots import LARGE, SMALL, SnapCompare, dashboard, then
from tuiboard.core.logdir import Logdir


@pytest.fixture
def am_logdir(tmp_path: Path) -> Logdir:
    root = tmp_path / "am"
    write_audiomesh_runs(root)
    pin_mtimes(root)
    return tuiboard.open(str(root))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
@pytest.mark.parametrize(
    ("tab", "keys"),
    [("audio", ()), ("mesh", ()), ("mesh", ("tab", "tab", "right", "right", "up", "plus"))],
    ids=["audio", "mesh", "mesh-turned"],
)
def test_tab(
    snap_compare: SnapCompare,
    am_logdir: Logdir,
    utc: None,
    size: tuple[int, int],
    tab: str,
    keys: tuple[str, ...],
) -> None:
    assert snap_compare(
        make_app(am_logdir), terminal_size=size, run_before=then(dashboard(tab, *keys))
    )
