"""jsonl_uniform (chunks whose lines share one layout, numbers parsed in bulk) against the
line-by-line reader it stands in for: read_jsonl with the fast path on and off must give the
same points (dtype, bits, order), records, warnings, state and bytes consumed, on hypothesis-made
chunks (keys with spaces, digits, "e", unicode and JSON punctuation; integers beyond 15 digits
and "-0"; floats in every notation json writes or accepts; steps and times as floats; a line
that differs, NaN, a string, a blank or bad line, a cut last line, CRLF); and np.fromstring's
parsing against json's float() on the numbers json accepts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tuiboard.core import jsonl
from tuiboard.core.jsonl import JsonlState, read_jsonl
from tuiboard.core.jsonl_uniform import uniform_numbers
from tuiboard.writer import JsonlWriter

KEYS = st.sampled_from(
    [
        "step",
        "_step",
        "epoch",
        "global_step",
        "wall_time",
        "timestamp",
        "_timestamp",
        "_runtime",
        "_wandb_x",
        "loss",
        "train/loss",
        "val acc",
        "e1E2",
        "lr-0.1",
        "ünï",
        "a:b",
        "x, y",
        "{k}",
        "[0]",
    ]
)
SEPARATORS = st.sampled_from([(", ", ": "), (",", ":"), (" ,  ", " :\t"), (", ", ":")])


def _number_text(draw: Any) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return str(draw(st.integers(-(10**20), 10**20)))
    if kind == 1:
        return draw(st.sampled_from(["-0", "0", "-0.0", "0.0", "1e400", "-1e400", "1e-400"]))
    if kind == 2:
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False)))
    if kind == 3:
        x = draw(st.floats(allow_nan=False, allow_infinity=False))
        return f"{x:.{draw(st.integers(1, 25))}e}"
    if kind == 4:
        return str(draw(st.integers(0, 10**6))) + draw(
            st.sampled_from(["", ".0", ".5", "E+3", "e-02"])
        )
    if kind == 5:
        return str(1.7e9 + draw(st.integers(0, 10**6)) / 7)
    if kind == 6:
        return str(draw(st.integers(-5, 10**6)))
    return draw(
        st.sampled_from(["1", "2.5", "NaN", "Infinity", '"s"', "[1, 2]", "true", "01", "1."])
    )


@st.composite
def chunks(draw: Any) -> tuple[bytes, str]:
    keys = draw(st.lists(KEYS, min_size=1, max_size=5, unique=True))
    item, colon = draw(SEPARATORS)
    clean = draw(st.booleans())
    """Half the chunks as a training loop writes them (the fast path's case), each line then
    ending the same way; the others with a line here and there that differs."""
    n = draw(st.integers(8, 14) if clean else st.integers(1, 14))
    end = draw(st.sampled_from(["", "\r", " "]))
    kinds = st.sampled_from([0, 1, 2, 3, 3, 4, 5, 5, 6, 6]) if clean else st.integers(0, 7)
    shapes = {k: draw(kinds) for k in keys}
    ascii_keys = draw(st.booleans())
    lines = []
    for _ in range(n):
        parts = []
        for k in keys:
            if not clean and draw(st.integers(0, 9)) == 0:
                text = _number_text(draw)
            else:  # one kind of number a key, as a training loop writes
                text = _number_text(_Fixed(draw, shapes[k]))
            parts.append(json.dumps(k, ensure_ascii=ascii_keys) + colon + text)
        line = "{" + item.join(parts) + "}" + end
        mutation = draw(st.integers(0, 300 if clean else 20))
        if mutation == 0:
            line = ""
        elif mutation == 1:
            line = "{broken"
        elif mutation == 2:
            line = " " + line
        elif mutation == 3 and len(keys) > 1:
            line = "{" + item.join(reversed(parts)) + "}"
        lines.append(line)
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text += '{"step": 1, "lo'
    name = draw(st.sampled_from(["metrics.jsonl", "wandb-history.jsonl"]))
    return text.encode(), name


class _Fixed:
    """A draw function whose first integers(0, 7) answer is fixed: one number kind a key."""

    def __init__(self, draw: Any, kind: int) -> None:
        self.draw = draw
        self.kind: int | None = kind

    def __call__(self, strategy: Any) -> Any:
        if self.kind is not None:
            kind, self.kind = self.kind, None
            return kind
        return self.draw(strategy)


def _read(data: bytes, name: str, fast: bool, monkeypatch: pytest.MonkeyPatch, cut: int = 0) -> Any:
    """read_jsonl of `data`; with `cut`, in two reads (the first of its first `cut` bytes, the
    second from where the first stopped), as a live file is read; the second read's result."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(jsonl, "uniform_numbers", lambda chunk, min_lines: None)
        state = JsonlState()
        offset = 0
        if cut:
            offset, _ = read_jsonl(data[:cut], 0, f"/logs/run/{name}", state)
        consumed, parsed = read_jsonl(data[offset:], offset, f"/logs/run/{name}", state)
    return consumed, parsed, state


def _columns(parsed: Any) -> dict[str, tuple[Any, ...]]:
    return {
        tag: tuple((a.dtype.str, a.tobytes()) for a in (c.step, c.wall_time, c.value, c.seq))
        for tag, c in parsed.scalars.items()
    }


@settings(max_examples=600, deadline=None)
@given(chunks(), st.integers(0, 4000))
def test_the_same_as_line_by_line(chunk: tuple[bytes, str], cut: int) -> None:
    data, name = chunk
    cut = cut % (len(data) + 1) if cut % 2 else 0  # half the examples in two reads
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _read(data, name, True, monkeypatch, cut)
        slow = _read(data, name, False, monkeypatch, cut)
    assert fast[0] == slow[0]
    assert _columns(fast[1]) == _columns(slow[1])
    assert list(fast[1].scalars) == list(slow[1].scalars)
    assert repr(fast[1].values) == repr(slow[1].values)
    assert fast[1].warnings == slow[1].warnings
    assert fast[1].records == slow[1].records
    assert fast[2] == slow[2]


def test_taken_for_a_training_loops_lines() -> None:
    """The layout the fast path is for is taken (and a line that differs is not)."""
    lines = [
        json.dumps({"step": s, "wall_time": 1.7e9 + s / 3, "loss": 1 / (s + 1), "n": -s})
        for s in range(10)
    ]
    data = ("\n".join(lines) + "\n").encode()
    got = uniform_numbers(data, 8)
    assert got is not None
    keys, ints, matrix = got
    assert keys == ("step", "wall_time", "loss", "n") and ints == (True, False, False, True)
    assert matrix.shape == (10, 4)
    assert [float(json.loads(line)["loss"]) for line in lines] == matrix[:, 2].tolist()
    assert not math.copysign(1.0, matrix[0, 3]) < 0  # "-0" is the integer 0
    assert uniform_numbers(data.replace(b'"loss": 1.0', b'"loss": NaN'), 8) is None
    assert uniform_numbers(data, 11) is None


@st.composite
def json_floats(draw: Any) -> str:
    digits = draw(st.text("0123456789", min_size=1, max_size=40)).lstrip("0") or "0"
    frac = draw(st.text("0123456789", min_size=1, max_size=30))
    exp = draw(st.integers(-400, 400))
    sign = draw(st.sampled_from(["", "-"]))
    return f"{sign}{digits}.{frac}e{exp}"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(json_floats(), st.floats(allow_nan=False).map(repr)), min_size=1))
def test_fromstring_rounds_as_json(texts: list[str]) -> None:
    texts = [t for t in texts if t not in ("inf", "-inf")]
    got = np.fromstring(" ".join(texts).encode(), dtype=np.float64, sep=" ")
    want = np.array([json.loads(t) for t in texts], dtype=np.float64)
    assert got.tobytes() == want.tobytes()


def test_logdir_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs written by JsonlWriter (and one whose lines change layout): the same series either
    way, through tuiboard.open."""
    for i in range(4):
        with JsonlWriter(str(tmp_path / f"r{i}")) as w:
            for s in range(30):
                values = {"loss": 1 / (s + 1), "acc": s / 30}
                if i == 3 and s > 20:
                    values["eval"] = 0.5
                w.log(s * 5, values, wall_time=1.7e9 + s)

    def series() -> dict[str, Any]:
        ld = tuiboard.open(str(tmp_path))
        return {
            (r.name, t): tuple(a.tobytes() for a in r.scalars(t))
            for r in ld.runs
            for t in r.tags("scalars")
        }

    fast = series()
    monkeypatch.setattr(jsonl, "uniform_numbers", lambda chunk, min_lines: None)
    assert series() == fast
