"""Snapshots of the main views at 80x24 and 160x45 on the demo logdir (seed 0).

Deterministic: the demo's wall times are fixed by its seed, file times are pinned, the app's
clock is injected, wall-time labels are in UTC, and no text cursor is focused.
Update after a reviewed visual change: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app
from tuiboard.core.logdir import Logdir
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.histograms_view import HistogramsView
from tuiboard.ui.widgets.scalar_chart import ScalarChart

SnapCompare = Callable[..., bool]
SMALL = (80, 24)
LARGE = (160, 45)


async def loaded(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    for _ in range(50):
        await pilot.pause()
        if app.applied:
            break
    await pilot.pause()


def then(
    *steps: Callable[[Pilot[int]], Awaitable[None]],
) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        for step in steps:
            await step(pilot)
            await pilot.pause()

    return run


async def open_first_chart(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    chart = next(c for c in app.query(ScalarChart) if c.tag == "loss/train")
    chart.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*["left"] * 5)


async def histograms(pilot: Pilot[int]) -> None:
    await pilot.press("2")
    await pilot.pause()
    view = pilot.app.query_one(HistogramsView)
    view.select("weights/layer1", "resnet/lr=0.1")
    await pilot.pause()
    await pilot.press("left", "left")


async def overview(pilot: Pilot[int]) -> None:
    await pilot.press("3")


async def help_screen(pilot: Pilot[int]) -> None:
    await pilot.press("question_mark")


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_scalars(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=size, run_before=then())


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_full_screen_chart(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(
        make_app(demo_logdir), terminal_size=size, run_before=then(open_first_chart)
    )


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_histograms(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=size, run_before=then(histograms))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_overview(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=size, run_before=then(overview))


def test_help(snap_compare: SnapCompare, demo_logdir: Logdir, utc: None) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=SMALL, run_before=then(help_screen))
