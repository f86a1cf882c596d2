"""Many small remote runs: the first load decodes their event files in one batch from the
prefetch's GETs (loader.preread_small over source.read_whole), which must give what
TensorBoard's reader gives and what the same files read from disk give (warnings too), with one
GET per file and the incremental reads unchanged afterwards. Also the s3 client options
(remote.s3_options) and the timestamp parser (remote.parse_timestamp) that cut our CPU per
request, against botocore's own."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
from tensorboardX import SummaryWriter

import tuiboard
from tests import test_remote_s3 as s3_tests
from tests.reference import accumulate
from tuiboard.core import logdir, remote, tfevents
from tuiboard.core.types import HISTOGRAMS, SCALARS

endpoint = s3_tests.endpoint  # the moto server and a fresh bucket a test (fixtures)
s3 = s3_tests.s3
server_requests = s3_tests.server_requests
upload = s3_tests.upload
T0 = 1_700_000_000.0
RUNS = logdir.PREREAD_MIN_RUNS + 4


def _write(run: Path, steps: int, seed: int, suffix: str = "") -> None:
    w = SummaryWriter(str(run), filename_suffix=suffix)
    rng = np.random.default_rng(seed)
    for s in range(steps):
        w.add_scalar("loss", np.float32(1.0 / (s + 1 + seed)), s, walltime=T0 + s)
        if seed % 3 == 0:
            w.add_scalar("train/acc", np.float32(s / steps), s, walltime=T0 + s)
        if seed % 4 == 0 and s % 20 == 0:
            w.add_histogram("weights", rng.normal(size=100), s, walltime=T0 + s)
    w.close()


def _corrupt_record(path: Path, record: int) -> int:
    """Flip a payload byte of record `record`: its data CRC fails. Returns its offset."""
    data = bytearray(path.read_bytes())
    pos = 0
    for _ in range(record):
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + n + 4
    (n,) = struct.unpack_from("<Q", data, pos)
    data[pos + 12 + n // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return pos


def _logdir(local: Path) -> dict[str, str]:
    """RUNS runs by tensorboardX: clean ones of several sizes and kinds, one cut short in a
    record, one with a damaged record, one of two event files, and an empty file."""
    damage: dict[str, str] = {}
    for i in range(RUNS):
        _write(local / f"run{i:02d}", 40 + 17 * i, i)
    cut = next((local / "run01").iterdir())
    cut.write_bytes(cut.read_bytes()[:-7])
    damage["run01"] = "cut"
    bad = next((local / "run02").iterdir())
    _corrupt_record(bad, 5)
    damage["run02"] = "crc"
    _write(local / "run03", 30, 103, suffix=".second")  # a second event file
    damage["run03"] = "two files"
    (local / "run04" / "events.out.tfevents.9.empty").write_bytes(b"")
    damage["run04"] = "empty file"
    return damage


def _series(run: tuiboard.Run) -> dict[str, object]:
    out: dict[str, object] = {}
    for tag in run.tags(SCALARS):
        sc = run.scalars(tag)
        out[tag] = (sc.step.tolist(), sc.wall_time.tolist(), sc.value.tolist())
    for tag in run.tags(HISTOGRAMS):
        out[f"h:{tag}"] = [
            (h.step, h.counts.tolist(), h.right.tolist()) for h in run.histograms(tag)
        ]
    return out


def test_many_small_runs_batched_match_disk_and_tensorboard(
    s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="werkzeug")
    local = tmp_path / "logs"
    damage = _logdir(local)
    upload(s3, local, "many")
    url = f"s3://{s3.bucket}/many"
    batched: list[str] = []
    many = tfevents.read_events_many

    def counted(items):  # type: ignore[no-untyped-def]
        batched.extend(path for _, path, _ in items)
        return many(items)

    monkeypatch.setattr(tfevents, "read_events_many", counted)
    caplog.clear()
    ld = tuiboard.open(url)
    src = ld._roots[0].remote
    assert src is not None
    files = sorted(p for p in local.rglob("*") if p.is_file() and p.stat().st_size)
    # One listing and one GET a (non-empty) file: the batch read the prefetch's bytes.
    assert src.requests == 1 + len(files), (src.requests, len(files))
    assert len(server_requests(caplog)) == 1 + len(files)
    # Every run's first event file went through the batch (remote ones included).
    assert sum(p.startswith(url) for p in batched) >= RUNS - 2, batched

    on_disk = tuiboard.open(str(local))
    assert [r.name for r in ld.runs] == [r.name for r in on_disk.runs]
    for got, want in zip(ld.runs, on_disk.runs, strict=True):
        assert _series(got) == _series(want), got.name
        assert [(w.file.replace(url, str(local)), w.offset, w.message) for w in got.warnings] == [
            (w.file, w.offset, w.message) for w in want.warnings
        ], got.name
        if got.name in damage:
            continue
        acc = accumulate(local / got.name)  # TensorBoard's reader on the uploaded files
        assert got.tags(SCALARS) == sorted(acc.Tags()["scalars"])
        for tag in got.tags(SCALARS):
            sc, events = got.scalars(tag), acc.Scalars(tag)
            assert sc.step.tolist() == [e.step for e in events]
            assert sc.wall_time.tolist() == [e.wall_time for e in events]
            assert sc.value.astype(np.float64).tolist() == [e.value for e in events]
        for tag in got.tags(HISTOGRAMS):
            hists = acc.Histograms(tag)
            assert [h.step for h in got.histograms(tag)] == [e.step for e in hists]
    assert ld.run("run02") is not None and ld.run("run02").warnings  # type: ignore[union-attr]
    cut = ld.run("run01")  # its last record cut short: left for when the object grows
    assert cut is not None and cut.scalars("loss").step.tolist() == list(range(40 + 17 - 1))

    # A no-change refresh is the listing alone.
    before = src.requests
    caplog.clear()
    assert not ld.refresh()
    assert src.requests - before == 1 and len(server_requests(caplog)) == 1


def test_many_small_runs_grown_are_read_from_the_offset(
    s3, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="werkzeug")
    local = tmp_path / "logs"
    writers = {}
    for i in range(RUNS):
        w = SummaryWriter(str(local / f"run{i:02d}"))
        for s in range(50):
            w.add_scalar("loss", float(s * i), s, walltime=T0 + s)
        w.flush()
        writers[i] = w
    upload(s3, local, "live")
    url = f"s3://{s3.bucket}/live"
    ld = tuiboard.open(url)
    src = ld._roots[0].remote
    assert src is not None and src.requests == 1 + RUNS
    sizes = {i: next((local / f"run{i:02d}").iterdir()).stat().st_size for i in range(RUNS)}
    assert ld.stats.bytes_read == sum(sizes.values())

    grown = [0, 3, 9]
    for i in grown:
        for s in range(50, 120):
            writers[i].add_scalar("loss", float(s * i), s, walltime=T0 + s)
        writers[i].flush()
        (event,) = (local / f"run{i:02d}").iterdir()
        s3.upload_file(str(event), s3.bucket, f"live/run{i:02d}/{event.name}")
    before = src.requests
    caplog.clear()
    changes = ld.refresh()
    seen = server_requests(caplog)
    assert src.requests - before == 1 + 2 * len(grown) == len(seen), seen
    assert all(line.endswith(" 206") for line in seen[1:]), seen
    new_sizes = {i: next((local / f"run{i:02d}").iterdir()).stat().st_size for i in grown}
    assert changes.bytes_read == sum(new_sizes[i] - sizes[i] for i in grown)
    for i in range(RUNS):
        run = ld.run(f"run{i:02d}")
        assert run is not None
        want = accumulate(local / f"run{i:02d}").Scalars("loss")
        got = run.scalars("loss")
        assert got.step.tolist() == [e.step for e in want]
        assert got.value.astype(np.float64).tolist() == [e.value for e in want]
    for w in writers.values():
        w.close()


_WHEN = st.datetimes(
    min_value=datetime(1980, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
)


@settings(max_examples=300, deadline=None)
@given(when=_WHEN, millis=st.booleans())
def test_parse_timestamp_is_botocores(when: datetime, millis: bool) -> None:
    from botocore.utils import parse_timestamp

    when = when.replace(microsecond=when.microsecond // 1000 * 1000 if millis else 0)
    iso = when.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{when.microsecond // 1000:03d}Z" if millis else "Z"
    )
    http = format_datetime(when.replace(microsecond=0), usegmt=True)
    for text in (iso, http, str(int(when.timestamp())), when.isoformat()):
        got, want = remote.parse_timestamp(text), parse_timestamp(text)
        assert got == want and got.utcoffset() == want.utcoffset(), text


def test_parse_timestamp_leaves_odd_text_to_botocore() -> None:
    from botocore.utils import parse_timestamp

    for text in ("2026-12-07T10:42:17.12Z", "Mon, 07 Dec 2026 10:42:17 +0100", "1700000000.5"):
        assert remote.parse_timestamp(text) == parse_timestamp(text), text
    with pytest.raises(ValueError):
        remote.parse_timestamp("not a time at all, not at all")
    assert remote.parse_timestamp("2026-12-07T10:42:17Z") - parse_timestamp(
        "2026-12-07T10:42:16Z"
    ) == timedelta(seconds=1)


def test_s3_options_defaults_and_the_users_win(s3) -> None:
    opts = remote.s3_options({})["config_kwargs"]
    assert isinstance(opts, dict)
    assert opts["max_pool_connections"] == remote.PARALLEL
    assert opts["response_checksum_validation"] == "when_required"
    assert opts["parameter_validation"] is False
    assert str(opts["user_agent"]).startswith("tuiboard/")
    mine = {
        "max_pool_connections": 5,
        "user_agent": "me/1",
        "retries": {"max_attempts": 1},
        "parameter_validation": True,
    }
    got = remote.s3_options({"config_kwargs": mine, "anon": False})
    assert got["anon"] is False
    assert got["config_kwargs"] == {**mine, "response_checksum_validation": "when_required"}
    assert mine["max_pool_connections"] == 5 and len(mine) == 4  # the caller's dict untouched
    src = remote.make_source(f"s3://{s3.bucket}/x", {"config_kwargs": mine})
    assert src.fs.config_kwargs["max_pool_connections"] == 5
    assert src.fs.config_kwargs["user_agent"] == "me/1"
    factory = src.fs.session.get_component("response_parser_factory")
    assert factory._defaults["timestamp_parser"] is remote.parse_timestamp
    src.list_tree()  # the session made here lists as s3fs's own would

    from aiobotocore.session import AioSession

    theirs = AioSession()
    src = remote.make_source(f"s3://{s3.bucket}/x", {"session": theirs})
    assert src.fs.session is theirs  # a session of the caller's is left as it is


def test_read_whole_takes_only_files_of_the_sizes_asked(s3, tmp_path: Path) -> None:
    from tuiboard.core import source

    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(b"x" * 100)
    big.write_bytes(b"y" * 1000)
    assert source.read_whole(str(small), 10, 500) == (small.stat().st_ino, b"x" * 100)
    assert source.read_whole(str(big), 10, 500) is None
    assert source.read_whole(str(small), 200, 500) is None
    assert source.read_whole(str(tmp_path / "gone"), 0, 500) is None
    upload(s3, tmp_path, "w")
    url = f"s3://{s3.bucket}/w"
    ld = tuiboard.open(url)
    assert source.read_whole(f"{url}/small", 10, 500) == (0, b"x" * 100)
    assert source.read_whole(f"{url}/big", 10, 500) is None
    s3.delete_object(Bucket=s3.bucket, Key="w/small")  # listed, then gone: None, no raise
    src = ld._roots[0].remote
    assert src is not None
    src._recent.clear()
    assert source.read_whole(f"{url}/small", 10, 500) is None
