"""`tuiboard summary`: the JSON contract checked against the store and TensorBoard's own reader,
plain text, Rich table, tag choice, sorting and rates."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboardX import SummaryWriter

import tuiboard
from tests.headless.runs import T0, JsonlRun, TbRun, touch
from tests.reference import accumulate
from tuiboard.cli import main
from tuiboard.headless.summary import Summarizer, plain_lines, rich_table, sort_rows

KEYS = {
    "run",
    "path",
    "formats",
    "status",
    "statuses",
    "reason",
    "reasons",
    "last_step",
    "steps_per_s",
    "points_per_s",
    "last_write",
    "idle_s",
    "stall_after_s",
    "points",
    "warnings",
    "diverged",
    "tags",
    "time",
    "display_name",
    "exit_code",
    "summary",
}
TAG_KEYS = {"family", "last", "last_step", "best", "best_step", "points"}


def num(v: Any) -> float:
    """A number of the JSON contract back to a float ("NaN", "Infinity" are strings)."""
    return float(v)


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    for name, n in (("sweep/a", 60), ("sweep/b", 45)):
        w = SummaryWriter(str(tmp_path / name))
        for s in range(n):
            loss = float(rng.uniform(0.1, 2.0))
            if name == "sweep/b" and s == 30:
                loss = math.nan
            w.add_scalar("train/loss", loss, s * 10, walltime=T0 + s * 2.0)
            w.add_scalar("val/acc", float(rng.uniform(0, 1)), s * 10, walltime=T0 + s * 2.0)
            w.add_scalar("optim/lr", 0.1 * 0.99**s, s * 10, walltime=T0 + s * 2.0)
            w.add_scalar("grad_norm", float(rng.uniform(0, 5)), s * 10, walltime=T0 + s * 2.0)
        w.close()
        touch(tmp_path / name, T0 + (n - 1) * 2.0)
    j = JsonlRun(tmp_path / "jsonl")
    for s in range(20):
        j.log(step=s, time=T0 + s * 5, loss=1.0 / (s + 1), acc=s / 20)
    j.raw("not json\n")
    j.touch(T0 + 95)
    return tmp_path


def summary_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["summary", *args, "--json"]) == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def test_json_contract_matches_store_and_tensorboard(
    logdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = summary_json([str(logdir)], capsys)
    ld = tuiboard.open(str(logdir))
    assert [r["run"] for r in rows] == ["jsonl", "sweep/a", "sweep/b"]
    for row in rows:
        assert set(row) == KEYS
        run = ld.run(row["run"])
        assert run is not None
        assert row["path"] == run.path
        assert row["last_step"] == run.last_step
        assert row["points"] == run.point_count
        assert row["last_write"] == run.last_write
        assert row["idle_s"] == pytest.approx(row["time"] - run.last_write)
        assert row["status"] == row["statuses"][0]
        assert row["reason"] == row["reasons"][0] and len(row["reasons"]) == len(row["statuses"])
        # default columns: loss-, accuracy- and lr-like tags; grad_norm is none of them
        assert "grad_norm" not in row["tags"]
        for tag, st in row["tags"].items():
            assert set(st) == TAG_KEYS
            s = run.scalars(tag)
            assert num(st["last"]) == float(s.value[-1]) or (
                math.isnan(num(st["last"])) and math.isnan(s.value[-1])
            )
            assert st["last_step"] == int(s.step[-1])
            assert st["points"] == len(s)
            if st["family"] == "loss":
                i = int(np.nanargmin(s.value))
            elif st["family"] == "accuracy":
                i = int(np.nanargmax(s.value))
            else:
                assert st["best"] is None and st["best_step"] is None
                continue
            assert (num(st["best"]), st["best_step"]) == (float(s.value[i]), int(s.step[i]))
    by = {r["run"]: r for r in rows}
    assert set(by["sweep/a"]["tags"]) == {"train/loss", "val/acc", "optim/lr"}
    assert by["sweep/b"]["status"] == "diverged"
    assert by["sweep/b"]["diverged"] == {"tag": "train/loss", "step": 300, "value": "NaN"}
    assert by["jsonl"]["status"] == "damaged" and by["jsonl"]["warnings"] == 1
    assert by["sweep/a"]["diverged"] is None

    # independently of our reader: TensorBoard's EventAccumulator
    for name in ("sweep/a", "sweep/b"):
        acc = accumulate(logdir / name)
        for tag, st in by[name]["tags"].items():
            events = acc.Scalars(tag)
            values = np.array([e.value for e in events])
            assert st["last_step"] == events[-1].step
            last = num(st["last"])
            assert last == events[-1].value or (math.isnan(last) and math.isnan(values[-1]))
            if st["family"] == "loss":
                i = int(np.nanargmin(values))
                assert (num(st["best"]), st["best_step"]) == (values[i], events[i].step)


def test_rates(logdir: Path) -> None:
    ld = tuiboard.open(str(logdir))
    rows, _ = Summarizer().rows(ld, T0 + 200)
    by = {r.name: r for r in rows}
    a = by["sweep/a"]
    # 10 steps every 2 s; 4 tags written at the same times: 64 points span 63 intervals
    assert a.steps_per_s == pytest.approx(5.0)
    assert a.points_per_s == pytest.approx(4 * 63 / 126)
    j = by["jsonl"]
    assert j.steps_per_s == pytest.approx(1 / 5)


def test_tags_regex_and_fallback(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = summary_json([str(logdir), "--tags", "^grad|lr$", "--runs", "^sweep/"], capsys)
    assert [r["run"] for r in rows] == ["sweep/a", "sweep/b"]
    assert set(rows[0]["tags"]) == {"grad_norm", "optim/lr"}
    assert rows[0]["tags"]["grad_norm"]["family"] is None

    other = logdir.parent / "plain"
    w = SummaryWriter(str(other / "r"))
    for tag in ("zeta", "alpha", "beta", "gamma"):
        w.add_scalar(tag, 1.0, 0, walltime=T0)
    w.close()
    rows = summary_json([str(other)], capsys)
    assert list(rows[0]["tags"]) == ["alpha", "beta", "gamma"]  # the first few


def test_plain_text_is_aligned_and_sanitized(tmp_path: Path) -> None:
    evil = "evil\x1b[2J\x07"
    for name in ("ok", evil):
        run = TbRun(tmp_path / name)
        for s in range(3):
            run.scalar("loss\x1b[31m", s, 1.0 - s / 10, T0 + s)
        run.close(mtime=T0 + 2)
    ld = tuiboard.open(str(tmp_path))
    rows, tags = Summarizer().rows(ld, T0 + 10)
    lines = plain_lines(rows, tags)
    text = "\n".join(lines)
    assert "\x1b" not in text and "\x07" not in text
    assert "evil\\x1b[2J\\x07" in text
    assert lines[0].split() == [
        "RUN", "STATUS", "STEP", "STEPS/S", "PTS/S", "IDLE", "loss\\x1b[31m", "min@step", "REASON"
    ]  # fmt: skip
    # every status starts in the same column
    col = lines[0].index("STATUS")
    assert all(line[col:].startswith("live") for line in lines[1:])
    assert lines[1].split()[:8] == [
        "evil\\x1b[2J\\x07",
        "live",
        "2",
        "1",
        "1",
        "8s",
        "0.8",
        "0.8@2",
    ]

    out = io.StringIO()
    from rich.console import Console

    Console(file=out, width=200, color_system=None).print(rich_table(rows, tags))
    rendered = out.getvalue()
    assert "\x1b" not in rendered and "evil\\x1b[2J\\x07" in rendered
    assert "wrote 8s ago" in rendered


def test_sort(logdir: Path) -> None:
    ld = tuiboard.open(str(logdir))
    rows, _ = Summarizer().rows(ld, T0 + 200)
    assert [r.name for r in sort_rows(rows, "status")] == ["sweep/b", "jsonl", "sweep/a"]
    assert [r.name for r in sort_rows(rows, "-step")] == ["sweep/a", "sweep/b", "jsonl"]
    # a tag sorts best first: the JSONL run has no train/loss and goes last
    by_loss = sort_rows(rows, "train/loss")
    assert by_loss[-1].name == "jsonl"
    with pytest.raises(ValueError):
        sort_rows(rows, "nonsense")


def test_usage_errors_exit_2(logdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(logdir), "--tags", "("]) == 2
    assert "bad --tags regex" in capsys.readouterr().err
    assert main(["summary", str(logdir), "--sort", "nonsense"]) == 2
    assert main(["summary", str(logdir), "--on-alert", "true"]) == 2
    assert main(["summary", str(logdir / "missing")]) == 2


def test_summary_reflects_file_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The status of a real invocation follows the real clock and the files' times."""
    import time

    now = time.time()
    for name, age in (("fresh", 10.0), ("old", 86400.0)):
        j = JsonlRun(tmp_path / name)
        j.log(step=0, loss=1.0)
        os.utime(j.file, (now - age, now - age))
    rows = summary_json([str(tmp_path)], capsys)
    assert {r["run"]: r["status"] for r in rows} == {"fresh": "live", "old": "stalled"}


def test_a_replaced_file_is_summarized_afresh(tmp_path: Path) -> None:
    """A file rewritten shorter makes the loader read the run again into new data, whose version
    number may equal the old one: the summary must still see the new values."""
    run = JsonlRun(tmp_path / "r")
    for s in range(5):
        run.log(step=s, loss=1.0 + s, time=T0 + s)
    run.touch(T0 + 4)
    ld = tuiboard.open(str(tmp_path))
    summarizer = Summarizer()
    rows, _ = summarizer.rows(ld, T0 + 10)
    assert rows[0].tags["loss"].last == 5.0
    old_generation = rows[0].generation
    run.file.unlink()
    run.log(step=0, loss=0.25, time=T0 + 20)
    run.touch(T0 + 20)
    ld.refresh()
    rows, _ = summarizer.rows(ld, T0 + 30)
    assert (rows[0].tags["loss"].last, rows[0].facts.last_step) == (0.25, 0)
    assert rows[0].generation != old_generation
