"""The store's restart rule and its snapshot invariant, against direct implementations of the
rules as tfevents-format.md states them."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiboard.core.store import ScalarSeries, ValueSeries
from tuiboard.core.types import ScalarColumns, TextValue


def cols(steps: list[int], values: list[float] | None = None) -> ScalarColumns:
    n = len(steps)
    v = np.arange(n, dtype=np.float32) if values is None else np.asarray(values, np.float32)
    return ScalarColumns(
        np.asarray(steps, np.int64),
        np.arange(n, dtype=np.float64) + 1e9,
        v,
        np.arange(n, dtype=np.int64),
    )


def rustboard_rule(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """RustBoard, literally: each point at step s removes every earlier point at a step >= s."""
    out: list[tuple[int, float]] = []
    for s, v in points:
        out = [p for p in out if p[0] < s]
        out.append((s, v))
    return out


batches = st.lists(
    st.lists(st.integers(min_value=0, max_value=60), min_size=0, max_size=25),
    min_size=1,
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(batches)
def test_clean_line_equals_rustboard_rule(step_batches: list[list[int]]) -> None:
    series = ScalarSeries()
    written: list[tuple[int, float]] = []
    k = 0
    for steps in step_batches:
        values = [float(k + i) for i in range(len(steps))]
        k += len(steps)
        series.append(cols(steps, values))
        written += list(zip(steps, values, strict=True))
        clean = series.snapshot()
        expect = rustboard_rule(written)
        assert clean.step.tolist() == [s for s, _ in expect]
        assert clean.value.tolist() == [v for _, v in expect]
        raw = series.snapshot(raw=True)
        assert raw.step.tolist() == [s for s, _ in written]


@settings(max_examples=200, deadline=None)
@given(batches, st.integers(min_value=0, max_value=60))
def test_purge_drops_points_at_or_after_start(step_batches: list[list[int]], start: int) -> None:
    series = ScalarSeries()
    written: list[tuple[int, float]] = []
    for steps in step_batches:
        series.append(cols(steps))
        written += [(s, float(i)) for i, s in enumerate(steps)]
    before = series.snapshot()
    series.purge_from(start)
    after = series.snapshot()
    expect = [s for s in before.step.tolist() if s < start]
    assert after.step.tolist() == expect
    # A snapshot taken before the purge is untouched by it.
    assert before.step.tolist() == [s for s, _ in rustboard_rule(written)]


def test_jsonl_series_keeps_every_point_in_file_order() -> None:
    series = ScalarSeries(restarts=False)
    series.append(cols([0, 10, 20, 1, 2, 30]))
    assert series.snapshot().step.tolist() == [0, 10, 20, 1, 2, 30]
    assert series.purge_from(0) is False


def test_common_case_needs_no_index_and_dtype_widens() -> None:
    series = ScalarSeries()
    series.append(cols([1, 2, 3]))
    assert series._state.keep is None
    wide = ScalarColumns(
        np.array([4], np.int64), np.array([1.0]), np.array([0.1], np.float64), np.array([0])
    )
    series.append(wide)
    snap = series.snapshot()
    assert snap.value.dtype == np.float64
    assert snap.value.tolist() == [0.0, 1.0, 2.0, 0.1]
    assert series.version == 2


def test_snapshots_are_read_only_and_consistent_under_a_writer() -> None:
    series = ScalarSeries()
    stop = threading.Event()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            s = series.snapshot()
            if len(s.step) and not (
                np.all(np.diff(s.step) > 0) and np.array_equal(s.value, s.step.astype(np.float32))
            ):
                errors.append("inconsistent snapshot")
                return

    t = threading.Thread(target=reader)
    t.start()
    step = 0
    for i in range(400):
        n = 50
        if i % 7 == 6:
            step -= 30  # a restart: cuts the clean tail
        steps = np.arange(step, step + n)
        series.append(
            ScalarColumns(steps, steps.astype(np.float64), steps.astype(np.float32), steps)
        )
        step += n
    stop.set()
    t.join()
    assert errors == []
    snap = series.snapshot()
    assert not snap.step.flags.writeable


def test_value_series_restart_rule_and_order() -> None:
    vs = ValueSeries()
    recs = [TextValue(s, 0.0, (), (str(s),)) for s in (0, 5, 10, 3, 4)]
    vs.extend(recs[:3])
    vs.extend(recs[3:])
    assert [r.step for r in vs.snapshot()] == [0, 3, 4]
    assert [r.step for r in vs.snapshot(raw=True)] == [0, 5, 10, 3, 4]
    unordered = ValueSeries(restarts=False)
    unordered.extend(recs)
    assert [r.step for r in unordered.snapshot()] == [0, 3, 4, 5, 10]
