"""core/aggregate.py and core/grouping.py: against a straightforward reference (a Python loop
per x and per run) on random data, and on runs written by tensorboardX, read back both by
tuiboard and by TensorBoard's EventAccumulator."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tests.group_runs import reference, write_seeds
from tests.reference import accumulate
from tuiboard.core.aggregate import BANDS, CENTRES, aggregate, carried
from tuiboard.core.grouping import (
    GroupSpec,
    config_key,
    group_runs,
    key_function,
    regex_key,
    settings_lookup,
)


def check(series: list[tuple[list[float], list[float]]], centre: str, band: str) -> None:
    arrays = [(np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)) for x, y in series]
    agg = aggregate(arrays, centre, band)
    union, rows = reference(series, centre, band)
    assert agg.x.tolist() == union
    assert agg.count.tolist() == [r[3] for r in rows]
    for got, i in ((agg.centre, 0), (agg.lo, 1), (agg.hi, 2)):
        want = np.array([r[i] for r in rows])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


@st.composite
def run_series(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(st.integers(0, 30))
    steps = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    if draw(st.booleans()):
        steps.sort()  # most runs are in order; some are not (JSONL lines may go backwards)
    ys = draw(st.lists(values, min_size=n, max_size=n))
    return [float(s) for s in steps], ys


@settings(max_examples=300, deadline=None)
@given(
    st.lists(run_series(), min_size=1, max_size=8),
    st.sampled_from(CENTRES),
    st.sampled_from(BANDS),
)
def test_aggregate_matches_the_reference_on_random_runs(series, centre, band) -> None:
    check(series, centre, band)


def test_values_are_carried_only_within_a_runs_range() -> None:
    a = (np.array([0.0, 10.0, 20.0]), np.array([1.0, 2.0, 3.0]))
    b = (np.array([5.0, 15.0]), np.array([10.0, 20.0]))
    agg = aggregate([a, b], "mean", "minmax")
    assert agg.x.tolist() == [0, 5, 10, 15, 20]
    # b starts at 5 and ends at 15: it counts only there; a's 1.0 is carried to 5, 2.0 to 15.
    assert agg.count.tolist() == [1, 2, 2, 2, 1]
    assert agg.centre.tolist() == [1.0, 5.5, 6.0, 11.0, 3.0]
    assert agg.lo.tolist() == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert agg.hi.tolist() == [1.0, 10.0, 10.0, 20.0, 3.0]


def test_thinned_union_keeps_real_x_values_and_both_ends() -> None:
    rng = np.random.default_rng(0)
    series = [(np.sort(rng.choice(10_000, 500, replace=False)).astype(float), rng.random(500))]
    series += [(np.arange(0, 10_000, 7, dtype=float), rng.random(1429))]
    full_x, full = carried(series)
    x, matrix = carried(series, max_cells=400)
    assert x.shape[0] == 200
    assert x[0] == full_x[0] and x[-1] == full_x[-1]
    cols = np.searchsorted(full_x, x)
    np.testing.assert_array_equal(full_x[cols], x)
    np.testing.assert_array_equal(matrix, full[:, cols])


def test_empty_and_all_nan_runs() -> None:
    assert len(aggregate([])) == 0
    agg = aggregate([(np.array([1.0, 2.0]), np.array([math.nan, math.nan]))])
    assert len(agg) == 0
    with pytest.raises(ValueError, match="centre"):
        aggregate([], centre="mode")
    with pytest.raises(ValueError, match="band"):
        aggregate([], band="ci")


# --- grouping -------------------------------------------------------------------------------------


def test_regex_key_cuts_each_match_or_its_first_group() -> None:
    seed = re.compile(r"seed=\d+")
    assert regex_key("lr=0.1_seed=1", seed) == "lr=0.1_*"
    assert regex_key("seed=3/lr=0.1_seed=12", seed) == "*/lr=0.1_*"
    assert regex_key("lr=0.1", seed) is None
    grouped = re.compile(r"run_(\d+)_")
    assert regex_key("run_7_adam", grouped) == "run_*_adam"
    assert regex_key("run__adam", re.compile(r"run_(\d*)_")) is None  # empty match: none
    names = ["a_seed=1", "b_seed=1", "a_seed=2", "c", "b_seed=9"]
    groups = group_runs(names, lambda n: regex_key(n, seed))
    assert [(g.name, g.runs) for g in groups] == [
        ("a_*", ("a_seed=1", "a_seed=2")),
        ("b_*", ("b_seed=1", "b_seed=9")),
    ]


def test_config_key_uses_config_then_hparams() -> None:
    assert config_key({"lr": 0.1}, {"opt": "adam"}, ["lr", "opt"]) == "lr=0.1, opt=adam"
    assert config_key({"lr": 0.1}, {}, ["lr", "opt"]) == "lr=0.1, opt=?"
    assert config_key({}, {}, ["lr"]) is None
    assert config_key({"flag": True, "x": None}, {}, ["flag", "x"]) == "flag=true, x=null"


def test_group_spec_parse() -> None:
    assert GroupSpec.parse("cfg: lr, opt").keys == ("lr", "opt")
    assert GroupSpec.parse(r"seed=\d+").pattern == r"seed=\d+"
    assert GroupSpec.parse("cfg:lr").describe() == "cfg:lr"
    for bad in ("(", "cfg:", "cfg: , ", ""):
        with pytest.raises(ValueError):
            GroupSpec.parse(bad)
    with pytest.raises(ValueError):
        GroupSpec(pattern="x", band="nope")


# --- real runs: tensorboardX, several seeds ---------------------------------------------------


def test_aggregate_on_tensorboardx_seeds_matches_event_accumulator(tmp_path: Path) -> None:
    write_seeds(tmp_path)
    logdir = tuiboard.open(str(tmp_path))
    names = [r.name for r in logdir.runs]
    groups = group_runs(names, key_function(GroupSpec(pattern=r"seed=\d+"), lambda n: None))
    assert sorted(g.name for g in groups) == ["lr=0.01_*", "lr=0.1_*"]
    for group in groups:
        ours = []
        theirs = []
        for name in group.runs:
            s = logdir.run(name).scalars("loss")  # type: ignore[union-attr]
            ours.append((s.step.astype(float), s.value.astype(float)))
            events = accumulate(tmp_path / name).Scalars("loss")
            theirs.append(([float(e.step) for e in events], [float(e.value) for e in events]))
        for centre in CENTRES:
            for band in BANDS:
                agg = aggregate(ours, centre, band)
                union, rows = reference(theirs, centre, band)
                assert agg.x.tolist() == union
                assert agg.count.tolist() == [r[3] for r in rows]
                np.testing.assert_allclose(agg.centre, [r[0] for r in rows], rtol=1e-12)
                np.testing.assert_allclose(agg.lo, [r[1] for r in rows], rtol=1e-12)
                np.testing.assert_allclose(agg.hi, [r[2] for r in rows], rtol=1e-12)


def test_group_by_config_keys_on_real_runs(tmp_path: Path) -> None:
    expected = write_seeds(tmp_path, seeds=3)
    logdir = tuiboard.open(str(tmp_path))
    runs = logdir.runs
    spec = GroupSpec.parse("cfg:optimizer,lr")
    groups = group_runs([r.name for r in runs], key_function(spec, settings_lookup(runs)))
    got = {g.name: set(g.runs) for g in groups}
    want: dict[str, set[str]] = {}
    for name, (lr, opt) in expected.items():
        want.setdefault(f"optimizer={opt}, lr={lr}", set()).add(name)
    assert got == want


def test_hparams_of_tensorboardx_sub_runs_count_as_the_runs(tmp_path: Path) -> None:
    """tensorboardX's add_hparams writes a timestamped sub-run: its hparams group the parent."""
    from tensorboardX import SummaryWriter

    for name, opt in (("a", "adam"), ("b", "adam"), ("c", "sgd")):
        w = SummaryWriter(str(tmp_path / name))
        w.add_scalar("loss", 1.0, 0)
        w.add_hparams({"optimizer": opt}, {"hp/loss": 1.0})
        w.close()
    logdir = tuiboard.open(str(tmp_path))
    runs = logdir.runs
    top = [r.name for r in runs if "/" not in r.name]
    groups = group_runs(top, key_function(GroupSpec(keys=("optimizer",)), settings_lookup(runs)))
    assert {g.name: g.runs for g in groups} == {
        "optimizer=adam": ("a", "b"),
        "optimizer=sgd": ("c",),
    }
