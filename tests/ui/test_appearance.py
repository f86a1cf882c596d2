"""Palettes, the light theme, panel sizes and the settings file that keeps them (with smoothing and
the x axis) between runs of the app: the app is started again in the same config directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from rich.segment import Segment

from tests.ui.conftest import FIXED_TIME, NOW_OFFSET, started, until
from tuiboard.core.logdir import Logdir
from tuiboard.core.settings import Settings
from tuiboard.render.theme import PALETTES, make_theme
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.appearance import Preferences
from tuiboard.ui.widgets.logs_pane import LogsPane
from tuiboard.ui.widgets.run_panel import RunPanel
from tuiboard.ui.widgets.scalar_chart import ScalarChart

pytestmark = pytest.mark.anyio


def make_app(logdir: Logdir) -> TuiboardApp:
    """The app as `tuiboard` starts it: with the user's settings file (the test's own
    XDG_CONFIG_HOME, tests/conftest.py)."""
    return TuiboardApp(
        logdir,
        watch=False,
        clock=lambda: FIXED_TIME + NOW_OFFSET,
        prefs=Preferences.from_environment(),
    )


def settings_file(config_home: Path) -> Path:
    return config_home / "tuiboard" / "settings.toml"


def chart_colours(app: TuiboardApp) -> set[str]:
    """The hex colours of every styled cell the `lr` chart draws."""
    c = next(c for c in app.query(ScalarChart) if c.tag == "lr")
    text = c.draw(60, 14)
    colours = set()
    for seg in text.render(app.console):
        assert isinstance(seg, Segment)
        if seg.style is not None and seg.style.color is not None and seg.text.strip():
            colours.add(seg.style.color.get_truecolor().hex)
    return colours


async def wait_saved(pilot: object, path: Path, want: dict[str, object]) -> dict[str, object]:
    """The settings file once it holds `want` (saving is debounced and on a worker thread)."""
    got: dict[str, object] = {}
    for _ in range(60):
        try:
            got = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not there yet, or still the damaged file of the test
            got = {}
        else:
            if all(got.get(k) == v for k, v in want.items()):
                return got
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError(f"settings file {path} holds {got}, not {want}")


async def test_choices_come_back_in_the_next_run(tbx_logdir: Logdir, config_home: Path) -> None:
    path = settings_file(config_home)
    assert not path.exists()
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        default = chart_colours(app)
        assert default & set(PALETTES["default"].dark)
        await pilot.press("K")  # next palette: okabe-ito
        await pilot.press("s", "s")  # smoothing 0.6 -> 0.7
        await pilot.press("x")  # step -> relative
        await pilot.press("D")  # the light theme
        await pilot.press("ctrl+right")  # run panel wider
        await pilot.press("L")
        await pilot.pause()
        logs_before = app.query_one(LogsPane).outer_size.height
        await pilot.press("ctrl+up")  # the Logs pane, taller
        await pilot.pause()
        logs_after = app.query_one(LogsPane).outer_size.height
        assert logs_after > logs_before
        assert app.board.theme == make_theme("okabe-ito", light=True)
        colours = chart_colours(app)
        assert colours & set(PALETTES["okabe-ito"].light)
        assert not colours & set(PALETTES["default"].dark)
        assert app.current_theme.name == "textual-light"
        width = app.query_one(RunPanel).outer_size.width
        assert width == 36
        saved = await wait_saved(
            pilot,
            path,
            {
                "palette": "okabe-ito",
                "theme": "textual-light",
                "smoothing": 0.7,
                "x_axis": "relative",
                "run_panel_width": 36,
                "logs_height": 40,
            },
        )
        assert set(saved) == {f for f in Settings.__dataclass_fields__}

    # the next run, same config directory: everything comes back
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert app.current_theme.name == "textual-light"
        assert app.board.theme == make_theme("okabe-ito", light=True)
        assert app.board.options.smoothing == 0.7 and app.board.options.x_axis == "relative"
        assert app.query_one(RunPanel).outer_size.width == 36
        await pilot.press("L")
        await pilot.pause()
        assert app.query_one(LogsPane).outer_size.height == logs_after
        assert chart_colours(app) & set(PALETTES["okabe-ito"].light)
        assert "smooth 0.70" in str(app.query_one("#status").render())


async def test_nothing_written_until_something_changes(
    tbx_logdir: Logdir, config_home: Path
) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        await pilot.press("a", "l")  # run visibility and log y: not settings
        await pilot.pause(1.5)
        assert not settings_file(config_home).exists()
        await pilot.press("s")
        await wait_saved(pilot, settings_file(config_home), {"smoothing": 0.65})
        assert app.board.options.log_y


async def test_changes_are_saved_once_at_exit(tbx_logdir: Logdir, config_home: Path) -> None:
    """Keys pressed and the app closed before the debounce fires: the file is written at exit."""
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        await started(pilot)
        await pilot.press("K", "K")
    text = settings_file(config_home).read_text(encoding="utf-8")
    assert tomllib.loads(text) == {"palette": "tol-bright"}


@pytest.mark.parametrize(
    "content",
    [b'palette = "okabe-ito"\nsmoothing = = 3\n', b"\xff\xfe\x00 not text", b"[[["],
)
async def test_damaged_file_gives_defaults_and_a_warning(
    tbx_logdir: Logdir, config_home: Path, content: bytes
) -> None:
    path = settings_file(config_home)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert app.board.theme == make_theme()
        assert app.board.options.smoothing == 0.6
        notes = [n.message for n in app._notifications]
        assert any("damaged" in n and "defaults used" in n for n in notes), notes
        await pilot.press("K")  # the user's change replaces the damaged file
        saved = await wait_saved(pilot, path, {"palette": "okabe-ito"})
        assert saved == {"palette": "okabe-ito"}


async def test_bad_values_and_unknown_names(tbx_logdir: Logdir, config_home: Path) -> None:
    path = settings_file(config_home)
    path.parent.mkdir(parents=True)
    path.write_text(
        'palette = "no-such-palette"\ntheme = "no-such-theme"\nx_axis = "sideways"\n'
        "smoothing = 0.9\nrun_panel_width = 9999\n",
        encoding="utf-8",
    )
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert app.board.options.smoothing == 0.9  # the good value kept
        assert app.board.theme.palette == "default" and app.board.options.x_axis == "step"
        assert app.current_theme.name == "textual-dark"
        assert app.query_one(RunPanel).outer_size.width == 32  # tuiboard.tcss's
        notes = "\n".join(n.message for n in app._notifications)
        for word in ("no-such-palette", "no-such-theme", "sideways", "run_panel_width"):
            assert notes.count(word) == 1, word


async def test_flags_win_and_are_not_saved(tbx_logdir: Logdir, config_home: Path) -> None:
    path = settings_file(config_home)
    path.parent.mkdir(parents=True)
    path.write_text('palette = "ibm"\ntheme = "textual-dark"\n', encoding="utf-8")
    prefs = Preferences.from_environment(Settings(palette="tol-muted", theme="light"))
    app = TuiboardApp(tbx_logdir, watch=False, prefs=prefs)
    async with app.run_test(size=(160, 45)) as pilot:
        await started(pilot)
        assert app.board.theme == make_theme("tol-muted", light=True)
        assert app.current_theme.name == "textual-light"
        await pilot.press("s")
        await wait_saved(pilot, path, {"smoothing": 0.65})
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "palette": "ibm",
        "theme": "textual-dark",
        "smoothing": 0.65,
    }


async def test_no_settings_reads_and_writes_nothing(tbx_logdir: Logdir, config_home: Path) -> None:
    path = settings_file(config_home)
    path.parent.mkdir(parents=True)
    path.write_text('palette = "ibm"\n', encoding="utf-8")
    app = TuiboardApp(tbx_logdir, watch=False, prefs=Preferences(None))
    async with app.run_test(size=(160, 45)) as pilot:
        await started(pilot)
        assert app.board.theme.palette == "default"
        await pilot.press("K", "s")
    assert path.read_text(encoding="utf-8") == 'palette = "ibm"\n'


async def test_unwritable_config_dir_is_a_warning(
    tbx_logdir: Logdir, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = config_home / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        await pilot.press("K")
        warned = await until(
            pilot, lambda: any("settings not saved" in n.message for n in app._notifications)
        )
        assert warned, "no warning about the failed save"
        assert app.board.theme.palette == "okabe-ito"  # the app goes on


async def test_textual_theme_picker_is_followed(tbx_logdir: Logdir, config_home: Path) -> None:
    """A light theme chosen by Textual's own "Change theme" command: light run colours too."""
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        app.theme = "solarized-light"
        await pilot.pause()
        await pilot.pause()
        assert app.board.theme == make_theme(light=True)
        assert chart_colours(app) & set(PALETTES["default"].light)
        await wait_saved(pilot, settings_file(config_home), {"theme": "solarized-light"})
        app.theme = "nord"
        await pilot.pause()
        await pilot.pause()
        assert app.board.theme == make_theme()


async def test_palette_commands(tbx_logdir: Logdir) -> None:
    async with make_app(tbx_logdir).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for name in PALETTES:
            assert any(t.startswith(f"Palette: {name}") for t in commands)
        commands["Palette: tol-bright"].callback()
        await pilot.pause()
        assert app.board.theme.palette == "tol-bright"
        assert chart_colours(app) & set(PALETTES["tol-bright"].dark)
        commands["Light theme"].callback()
        await pilot.pause()
        await pilot.pause()
        assert app.board.theme == make_theme("tol-bright", light=True)
        commands["Run panel narrower"].callback()
        await pilot.pause()
        assert app.query_one(RunPanel).outer_size.width == 28


async def test_an_app_built_in_code_leaves_the_file_alone(
    tbx_logdir: Logdir, config_home: Path
) -> None:
    """Benchmarks, screenshots and tests build TuiboardApp directly: no settings file."""
    path = settings_file(config_home)
    path.parent.mkdir(parents=True)
    path.write_text('palette = "ibm"\n', encoding="utf-8")
    async with TuiboardApp(tbx_logdir, watch=False).run_test(size=(160, 45)) as pilot:
        app = await started(pilot)
        assert app.board.theme.palette == "default"
        await pilot.press("K", "s")
    assert path.read_text(encoding="utf-8") == 'palette = "ibm"\n'
