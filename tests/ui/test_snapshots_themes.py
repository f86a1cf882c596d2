"""Snapshots of the main screen in the light theme and with a colour-blind-safe palette, on the
demo logdir (seed 0), deterministic as tests/ui/test_snapshots.py's.
Update after a reviewed visual change: pytest tests/ui/test_snapshots_themes.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.ui.conftest import FIXED_TIME, NOW_OFFSET
from tests.ui.test_snapshots import LARGE, SMALL, histograms, open_first_chart, overview, then
from tuiboard.core.logdir import Logdir
from tuiboard.core.settings import Settings
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.appearance import Preferences

SnapCompare = Callable[..., bool]


def themed_app(logdir: Logdir, **flags: str) -> TuiboardApp:
    """The app as `tuiboard --no-settings --theme ... --palette ...` starts it."""
    return TuiboardApp(
        logdir,
        watch=False,
        clock=lambda: FIXED_TIME + NOW_OFFSET,
        prefs=Preferences(None, Settings(**flags)),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_light_scalars(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, size: tuple[int, int]
) -> None:
    app = themed_app(demo_logdir, theme="light")
    assert snap_compare(app, terminal_size=size, run_before=then())


def test_light_histograms(snap_compare: SnapCompare, demo_logdir: Logdir, utc: None) -> None:
    app = themed_app(demo_logdir, theme="light")
    assert snap_compare(app, terminal_size=LARGE, run_before=then(histograms))


def test_light_overview(snap_compare: SnapCompare, demo_logdir: Logdir, utc: None) -> None:
    app = themed_app(demo_logdir, theme="light", palette="tol-bright")
    assert snap_compare(app, terminal_size=LARGE, run_before=then(overview))


def test_colour_blind_palette(snap_compare: SnapCompare, demo_logdir: Logdir, utc: None) -> None:
    app = themed_app(demo_logdir, palette="okabe-ito")
    assert snap_compare(app, terminal_size=LARGE, run_before=then())


@pytest.mark.parametrize(
    "flags",
    [{"palette": "okabe-ito"}, {"palette": "ibm", "theme": "light"}],
    ids=["okabe-ito", "ibm-light"],
)
def test_full_screen_chart(
    snap_compare: SnapCompare, demo_logdir: Logdir, utc: None, flags: dict[str, str]
) -> None:
    """Three runs on one chart, the cursor and its table: where run colours must differ."""
    app = themed_app(demo_logdir, **flags)
    assert snap_compare(app, terminal_size=LARGE, run_before=then(open_first_chart))
