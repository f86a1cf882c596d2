"""facts_batch (many runs' figures in a few numpy calls) against the one-run-at-a-time code it
stands in for: health.run_facts, summary.series_stats and summary.recent_rates, on
hypothesis-made series (NaN/inf values and wall times, repeated and decreasing steps and times,
float32 and float64 values, empty series, runs without series) and on a logdir of real runs
summarized both ways."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tests.headless.runs import T0, JsonlRun, TbRun
from tuiboard.core.logdir import Run
from tuiboard.core.store import RunData, Scalars
from tuiboard.core.types import SCALARS
from tuiboard.headless import facts_batch
from tuiboard.headless import summary as summary_mod
from tuiboard.headless.facts_batch import facts_of, reduce_runs
from tuiboard.headless.health import run_facts
from tuiboard.headless.summary import (
    Summarizer,
    json_lines,
    plain_lines,
    recent_rates,
    series_stats,
)

TAGS = ("loss", "train/acc", "lr", "val_err", "x")
SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0])


def _floats(n: int) -> st.SearchStrategy[list[float]]:
    plain = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    return st.lists(st.one_of(plain, plain, plain, SPECIAL), min_size=n, max_size=n)


@st.composite
def series(draw: Any) -> tuple[str, Scalars]:
    tag = draw(st.sampled_from(TAGS))
    n = draw(st.integers(0, 70))
    steps = draw(st.lists(st.integers(-5, 200), min_size=n, max_size=n))
    if draw(st.booleans()):
        steps = sorted(steps)
    base = T0 + draw(st.floats(0, 1000))
    walls = [
        base + w
        for w in draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 7.0]), min_size=n, max_size=n))
    ]
    if draw(st.booleans()):
        walls = list(np.cumsum(walls) - base * np.arange(n))
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=3)):
        if n:
            walls[i] = draw(SPECIAL)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    values = np.array(draw(_floats(n)), dtype=dtype)
    return tag, Scalars(np.array(steps, dtype=np.int64), np.array(walls, dtype=np.float64), values)


@st.composite
def runs(draw: Any) -> list[dict[str, Scalars]]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        picked = draw(st.lists(series(), max_size=4))
        out.append({tag: s for tag, s in sorted(picked, key=lambda x: x[0])})
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, NaN equal to NaN (repr: floats round-trip exactly)."""
    return repr(a) == repr(b)


@settings(max_examples=150, deadline=None)
@given(runs())
def test_batch_equals_one_run_at_a_time(given_runs: list[dict[str, Scalars]]) -> None:
    views = [
        Run(RunData(name=f"r{i}", path=f"/r{i}", last_write=T0)) for i in range(len(given_runs))
    ]
    given = [[(t, *s) for t, s in r.items()] for r in given_runs]
    figures = reduce_runs(given)
    chunk = facts_batch.CHUNK_POINTS
    try:
        facts_batch.CHUNK_POINTS = 40  # runs reduced a few at a time: the same figures
        assert repr(reduce_runs(given)) == repr(figures)
    finally:
        facts_batch.CHUNK_POINTS = chunk
    for run, series_of, fig in zip(views, given_runs, figures, strict=True):
        kinds = {SCALARS: sorted(series_of)} if series_of else {}
        want = run_facts(run, series_of, kinds)
        got = facts_of(run, run.version, kinds, fig)
        assert _same(got, want)
        want_rates = recent_rates(series_of.values())
        assert all(
            _same(g, w)
            for g, w in zip((fig.steps_per_s, fig.points_per_s), want_rates, strict=True)
        )
        for tag, s in series_of.items():
            stats = series_stats(tag, s)
            f = fig.series.get(tag)
            if stats is None:
                assert f is None
                continue
            assert f is not None
            assert (f.points, f.last_step, f.best_step) == (
                stats.points,
                stats.last_step,
                stats.best_step,
            )
            assert _same(f.last_value, stats.last) and _same(f.best, stats.best)


def test_summary_rows_the_same_batched_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logdir of real runs (TensorBoard's writer, JSON lines with NaN, a STOP, a run without
    times, a damaged line): the summary text and JSON lines are the same whether the figures
    are batched or taken one run at a time."""
    for i in range(6):
        tb = TbRun(tmp_path / f"tb{i}")
        for s in range(5 + 10 * i):
            tb.scalar("train/loss", s, math.nan if (i == 2 and s == 7) else 1.0 / (s + 1), T0 + s)
            tb.scalar("val/acc", s, s / 100, T0 + s)
        if i == 3:
            tb.session(2, 5 + 10 * i, T0 + 60)
        tb.close()
        jr = JsonlRun(tmp_path / f"js{i}")
        for s in range(3 + 7 * i):
            fields: dict[str, Any] = {"step": s * 2, "loss": 2.0 - s / 10, "lr": 0.1}
            if i % 2:
                fields["wall_time"] = T0 + s * 3
            jr.log(**fields)
        if i == 4:
            with open(jr.file, "a") as fh:
                fh.write("{oops\n")
    now = T0 + 500

    def text() -> str:
        ld = tuiboard.open(str(tmp_path))
        rows, tags = Summarizer().rows(ld, now)
        rows2, tags2 = Summarizer(tags_re=".").rows(ld, now)
        return "\n".join([*plain_lines(rows, tags), *json_lines(rows), *plain_lines(rows2, tags2)])

    batched = text()
    monkeypatch.setattr(summary_mod, "BATCH_MIN_RUNS", 10**9)
    assert text() == batched
    assert "diverged" in batched and "finished" in batched and "damaged" in batched
