"""Snapshots of the main views at 80x24 and 160x45 on the demo logdir (seed 0), and of each
dashboard on files tensorboardX wrote (write_media_runs).

Deterministic: the demo's wall times are fixed by its seed, file times are pinned, the app's
clock is injected, wall-time labels are in UTC, and no text cursor is focused.
Update after a reviewed visual change: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app, until
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
    await until(pilot, lambda: app.applied, step=None)
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


async def settled_tab(pilot: Pilot[int], name: str, open_it: bool = True) -> None:
    """Open a dashboard tab and wait until its cards are drawn (images decode on workers)."""
    app = pilot.app
    assert isinstance(app, TuiboardApp)
    if open_it:
        app.action_show_tab(name)
    view = app.view(name)
    await until(pilot, lambda: getattr(view, "settled", lambda: getattr(view, "built", 1))())
    await pilot.pause()


def dashboard(name: str, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def step(pilot: Pilot[int]) -> None:
        await settled_tab(pilot, name)
        if keys:
            await pilot.press(*keys)
            await settled_tab(pilot, name, open_it=False)

    return step


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
@pytest.mark.parametrize(
    ("tab", "keys"),
    [
        ("images", ()),
        ("text", ()),
        ("pr_curves", ("right", "right")),
        ("hparams", ("v",)),
    ],
    ids=["images", "text", "pr_curves", "hparams"],
)
def test_dashboard(
    snap_compare: SnapCompare,
    media_logdir: Logdir,
    utc: None,
    size: tuple[int, int],
    tab: str,
    keys: tuple[str, ...],
) -> None:
    """Each new dashboard on what tensorboardX wrote (tests/ui/conftest.py write_media_runs)."""
    assert snap_compare(
        make_app(media_logdir), terminal_size=size, run_before=then(dashboard(tab, *keys))
    )


async def full_image_drawn(pilot: Pilot[int]) -> None:
    """The full-screen image is prepared on a worker: wait until textual-image has it."""
    for _ in range(100):
        await pilot.pause(0.02)
        widgets = pilot.app.screen.query("#full-image")
        if widgets and getattr(widgets.first(), "image", None) is not None:
            break
    await pilot.pause()


def test_full_screen_image(snap_compare: SnapCompare, media_logdir: Logdir, utc: None) -> None:
    assert snap_compare(
        make_app(media_logdir),
        terminal_size=LARGE,
        run_before=then(dashboard("images", "enter"), full_image_drawn),
    )


def test_help(snap_compare: SnapCompare, demo_logdir: Logdir, utc: None) -> None:
    assert snap_compare(make_app(demo_logdir), terminal_size=SMALL, run_before=then(help_screen))
