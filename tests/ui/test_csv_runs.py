"""Pilot test: Lightning CSVLogger runs (metrics.csv written as its ExperimentWriter writes it,
hparams.yaml as its save_hparams_to_yaml writes it) in the app: run list, charts, HParams rows.
Expected values are the rows written here."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

import tuiboard
from tests.ui.conftest import make_app, started
from tests.ui.test_live import wait_for
from tuiboard.ui.widgets.run_panel import RunTree
from tuiboard.ui.widgets.scalar_chart import ScalarChart, chart_series
from tuiboard.ui.widgets.scalars_view import ScalarsView

SIZE = (160, 45)
pytestmark = pytest.mark.anyio


def lightning_run(root: Path, version: int, lr: float) -> list[dict[str, float]]:
    """What lightning's ExperimentWriter.save() writes: csv.DictWriter, sorted keys, empty
    cells for the keys a row lacks, `\\r\\n`; and yaml.dump of the hyper-parameters."""
    run = root / "lightning_logs" / f"version_{version}"
    run.mkdir(parents=True)
    rows: list[dict[str, float]] = []
    for step in range(40):
        rows.append({"train_loss": lr * 100 / (step + 1), "epoch": step // 10, "step": step})
        if step % 10 == 9:
            rows.append({"val_loss": lr * 50 / (step + 1), "epoch": step // 10, "step": step})
    keys = sorted({key for row in rows for key in row})
    with (run / "metrics.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    with (run / "hparams.yaml").open("w") as handle:
        yaml.dump({"lr": lr, "betas": (0.9, 0.999), "hidden": 32}, handle)
    return rows


async def test_lightning_runs_in_the_app(tmp_path: Path) -> None:
    from tuiboard.ui.widgets.hparams_view import HParamsView

    written = {
        f"lightning_logs/version_{v}": lightning_run(tmp_path, v, lr)
        for v, lr in ((0, 0.1), (1, 0.01))
    }
    logdir = tuiboard.open(str(tmp_path))
    async with make_app(logdir).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        tree = app.query_one(RunTree)
        assert set(written) <= set(tree._run_nodes)
        charts = {c.tag for c in app.query_one(ScalarsView).query(ScalarChart)}
        assert charts == {"epoch", "train_loss", "val_loss"}
        for tag in charts:
            prepared, _ = chart_series(app.board, tag)
            assert sorted(p.run for p in prepared) == sorted(written)
        app.action_show_tab("hparams")
        hp = app.query_one(HParamsView)
        await wait_for(pilot, lambda: hp.built > 0)
        table = hp.table_data
        assert table is not None
        rows = {table.rows[i].run: table.rows[i] for i in hp.shown_rows}
        assert sorted(rows) == sorted(written)
        for run, row in rows.items():
            assert row.hparams["lr"] == (0.1 if run.endswith("0") else 0.01)
            assert row.hparams["betas"] == [0.9, 0.999]  # a tagged tuple in the yaml
            last_val = [r["val_loss"] for r in written[run] if "val_loss" in r][-1]
            assert row.metrics["val_loss"] == last_val
