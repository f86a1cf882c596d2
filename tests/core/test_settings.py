"""The settings file (core/settings.py): where it lives, what a damaged one gives (defaults and a
warning, never an exception), atomic writes; the text it writes is read back by tomllib (the
reference TOML reader) and by the 3.10 fallback parser alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuiboard.core import settings as settings_module
from tuiboard.core.settings import (
    DISABLE_ENV,
    Settings,
    dump_settings,
    load_settings,
    parse_flat_toml,
    save_settings,
    settings_path,
)

tomllib = pytest.importorskip("tomllib")  # the reference reader (Python 3.11+)

FULL = Settings(
    palette="okabe-ito",
    theme="textual-light",
    smoothing=0.85,
    x_axis="relative",
    run_panel_width=40,
    logs_height=25,
)


def test_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert settings_path(env) == tmp_path / "cfg" / "tuiboard" / "settings.toml"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home_default = tmp_path / "home" / ".config" / "tuiboard" / "settings.toml"
    assert settings_path({}) == home_default
    # the XDG spec: a relative XDG_CONFIG_HOME is ignored
    assert settings_path({"XDG_CONFIG_HOME": "rel/cfg"}) == home_default
    assert settings_path({**env, DISABLE_ENV: "1"}) is None
    assert settings_path({**env, DISABLE_ENV: "0"}) is not None


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "tuiboard" / "settings.toml"
    save_settings(path, FULL)
    assert load_settings(path) == (FULL, [])
    text = path.read_text(encoding="utf-8")
    assert tomllib.loads(text) == {
        "palette": "okabe-ito",
        "theme": "textual-light",
        "smoothing": 0.85,
        "x_axis": "relative",
        "run_panel_width": 40,
        "logs_height": 25,
    }
    assert parse_flat_toml(text) == tomllib.loads(text)
    assert [p.name for p in path.parent.iterdir()] == ["settings.toml"]  # no temporary left
    # unset settings are not written, and read back as unset
    save_settings(path, Settings(smoothing=0.0))
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"smoothing": 0.0}
    assert load_settings(path) == (Settings(smoothing=0.0), [])


def test_missing_file_is_quietly_default(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.toml") == (Settings(), [])


@pytest.mark.parametrize(
    "content",
    [
        b'palette = "okabe-ito"\nsmoothing = \n',  # cut off mid-write by another program
        b"\xff\xfe garbage",
        b"[[[",
        b"palette = 'a'\npalette = 'b'\n",
        b"\x00" * 100,
    ],
)
def test_damaged_file_gives_defaults_and_a_warning(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content)
    got, warnings = load_settings(path)
    assert got == Settings()
    assert len(warnings) == 1 and "damaged" in warnings[0] and str(path) in warnings[0]


def test_bad_values_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        'palette = "tol-bright"\n'
        "smoothing = 1.5\n"
        "x_axis = 3\n"
        "run_panel_width = 40.5\n"
        "logs_height = true\n"
        'theme = "\\u001b[31mred"\n'
        "future_option = [1, 2]\n",
        encoding="utf-8",
    )
    got, warnings = load_settings(path)
    assert got == Settings(palette="tol-bright")
    assert len(warnings) == 5
    joined = "\n".join(warnings)
    for name in ("smoothing", "x_axis", "run_panel_width", "logs_height", "theme"):
        assert name in joined
    assert "future_option" not in joined
    assert "\x1b" not in joined  # the escape is shown as repr, never sent to the terminal


def test_whole_numbers_written_as_floats_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("run_panel_width = 40.0\nsmoothing = 0\n", encoding="utf-8")
    assert load_settings(path) == (Settings(run_panel_width=40, smoothing=0.0), [])


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.mkdir()  # a directory where the file should be: open() fails, even for root
    got, warnings = load_settings(path)
    assert got == Settings() and len(warnings) == 1 and "unreadable" in warnings[0]


def test_huge_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("# x\n" * 20_000, encoding="utf-8")
    got, warnings = load_settings(path)
    assert got == Settings() and "bytes" in warnings[0]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.toml"
    save_settings(path, FULL)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(settings_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        save_settings(path, Settings(palette="ibm"))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.toml"]


def test_directory_not_creatable(tmp_path: Path) -> None:
    blocker = tmp_path / "cfg"
    blocker.write_text("a file where the config directory should be", encoding="utf-8")
    with pytest.raises(OSError):
        save_settings(blocker / "tuiboard" / "settings.toml", FULL)
    assert blocker.read_text(encoding="utf-8").startswith("a file")


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30
)


@given(
    palette=names,
    smoothing=st.floats(min_value=0.0, max_value=0.999, allow_nan=False),
    width=st.integers(12, 120),
)
def test_any_string_written_is_read_back_by_both_readers(
    palette: str, smoothing: float, width: int
) -> None:
    text = dump_settings(Settings(palette=palette, smoothing=smoothing, run_panel_width=width))
    want = {"palette": palette, "smoothing": smoothing, "run_panel_width": width}
    assert tomllib.loads(text) == want
    assert parse_flat_toml(text) == want


@pytest.mark.parametrize(
    "text",
    [
        'a = "x" # comment\n',
        "a = 'lit\\eral'\n",
        "a = -1_000\nb = +2.5e-3\nc = true\nd = false\n",
        "  a=1\n\n# only a comment\n",
    ],
)
def test_flat_parser_agrees_with_tomllib(text: str) -> None:
    assert parse_flat_toml(text) == tomllib.loads(text)


@pytest.mark.parametrize(
    "text", ["[table]\na = 1\n", "a = [1, 2]\n", 'a = """x"""\n', "a = 1979-05-27\n", "a\n"]
)
def test_flat_parser_refuses_the_rest(text: str) -> None:
    with pytest.raises(ValueError):
        parse_flat_toml(text)
