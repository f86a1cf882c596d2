"""CSV logs as runs: files written by the real loggers (lightning's CSVLogger on its own and under
a Trainer fit on CPU; keras 3's CSVLogger with the torch backend), each in a subprocess, read back
point by point against what the script gave the logger; Lightning's rewrite of metrics.csv
replayed byte for byte under a live loader; and the damage a live file shows, in files written
by the csv module (what both loggers write with)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuiboard
from tuiboard.cli import main
from tuiboard.core import csvlog
from tuiboard.core.csvlog import CsvState, read_csv, sniff_csv_state
from tuiboard.core.discovery import discover
from tuiboard.core.logdir import Run
from tuiboard.core.types import SCALARS

LIGHTNING_SCRIPT = r"""
import json, os, shutil, sys, warnings
from pathlib import PurePosixPath
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
import lightning as L
from lightning.pytorch.loggers import CSVLogger

warnings.filterwarnings("ignore")
root = sys.argv[1]
expected = {}

# 1. The logger alone: log_hyperparams, log_metrics at explicit steps, save() every 10 steps
# (a snapshot of metrics.csv after each save), a new key from step 20 on: Lightning rewrites
# the whole file with a new header at the next save.
logger = CSVLogger(root, name="direct")
logger.log_hyperparams({
    "lr": 0.001, "betas": (0.9, 0.999), "data_dir": PurePosixPath("/data/x"),
    "model": {"layers": [64, 32], "act": "relu"}, "wd": np.float64(1e-4),
})
logged = []
special = {7: float("nan"), 8: float("inf"), 9: float("-inf")}
for step in range(30):
    row = {"train_loss": special.get(step, 1.0 / (step + 1)), "epoch": step // 10}
    if step >= 20:
        row["val_acc"] = step / 100
    logger.log_metrics(row, step=step)
    logged.append([step, row])
    if step % 10 == 9:
        logger.save()
        metrics = os.path.join(logger.log_dir, "metrics.csv")
        shutil.copy(metrics, os.path.join(root, f"snapshot{step // 10}.csv"))
expected["direct"] = {"dir": logger.log_dir, "logged": logged}

# 2. A Trainer fit on CPU: a 2-layer model; the logger records what the Trainer gives it.
class Recording(CSVLogger):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logged = []
    def log_metrics(self, metrics, step=None):
        self.logged.append([step, {k: float(v) for k, v in metrics.items()}])
        super().log_metrics(metrics, step)

class Net(L.LightningModule):
    def __init__(self, hidden=8, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.losses = []
    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=False)
        self.losses.append(loss.item())
        return loss
    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self.net(x), y))
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
fit_logger = Recording(root, name="fit")
trainer = L.Trainer(
    max_epochs=3, accelerator="cpu", logger=fit_logger, log_every_n_steps=1,
    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    num_sanity_val_steps=0,
)
model = Net()
trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=16),
            DataLoader(TensorDataset(x[:16], y[:16]), batch_size=16))
expected["fit"] = {"dir": fit_logger.log_dir, "logged": fit_logger.logged, "losses": model.losses}
with open(os.path.join(root, "expected.json"), "w") as f:
    json.dump(expected, f)
"""

KERAS_SCRIPT = r'''
import json, os, sys
import numpy as np
import keras

root = sys.argv[1]
keras.utils.set_random_seed(0)
expected = {}

class Record(keras.callbacks.Callback):
    """The logs dict CSVLogger is given at each epoch end."""
    def __init__(self, rows):
        super().__init__()
        self.rows = rows
    def on_epoch_end(self, epoch, logs=None):
        self.rows.append([epoch, {k: float(v) for k, v in (logs or {}).items()}])

def model():
    m = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)
    ])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return m

x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
fit = dict(x=x, y=y, batch_size=16, validation_split=0.25, verbose=0)

# training.log as in keras' documentation; a second fit appends (append=True: no header again)
os.makedirs(os.path.join(root, "keras_run"))
log = os.path.join(root, "keras_run", "training.log")
rows = []
m = model()
m.fit(epochs=4, callbacks=[keras.callbacks.CSVLogger(log), Record(rows)], **fit)
m.fit(epochs=2, callbacks=[keras.callbacks.CSVLogger(log, append=True), Record(rows)], **fit)
expected["keras_run"] = rows

# another name and separator; validation every 2nd epoch: keras writes NA for val_* between
os.makedirs(os.path.join(root, "keras_sep"))
log = os.path.join(root, "keras_sep", "history.csv")
rows = []
model().fit(epochs=4, validation_freq=2, **fit,
            callbacks=[keras.callbacks.CSVLogger(log, separator=";"), Record(rows)])
expected["keras_sep"] = rows
with open(os.path.join(root, "expected.json"), "w") as f:
    json.dump(expected, f)
'''


def run_script(script: str, root: Path, **env: str) -> dict[str, Any]:
    """Run a fixture script in a subprocess (its own HOME: nothing written outside `root`)."""
    path = root / "make_logs.py"
    path.write_text(script)
    logs = root / "logs"
    logs.mkdir()
    home = root / "home"
    home.mkdir()
    environ = {**os.environ, "HOME": str(home), "OMP_NUM_THREADS": "1", **env}
    done = subprocess.run(
        [sys.executable, str(path), str(logs)],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    expected: dict[str, Any] = json.loads((logs / "expected.json").read_text())
    return expected


def missing(*modules: str) -> str | None:
    """Why the real loggers cannot run here (printed as the skip reason), or None."""
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if absent:
        return (
            f"{', '.join(absent)} not installed: `pip install torch==2.13.0 lightning keras` "
            "(the CPU torch wheel) runs the real CSV loggers"
        )
    return None


@pytest.fixture(scope="module")
def lightning_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    reason = missing("torch", "lightning")
    if reason:
        print(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lightning")
    expected = run_script(LIGHTNING_SCRIPT, root)
    return root / "logs", expected


@pytest.fixture(scope="module")
def keras_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    reason = missing("torch", "keras")
    if reason:
        print(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("keras")
    expected = run_script(KERAS_SCRIPT, root, KERAS_BACKEND="torch", KERAS_HOME=str(root))
    return root / "logs", expected


def points(run: Run, tag: str) -> tuple[list[int], list[float]]:
    """A tag's points in file order."""
    got = run.scalars(tag, raw=True)
    return got.step.tolist(), got.value.astype(np.float64).tolist()


def want(logged: list[tuple[int, dict[str, float]]], tag: str) -> tuple[list[int], list[float]]:
    """The (step, value) pairs a script gave its logger for one key."""
    pairs = [(step, row[tag]) for step, row in logged if tag in row]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def same(got: tuple[list[int], list[float]], expected: tuple[list[int], list[float]]) -> None:
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])  # NaN equals NaN here, exactly otherwise


# --- Lightning ----------------------------------------------------------------------------------


def test_lightning_csvlogger_and_its_hparams(lightning_logs: tuple[Path, dict[str, Any]]) -> None:
    logs, expected = lightning_logs
    ld = tuiboard.open(str(logs))
    run = ld.run("direct/version_0")
    assert run is not None and run.formats == ("csv",)
    logged = expected["direct"]["logged"]
    assert run.tags(SCALARS) == ["epoch", "train_loss", "val_acc"]  # `step` is the step
    for tag in run.tags(SCALARS):
        same(points(run, tag), want(logged, tag))
    assert np.isnan(run.scalars("train_loss", raw=True).wall_time).all()  # no time column
    values = points(run, "train_loss")[1]
    assert math.isnan(values[7]) and values[8] == math.inf and values[9] == -math.inf
    # hparams.yaml (yaml.dump: a tuple, a path and a numpy float tagged as Python objects)
    assert run.config == {
        "lr": 0.001,
        "betas": [0.9, 0.999],
        "data_dir": "/data/x",
        "model/layers": [64, 32],
        "model/act": "relu",
        "wd": 1e-4,
    }
    assert run.warnings == ()


def test_lightning_trainer_fit(lightning_logs: tuple[Path, dict[str, Any]]) -> None:
    logs, expected = lightning_logs
    run = tuiboard.open(str(logs)).run("fit/version_0")
    assert run is not None
    logged = expected["fit"]["logged"]
    keys = sorted({key for _, row in logged for key in row})
    assert keys == ["epoch", "train_loss", "val_loss"]
    assert run.tags(SCALARS) == keys
    for tag in keys:
        same(points(run, tag), want(logged, tag))
    # what the Trainer logged is what the model computed, every step (log_every_n_steps=1)
    assert points(run, "train_loss")[1] == expected["fit"]["losses"]
    assert points(run, "epoch")[1] == [0.0] * 4 + [0.0] + [1.0] * 4 + [1.0] + [2.0] * 4 + [2.0]
    assert run.config == {"hidden": 8, "lr": 0.05}


def test_lightning_rewrite_replayed_live(
    lightning_logs: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """metrics.csv as the real logger left it after each save, written under a live loader:
    appended rows are read incrementally, a row cut mid-line waits for its end, and the
    rewrite with a new column (same inode, new header) is read again from the start."""
    logs, expected = lightning_logs
    snapshots = [(logs / f"snapshot{i}.csv").read_bytes() for i in range(3)]
    assert snapshots[1].startswith(snapshots[0])  # the second save appended
    assert not snapshots[2].startswith(snapshots[1])  # the third rewrote the header
    assert snapshots[2].splitlines()[0] == b"epoch,step,train_loss,val_acc"
    logged = expected["direct"]["logged"]
    run_dir = tmp_path / "version_0"
    run_dir.mkdir()
    metrics = run_dir / "metrics.csv"
    metrics.write_bytes(snapshots[0])
    ld = tuiboard.open(str(tmp_path))
    run = ld.run("version_0")
    assert run is not None
    same(points(run, "train_loss"), want(logged[:10], "train_loss"))
    inode = metrics.stat().st_ino
    added = snapshots[1][len(snapshots[0]) :]
    cut = added.index(b"\n", len(added) // 2) - 3  # in the middle of a row
    with metrics.open("ab") as handle:
        handle.write(added[:cut])
    ld.refresh()
    run = ld.run("version_0")
    assert run is not None
    complete = snapshots[0] + added[:cut]
    rows = complete.count(b"\n") - 1
    same(points(run, "train_loss"), want(logged[:rows], "train_loss"))
    with metrics.open("ab") as handle:
        handle.write(added[cut:])
    ld.refresh()
    run = ld.run("version_0")
    assert run is not None
    same(points(run, "train_loss"), want(logged[:20], "train_loss"))
    assert "val_acc" not in run.tags(SCALARS)
    with metrics.open("r+b") as handle:  # Lightning: open(path, "w") and write it all again
        handle.truncate(0)
        handle.write(snapshots[2])
    assert metrics.stat().st_ino == inode
    ld.refresh()
    run = ld.run("version_0")
    assert run is not None
    for tag in ("epoch", "train_loss", "val_acc"):
        same(points(run, tag), want(logged, tag))  # every point once: read again from scratch
    assert run.warnings == ()


# --- Keras --------------------------------------------------------------------------------------


def test_keras_csvlogger_training_log_appended(keras_logs: tuple[Path, dict[str, Any]]) -> None:
    logs, expected = keras_logs
    run = tuiboard.open(str(logs)).run("keras_run")
    assert run is not None and run.formats == ("csv",)
    logged = expected["keras_run"]
    assert run.tags(SCALARS) == ["loss", "mae", "val_loss", "val_mae"]  # `epoch` is the step
    for tag in run.tags(SCALARS):
        same(points(run, tag), want(logged, tag))
    assert points(run, "loss")[0] == [0, 1, 2, 3, 0, 1]  # the appended fit starts again at 0
    assert run.warnings == ()


def test_keras_separator_and_na_cells(keras_logs: tuple[Path, dict[str, Any]]) -> None:
    logs, expected = keras_logs
    text = (logs / "keras_sep" / "history.csv").read_text()
    assert ";NA;NA" in text  # keras' filler for the epochs without validation
    run = tuiboard.open(str(logs)).run("keras_sep")
    assert run is not None
    logged = expected["keras_sep"]
    for tag in ("loss", "mae", "val_loss", "val_mae"):
        same(points(run, tag), want(logged, tag))
    assert points(run, "val_loss")[0] == [1, 3]
    assert run.warnings == ()


# --- files written by the csv module (both loggers write through it) ---------------------------


def write_rows(path: Path, names: list[str], rows: list[dict[str, Any]], **dialect: Any) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=names, **dialect)
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    path.write_bytes(data)
    return data


def read_all(data: bytes, chunk: int) -> tuple[dict[str, tuple[list[int], list[float]]], Any]:
    """Feed `data` to read_csv `chunk` bytes at a time, as the loader does (an incomplete tail
    is offered again with more bytes)."""
    state = CsvState()
    out: dict[str, tuple[list[int], list[float]]] = {}
    warnings: list[Any] = []
    offset = 0
    end = 0
    while offset < len(data):
        end = min(max(end, offset) + chunk, len(data))
        consumed, parsed = read_csv(data[offset:end], offset, "f.csv", state)
        for tag, cols in parsed.scalars.items():
            steps, values = out.setdefault(tag, ([], []))
            steps.extend(cols.step.tolist())
            values.extend(cols.value.tolist())
        warnings.extend(parsed.warnings)
        offset += consumed
        if end == len(data) and consumed == 0:
            break
    return out, (state, warnings, offset)


def test_empty_cells_partial_rows_nan_spellings_and_any_chunking() -> None:
    names = ["epoch", "step", "loss", "val/acc", "note"]
    rows: list[dict[str, Any]] = [
        {"epoch": 0, "step": 0, "loss": 0.5, "note": 'a, quoted "note"'},
        {"epoch": 0, "step": 1, "val/acc": 0.25},  # a row with only some metrics
        {"epoch": 0, "step": 2, "loss": float("nan"), "val/acc": float("inf")},
        {"epoch": 1, "step": 3, "loss": float("-inf"), "val/acc": 1e-300},
        {"epoch": 1, "step": 4, "loss": 7, "val/acc": "NA"},
    ]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    data += b"1,5,NaN,Infinity,\r\n1,6,-INF,nan,\r\n"  # other writers' spellings
    for chunk in (1, 7, 64, len(data)):
        got, (state, warnings, offset) = read_all(data, chunk)
        assert offset == len(data) and warnings == [] and state.good == 7
        assert sorted(got) == ["epoch", "loss", "val/acc"]  # the text column has no numbers
        assert got["epoch"] == ([0, 1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1, 1])
        steps, values = got["loss"]
        assert steps == [0, 2, 3, 4, 5, 6]
        np.testing.assert_array_equal(values, [0.5, math.nan, -math.inf, 7, math.nan, -math.inf])
        steps, values = got["val/acc"]
        assert steps == [1, 2, 3, 5, 6]
        np.testing.assert_array_equal(values, [0.25, math.inf, 1e-300, math.inf, math.nan])


def test_garbage_rows_warn_and_the_rest_is_kept(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    path = run / "metrics.csv"
    data = write_rows(path, ["step", "loss"], [{"step": s, "loss": s / 10} for s in range(4)])
    lines = data.split(b"\r\n")
    garbage = [b"\x00\xff garbage", b"1,2,3", b'5,"unclosed', b"7"]
    path.write_bytes(b"\r\n".join(lines[:3] + garbage + lines[3:]))
    ld = tuiboard.open(str(tmp_path))
    got = ld.run("run")
    assert got is not None
    assert points(got, "loss") == ([0, 1, 2, 3], [0.0, 0.1, 0.2, 0.3])
    (warning,) = got.warnings
    assert warning.line == 4 and "4 malformed rows" in warning.message
    with path.open("ab") as handle:
        handle.write(b"oops\r\n4,0.4\r\n")
    ld.refresh()
    got = ld.run("run")
    assert got is not None
    assert points(got, "loss") == ([0, 1, 2, 3, 4], [0.0, 0.1, 0.2, 0.3, 0.4])
    (warning,) = got.warnings  # one warning, its count updated, its first line kept
    assert warning.line == 4 and "5 malformed rows" in warning.message


def test_a_new_column_rewrite_past_the_first_bytes(tmp_path: Path) -> None:
    """The loader's usual rewrite check looks at 64 bytes; a long header changes further on."""
    run = tmp_path / "run"
    run.mkdir()
    path = run / "metrics.csv"
    names = ["epoch", "step"] + [f"a_rather_long_metric_name_{i}" for i in range(4)]
    rows = [{"epoch": 0, "step": s, names[2]: s} for s in range(3)]
    write_rows(path, names, rows)
    ld = tuiboard.open(str(tmp_path))
    more = [*rows, *({"epoch": 0, "step": s, names[2]: s, "zz_new": -s} for s in range(3, 9))]
    with path.open("r+b") as handle:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=[*names, "zz_new"])
        writer.writeheader()
        writer.writerows(more)
        handle.truncate(0)
        handle.write(buffer.getvalue().encode())
    ld.refresh()
    got = ld.run("run")
    assert got is not None
    assert points(got, names[2]) == (list(range(9)), [float(s) for s in range(9)])
    assert points(got, "zz_new") == (list(range(3, 9)), [float(-s) for s in range(3, 9)])


def test_step_and_time_columns() -> None:
    names = ["iteration", "epoch", "time", "timestamp", "loss"]
    rows: list[dict[str, Any]] = [
        {"iteration": 10, "epoch": 0, "time": 0.31, "timestamp": 1_700_000_000.5, "loss": 1},
        {"iteration": "", "epoch": 1, "time": 0.29, "timestamp": "2024-01-01T00:00:00Z", "loss": 2},
        {"iteration": 12.0, "epoch": 2.5, "time": 1_700_000_002, "timestamp": "", "loss": 3},
        {"iteration": "x", "epoch": "", "time": "", "timestamp": "", "loss": 4},
    ]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    state = CsvState()
    _, parsed = read_csv(buffer.getvalue().encode(), 0, "f.csv", state)
    loss = parsed.scalars["loss"]
    # iteration when it holds an integer, else epoch, else the row's index
    assert loss.step.tolist() == [10, 1, 12, 3]
    walls = loss.wall_time.tolist()
    assert walls[0] == 1_700_000_000.5 and walls[1] == 1_704_067_200.0
    assert walls[2] == 1_700_000_002.0 and math.isnan(walls[3])
    # `time` is seconds per iteration where it is no unix time: a metric
    assert parsed.scalars["time"].value.tolist() == [0.31, 0.29]
    assert parsed.scalars["epoch"].value.tolist() == [0, 1, 2.5]
    assert "iteration" not in parsed.scalars and "timestamp" not in parsed.scalars


def test_which_files_are_runs(tmp_path: Path) -> None:
    def put(name: str, text: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())

    put("light/version_0/metrics.csv", "train_loss,val_loss\r\n0.5,\r\n")  # always
    put("light/version_0/hparams.yaml", "lr: 0.1\nbetas: !!python/tuple [0.9, 0.99]\n")
    put("keras/training.log", "epoch,loss\r\n0,0.5\r\n")
    put("keras_tab/fit.txt", "epoch\tloss\tacc\n0\t0.5\t0.1\n")
    put("yolo/results.csv", "      epoch,  train/box_loss\n      1,  0.5\n")
    put("data/table.csv", "id,name,score\n1,a,0.5\n")  # a data set: no step column
    put("data/output.log", "epoch 1 loss 0.5\nepoch 2 loss 0.4\n")  # a text log
    put("data/epoch.log", "epoch\n0\n")  # only the epoch
    put("data/empty.csv", "")
    put("data/half.csv", "step,lo")  # no complete line yet: asked again later
    cache: dict[str, bool] = {}
    runs, warnings = discover(str(tmp_path), cache)
    assert warnings == []
    assert sorted(runs) == ["keras", "keras_tab", "light/version_0", "yolo"]
    assert runs["light/version_0"].config_files == [str(tmp_path / "light/version_0/hparams.yaml")]
    assert str(tmp_path / "data/half.csv") not in cache
    assert sniff_csv_state(str(tmp_path / "data/half.csv")) is None
    ld = tuiboard.open(str(tmp_path))
    yolo = ld.run("yolo")
    keras_tab = ld.run("keras_tab")
    light = ld.run("light/version_0")
    assert yolo is not None and keras_tab is not None and light is not None
    assert points(yolo, "train/box_loss") == ([1], [0.5])
    assert points(keras_tab, "acc") == ([0], [0.1])
    assert points(light, "train_loss") == ([0], [0.5])  # no step column: the row index
    assert light.config == {"lr": 0.1, "betas": [0.9, 0.99]}


def test_header_only_bom_and_blank_lines(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    path = run / "metrics.csv"
    path.write_bytes(b"\xef\xbb\xbfepoch,step,loss\r\n")
    ld = tuiboard.open(str(tmp_path))
    got = ld.run("run")
    assert got is not None and got.tags(SCALARS) == [] and got.warnings == ()
    with path.open("ab") as handle:
        handle.write(b"\r\n0,5,0.5\r\n\r\n0,6,0.25\r\n")
    ld.refresh()
    got = ld.run("run")
    assert got is not None and got.warnings == ()
    assert points(got, "loss") == ([5, 6], [0.5, 0.25])


def test_headless_commands_on_a_lightning_run(
    lightning_logs: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    logs, expected = lightning_logs
    assert main(["ls", str(logs), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    runs = {run["name"]: run for run in listing["runs"]}
    assert runs["direct/version_0"]["formats"] == ["csv"]
    assert main(["export", str(logs), "--runs", "^fit/", "--tags", "^val_loss$"]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    wanted = want(expected["fit"]["logged"], "val_loss")
    assert [int(row["step"]) for row in exported] == wanted[0]
    assert [float(row["value"]) for row in exported] == wanted[1]


cells = st.one_of(
    st.just(""),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NA", "nan", "-inf", "Infinity", "x"]),
)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(["step", "epoch", "loss", "val/acc", "lr-Adam", "iter"]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=12),
    words=st.booleans(),
    chunk=st.integers(1, 200),
)
def test_both_paths_agree_with_the_rules(
    names: list[str], rows: list[list[Any]], words: bool, chunk: int
) -> None:
    if not words:  # numbers and empty cells only, as Lightning writes: the numpy path
        rows = [[c if not isinstance(c, str) or c == "" else "" for c in row] for row in rows]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(names)
    writer.writerows([row[: len(names)] for row in rows])
    data = buffer.getvalue().encode()
    # the rules, written out over csv.reader
    table = list(csv.reader(io.StringIO(data.decode())))
    steps_in = [
        n for n in ("step", "_step", "global_step", "iteration", "iter", "epoch") if n in names
    ]
    want_points: dict[str, tuple[list[int], list[float]]] = {}
    for index, row in enumerate(table[1:]):
        step = index
        for name in steps_in:
            try:
                number = float(row[names.index(name)])
            except ValueError:
                continue
            if number.is_integer() and abs(number) < 9.2e18:
                step = int(number)
                break
        for name, cell in zip(names, row, strict=True):
            if steps_in and name == steps_in[0]:
                continue
            try:
                number = float(cell)
            except ValueError:
                continue
            pair = want_points.setdefault(name, ([], []))
            pair[0].append(step)
            pair[1].append(number)
    got, (_, warnings, offset) = read_all(data, chunk)
    assert offset == len(data) and warnings == []
    assert sorted(got) == sorted(want_points)
    for name, (steps, values) in want_points.items():
        assert got[name][0] == steps
        np.testing.assert_array_equal(got[name][1], values)
    body = data[data.index(b"\n") + 1 :]
    if not words and body and b'"' not in body:  # (csv writes a lone empty field as "")
        assert csvlog._fast_table(body, ",", len(names)) is not None
