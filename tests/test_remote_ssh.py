"""ssh:// logdirs: an SSH server started here (asyncssh's, with SFTP: what sshfs speaks), runs
written by the real writers into a directory it serves, read by `tuiboard ls ssh://...` and
tuiboard.open, compared with TensorBoard's reader on the same files. Skipped, with the reason,
where sshfs (tuiboard[ssh]) is not installed: then ssh:// is untested here."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

try:
    import asyncssh
    import sshfs  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the machine
    pytest.skip(
        f"ssh:// untested: no SSH server can be started here ({error}); "
        "pip install 'tuiboard[ssh]' to run it",
        allow_module_level=True,
    )

from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.types import SCALARS
from tuiboard.writer import JsonlWriter

ROOT = Path(__file__).resolve().parent.parent


class _NoAuth(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return False  # a throwaway server on localhost: no authentication


@pytest.fixture(scope="module")
def ssh_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    async def start() -> None:
        server = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[key], server_factory=_NoAuth, sftp_factory=True
        )
        box["server"] = server
        box["port"] = server.sockets[0].getsockname()[1]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "the SSH server did not start"
    yield int(box["port"])  # type: ignore[call-overload]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


OPTS = ["--storage-option", "known_hosts=null", "--storage-option", "username=tuiboard"]


def test_ssh_logdir_ls_and_open_match_tensorboard(ssh_port: int, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    w = SummaryWriter(str(logs / "tbx"))
    for s in range(120):
        w.add_scalar("loss", np.float32(np.cos(s * 0.1)), s, walltime=1.7e9 + s)
    w.close()
    j = JsonlWriter(str(logs / "jsonl"))
    for s in range(20):
        j.log(s, {"acc": s / 20}, wall_time=1.7e9 + s)
    j.close()
    url = f"ssh://127.0.0.1:{ssh_port}{logs}"

    ld = tuiboard.open(url, storage_options={"known_hosts": None, "username": "tuiboard"})
    assert [r.name for r in ld.runs] == ["jsonl", "tbx"], ld.warnings
    tbx = ld.run("tbx")
    assert tbx is not None
    acc = accumulate(logs / "tbx")
    assert tbx.tags(SCALARS) == sorted(acc.Tags()["scalars"])
    got, want = tbx.scalars("loss"), acc.Scalars("loss")
    assert got.step.tolist() == [e.step for e in want]
    assert got.value.astype(np.float64).tolist() == [e.value for e in want]
    jr = ld.run("jsonl")
    assert jr is not None and jr.scalars("acc").value.tolist() == [s / 20 for s in range(20)]

    env_path = {"PYTHONPATH": str(ROOT)}
    import os

    res = subprocess.run(
        [sys.executable, "-m", "tuiboard", "ls", url, *OPTS],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env_path},
    )
    assert res.returncode == 0, res.stderr
    local = subprocess.run(
        [sys.executable, "-m", "tuiboard", "ls", str(logs)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env_path},
    )
    assert res.stdout == local.stdout
