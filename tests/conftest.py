"""Fixtures for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty config directory: the app (in-process or started in tmux,
    which inherits the environment) reads and writes its settings file there
    (core/settings.py), never in the real user's ~/.config."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("TUIBOARD_NO_SETTINGS", raising=False)
    return home
