"""gs:// and az:// logdirs against local emulators of the real stores: gcp-storage-emulator
(GCS's JSON API, a PyPI package; gcsfs) and Azurite (Azure Blob, the npm package `azurite`;
adlfs). Runs written by the real writers, uploaded with the store's own fsspec package, read
by the real commands: the same output as from disk, TensorBoard's values, a re-upload read from
the offset. A store whose emulator is not here is skipped with the reason (not a pass)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import tuiboard
from tests.ports import free_port
from tests.reference import accumulate
from tuiboard.writer import EventWriter, JsonlWriter

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's published development account key (devstoreaccount1): not a secret."""


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("emulator did not answer")


def _azurite() -> str | None:
    found = shutil.which("azurite-blob") or os.environ.get("TUIBOARD_AZURITE")
    return found if found and os.path.exists(found) else None


@pytest.fixture(params=["gs", "az"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A running emulator, the environment pointing at it (inherited by the subprocesses), an
    fsspec filesystem to upload with, and the --storage-option flags the commands need."""
    port = free_port()
    if request.param == "gs":
        if shutil.which("gcp-storage-emulator") is None:
            why = "gcp-storage-emulator is not installed (pip install gcp-storage-emulator)"
            pytest.skip(f"gs:// not tested: {why}")
        # before gcsfs is imported: gcsfs asks GCS's gRPC control API for the bucket's type
        # first (a minute's timeout against an emulator); the plain JSON API only
        monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        pytest.importorskip("gcsfs", reason="gs:// not tested: gcsfs is not installed")
        cmd = ["gcp-storage-emulator", "start", "--host", "127.0.0.1", "--port", str(port),
               "--in-memory", "--default-bucket", "logs"]  # fmt: skip
        env = {
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}",
        }
        options = {"token": "anon", "project": "test"}
        health = f"http://127.0.0.1:{port}/storage/v1/b"
    else:
        azurite = _azurite()
        if azurite is None:
            pytest.skip("az:// not tested: Azurite is not installed (npm install -g azurite)")
        pytest.importorskip("adlfs", reason="az:// not tested: adlfs is not installed")
        cmd = [azurite, "--blobHost", "127.0.0.1", "--blobPort", str(port),
               "--inMemoryPersistence", "--skipApiVersionCheck", "--silent"]  # fmt: skip
        env = {
            "AZURE_STORAGE_CONNECTION_STRING": (
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
            )
        }
        options = {}
        health = f"http://127.0.0.1:{port}/devstoreaccount1?comp=list"
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(health, proc)
        import fsspec

        fs = fsspec.filesystem(request.param, skip_instance_cache=True, **options)
        if request.param == "az":
            fs.mkdir("logs")
        yield {"protocol": request.param, "fs": fs, "options": options}
    finally:
        proc.kill()
        proc.wait(10)


def cmd(store: dict, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [f"--storage-option={k}={v}" for k, v in store["options"].items()]
    return subprocess.run(
        [sys.executable, "-m", "tuiboard", *args, *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )


def local_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiboard", *args], capture_output=True, text=True, timeout=120
    )


def upload(fs, local: Path, prefix: str) -> None:  # type: ignore[no-untyped-def]
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe(f"{prefix}/{p.relative_to(local).as_posix()}", p.read_bytes())


def test_cloud_logdir_reads_like_the_disk(store: dict, tmp_path: Path) -> None:
    local = tmp_path / "logs"
    w = EventWriter(str(local / "tbx"))  # flush() is synchronous: the bytes uploaded are on disk
    for s in range(200):
        w.add_scalar("loss", float(np.cos(s * 0.05)), s, wall_time=T0 + s)
    w.flush()
    j = JsonlWriter(str(local / "nested" / "jsonl"))
    for s in range(30):
        j.log(s, {"acc": s / 30}, wall_time=T0 + s)
    j.close()
    fs = store["fs"]
    upload(fs, local, "logs/exp")
    url = f"{store['protocol']}://logs/exp"

    ls = cmd(store, "ls", url)
    assert ls.returncode == 0 and ls.stderr == "", ls.stderr
    assert ls.stdout == local_cmd("ls", str(local)).stdout and "tbx" in ls.stdout
    export = cmd(store, "export", url)
    assert export.returncode == 0, export.stderr
    assert export.stdout == local_cmd("export", str(local)).stdout

    ld = tuiboard.Logdir([url], storage_options=store["options"])
    ld.refresh()
    assert [r.name for r in ld.runs] == ["nested/jsonl", "tbx"] and ld.warnings == ()
    run = ld.run("tbx")
    assert run is not None
    (event,) = (local / "tbx").iterdir()
    want = accumulate(local / "tbx").Scalars("loss")
    assert run.scalars("loss").step.tolist() == [e.step for e in want]
    assert run.scalars("loss").value.astype(np.float64).tolist() == [e.value for e in want]

    # A re-upload, longer: read from the remembered offset, only the new bytes.
    first = event.stat().st_size
    for s in range(200, 300):
        w.add_scalar("loss", 0.5, s, wall_time=T0 + s)
    w.close()
    fs.pipe(f"logs/exp/tbx/{event.name}", event.read_bytes())
    changes = ld.refresh()
    assert changes.bytes_read == event.stat().st_size - first
    assert run.scalars("loss").step.tolist() == list(range(300))
