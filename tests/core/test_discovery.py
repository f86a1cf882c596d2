"""Run discovery: which directories are runs (TensorBoard's rule, checked against TensorBoard's
own GetLogdirSubdirectories on logdirs written by tensorboardX), plus JSONL runs, and the files
each run gets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.io_wrapper import GetLogdirSubdirectories
from tensorboardX import SummaryWriter

from tuiboard.core import discovery, jsonl
from tuiboard.core.discovery import discover, is_event_file


def write_run(path: Path, scalars: bool = True) -> None:
    with SummaryWriter(str(path)) as writer:
        if scalars:
            writer.add_scalar("loss", 1.0, 0)
            writer.add_scalars("Loss/compare", {"train": 1.0, "val": 2.0}, 0)


def tb_runs(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(p, root).replace(os.sep, "/") for p in GetLogdirSubdirectories(str(root))
    )


def test_nested_runs_as_tensorboard_finds_them(tmp_path: Path) -> None:
    write_run(tmp_path)  # the root itself is a run, "."
    write_run(tmp_path / "exp1")
    write_run(tmp_path / "exp1" / "finetune")  # runs nest
    write_run(tmp_path / "sweep" / "lr_0.1" / "seed 1")
    (tmp_path / "checkpoints").mkdir()  # not a run
    (tmp_path / "checkpoints" / "model.ckpt").write_bytes(b"\0" * 10)
    (tmp_path / "data").mkdir()  # a data set in JSONL: not a run
    (tmp_path / "data" / "train.jsonl").write_text('{"text": "a", "label": 1}\n')
    profile = tmp_path / "profiler"
    profile.mkdir()  # the profiler's marker alone does not make a run
    (profile / "events.out.tfevents.1700000000.host.profile-empty").write_bytes(b"")
    runs, warnings = discover(str(tmp_path))
    assert not warnings
    # GetLogdirSubdirectories lists the profiler's directory too; its loaders then read no
    # file from it (IsSummaryEventsFile) and RustBoard has no such run: the spec ignores it.
    assert sorted(runs) == [r for r in tb_runs(tmp_path) if r != "profiler"]
    assert "profiler" in tb_runs(tmp_path)
    assert "." in runs and "exp1/finetune" in runs and "sweep/lr_0.1/seed 1" in runs
    assert "exp1/Loss/compare/train" in runs  # tensorboardX nests add_scalars children
    assert "profiler" not in runs and "checkpoints" not in runs and "data" not in runs
    root = runs["."]
    assert root.path == str(tmp_path) and root.name == "."
    assert root.event_files == sorted(str(p) for p in tmp_path.glob("*tfevents*"))
    assert all(os.path.isabs(p) for r in runs.values() for p in r.event_files)
    assert list(runs) == sorted(runs)


def test_event_files_sorted_and_profile_empty_ignored(tmp_path: Path) -> None:
    names = [
        "events.out.tfevents.1700000100.host.2.0",
        "events.out.tfevents.1700000000.host.1.0",
        "events.out.tfevents.1700000000.host.profile-empty",
        "events.out.tfevents.1700000200.host.3.0.v2",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    runs, _ = discover(str(tmp_path))
    assert runs["."].event_files == [str(tmp_path / n) for n in sorted(names) if is_event_file(n)]
    assert len(runs["."].event_files) == 3


def test_jsonl_runs_configs_and_projector(tmp_path: Path) -> None:
    d2 = tmp_path / "detectron2"
    d2.mkdir()
    (d2 / "metrics.json").write_text(json.dumps({"iteration": 19, "total_loss": 1.0}) + "\n")
    (d2 / "config.yaml").write_text("SOLVER:\n  BASE_LR: 0.02\n")
    mm = tmp_path / "mmdet" / "20240101_120000" / "vis_data"
    mm.mkdir(parents=True)
    (mm / "scalars.json").write_text(json.dumps({"lr": 0.1, "step": 5}) + "\n")
    (mm / "config.py").write_text("lr = 0.1\n")  # not a config we read
    own = tmp_path / "own"
    own.mkdir()
    (own / "metrics.jsonl").write_text(json.dumps({"loss": 1.0}) + "\n")
    (own / "params.yaml").write_text("lr: 0.1\n")
    (own / "hparams.yaml").write_text("lr: 0.1\n")
    both = tmp_path / "both"
    write_run(both, scalars=False)
    (both / "log.jsonl").write_text(json.dumps({"step": 1, "acc": 0.5}) + "\n")
    (both / "projector_config.pbtxt").write_text("embeddings {\n}\n")
    (both / "config.json").write_text("{}")
    runs, warnings = discover(str(tmp_path))
    assert not warnings
    assert sorted(runs) == ["both", "detectron2", "mmdet/20240101_120000/vis_data", "own"]
    assert runs["detectron2"].jsonl_files == [str(d2 / "metrics.json")]
    assert runs["detectron2"].config_files == [str(d2 / "config.yaml")]
    assert runs["detectron2"].event_files == []
    assert runs["mmdet/20240101_120000/vis_data"].config_files == []
    assert runs["own"].config_files == [str(own / "hparams.yaml"), str(own / "params.yaml")]
    assert runs["both"].jsonl_files == [str(both / "log.jsonl")]
    assert len(runs["both"].event_files) == 1
    assert runs["both"].projector_configs == [str(both / "projector_config.pbtxt")]
    assert runs["both"].config_files == [str(both / "config.json")]


def test_embedding_written_by_tensorboardx(tmp_path: Path) -> None:
    import numpy as np

    with SummaryWriter(str(tmp_path / "run")) as writer:
        writer.add_embedding(np.zeros((4, 3)), metadata=list("abcd"), global_step=3, tag="emb")
    runs, _ = discover(str(tmp_path))
    # tensors live in run/00003/emb/, not a run; the config sits in the run directory
    assert sorted(runs) == ["run"]
    assert runs["run"].projector_configs == [str(tmp_path / "run" / "projector_config.pbtxt")]


def test_known_jsonl_cache_avoids_rereading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.jsonl").write_text('{"loss": 1}\n')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "data.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "train.jsonl").write_text('{"step": 1, "lo')  # no complete line yet
    cache: dict[str, bool] = {}
    runs, _ = discover(str(tmp_path), cache)
    assert sorted(runs) == ["a"]
    assert cache == {
        str(tmp_path / "a" / "metrics.jsonl"): True,
        str(tmp_path / "b" / "data.jsonl"): False,
    }  # the undecided file is not cached
    calls: list[str] = []
    real = jsonl.sniff_metrics_state

    def counting(path: str) -> bool | None:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(discovery, "sniff_metrics_state", counting)
    (tmp_path / "c" / "train.jsonl").write_text('{"step": 1, "loss": 2}\n')
    runs, _ = discover(str(tmp_path), cache)
    assert calls == [str(tmp_path / "c" / "train.jsonl")]
    assert sorted(runs) == ["a", "c"]
    # a file that goes away leaves the cache; made again with other content, it is sniffed again
    (tmp_path / "b" / "data.jsonl").unlink()
    discover(str(tmp_path), cache)
    assert str(tmp_path / "b" / "data.jsonl") not in cache
    (tmp_path / "b" / "data.jsonl").write_text('{"step": 3, "acc": 0.5}\n')
    runs, _ = discover(str(tmp_path), cache)
    assert sorted(runs) == ["a", "b", "c"]


def refuse_listing(monkeypatch: pytest.MonkeyPatch, locked: str) -> None:
    """Listing `locked` fails as a chmod-000 directory does for other users (root, who runs
    these tests here, can read it, so the permission error is simulated; a forked child
    inherits the patch)."""
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_directory_warns_and_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_run(tmp_path / "ok", scalars=False)
    write_run(tmp_path / "locked" / "inner", scalars=False)
    locked = str(tmp_path / "locked")
    refuse_listing(monkeypatch, locked)
    runs, warnings = discover(str(tmp_path))
    assert sorted(runs) == ["ok"]
    [warning] = warnings
    assert warning.file == locked and "Permission denied" in warning.message


def test_missing_or_file_root(tmp_path: Path) -> None:
    runs, warnings = discover(str(tmp_path / "absent"))
    assert runs == {} and warnings[0].file == str(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    runs, warnings = discover(str(tmp_path / "file"))
    assert runs == {} and "not a directory" in warnings[0].message


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    write_run(tmp_path / "a", scalars=False)
    write_run(tmp_path / "b" / "c", scalars=False)
    os.symlink(tmp_path, tmp_path / "a" / "up")  # to the root: a loop
    os.symlink(tmp_path / "a", tmp_path / "a" / "self")  # to itself
    os.symlink(tmp_path / "b", tmp_path / "a" / "to_b")  # a web of links between siblings
    os.symlink(tmp_path / "a", tmp_path / "b" / "to_a")
    os.symlink(tmp_path / "nowhere", tmp_path / "a" / "dangling")
    external = tmp_path.parent / (tmp_path.name + "_external")
    write_run(external / "x", scalars=False)
    os.symlink(external, tmp_path / "linked")  # a logdir assembled from links: followed
    runs, warnings = discover(str(tmp_path))
    assert not warnings
    # a/to_b is b reached through a link (its run appears under both names, as in TensorBoard);
    # a/to_b/to_a leads back to a, an ancestor on the way: a loop, not walked; b/to_a is a
    # reached through a link from outside it, walked once (its own to_b then is not: b was)
    assert sorted(runs) == ["a", "a/to_b/c", "b/c", "b/to_a", "linked/x"]


def test_hidden_and_pycache_skipped(tmp_path: Path) -> None:
    write_run(tmp_path / "run", scalars=False)
    write_run(tmp_path / ".git" / "x", scalars=False)
    write_run(tmp_path / ".venv" / "y", scalars=False)
    write_run(tmp_path / "__pycache__", scalars=False)
    runs, _ = discover(str(tmp_path))
    assert sorted(runs) == ["run"]
