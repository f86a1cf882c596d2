"""jsonl_uniform with its two parsers and its two checks: fastfloat against np.fromstring (which it
replaced), and the possessive fullmatch (Python 3.11+) against `sub` (3.10), must give the same
answers bit for bit on the chunks test_jsonl_uniform makes (hypothesis), alone and many at once
(joined, and parsed in slices of a few lines), and on files JsonlWriter wrote."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiboard.core import jsonl_uniform
from tuiboard.core.fastfloat import parse_numbers
from tuiboard.core.jsonl_uniform import uniform_numbers, uniform_numbers_many
from tuiboard.writer import JsonlWriter

from .test_jsonl_uniform import chunks


def _whole_lines(data: bytes) -> bytes:
    return data[: data.rfind(b"\n") + 1]


def _answers(items: list[bytes]) -> list[Any]:
    out: list[Any] = [uniform_numbers(c, 2) for c in items]
    out += uniform_numbers_many(items, 2)
    return [
        None if u is None else (u[0], u[1], u[2].shape, u[2].view(np.uint64).tolist()) for u in out
    ]


def _never_declines(*args: Any) -> Any:
    """fastfloat.parse_numbers, asserting that it parses every chunk that passed the check (its
    np.fromstring fallback would hide a wrong token count)."""
    got = parse_numbers(*args)
    assert got is not None
    return got


def _with(
    monkeypatch: pytest.MonkeyPatch,
    items: list[bytes],
    fromstring: bool,
    sub: bool,
    join_bytes: int = 0,
) -> Any:
    with monkeypatch.context() as m:
        if join_bytes:  # joins, and fastfloat's slices of a chunk, of about this many bytes
            m.setattr(jsonl_uniform, "JOIN_BYTES", join_bytes)
        if fromstring:
            m.setattr(jsonl_uniform, "parse_numbers", lambda *args: None)
        else:
            m.setattr(jsonl_uniform, "parse_numbers", _never_declines)
        if sub and jsonl_uniform.POSSESSIVE:
            m.setattr(jsonl_uniform, "POSSESSIVE", False)
        m.setattr(jsonl_uniform, "_layouts", {})
        return _answers(items)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(chunks(), min_size=1, max_size=6), st.integers(0, 3))
def test_parsers_and_checks_agree(monkeypatch: pytest.MonkeyPatch, drawn: Any, copies: int) -> None:
    items = [_whole_lines(data) for data, _ in drawn]
    items += [items[0]] * copies  # a layout shared by several chunks (joined)
    want = _with(monkeypatch, items, fromstring=True, sub=True)
    assert _with(monkeypatch, items, fromstring=False, sub=True) == want
    assert _with(monkeypatch, items, fromstring=True, sub=False) == want
    assert _with(monkeypatch, items, fromstring=False, sub=False) == want
    assert _with(monkeypatch, items, fromstring=False, sub=False, join_bytes=150) == want


def test_writer_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    items = []
    for run in range(12):
        with JsonlWriter(str(tmp_path / f"run{run}")) as w:
            for step in range(60):
                w.log(
                    step * 10,
                    {
                        "loss": float(rng.lognormal()) * 10.0 ** int(rng.integers(-12, 12)),
                        "acc": float(rng.random()),
                        "lr": 0.1 * 0.97**step,
                        "tiny": float(rng.random()) * 1e-310,
                        "neg": -float(rng.random()),
                    },
                )
        items.append(Path(w.path).read_bytes())
    want = _with(monkeypatch, items, fromstring=True, sub=True)
    assert all(u is not None for u in want)
    assert _with(monkeypatch, items, fromstring=False, sub=False) == want  # (none declined)
    assert _with(monkeypatch, items, fromstring=False, sub=False, join_bytes=1000) == want


def test_possessive_pattern_compiles() -> None:
    if not jsonl_uniform.POSSESSIVE:
        pytest.skip("Python 3.10: re has no possessive repeats; the check uses sub")
    assert re.compile(b"(?:a\n)*+").fullmatch(b"a\na\n") is not None
