"""The app's --palette, --theme and --no-settings flags through the real parser: what reaches
the app (its Preferences), with the settings file in the test's own XDG_CONFIG_HOME."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

import tuiboard.ui.app
from tuiboard.cli import main
from tuiboard.core.settings import Settings, save_settings
from tuiboard.ui.appearance import Preferences


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[list[Preferences], Path]:
    """`main` as on a terminal, with run_app replaced by a recorder of the prefs it gets."""
    root = tmp_path / "logs"
    with SummaryWriter(str(root / "run")) as w:
        w.add_scalar("loss", 1.0, 0)
    got: list[Preferences] = []

    def fake_run_app(logdir: object, *, prefs: Preferences, **kw: object) -> int:
        got.append(prefs)
        return 0

    monkeypatch.setattr(tuiboard.ui.app, "run_app", fake_run_app)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    return got, root


def test_flags_override_the_file(
    started: tuple[list[Preferences], Path], config_home: Path
) -> None:
    got, root = started
    path = config_home / "tuiboard" / "settings.toml"
    save_settings(path, Settings(palette="ibm", theme="textual-dark", smoothing=0.8))
    assert main([str(root), "--palette", "okabe-ito", "--theme", "light"]) == 0
    (prefs,) = got
    assert prefs.path == path
    assert prefs.kept == Settings(palette="ibm", theme="textual-dark", smoothing=0.8)
    assert prefs.start() == Settings(palette="okabe-ito", theme="light", smoothing=0.8)
    assert main([str(root)]) == 0
    assert got[1].start() == Settings(palette="ibm", theme="textual-dark", smoothing=0.8)


def test_no_settings(
    started: tuple[list[Preferences], Path], config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got, root = started
    save_settings(config_home / "tuiboard" / "settings.toml", Settings(palette="ibm"))
    assert main([str(root), "--no-settings"]) == 0
    monkeypatch.setenv("TUIBOARD_NO_SETTINGS", "1")
    assert main([str(root)]) == 0
    assert [p.path for p in got] == [None, None]
    assert [p.start() for p in got] == [Settings(), Settings()]


def test_unknown_palette_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--palette", "rainbow", "."])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for name in ("default", "okabe-ito", "tol-bright", "tol-muted", "ibm"):
        assert name in err
