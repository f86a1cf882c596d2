"""Snapshots of the Embeddings tab at 80x24 and 160x45 on what tensorboardX's add_embedding
wrote (tests/ui/conftest.py write_embedding_runs): a point found by a label search with its
metadata, sprite and neighbours (2D), and the 3D view turned once.

Deterministic: the files are written from fixed seeds, file times are pinned, the app's clock is
injected, the sprite goes through textual-image's half-blocks (no terminal graphics headless).
Update after a reviewed visual change:
pytest tests/ui/test_snapshots_embeddings.py --snapshot-update
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app
from tests.ui.test_snapshots import LARGE, SMALL, SnapCompare, loaded
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.embeddings_view import EmbeddingsView


async def until(pilot: Pilot[int], done: Callable[[], bool]) -> None:
    for _ in range(200):
        if done():
            break
        await asyncio.sleep(0.02)
        await pilot.pause()
    await pilot.pause()


def steps(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        app = pilot.app
        assert isinstance(app, TuiboardApp)
        app.action_show_tab("embeddings")
        view = app.view("embeddings")
        assert isinstance(view, EmbeddingsView)
        await until(pilot, lambda: view.loads >= 1)
        await pilot.press("t")  # the second embedding: "words", with a sprite
        await until(pilot, lambda: view.loads >= 2)
        await pilot.press(*keys)
        await until(pilot, lambda: view.selected is None or view.neighbours is not None)
        await pilot.pause(0.1)

    return run


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
@pytest.mark.parametrize(
    "keys",
    [("slash", *"dog1", "enter"), ("d", "right")],
    ids=["search", "3d"],
)
def test_embeddings(
    snap_compare: SnapCompare,
    embedding_logdir: Logdir,
    utc: None,
    size: tuple[int, int],
    keys: tuple[str, ...],
) -> None:
    assert snap_compare(make_app(embedding_logdir), terminal_size=size, run_before=steps(*keys))
