"""The HParams table (tuiboard.core.hparams) on logs of real writers: tensorboardX's
`add_hparams`, TensorBoard's own TF2 `summary_v2` protos, our EventWriter and JSONL runs with
configs. Expected values come from TensorBoard: EventAccumulator + plugin_data_pb2 for the
values as written, and its hparams plugin backend (list_session_groups) for the sessions,
metrics and statuses it would show."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.hparams import (
    BOOL,
    HPARAM,
    METRIC,
    NUMBER,
    STRING,
    HParamsTable,
    build_table,
    to_csv,
)
from tuiboard.writer import EventWriter, JsonlWriter

# --- TensorBoard as the reference ----------------------------------------------------------------

TB_STATUS = {
    api_pb2.STATUS_UNKNOWN: "unknown",
    api_pb2.STATUS_SUCCESS: "success",
    api_pb2.STATUS_FAILURE: "failure",
    api_pb2.STATUS_RUNNING: "running",
}


def proto_value(v: Any) -> Any:
    """A google.protobuf.Value as the Python value it holds."""
    return getattr(v, v.WhichOneof("kind"))


def tb_written(run_dir: Path) -> dict[str, Any]:
    """What a run's hparams tags hold, parsed by EventAccumulator + HParamsPluginData."""
    acc = accumulate(run_dir)
    contents = acc.PluginTagToContent("hparams")
    out: dict[str, Any] = {}
    for content in contents.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        kind = data.WhichOneof("data")
        if kind == "session_start_info":
            out["hparams"] = {k: proto_value(v) for k, v in data.session_start_info.hparams.items()}
        elif kind == "session_end_info":
            out["status"] = data.session_end_info.status
        elif kind == "experiment":
            out["metrics"] = [m.name.tag for m in data.experiment.metric_infos]
    out["last"] = {tag: acc.Scalars(tag)[-1].value for tag in acc.Tags()["scalars"]}
    return out


def tb_sessions(logdir: Path) -> dict[str, dict[str, Any]]:
    """TensorBoard's hparams plugin backend on `logdir`: session name -> hparams, status and
    metric values ("group/tag" -> value), as its ListSessionGroups answers."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import backend_context, list_session_groups

    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    ctx = backend_context.Context(base_plugin.TBContext(data_provider=provider, logdir=str(logdir)))
    request = api_pb2.ListSessionGroupsRequest(
        allowed_statuses=list(TB_STATUS), start_index=0, slice_size=10_000
    )
    response = list_session_groups.Handler(context.RequestContext(), ctx, "", request).run()
    out = {}
    for group in response.session_groups:
        for s in group.sessions:
            metrics = {
                (f"{m.name.group}/{m.name.tag}" if m.name.group else m.name.tag): m.value
                for m in s.metric_values
            }
            out[s.name] = {
                "group": group.name,
                "hparams": {k: proto_value(v) for k, v in group.hparams.items()},
                "status": TB_STATUS[s.status],
                "metrics": metrics,
            }
    return out


def assert_same_as_tb(table: HParamsTable, logdir: Path) -> None:
    want = tb_sessions(logdir)
    got = {r.run: r for r in table.rows if r.session}
    assert set(got) == set(want)
    for name, w in want.items():
        row = got[name]
        assert row.hparams == w["hparams"], name
        assert row.status == w["status"], name
        assert row.group == w["group"], name
        assert set(row.metrics) == set(w["metrics"]), name
        for k, v in w["metrics"].items():
            assert row.metrics[k] == pytest.approx(v, rel=0, abs=0), (name, k)


# --- writers -------------------------------------------------------------------------------------

TRIALS: list[dict[str, Any]] = [
    {"lr": 0.1, "layers": 2, "optimizer": "sgd", "nesterov": True},
    {"lr": 0.01, "layers": 4, "optimizer": "adam", "nesterov": False},
    {"lr": 0.001, "layers": 8, "optimizer": "adam", "nesterov": True},
]


def write_tbx(logdir: Path) -> list[Path]:
    """Three runs as people write them with tensorboardX: scalars while training, then
    add_hparams (a timestamped sub-run with the three hparams tags and the metric scalars)."""
    for i, hparams in enumerate(TRIALS):
        with SummaryWriter(str(logdir / f"trial{i}")) as w:
            for step in range(5):
                w.add_scalar("train/loss", 1.0 / (step + 1 + i), step)
            w.add_hparams(hparams, {"hparam/accuracy": 0.5 + i / 10, "hparam/loss": 1.0 / (i + 2)})
    return sorted(p.parent for p in logdir.glob("trial*/*/*tfevents*"))


@pytest.fixture(scope="module")
def tbx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logdir = tmp_path_factory.mktemp("tbx")
    write_tbx(logdir)
    return logdir


def summary_event(summary: summary_pb2.Summary, step: int = 0) -> event_pb2.Event:
    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def session_end_summary(status: int) -> summary_pb2.Summary:
    """What the TF1 `session_end_pb` writes (that module needs TensorFlow; the proto doesn't)."""
    data = plugin_data_pb2.HParamsPluginData(
        session_end_info=plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time()),
        version=hp_metadata.PLUGIN_DATA_VERSION,
    )
    s = summary_pb2.Summary()
    s.value.add(
        tag=hp_metadata.SESSION_END_INFO_TAG,
        metadata=hp_metadata.create_summary_metadata(data),
    )
    return s


def scalar_summary(tag: str, value: float) -> summary_pb2.Summary:
    s = summary_pb2.Summary()
    s.value.add(tag=tag, simple_value=value)
    return s


def write_tf2(logdir: Path, with_experiment: bool) -> None:
    """TF2's layout: `hp.hparams_config` in the root run, each trial a run with `hp.hparams`
    and its metrics in sub-runs (Keras: trial/train, trial/validation)."""
    if with_experiment:
        w = EventFileWriter(str(logdir))
        config = hp.hparams_config_pb(
            hparams=[hp.HParam("lr", hp.RealInterval(1e-4, 1e-1)), hp.HParam("units")],
            metrics=[hp.Metric("epoch_loss", group="validation"), hp.Metric("score")],
        )
        w.add_event(summary_event(config))
        w.close()
    statuses = [api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING]
    for i, status in enumerate(statuses):
        trial = logdir / f"run-{i}"
        w = EventFileWriter(str(trial))
        hparams = {"lr": 10.0 ** -(i + 1), "units": 16 * (i + 1), "dropout": bool(i % 2)}
        w.add_event(summary_event(hp.hparams_pb(hparams, trial_id=f"trial-{i}")))
        w.add_event(summary_event(scalar_summary("score", 0.1 * i)))
        w.add_event(summary_event(session_end_summary(status)))
        w.close()
        for sub, scale in (("train", 1.0), ("validation", 2.0)):
            sw = EventFileWriter(str(trial / sub))
            for step in range(3):
                sw.add_event(
                    summary_event(scalar_summary("epoch_loss", scale / (step + 1 + i)), step)
                )
            sw.close()


# --- tensorboardX --------------------------------------------------------------------------------


def test_tensorboardx_values_as_tensorboard_reads_them(tbx_dir: Path) -> None:
    table = build_table(tuiboard.open(str(tbx_dir)))
    sessions = sorted(p.parent for p in tbx_dir.glob("trial*/*/*tfevents*"))
    assert [r.run for r in table.rows] == [str(p.relative_to(tbx_dir)) for p in sessions]
    for row, run_dir in zip(table.rows, sessions, strict=True):
        written = tb_written(run_dir)
        assert row.hparams == written["hparams"]
        # bool stays bool, str stays str, int becomes the float tensorboardX wrote.
        assert {type(v) for v in row.hparams.values()} == {float, str, bool}
        assert row.status == TB_STATUS[written["status"]] == "success"
        assert list(row.metrics) == written["metrics"] == ["hparam/accuracy", "hparam/loss"]
        for tag in written["metrics"]:
            assert row.metrics[tag] == written["last"][tag]
    assert_same_as_tb(table, tbx_dir)


def test_tensorboardx_columns(tbx_dir: Path) -> None:
    table = build_table(tuiboard.open(str(tbx_dir)))
    kinds = {c.name: (c.role, c.kind) for c in table.columns}
    assert kinds == {
        "layers": (HPARAM, NUMBER),
        "lr": (HPARAM, NUMBER),
        "nesterov": (HPARAM, BOOL),
        "optimizer": (HPARAM, STRING),
        "hparam/accuracy": (METRIC, NUMBER),
        "hparam/loss": (METRIC, NUMBER),
    }
    assert [c.name for c in table.columns][-2:] == ["hparam/accuracy", "hparam/loss"]
    lr = table.column("lr")
    np.testing.assert_array_equal(lr.values, [0.1, 0.01, 0.001])
    np.testing.assert_array_equal(table.column("nesterov").values, [1.0, 0.0, 1.0])
    assert list(table.column("nesterov").text) == ["true", "false", "true"]
    assert list(table.order("lr")) == [2, 1, 0]
    assert list(table.order("optimizer")) == [1, 2, 0]


def test_torch_style_bool_shows_as_written(tmp_path: Path) -> None:
    # torch.utils.tensorboard's hparams() tests int/float before bool, so True is written as
    # number_value 1.0: the same bytes tensorboardX writes for 1.0.
    for i, flag in enumerate((1.0, 0.0)):
        with SummaryWriter(str(tmp_path / f"r{i}")) as w:
            w.add_hparams({"amp": flag, "lr": 0.1}, {"hparam/acc": 0.5})
    table = build_table(tuiboard.open(str(tmp_path)))
    amp = table.column("amp")
    assert amp.kind == NUMBER
    assert [r.hparams["amp"] for r in table.rows] == [1.0, 0.0]
    for row in table.rows:
        assert row.hparams == tb_written(tmp_path / row.run)["hparams"]
    assert [c.name for c in table.hparam_columns] == ["amp", "lr"]  # differing first
    assert table.column("amp").differs and not table.column("lr").differs


# --- TensorBoard's TF2 summaries -----------------------------------------------------------------


def test_tf2_experiment_with_metric_groups(tmp_path: Path) -> None:
    write_tf2(tmp_path, with_experiment=True)
    table = build_table(tuiboard.open(str(tmp_path)))
    assert [r.run for r in table.rows] == ["run-0", "run-1", "run-2"]
    assert [r.status for r in table.rows] == ["success", "failure", "running"]
    assert [r.group for r in table.rows] == ["trial-0", "trial-1", "trial-2"]
    assert [c.name for c in table.metric_columns] == ["validation/epoch_loss", "score"]
    assert table.rows[1].metrics == {"validation/epoch_loss": 0.5, "score": pytest.approx(0.1)}
    assert_same_as_tb(table, tmp_path)


def test_tf2_without_experiment_infers_metrics_from_sub_runs(tmp_path: Path) -> None:
    write_tf2(tmp_path, with_experiment=False)
    table = build_table(tuiboard.open(str(tmp_path)))
    assert [c.name for c in table.metric_columns] == [
        "score",
        "train/epoch_loss",
        "validation/epoch_loss",
    ]
    assert table.rows[2].hparams == {"lr": pytest.approx(1e-3), "units": 48.0, "dropout": False}
    assert_same_as_tb(table, tmp_path)


# --- our writer: statuses ------------------------------------------------------------------------


def test_statuses_and_the_running_guess(tmp_path: Path) -> None:
    for name, status in (("ok", 1), ("bad", 2), ("live", 3), ("odd", 0), ("open", None)):
        w = EventWriter(str(tmp_path / name))
        w.add_hparams({"lr": 0.1}, ["loss"], group_name=f"g-{name}")
        w.add_scalar("loss", 0.5, 1)
        if status is not None:
            w.end_hparams(status)
        w.close()
    ld = tuiboard.open(str(tmp_path))
    now = max(r.last_write for r in ld.runs)
    table = build_table(ld, now=now + 10)
    got = {r.run: r.status for r in table.rows}
    assert got == {
        "ok": "success",
        "bad": "failure",
        "live": "running",
        "odd": "unknown",
        "open": "running",
    }
    assert build_table(ld, now=now + 3600).rows[4].status == "unknown"  # "open": stale
    assert [r.group for r in table.rows] == ["g-bad", "g-live", "g-odd", "g-ok", "g-open"]
    assert all(r.metrics == {"loss": 0.5} for r in table.rows)
    mask = table.filter(statuses={"success", "failure"})
    assert [table.rows[i].run for i in np.flatnonzero(mask)] == ["bad", "ok"]


# --- JSONL runs with configs ---------------------------------------------------------------------


def write_jsonl(
    logdir: Path, name: str, config: dict[str, Any] | None, losses: list[float]
) -> None:
    with JsonlWriter(str(logdir / name)) as w:
        for step, loss in enumerate(losses):
            w.log(step, {"train/loss": loss, "val/Acc": 1 - loss, "lr": 0.1, "grad_norm": 2.0})
        if config is not None:
            w.write_config(config, "config.yaml")


def test_jsonl_run_with_config(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path, "a", {"optimizer": {"lr": 3e-4, "name": "adamw"}, "epochs": 10}, [0.9, 0.4]
    )
    write_jsonl(tmp_path, "no_config", None, [0.5])
    wandb = tmp_path / "b" / "files"
    write_jsonl(tmp_path, "b/files", None, [0.8, 0.7, 0.2])
    (wandb / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "wandb_version": 1,
                "_wandb": {"desc": None, "value": {"cli_version": "0.16.0"}},
                "optimizer": {"desc": None, "value": {"lr": 1e-3, "name": "adamw"}},
                "epochs": {"desc": None, "value": 20},
            }
        )
    )
    table = build_table(tuiboard.open(str(tmp_path)))
    assert [r.run for r in table.rows] == ["a", "b/files"]
    a, b = table.rows
    assert a.hparams == {"optimizer/lr": 3e-4, "optimizer/name": "adamw", "epochs": 10}
    assert b.hparams == {"optimizer/lr": 1e-3, "optimizer/name": "adamw", "epochs": 20}
    assert not a.session and a.group == "a"
    assert a.metrics == {"train/loss": 0.4, "val/Acc": pytest.approx(0.6)}
    assert b.metrics == {"train/loss": 0.2, "val/Acc": pytest.approx(0.8)}
    assert [c.name for c in table.hparam_columns] == ["epochs", "optimizer/lr", "optimizer/name"]
    assert not table.column("optimizer/name").differs
    assert [
        r.status for r in build_table(tuiboard.open(str(tmp_path)), now=time.time() + 86400).rows
    ] == [
        "unknown",
        "unknown",
    ]


# --- sorting and filtering -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> HParamsTable:
    logdir = tmp_path_factory.mktemp("sweep")
    configs: list[dict[str, Any]] = [
        {"lr": 0.1, "opt": "sgd", "seed": 0, "warmup": True},
        {"lr": 0.001, "opt": "adam", "seed": 0},
        {"opt": "Adam", "seed": 0, "warmup": False},
        {"lr": 0.01, "opt": "adamw", "seed": 0, "warmup": True},
        {"lr": 1.0, "seed": 0, "warmup": False},
    ]
    for i, config in enumerate(configs):
        write_jsonl(logdir, f"r{i}", config, [0.5, [0.3, 0.2, 0.9, 0.1, math.nan][i]])
    return build_table(tuiboard.open(str(logdir)), now=time.time() + 86400)


def test_numeric_sort_missing_last(sweep: HParamsTable) -> None:
    assert list(sweep.order("lr")) == [1, 3, 0, 4, 2]
    assert list(sweep.order("lr", descending=True)) == [4, 0, 3, 1, 2]
    # The NaN loss of r4 sorts last both ways, as a missing value does.
    assert list(sweep.order("train/loss")) == [3, 1, 0, 2, 4]
    assert list(sweep.order("train/loss", descending=True)) == [2, 0, 1, 3, 4]
    assert list(sweep.order("warmup")) == [2, 4, 0, 3, 1]
    assert list(sweep.order("warmup", descending=True)) == [0, 3, 2, 4, 1]


def test_string_sort(sweep: HParamsTable) -> None:
    assert sweep.column("opt").kind == STRING
    assert list(sweep.order("opt")) == [2, 1, 3, 0, 4]  # code point order: "Adam" < "adam"
    assert list(sweep.order("opt", descending=True)) == [0, 3, 1, 2, 4]
    assert list(sweep.order("run", descending=True)) == [4, 3, 2, 1, 0]


def test_differing_columns_first(sweep: HParamsTable) -> None:
    assert [c.name for c in sweep.hparam_columns] == ["lr", "opt", "warmup", "seed"]
    assert [c.differs for c in sweep.hparam_columns] == [True, True, True, False]
    assert [c.name for c in sweep.metric_columns] == ["train/loss", "val/Acc"]


def test_filters(sweep: HParamsTable) -> None:
    def runs(mask: np.ndarray) -> list[str]:
        return [sweep.rows[i].run for i in np.flatnonzero(mask)]

    assert runs(sweep.filter({"opt": "^adam"})) == ["r1", "r3", "r4"]  # r4: no opt, passes
    assert runs(sweep.filter({"opt": "^adam"}, exclude_missing=True)) == ["r1", "r3"]
    assert runs(sweep.filter({"opt": ""})) == ["r0", "r1", "r2", "r3", "r4"]
    assert runs(sweep.filter(ranges={"lr": (0.005, 0.5)})) == ["r0", "r2", "r3"]
    assert runs(sweep.filter(ranges={"lr": (None, 0.01)}, exclude_missing=True)) == ["r1", "r3"]
    assert runs(sweep.filter(ranges={"train/loss": (0.15, None)})) == ["r0", "r1", "r2"]
    assert runs(sweep.filter({"lr": r"^0\.0"})) == ["r1", "r2", "r3"]  # numbers as written
    assert runs(sweep.filter({"run": "[13]"}, {"lr": (0, 1)}, {"unknown"})) == ["r1", "r3"]
    assert runs(sweep.filter(statuses=set())) == []
    with pytest.raises(ValueError):
        sweep.filter(ranges={"opt": (0, 1)})


def test_sort_and_filter_of_a_thousand_rows_are_fast(sweep: HParamsTable) -> None:
    from tuiboard.core.hparams import _table

    rng = np.random.default_rng(0)
    rows = [
        type(sweep.rows[0])(
            f"run{i:04d}",
            f"run{i:04d}",
            {f"h{k}": float(rng.uniform()) for k in range(20)}
            | {f"s{k}": f"v{rng.integers(50)}" for k in range(5)},
            "success",
            {f"m{k}": float(rng.uniform()) for k in range(5)},
        )
        for i in range(1000)
    ]
    table = _table(rows, [])
    t = time.perf_counter()
    for c in table.columns:
        table.order(c.name, descending=True)
    table.filter({"s0": "v1", "s1": "^v[0-3]"}, {"h0": (0.2, 0.8), "m0": (None, 0.5)}, {"success"})
    per_op = (time.perf_counter() - t) / (len(table.columns) + 1)
    assert per_op < 0.05


# --- CSV, iterable sources, the import contract ---------------------------------------------------


def test_csv(sweep: HParamsTable) -> None:
    out = io.StringIO()
    to_csv(sweep, sweep.order("lr"), out)
    got = list(csv.reader(io.StringIO(out.getvalue())))
    assert got[0] == ["run", "status", "lr", "opt", "warmup", "seed", "train/loss", "val/Acc"]
    assert got[1] == ["r1", "unknown", "0.001", "adam", "", "0", "0.2", "0.8"]
    assert got[-1] == ["r2", "unknown", "", "Adam", "false", "0", "0.9", "0.09999999999999998"]
    assert len(got) == 6


def test_runs_as_source_and_json_safe_rows(tbx_dir: Path) -> None:
    ld = tuiboard.open(str(tbx_dir))
    subset = [r for r in ld.runs if r.name.startswith("trial1")]
    table = build_table(subset)
    assert [r.run for r in table.rows] == [subset[1].name]
    assert json.loads(json.dumps(table.rows[0].hparams)) == table.rows[0].hparams


def test_core_hparams_imports_no_ui(tbx_dir: Path) -> None:
    code = f"""
import sys, io, tuiboard
from tuiboard.core.hparams import build_table, to_csv
t = build_table(tuiboard.open({str(tbx_dir)!r}))
to_csv(t, t.order("lr"), io.StringIO())
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))))
"""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""
