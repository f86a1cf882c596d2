"""jsonl.read_jsonl_many (the JSONL files of many runs parsed together, jsonl_uniform's
uniform_numbers_many) against read_jsonl of each file alone: the same points (dtype, bits,
order), records, values, warnings, bytes consumed (a cut last line left for the next read) and
state, on hypothesis-made sweeps (files of one layout, some damaged, short, cut or laid out
otherwise; joins of every size); and loader.preread_small's JSONL part on a logdir written by
tuiboard.writer.JsonlWriter, a damaged file among good ones, against the per-run read,
including the appends read after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tests.core.test_jsonl_uniform import KEYS, SEPARATORS, _Fixed, _number_text
from tuiboard.core import jsonl_uniform
from tuiboard.core import loader as loader_mod
from tuiboard.core import logdir as logdir_mod
from tuiboard.core.jsonl import JsonlState, read_jsonl, read_jsonl_many
from tuiboard.writer import JsonlWriter


@st.composite
def sweeps(draw: Any) -> list[tuple[bytes, str]]:
    """Files of a sweep: one layout (keys, separators, a number kind a key) for all, most
    files clean, some with a line that differs, a damaged or blank line, a BOM, too few lines
    or a cut last line; now and then a file of another layout."""
    keys = draw(st.lists(KEYS, min_size=1, max_size=5, unique=True))
    item, colon = draw(SEPARATORS)
    end = draw(st.sampled_from(["", "\r", " "]))
    ascii_keys = draw(st.integers(0, 4)) == 0  # ("\u00fc": an escape, not the fast path)
    kinds = st.sampled_from([0, 1, 4, *[2, 3, 5, 6] * 8])  # mostly kinds a fixed layout keeps
    shapes = {k: draw(kinds) for k in keys}
    files = []
    for f in range(draw(st.sampled_from([1, 2, 3, 5, 8, 12]))):
        other = draw(st.integers(0, 9)) == 0
        file_keys = list(reversed(keys)) if other else keys
        n = draw(st.sampled_from([0, 1, 7, 8, 9, 12, 20, 9, 12, 20]))
        lines = []
        for _ in range(n):
            parts = [
                json.dumps(k, ensure_ascii=ascii_keys)
                + colon
                + _number_text(_Fixed(draw, shapes[k]))
                for k in file_keys
            ]
            line = "{" + item.join(parts) + "}" + end
            mutation = draw(st.integers(0, 400))
            if mutation == 0:
                line = ""
            elif mutation == 1:
                line = "{broken"
            elif mutation == 2:
                line = '{"loss": "NaN"}'
            elif mutation == 3:
                line = "{" + item.join(parts[:-1]) + "}"
            lines.append(line)
        text = "".join(line + "\n" for line in lines)
        if draw(st.integers(0, 4)) == 0:
            text += '{"step": 1, "lo'
        data = text.encode()
        if draw(st.integers(0, 30)) == 0:
            data = b"\xef\xbb\xbf" + data
        name = draw(st.sampled_from(["metrics.jsonl", "metrics.jsonl", "wandb-history.jsonl"]))
        files.append((data, f"/logs/run{f}/{name}"))
    return files


def _columns(parsed: Any) -> dict[str, tuple[Any, ...]]:
    return {
        tag: tuple((a.dtype.str, a.tobytes()) for a in (c.step, c.wall_time, c.value, c.seq))
        for tag, c in parsed.scalars.items()
    }


def _assert_same(many: tuple[int, Any], alone: tuple[int, Any]) -> None:
    assert many[0] == alone[0]
    assert _columns(many[1]) == _columns(alone[1])
    assert list(many[1].scalars) == list(alone[1].scalars)
    assert repr(many[1].values) == repr(alone[1].values)
    assert many[1].warnings == alone[1].warnings
    assert many[1].records == alone[1].records


@settings(max_examples=400, deadline=None)
@given(sweeps(), st.sampled_from([1, 300, 2000, 1 << 18, 1 << 18]), st.integers(0, 3))
def test_many_is_each_file_alone(files: list[tuple[bytes, str]], join: int, lines: int) -> None:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(jsonl_uniform, "JOIN_BYTES", join)  # joins of one file, a few, all
        states = [JsonlState(lines=lines, good=lines) for _ in files]
        many = read_jsonl_many([(d, p, s) for (d, p), s in zip(files, states, strict=True)])
    for (data, path), state, got in zip(files, states, many, strict=True):
        alone_state = JsonlState(lines=lines, good=lines)
        alone = read_jsonl(data, 0, path, alone_state)
        _assert_same(got, alone)
        assert state == alone_state
        # the next read goes on from where each stopped, the same way
        rest = data[got[0] :] + b'ss": 2}\n'
        _assert_same(
            read_jsonl(rest, got[0], path, state), read_jsonl(rest, got[0], path, alone_state)
        )
        assert state == alone_state


def test_one_layout_is_parsed_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        json.dumps({"step": s, "wall_time": 1.7e9 + s / 3, "loss": 1 / (s + 1)}) for s in range(9)
    ]
    good = ("\n".join(lines) + "\n").encode()
    files = [good, good.replace(b'"loss": 1.0', b'"loss": NaN'), good + b'{"st', good]
    calls: list[int] = []
    real = jsonl_uniform._parse

    def counted(chunk: bytes, n: int, keys: Any, ints: Any) -> Any:
        calls.append(n)
        return real(chunk, n, keys, ints)

    monkeypatch.setattr(jsonl_uniform, "_parse", counted)
    got = jsonl_uniform.uniform_numbers_many([f[: f.rfind(b"\n") + 1] for f in files], 8)
    assert calls == [27]  # the damaged file left out of the one pass over the three others
    assert got[1] is None
    for i in (0, 2, 3):
        assert got[i] is not None and got[i][2].shape == (9, 3)  # type: ignore[index]
        assert got[i][2][:, 2].tolist() == [1 / (s + 1) for s in range(9)]  # type: ignore[index]


def _write_sweep(root: Path, runs: int) -> None:
    rng = np.random.default_rng(0)
    for r in range(runs):
        with JsonlWriter(str(root / f"trial_{r:02d}")) as w:
            for s in range(0, 300, 10):
                w.log(
                    s,
                    {
                        "train/loss": float(rng.random()),
                        "val/acc": float(rng.random()),
                        "lr": 0.1 * 0.97**s,
                    },
                    wall_time=1.7e9 + s,
                )
            if r == 1:
                w.write_config({"lr": 0.1, "seed": r})
    # a damaged file among the good ones, one with a cut last line, one too big for the batch
    bad = root / "trial_03" / "metrics.jsonl"
    text = bad.read_text().splitlines()
    text[4] = text[4][:20]
    text[7] = "{not json"
    bad.write_text("\n".join(text) + "\n")
    with open(root / "trial_04" / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 300, "train/lo')
    with JsonlWriter(str(root / "big")) as w:
        for s in range(3000):
            w.log(
                s, {"train/loss": 1 / (s + 1), "val/acc": s / 3000, "lr": 0.1}, wall_time=1.7e9 + s
            )
    with JsonlWriter(str(root / "text")) as w:
        for s in range(20):
            w.log(s, {"train/loss": 1.0, "note": f"step {s}"}, wall_time=1.7e9 + s)


def test_a_logdir_of_jsonl_runs_is_the_same_with_and_without_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_sweep(tmp_path, 12)
    calls: list[int] = []
    real = loader_mod._preread_jsonl

    def counted(loaders):  # type: ignore[no-untyped-def]
        n = real(loaders)
        calls.append(n)
        return n

    monkeypatch.setattr(loader_mod, "_preread_jsonl", counted)
    monkeypatch.setattr(loader_mod, "JSONL_BATCH", 5)  # in batches of 5, 5 and 4 files
    batched = tuiboard.open(str(tmp_path))
    assert calls and calls[0] == 13  # the 12 trials and "text"; "big" is read the usual way
    monkeypatch.setattr(logdir_mod, "PREREAD_MIN_RUNS", 10**9)
    serial = tuiboard.open(str(tmp_path))
    assert [r.name for r in batched.runs] == [r.name for r in serial.runs]
    for a, b in zip(batched.runs, serial.runs, strict=True):
        assert a.kinds() == b.kinds()
        assert a.warnings == b.warnings
        assert a.config == b.config
        for tag in a.tags("scalars"):
            x, y = a.scalars(tag, raw=True), b.scalars(tag, raw=True)
            for field in ("step", "wall_time", "value"):
                u, v = getattr(x, field), getattr(y, field)
                assert u.dtype == v.dtype and u.tobytes() == v.tobytes()
        for kind, tags in a.kinds().items():
            if kind != "scalars":
                for tag in tags:
                    assert repr(a.values(kind, tag)) == repr(b.values(kind, tag))
    assert batched.stats == serial.stats
    for name, ld in batched._loaders.items():
        other = serial._loaders[name]
        assert {p: (c.offset, c.size, c.head, c.jsonl_state) for p, c in ld.cursors.items()} == {
            p: (c.offset, c.size, c.head, c.jsonl_state) for p, c in other.cursors.items()
        }
    damaged = batched.run("trial_03")
    assert damaged is not None and len(damaged.warnings) == 1
    assert "2 malformed lines" in damaged.warnings[0].message
    # the cut last line is completed by the writer: both go on from the same cursor
    for lg in (batched, serial):
        with open(tmp_path / "trial_04" / "metrics.jsonl", "a") as fh:
            fh.write('ss": 0.5}\n')
        ch = lg.refresh()
        assert ch.runs == {"trial_04"} and ch.points == 1
        run = lg.run("trial_04")
        assert run is not None and run.scalars("train/loss").step[-1] == 300
        with open(tmp_path / "trial_04" / "metrics.jsonl", "rb+") as fh:
            fh.truncate(fh.seek(0, 2) - len('ss": 0.5}\n'))
