"""One process, two logdirs on the same s3:// URL: each reads through its own filesystem (its
storage options, its endpoint), whatever the other does. Two real moto servers, each in its
own process, hold a bucket of the same name with different runs in it (a laptop reading the
"same" bucket from two stores: an endpoint given as a storage option, or taken from the
environment when the logdir was opened); a third endpoint refuses every connection. Appends
are re-uploads, as a job syncing its logdir does."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

import tuiboard  # noqa: E402
from tests.moto_proc import MotoProcess  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tuiboard.core import source  # noqa: E402
from tuiboard.core.logdir import Logdir  # noqa: E402
from tuiboard.writer import EventWriter  # noqa: E402

BUCKET = "same-name"
FAST_FAIL = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
"""No botocore retries against the endpoint that refuses (each would add seconds)."""


@pytest.fixture(scope="module")
def stores() -> Iterator[tuple[MotoProcess, MotoProcess]]:
    """Two stores, each with a bucket named BUCKET (different contents, test by test)."""
    one, two = MotoProcess(), MotoProcess()
    try:
        one.start()
        two.start()
        for server in (one, two):
            server.client().create_bucket(Bucket=BUCKET)
        yield one, two
    finally:
        one.stop()
        two.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test credentials; no endpoint in the environment unless a test sets one."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class SyncedRun:
    """A run written locally by tuiboard's EventWriter, its event file uploaded to `prefix/run/`
    of one store after every `log` (a whole re-upload: object stores have no append)."""

    def __init__(self, server: MotoProcess, local: Path, prefix: str, scale: float) -> None:
        self.server = server
        self.prefix = prefix
        self.scale = scale
        self.writer = EventWriter(str(local / "run"), filename="events.out.tfevents.1.x")
        self.steps = 0

    def log(self, until: int) -> None:
        for s in range(self.steps, until):
            self.writer.add_scalar("loss", self.scale * s, s)
        self.writer.flush()
        self.steps = until
        self.server.client().upload_file(
            self.writer.path, BUCKET, f"{self.prefix}/run/events.out.tfevents.1.x"
        )

    def close(self) -> None:
        self.writer.close()


def loss(ld: Logdir) -> list[float]:
    run = ld.run("run")
    if run is None or "loss" not in run.tags("scalars"):
        return []
    return run.scalars("loss").value.tolist()


def expect(scale: float, steps: int) -> list[float]:
    return [scale * s for s in range(steps)]


def test_two_logdirs_on_one_url_read_each_through_its_own_store(
    stores: tuple[MotoProcess, MotoProcess], tmp_path: Path
) -> None:
    one, two = stores
    url = f"s3://{BUCKET}/options"
    mine = SyncedRun(one, tmp_path / "one", "options", 1.0)
    theirs = SyncedRun(two, tmp_path / "two", "options", 100.0)
    mine.log(10)
    theirs.log(5)
    a = tuiboard.open(url, storage_options={"endpoint_url": one.endpoint})
    b = tuiboard.open(url, storage_options={"endpoint_url": two.endpoint})
    assert loss(a) == expect(1.0, 10)
    assert loss(b) == expect(100.0, 5)

    mine.log(30)
    theirs.log(8)
    a.refresh()  # opened first: its reads must not go through b's listing or filesystem
    b.refresh()
    assert loss(a) == expect(1.0, 30)
    assert loss(b) == expect(100.0, 8)
    assert a.warnings == b.warnings == ()
    assert all(r.warnings == () for r in (*a.runs, *b.runs))

    mine.log(40)  # one refreshed, the other not: each listing is its own
    a.refresh()
    b.refresh()
    assert loss(a) == expect(1.0, 40)
    assert loss(b) == expect(100.0, 8)

    src_a = a._roots[0].remote
    assert src_a is not None
    before = src_a.requests
    a.refresh()  # no change: one listing, no GET
    assert src_a.requests == before + 1

    # Closing one (the newest) leaves the other reading its own store.
    del b
    gc.collect()
    mine.log(50)
    a.refresh()
    assert loss(a) == expect(1.0, 50)
    # A read outside any refresh (the embeddings dashboard's) goes to the logdir still open.
    key = f"{url}/run/events.out.tfevents.1.x"
    assert source.stat(key).st_size == os.path.getsize(mine.writer.path)
    mine.close()
    theirs.close()


@pytest.mark.parametrize("refused_first", [False, True], ids=["good-first", "refused-first"])
def test_a_refused_logdir_beside_a_good_one_on_the_same_url(
    stores: tuple[MotoProcess, MotoProcess], tmp_path: Path, refused_first: bool
) -> None:
    one, _ = stores
    prefix = f"refused-{int(refused_first)}"
    url = f"s3://{BUCKET}/{prefix}"
    run = SyncedRun(one, tmp_path, prefix, 2.0)
    run.log(10)
    down = {"endpoint_url": f"http://127.0.0.1:{free_port()}", **FAST_FAIL}
    opened: dict[str, Logdir] = {}
    for which in ("down", "good") if refused_first else ("good", "down"):
        opened[which] = tuiboard.open(
            url, storage_options=down if which == "down" else {"endpoint_url": one.endpoint}
        )
    good, bad = opened["good"], opened["down"]
    assert loss(good) == expect(2.0, 10) and good.store_errors == ()
    assert bad.runs == [] and [e.reason for e in bad.store_errors] == ["store unreachable"]

    run.log(25)
    bad.refresh()
    good.refresh()
    assert loss(good) == expect(2.0, 25)
    assert good.store_errors == () and good.warnings == ()
    assert all(r.warnings == () for r in good.runs)
    bad.refresh()
    assert bad.runs == [] and bad.store_errors[0].failures == 3
    assert loss(good) == expect(2.0, 25)
    run.close()


def test_two_threads_refreshing_two_logdirs_of_one_url(
    stores: tuple[MotoProcess, MotoProcess], tmp_path: Path
) -> None:
    """Two viewers (two notebook cells' live views) refresh at the same time, each in its
    own thread: each reads its own store."""
    one, two = stores
    url = f"s3://{BUCKET}/threads"
    runs = [
        SyncedRun(one, tmp_path / "one", "threads", 1.0),
        SyncedRun(two, tmp_path / "two", "threads", -1.0),
    ]
    for r in runs:
        r.log(3)
    lds = [tuiboard.open(url, storage_options={"endpoint_url": r.server.endpoint}) for r in runs]
    errors: list[BaseException] = []

    def follow(ld: Logdir) -> None:
        try:
            for _ in range(20):
                ld.refresh()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    for until in (10, 20, 30):
        for r in runs:
            r.log(until)
        threads = [threading.Thread(target=follow, args=(ld,)) for ld in lds]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert loss(lds[0]) == expect(1.0, until)
        assert loss(lds[1]) == expect(-1.0, until)
    for r in runs:
        r.close()


# --- the notebook -------------------------------------------------------------------------------


IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from tests.test_notebook import (  # noqa: E402
    Recorder,
    _plain,
    _row_step,
    _wait_for,
    shell,  # noqa: F401 - the fixture
)


def test_two_live_views_of_one_url_from_two_endpoints(
    shell: InteractiveShell,  # noqa: F811
    stores: tuple[MotoProcess, MotoProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`%tuiboard s3://...` twice, the endpoint changed in the environment between the two
    cells (AWS_ENDPOINT_URL): each live view follows the store it was opened on."""
    one, two = stores
    url = f"s3://{BUCKET}/notebook"
    mine = SyncedRun(one, tmp_path / "one", "notebook", 1.0)
    theirs = SyncedRun(two, tmp_path / "two", "notebook", 1.0)
    mine.log(10)
    theirs.log(5)
    recorder = Recorder(shell=shell)
    shell.display_pub = recorder
    monkeypatch.setenv("AWS_ENDPOINT_URL", one.endpoint)
    shell.run_line_magic("tuiboard", f"{url} --live --interval 0.2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", two.endpoint)
    shell.run_line_magic("tuiboard", f"{url} --live --interval 0.2 --height 10")
    (first, _, id_one), (second, _, id_two) = recorder.calls[:2]
    assert id_one != id_two
    assert _row_step(_plain(first["text/html"]), "run") == 9
    assert _row_step(_plain(second["text/html"]), "run") == 4

    mine.log(30)
    theirs.log(7)

    def shown(display_id: str) -> int | None:
        with recorder.lock:
            ups = [d for d, up, did in recorder.calls if up and did == display_id]
        return _row_step(_plain(ups[-1]["text/html"]), "run") if ups else None

    assert _wait_for(lambda: shown(id_one) == 29 and shown(id_two) == 6), (
        shown(id_one),
        shown(id_two),
    )
    mine.log(40)
    assert _wait_for(lambda: shown(id_one) == 39), shown(id_one)
    assert shown(id_two) == 6
    mine.close()
    theirs.close()
