"""clean(): escapes and controls removed, unicode and markup-looking text kept literally."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tuiboard.render.sanitize import clean


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[1;38;5;196mx", "x"),
        ("\x1b]0;evil title\x07after", "after"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b]2;unterminated title", ""),
        ("bell\x07", "bell"),
        ("a\x00b\x08c\x7fd", "abcd"),
        ("tab\tsep", "tab sep"),
        ("line1\nline2\r", "line1line2"),
        ("\x9b31mc1", "c1"),
        ("\x1bPdcs data\x1b\\ok", "ok"),
        ("\x1b7saved\x1b8", "saved"),
        ("\x1b(Bascii", "ascii"),
        ("loss/train", "loss/train"),
        ("损失/训练 ✓ é", "损失/训练 ✓ é"),
        ("[bold red]x[/]", "[bold red]x[/]"),
        ("evil\u202eflipped", "evilflipped"),
    ],
)
def test_clean(raw: str, want: str) -> None:
    assert clean(raw) == want


def test_keep_newlines() -> None:
    assert clean("a\r\nb\n\x1b[2Jc", keep_newlines=True) == "a\nb\nc"


def test_markup_is_literal_through_text() -> None:
    console = Console(width=40, color_system="truecolor", force_terminal=True, record=True)
    console.print(Text(clean("[bold red]x[/] \x1b[31mz")))
    out = console.export_text(styles=False)
    assert "[bold red]x[/] z" in out
    # No style was applied by the brackets: the only escapes are Rich's resets, if any.
    ansi = console.export_text(styles=True)
    assert "\x1b[1" not in ansi and "\x1b[31" not in ansi


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.text("\x1b[]0;7m\x07\x9b\\ab", max_size=30)
)
def test_never_leaves_controls(raw: str) -> None:
    out = clean(raw)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)
    assert clean(out) == out
    kept = clean(raw, keep_newlines=True)
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in kept)
