"""`tuiboard export --kind pr_curves`: the curve itself, exactly as TensorBoard reads it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from tensorboard.util import tensor_util
from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.export import export_values

CURVE_COLUMNS = ("precision", "recall", "tp", "fp", "tn", "fn")
ROW_OF = {"tp": 0, "fp": 1, "tn": 2, "fn": 3, "precision": 4, "recall": 5}


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    w = SummaryWriter(str(tmp_path / "run"))
    for step, n in ((0, 11), (4, 127)):
        labels = rng.integers(0, 2, 200)
        # Weighted counts give fractional float32 values that must survive the round trip.
        weights = rng.random(200).astype(np.float32)
        w.add_pr_curve("pr", labels, rng.random(200), step, num_thresholds=n, weights=weights)
    ones = np.ones(5)
    w.add_pr_curve_raw("raw", ones * 3, ones, ones, ones, ones / 3, ones / 7, 1, num_thresholds=5)
    w.close()
    return tmp_path


def export(logdir: Path, fmt: str) -> str:
    """What `tuiboard export LOGDIR --kind pr_curves --format FMT` prints."""
    out = io.StringIO()
    assert export_values(tuiboard.open(str(logdir)), out, "pr_curves", fmt=fmt) == 3
    return out.getvalue()


def check_rows(rows: list[dict[str, object]], logdir: Path) -> None:
    acc = accumulate(logdir / "run")
    ref = {
        (tag, e.step): tensor_util.make_ndarray(e.tensor_proto)
        for tag in ("pr", "raw")
        for e in acc.Tensors(tag)
    }
    assert {(r["tag"], int(str(r["step"]))) for r in rows} == set(ref)
    for r in rows:
        table = ref[(str(r["tag"]), int(str(r["step"])))]
        n = table.shape[1]
        assert int(str(r["num_thresholds"])) == n
        assert json.loads(str(r["thresholds"])) == [i / (n - 1) for i in range(n)]
        for col in CURVE_COLUMNS:
            got = json.loads(str(r[col]))
            assert got == table[ROW_OF[col]].astype(np.float64).tolist()
            # Read back as float32 they are the tensor's values bit for bit.
            assert np.array_equal(np.array(got, dtype=np.float32), table[ROW_OF[col]])


def test_export_csv_has_the_curves(logdir: Path) -> None:
    out = export(logdir, "csv")
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == [
        "run",
        "tag",
        "step",
        "wall_time",
        "num_thresholds",
        "thresholds",
        "precision",
        "recall",
        "tp",
        "fp",
        "tn",
        "fn",
    ]
    rows: list[dict[str, object]] = list(reader)
    assert len(rows) == 3
    check_rows(rows, logdir)
    assert any(not float(x).is_integer() for r in rows for x in json.loads(str(r["tp"])))


def test_export_jsonl_has_the_curves(logdir: Path) -> None:
    rows = [json.loads(line) for line in export(logdir, "jsonl").splitlines()]
    assert len(rows) == 3
    check_rows(rows, logdir)
