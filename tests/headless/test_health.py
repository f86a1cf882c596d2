"""Run health from real files and a clock the tests control: every status and its transitions."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

import tuiboard
from tests.headless.runs import T0, JsonlRun, TbRun, touch
from tuiboard.core.types import SESSION_START, SESSION_STOP
from tuiboard.headless.health import (
    DAMAGED,
    DIVERGED,
    FINISHED,
    LIVE,
    STALLED,
    Health,
    assess,
    parse_duration,
    run_facts,
    stall_limit,
    tag_family,
)


def health_of(ld: tuiboard.Logdir, name: str, now: float, **kw: float) -> Health:
    run = ld.run(name)
    assert run is not None, [r.name for r in ld.runs]
    return assess(run_facts(run), now, **kw)


def write_steady(path: Path, n: int, every: float, start: float = T0) -> TbRun:
    run = TbRun(path)
    for i in range(n):
        run.scalar("train/loss", i, 1.0 / (i + 1), start + i * every)
        run.scalar("val/acc", i, i / n, start + i * every)
    run.flush(mtime=start + (n - 1) * every)
    return run


def test_stall_limit_is_ten_median_intervals(tmp_path: Path) -> None:
    write_steady(tmp_path / "slow", 20, every=60.0)  # median 60 s -> limit 600 s
    last = T0 + 19 * 60
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "slow", last + 599)
    assert (h.status, h.statuses, h.stall_after) == (LIVE, (LIVE,), 600.0)
    assert h.reason == "wrote 9m59s ago"
    h = health_of(ld, "slow", last + 601)
    assert (h.status, h.statuses) == (STALLED, (STALLED,))
    assert h.reason == "no new data for 10m01s (limit 10m)"
    assert h.idle == pytest.approx(601)
    assert (h.tag, h.step) == ("train/loss", 19)
    assert h.value == pytest.approx(1 / 20)


def test_stall_limit_is_at_least_five_minutes(tmp_path: Path) -> None:
    write_steady(tmp_path / "fast", 30, every=1.0)
    last = T0 + 29
    ld = tuiboard.open(str(tmp_path))
    run = ld.run("fast")
    assert run is not None
    facts = run_facts(run)
    assert facts.median_interval == pytest.approx(1.0)
    assert stall_limit(facts) == 300.0
    assert assess(facts, last + 299).status == LIVE
    assert assess(facts, last + 301).status == STALLED
    # --stall-after overrides the rule, both ways
    assert assess(facts, last + 61, stall_after=60).status == STALLED
    assert assess(facts, last + 301, stall_after=3600).status == LIVE


def test_transitions_live_stalled_live_diverged_finished(tmp_path: Path) -> None:
    run = TbRun(tmp_path / "job")
    for i in range(10):
        run.scalar("loss", i, 1.0 - i / 20, T0 + i * 10)
    run.flush(mtime=T0 + 90)
    ld = tuiboard.open(str(tmp_path))
    assert health_of(ld, "job", T0 + 100).statuses == (LIVE,)
    assert health_of(ld, "job", T0 + 90 + 301).statuses == (STALLED,)

    # new data: live again
    for i in range(10, 20):
        run.scalar("loss", i, 1.0 - i / 40, T0 + 400 + i * 10)
    run.flush(mtime=T0 + 590)
    ld.refresh()
    assert health_of(ld, "job", T0 + 600).statuses == (LIVE,)

    # a NaN in a loss-like tag: diverged (and still live), from its first step
    run.scalar("loss", 20, math.nan, T0 + 600)
    run.scalar("loss", 21, math.inf, T0 + 610)
    run.flush(mtime=T0 + 610)
    ld.refresh()
    h = health_of(ld, "job", T0 + 615)
    assert h.statuses == (DIVERGED, LIVE)
    assert h.reason == "NaN in loss at step 20"
    assert (h.tag, h.step) == ("loss", 20) and h.value is not None and math.isnan(h.value)

    # the writer closes the session: finished, never stalled however long it stays quiet
    run.session(SESSION_STOP, 21, T0 + 611)
    run.close(mtime=T0 + 611)
    ld.refresh()
    h = health_of(ld, "job", T0 + 86400 * 30)
    assert h.statuses == (DIVERGED, FINISHED)
    assert health_of(ld, "job", T0 + 620).statuses == (DIVERGED, FINISHED)


def test_finished_then_a_new_session_is_live(tmp_path: Path) -> None:
    run = TbRun(tmp_path / "job")
    run.session(SESSION_START, 0, T0)
    for i in range(5):
        run.scalar("loss", i, 1.0, T0 + i)
    run.session(SESSION_STOP, 4, T0 + 5)
    run.close(mtime=T0 + 5)
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "job", T0 + 10_000)
    assert (h.status, h.reason) == (FINISHED, "SessionLog STOP at step 4")
    # resumed an hour later in a new file: its points are newer than the STOP
    again = TbRun(tmp_path / "job")
    again.scalar("loss", 5, 0.5, T0 + 3600)
    again.flush()
    for f in os.listdir(tmp_path / "job"):
        os.utime(tmp_path / "job" / f, (T0 + 3600, T0 + 3600))
    ld.refresh()
    assert health_of(ld, "job", T0 + 3610).statuses == (LIVE,)
    assert health_of(ld, "job", T0 + 3600 + 301).statuses == (STALLED,)
    again.close()


def test_restart_from_checkpoint_clears_divergence(tmp_path: Path) -> None:
    """The clean line decides: a START that purges the NaN steps ends the divergence."""
    run = TbRun(tmp_path / "job")
    run.session(SESSION_START, 0, T0)
    for i in range(10):
        run.scalar("loss", i, math.nan if i >= 6 else 1.0, T0 + i)
    run.close(mtime=T0 + 9)
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "job", T0 + 10)
    assert h.status == DIVERGED and h.step == 6
    again = TbRun(tmp_path / "job")
    again.session(SESSION_START, 5, T0 + 100)
    for i in range(5, 12):
        again.scalar("loss", i, 0.9, T0 + 100 + i)
    again.close(mtime=T0 + 111)
    touch(tmp_path / "job", T0 + 111)
    ld.refresh()
    assert health_of(ld, "job", T0 + 112).statuses == (LIVE,)


def test_diverged_jsonl_first_step_of_any_loss_tag(tmp_path: Path) -> None:
    run = JsonlRun(tmp_path / "j")
    for s in range(10):
        val = math.inf if s == 7 else 1.0
        train = math.nan if s >= 8 else 2.0
        acc = math.nan if s == 2 else 0.5  # accuracy-like: a NaN there is no divergence
        run.log(step=s, time=T0 + s, **{"val/loss": val, "train/nll": train, "acc": acc})
    run.touch(T0 + 9)
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "j", T0 + 10)
    assert h.statuses == (DIVERGED, LIVE)
    assert (h.tag, h.step, h.value) == ("val/loss", 7, math.inf)
    assert h.reason == "inf in val/loss at step 7"


def test_damaged_jsonl_bad_line(tmp_path: Path) -> None:
    run = JsonlRun(tmp_path / "j")
    run.log(step=0, loss=1.0, time=T0)
    run.raw("{not json\n")
    run.log(step=1, loss=0.9, time=T0 + 1)
    run.touch(T0 + 1)
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "j", T0 + 2)
    assert h.statuses == (DAMAGED, LIVE)
    assert h.reason.startswith("1 reader warning: ")
    assert "line 2" in h.reason


def test_damaged_tfevents_bad_crc(tmp_path: Path) -> None:
    write_steady(tmp_path / "r", 20, every=1.0).close()
    (event_file,) = list((tmp_path / "r").iterdir())
    data = bytearray(event_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    event_file.write_bytes(bytes(data))
    os.utime(event_file, (T0 + 19, T0 + 19))
    ld = tuiboard.open(str(tmp_path))
    h = health_of(ld, "r", T0 + 20)
    assert h.status == DAMAGED
    assert LIVE in h.statuses


def test_hparams_session_end_is_finished(tmp_path: Path) -> None:
    """tensorboardX's add_hparams writes a sub-run whose session ends (then its metric value)."""
    w = SummaryWriter(str(tmp_path / "parent"))
    for i in range(3):
        w.add_scalar("loss", 1.0, i)
    w.add_hparams({"lr": 0.1}, {"hparam/loss": 0.5}, name="hp")
    w.close()
    ld = tuiboard.open(str(tmp_path))
    now = os.path.getmtime(next((tmp_path / "parent").glob("events*"))) + 3600
    h = health_of(ld, "parent/hp", now)
    assert (h.status, h.reason) == (FINISHED, "hparams session end at step 0")
    assert health_of(ld, "parent", now).status == STALLED


def test_jsonl_without_times_uses_file_time(tmp_path: Path) -> None:
    run = JsonlRun(tmp_path / "j")
    for s in range(5):
        run.log(step=s, loss=1.0)
    run.touch(T0)
    ld = tuiboard.open(str(tmp_path))
    run_ = ld.run("j")
    assert run_ is not None
    facts = run_facts(run_)
    assert facts.median_interval is None and math.isnan(facts.last_data_time)
    assert assess(facts, T0 + 299).status == LIVE
    h = assess(facts, T0 + 301)
    assert (h.status, h.stall_after) == (STALLED, 300.0)


@pytest.mark.parametrize(
    ("tag", "family"),
    [
        ("train/loss", "loss"),
        ("val/top1_err", "loss"),
        ("Perplexity", "loss"),
        ("eval/MSE", "loss"),
        ("val/acc", "accuracy"),
        ("top5", "accuracy"),
        ("mAP@0.5", "accuracy"),
        ("BLEU", "accuracy"),
        ("lr", "lr"),
        ("optim/learning_rate", "lr"),
        ("grad_norm", None),
        ("epoch", None),
    ],
)
def test_tag_families(tag: str, family: str | None) -> None:
    assert tag_family(tag) == family


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("300", 300.0), ("90s", 90.0), ("5m", 300.0), ("1.5h", 5400.0), ("2d", 172800.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")
