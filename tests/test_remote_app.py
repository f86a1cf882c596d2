"""The app on an s3:// logdir whose store fails mid-session (a real moto server in its own
process): credentials refused, then the server down. The status line says what is wrong and
when it retries, the watcher backs off, the runs and points already read stay on screen, and
the app follows the bucket again once the store answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
from tensorboardX import SummaryWriter  # noqa: E402

from tests.moto_proc import MotoProcess  # noqa: E402
from tuiboard.core import source  # noqa: E402
from tuiboard.core.logdir import Logdir  # noqa: E402
from tuiboard.core.types import SCALARS  # noqa: E402
from tuiboard.ui.app import TuiboardApp  # noqa: E402
from tuiboard.ui.widgets.status_bar import StatusBar  # noqa: E402

pytestmark = pytest.mark.anyio
T0 = 1_700_000_000.0
BUCKET = "logs"
POLL = 0.3
FAST_FAIL = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
"""No botocore retries (each would add seconds while the server is down)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoProcess]:
    server = MotoProcess()
    server.start()
    for k, v in {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    yield server
    server.stop()


def write_run(local: Path, steps: range) -> None:
    w = SummaryWriter(str(local / "run"), filename_suffix=".x")
    for s in steps:
        w.add_scalar("loss", float(np.sin(s * 0.1)), s, walltime=T0 + s)
    w.close()


def fill(local: Path) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for p in local.rglob("*"):
        if p.is_file():
            client.upload_file(str(p), BUCKET, f"exp/{p.relative_to(local).as_posix()}")


async def wait_for(pilot, cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def points(app: TuiboardApp) -> list[tuple[str, list[int]]]:
    """Each run's steps of "loss" (none yet for a run listed but not read)."""
    return [
        (r.name, r.scalars("loss").step.tolist() if "loss" in r.tags(SCALARS) else [])
        for r in app.logdir.runs
    ]


async def test_store_errors_back_off_show_on_the_status_line_and_keep_the_data(
    moto: MotoProcess, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    write_run(local, range(100))
    fill(local)
    ld = Logdir([f"s3://{BUCKET}/exp"], storage_options=FAST_FAIL)
    app = TuiboardApp(ld, poll=POLL)
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.query_one(StatusBar)
        await wait_for(pilot, lambda: points(app) == [("run", list(range(100)))])
        assert bar.status.store == ""
        shown = points(app)
        watcher = app._watcher
        assert watcher is not None
        waits: list[tuple[int, float]] = []  # (failures in a row, the wait chosen after it)
        next_wait = watcher._next_wait

        def spy(interval: float) -> float:
            wait = next_wait(interval)
            waits.append((max((e.failures for e in ld.store_errors), default=0), wait))
            return wait

        watcher._next_wait = spy  # type: ignore[method-assign]

        # Credentials refused (IAM enforcement on: the "testing" key is no IAM user's).
        moto.set_auth(True)
        await wait_for(pilot, lambda: bar.status.store.startswith("s3: credentials refused"))
        assert ", retrying in " in bar.status.store or bar.status.store.endswith("retrying now")
        assert "testing" not in bar.status.store  # never a secret
        # Back off: the waits double from the poll interval while it fails.
        await wait_for(pilot, lambda: len([w for f, w in waits if f]) >= 4)
        failing = [(f, w) for f, w in waits if f][:4]
        assert failing == [(1, POLL), (2, POLL * 2), (3, POLL * 4), (4, POLL * 8)], waits
        assert points(app) == shown  # the data already read stays
        assert "credentials refused" in str(bar.render())
        assert app.is_running

        # The store answers again: the state goes, the interval is the poll again, new data.
        moto.set_auth(False)
        boto3.client("s3", region_name="us-east-1").delete_object(
            Bucket=BUCKET, Key=next(f"exp/run/{p.name}" for p in (local / "run").iterdir())
        )
        write_run(tmp_path / "more", range(150))
        (f,) = (tmp_path / "more" / "run").iterdir()
        boto3.client("s3", region_name="us-east-1").upload_file(str(f), BUCKET, f"exp/run/{f.name}")
        await wait_for(pilot, lambda: not ld.store_errors, timeout=60)
        await wait_for(pilot, lambda: bar.status.store == "")
        await wait_for(pilot, lambda: points(app) == [("run", list(range(150)))])
        assert waits[-1] == (0, POLL)  # the interval is back
        shown = points(app)

        # The server down: "store unreachable", the runs stay, no crash.
        moto.stop()
        await wait_for(pilot, lambda: bar.status.store.startswith("s3: store unreachable"))
        await pilot.pause(1.0)
        assert points(app) == shown and app.is_running
        assert "store unreachable" in str(bar.render())
        # Back up, empty, then filled again: read again, the state gone.
        moto.start()
        fill(tmp_path / "more")
        await wait_for(pilot, lambda: bar.status.store == "", timeout=60)
        await wait_for(pilot, lambda: points(app) == [("run", list(range(150)))])


def test_retry_delay_doubles_to_five_minutes_and_resets() -> None:
    assert [source.retry_delay(10, n) for n in range(7)] == [10, 10, 20, 40, 80, 160, 300]
    assert source.retry_delay(10, 100) == source.BACKOFF_CAP == 300
    assert source.retry_delay(600, 3) == 600  # never more often than the poll interval


def test_redact_hides_every_known_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG")
    monkeypatch.setitem(source.STORAGE_OPTIONS, "secret", "opt-s3cr3t")
    text = "bad signature for wJalrXUtnFEMI/K7MDENG and opt-s3cr3t and {'token': 'tk-123456'}"
    out = source.redact(text, {"token": "tk-123456", "endpoint_url": "http://x"})
    assert out == "bad signature for *** and *** and {'token': '***'}"


@pytest.mark.parametrize(
    "code,wrapper,reason",
    [
        ("ExpiredToken", PermissionError, "credentials expired"),
        ("InvalidAccessKeyId", PermissionError, "credentials refused"),
        ("AccessDenied", PermissionError, "access denied"),
        ("SlowDown", OSError, "throttled"),
        ("NoSuchBucket", FileNotFoundError, "no such bucket or path"),
        ("ServiceUnavailable", OSError, "store failing"),
    ],
)
def test_store_errors_are_named_as_s3fs_raises_them(code: str, wrapper: type, reason: str) -> None:
    """botocore's ClientError for each S3 error code, translated as s3fs does (an OSError
    subclass raised from it), gives the status line's words."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    from tuiboard.core.remote import error_reason

    response = {"Error": {"Code": code, "Message": "key AKIA/secret-xyz"}}
    cause = ClientError(response, "ListObjectsV2")  # type: ignore[arg-type]
    try:
        try:
            raise cause
        except ClientError as e:
            raise wrapper("something went wrong") from e
    except OSError as error:
        assert error_reason(error) == reason
    down = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/logs")
    assert error_reason(OSError(str(down))) == "store unreachable"
    assert error_reason(OSError("odd: secret-xyz"), {"secret": "secret-xyz"}) == "odd: ***"
