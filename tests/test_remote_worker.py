"""The GET worker (core/remote_worker.py): a process forked when an s3:// root is opened makes
3 in 5 GETs of a big prefetch. Against a real moto server in its own process (no server
thread in this one to fork beside): the same store, warnings and request counts as one
process, TensorBoard's values, appends by re-upload, GETs failing in the worker or the worker
gone (the reads ask again here), the rule (threads, TUIBOARD_WORKERS=1, non-plain options),
and the worker ending with its Logdir."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

import tuiboard  # noqa: E402
from tests.moto_proc import MotoProcess  # noqa: E402
from tests.reference import accumulate  # noqa: E402
from tests.test_remote_many import RUNS, _logdir, _series, _write  # noqa: E402
from tuiboard.core import forking as fork_rule  # noqa: E402
from tuiboard.core import remote, remote_worker  # noqa: E402
from tuiboard.core.logdir import Logdir  # noqa: E402
from tuiboard.core.types import SCALARS  # noqa: E402

BUCKET = "worker"


@pytest.fixture(scope="module")
def store() -> Iterator[MotoProcess]:
    server = MotoProcess()
    server.start()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def env(store: MotoProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", store.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("TUIBOARD_WORKERS", raising=False)


def upload(server: MotoProcess, local: Path, prefix: str) -> None:
    s3 = server.client()
    for p in sorted(local.rglob("*")):
        if p.is_file():
            s3.upload_file(str(p), BUCKET, f"{prefix}/{p.relative_to(local).as_posix()}")


def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's rule met here: two cores, a prefetch of 4 GETs shared, and this thread
    seen as the only one (under pytest-xdist an earlier remote test leaves fsspec's idle
    event-loop thread for the process's life; as test_parallel_load.alone_here)."""
    monkeypatch.setattr(remote_worker, "MIN_GETS", 4)
    monkeypatch.setattr(fork_rule.threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))


def state(ld: Logdir) -> dict[str, object]:
    return {
        r.name: (_series(r), [(w.file.rpartition("/")[2], w.message) for w in r.warnings])
        for r in ld.runs
    }


def open_both(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Logdir, Logdir]:
    """The same URL opened with the worker and without (TUIBOARD_WORKERS=1), both loaded."""
    forking(monkeypatch)
    with_worker = tuiboard.open(url)
    monkeypatch.setenv("TUIBOARD_WORKERS", "1")
    alone = tuiboard.open(url)
    monkeypatch.delenv("TUIBOARD_WORKERS")
    return with_worker, alone


def test_worker_load_is_one_process_load_with_the_same_requests(
    store: MotoProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "logs"
    damage = _logdir(local)
    upload(store, local, "same")
    url = f"s3://{BUCKET}/same"
    ld, alone = open_both(url, monkeypatch)
    src, src1 = ld._roots[0].remote, alone._roots[0].remote
    assert src is not None and src1 is not None
    assert src.worker is not None and src1.worker is None
    files = [p for p in local.rglob("*") if p.is_file() and p.stat().st_size]
    assert src.worker.gets == sum(i % 5 in remote_worker.SHARE for i in range(len(files)))
    assert src.requests == src1.requests == 1 + len(files)  # 1 listing + 1 GET a file
    assert len(ld.runs) == RUNS
    assert state(ld) == state(alone)
    for i in range(RUNS):
        name = f"run{i:02d}"
        if name in damage:
            continue
        run = ld.run(name)
        assert run is not None
        acc = accumulate(local / name)
        for tag in acc.Tags()["scalars"]:
            assert run.scalars(tag).value.tolist() == [
                pytest.approx(e.value) for e in acc.Scalars(tag)
            ]
    assert any("CRC" in w.message for w in ld.run("run02").warnings)  # type: ignore[union-attr]

    # Appends by re-upload: both read the new bytes from the offset, with the same requests.
    for name, seed in (("run05", 5), ("run07", 7)):
        for p in (local / name).iterdir():
            p.unlink()
        _write(local / name, 300, seed)
    upload(store, local, "same")
    before = (src.requests, src1.requests)
    ld.refresh()
    alone.refresh()
    assert src.requests - before[0] == src1.requests - before[1]
    assert state(ld) == state(alone)
    run = ld.run("run05")
    assert run is not None and len(run.scalars("loss")) == 300
    before = (src.requests, src1.requests)
    ld.refresh()  # no change: one listing
    alone.refresh()
    assert (src.requests - before[0], src1.requests - before[1]) == (1, 1)


def test_gets_failing_in_the_worker_or_a_worker_gone_are_asked_again_here(
    store: MotoProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "logs"
    for i in range(10):
        _write(local / f"run{i:02d}", 50 + i, i)
    upload(store, local, "fails")
    url = f"s3://{BUCKET}/fails"
    parent = os.getpid()
    real = remote.make_fs

    def failing_in_the_child(url: str, options: dict[str, object]) -> Any:
        fs = real(url, options)
        if os.getpid() != parent:  # the worker: run03's and run06's GETs fail there
            cat = fs._cat_file

            async def refuse(path: str, **kw: Any) -> bytes:
                if "run03" in path or "run06" in path:
                    raise PermissionError("Access Denied (in the worker)")
                return bytes(await cat(path, **kw))

            fs._cat_file = refuse
        return fs

    monkeypatch.setattr(remote, "make_fs", failing_in_the_child)
    ld, alone = open_both(url, monkeypatch)
    src, src1 = ld._roots[0].remote, alone._roots[0].remote
    assert src is not None and src.worker is not None and src.worker.gets > 0
    assert src1 is not None
    # the worker's failed GETs (of run03 and run06, those in its share) asked again here
    failed = sum(1 for i in range(10) if i % 5 in remote_worker.SHARE and i in (3, 6))
    assert failed and src.requests == src1.requests + failed
    assert state(ld) == state(alone)
    assert all(r.warnings == () for r in ld.runs)
    assert [len(r.scalars("loss")) for r in ld.runs] == [50 + i for i in range(10)]

    # The worker killed before the load: every GET it was given is made here.
    forking(monkeypatch)
    late = tuiboard.open(url, load=False)
    src = late._roots[0].remote
    assert src is not None and src.worker is not None
    os.kill(src.worker.pid, 9)
    time.sleep(0.2)
    late.refresh()
    assert state(late) == state(alone)


def test_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.9, 0.0, 0.0))
    plain = remote.s3_options({"endpoint_url": "http://x", "config_kwargs": {"retries": {}}})
    monkeypatch.setattr(fork_rule.threading, "active_count", lambda: 1)
    assert remote_worker.may_fork("s3", plain)
    assert not remote_worker.may_fork("gs", plain)
    assert not remote_worker.may_fork("s3", {**plain, "session": object()})
    monkeypatch.setenv("TUIBOARD_WORKERS", "1")
    assert not remote_worker.may_fork("s3", plain)
    monkeypatch.delenv("TUIBOARD_WORKERS")
    monkeypatch.setattr(remote_worker, "PARALLEL", False)
    assert not remote_worker.may_fork("s3", plain)
    monkeypatch.setattr(remote_worker, "PARALLEL", True)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not remote_worker.may_fork("s3", plain)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 0.0, 0.0))  # no core to spare
    assert not remote_worker.may_fork("s3", plain)
    monkeypatch.setattr(remote_worker, "SPARE_CORE", False)
    assert remote_worker.may_fork("s3", plain)
    monkeypatch.undo()  # the real thread count: a thread running beside this one
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not remote_worker.may_fork("s3", plain)
    finally:
        stop.set()
        other.join()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie not reaped yet counts as alive
        return os.waitpid(pid, os.WNOHANG) != (0, 0)
    except ChildProcessError:
        return True


@pytest.mark.parametrize("used", [True, False], ids=["after-a-load", "never-used"])
def test_the_worker_ends_with_its_logdir(
    store: MotoProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: bool
) -> None:
    local = tmp_path / "logs"
    for i in range(6):
        _write(local / f"run{i}", 20, i)
    upload(store, local, f"ends-{used}")
    forking(monkeypatch)
    ld = tuiboard.open(f"s3://{BUCKET}/ends-{used}", load=used)
    src = ld._roots[0].remote
    assert src is not None and src.worker is not None
    pid = src.worker.pid
    if used:
        assert src.worker.gets > 0 and len(ld.runs) == 6
        run = ld.run("run0")
        assert run is not None and "loss" in run.tags(SCALARS)
        del run
    del ld, src
    gc.collect()
    deadline = time.monotonic() + 10
    while not _gone(pid):
        assert time.monotonic() < deadline, "the worker outlived its Logdir"
        time.sleep(0.05)


FORCED_CLI = """
import os
import sys
from tuiboard.core import remote_worker
remote_worker.SPARE_CORE = False  # whatever the machine's load
remote_worker.MIN_GETS = 4
submit = remote_worker.GetWorker.submit


def noted(self, gets):
    with open(os.environ["WORKER_NOTE"], "a") as fh:  # the GETs handed to the worker
        fh.write(f"{len(gets)}\\n")
    return submit(self, gets)


remote_worker.GetWorker.submit = noted
from tuiboard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_command_with_the_worker_prints_what_one_process_prints(
    store: MotoProcess, tmp_path: Path
) -> None:
    """`export` and `summary` as commands (a fresh process, no other thread: the worker is
    forked for real): the same output, nothing of the child's on stdout or stderr, and the
    command ends when it is done (the child holds none of its pipes)."""
    import subprocess
    import sys

    local = tmp_path / "logs"
    for i in range(8):
        _write(local / f"run{i}", 30 + i, i)
    upload(store, local, "cli")
    url = f"s3://{BUCKET}/cli"
    root = str(Path(__file__).resolve().parents[1])
    note = tmp_path / "worker-gets"
    env = {**os.environ, "PYTHONPATH": root, "WORKER_NOTE": str(note)}
    env.pop("TUIBOARD_WORKERS", None)
    for args in (["export", url], ["summary", url, "--json"]):
        got = subprocess.run(
            [sys.executable, "-c", FORCED_CLI, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        want = subprocess.run(
            [sys.executable, "-m", "tuiboard", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "TUIBOARD_WORKERS": "1"},
        )
        assert got.returncode == want.returncode == 0, got.stderr
        assert note.read_text().split() == ["5"]  # 5 of the 8 files' GETs: the worker's
        note.unlink()
        assert got.stderr == want.stderr == ""
        if args[0] == "export":
            assert got.stdout == want.stdout and got.stdout.count("\n") > 200
        else:
            assert _stable(got.stdout) == _stable(want.stdout)


STABLE = ("run", "formats", "last_step", "points", "warnings", "diverged", "tags", "summary")
"""summary --json keys that do not depend on the clock (as test_remote_s3's)."""


def _stable(out: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    return [{k: row.get(k) for k in STABLE} for row in rows]


def test_a_worker_closed_twice_closes_each_of_its_files_once(store: MotoProcess) -> None:
    """The first prefetch closes a worker it gave no GET, then its source's finalizer closes
    it again: the second close must not close the number its answers pipe had, which a file
    opened in between may hold now."""
    worker = remote_worker.GetWorker.fork(f"s3://{BUCKET}/none", {})
    assert worker is not None
    answers = worker._answers
    worker.close()
    r, w = os.pipe()
    os.dup2(r, answers)  # another file now holds the number
    try:
        worker.close()
        os.write(w, b"still open")
        assert os.read(answers, 64) == b"still open"
    finally:
        for fd in (r, w, answers):
            os.close(fd)
    assert not worker.alive
