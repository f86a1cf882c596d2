"""s3:// logdirs end to end: a real local S3 server (moto in server mode), runs written by the
real writers and uploaded with boto3, read by the real commands and by tuiboard.open, compared
with TensorBoard's own reader on the same files. Appends are re-uploads (object stores have no
append), as a job syncing its logdir to a bucket does."""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
from tensorboardX import SummaryWriter  # noqa: E402

import tuiboard  # noqa: E402
from tests.reference import accumulate  # noqa: E402
from tuiboard.core.types import HISTOGRAMS, SCALARS  # noqa: E402
from tuiboard.writer import JsonlWriter  # noqa: E402

T0 = 1_700_000_000.0
_BUCKETS = itertools.count()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A fresh bucket (named after the test) on the moto server, the AWS environment pointing
    at it (inherited by the subprocesses), and a boto3 client."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    client = boto3.client("s3", region_name="us-east-1")
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    bucket = f"b{next(_BUCKETS)}-{name}"[:60].strip("-")  # one per test and parameter
    client.create_bucket(Bucket=bucket)
    client.bucket = bucket
    return client


def upload(client, local: Path, prefix: str) -> None:
    for dirpath, _, files in os.walk(local):
        for f in files:
            p = Path(dirpath) / f
            client.upload_file(str(p), client.bucket, f"{prefix}/{p.relative_to(local).as_posix()}")


def tuiboard_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiboard", *args], capture_output=True, text=True, timeout=120
    )


def write_runs(local: Path) -> None:
    w = SummaryWriter(str(local / "tbx"))
    rng = np.random.default_rng(0)
    for s in range(300):
        w.add_scalar("loss", np.float32(np.sin(s * 0.1)), s, walltime=T0 + s)
        w.add_scalar("train/acc", np.float32(s / 300), s, walltime=T0 + s)
        if s % 50 == 0:
            w.add_histogram("weights", rng.normal(size=200), s, walltime=T0 + s)
    w.close()
    j = JsonlWriter(str(local / "nested" / "jsonl"))
    for s in range(40):
        j.log(s, {"loss": 1.0 / (s + 1), "val": {"acc": s * 0.25}}, wall_time=T0 + s)
    j.close()


def test_open_ls_summary_export_match_tensorboard(s3, tmp_path: Path) -> None:
    local = tmp_path / "logs"
    write_runs(local)
    upload(s3, local, "exp/logs")
    url = f"s3://{s3.bucket}/exp/logs"

    ld = tuiboard.open(url)
    assert [r.name for r in ld.runs] == ["nested/jsonl", "tbx"]
    assert ld.warnings == ()
    tbx = ld.run("tbx")
    assert tbx is not None and tbx.path == f"{url}/tbx"
    acc = accumulate(local / "tbx")  # TensorBoard on the very files uploaded
    assert tbx.tags(SCALARS) == sorted(acc.Tags()["scalars"])
    for tag in tbx.tags(SCALARS):
        got, want = tbx.scalars(tag), acc.Scalars(tag)
        assert got.step.tolist() == [e.step for e in want]
        assert got.wall_time.tolist() == [e.wall_time for e in want]
        assert got.value.astype(np.float64).tolist() == [e.value for e in want]
    hists, want_h = tbx.histograms("weights"), acc.Histograms("weights")
    assert [h.step for h in hists] == [e.step for e in want_h]
    for h, e in zip(hists, want_h, strict=True):
        assert h.counts.tolist() == list(e.histogram_value.bucket)
        assert h.right.tolist() == list(e.histogram_value.bucket_limit)
    assert tbx.kinds()[HISTOGRAMS] == ["weights"]
    jr = ld.run("nested/jsonl")
    assert jr is not None
    assert jr.scalars("loss").value.tolist() == [1.0 / (s + 1) for s in range(40)]
    assert jr.scalars("val/acc").step.tolist() == list(range(40))
    assert jr.scalars("val/acc").value.tolist() == [s * 0.25 for s in range(40)]

    # The commands print for the bucket what they print for the same files on disk.
    ls = tuiboard_cmd("ls", url)
    assert ls.returncode == 0, ls.stderr
    assert ls.stdout == tuiboard_cmd("ls", str(local)).stdout
    out = tuiboard_cmd("export", url)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows == list(csv.DictReader(io.StringIO(tuiboard_cmd("export", str(local)).stdout)))
    loss = [r for r in rows if r["run"] == "tbx" and r["tag"] == "loss"]
    assert [float(r["value"]) for r in loss] == [e.value for e in acc.Scalars("loss")]
    summ = tuiboard_cmd("summary", url, "--json")
    assert summ.returncode == 0, summ.stderr
    local_summ = tuiboard_cmd("summary", str(local), "--json").stdout
    assert _stable(summ.stdout) == _stable(local_summ)
    assert [r["run"] for r in _stable(summ.stdout)] == ["nested/jsonl", "tbx"]


STABLE = ("run", "formats", "last_step", "points", "warnings", "diverged", "tags", "summary")
"""summary --json keys that do not depend on when a file was written or where it lies."""


def _stable(out: str) -> list[dict[str, object]]:
    return [{k: json.loads(line)[k] for k in STABLE} for line in out.splitlines()]


def server_requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The request lines the moto server logged (werkzeug's access log, colours stripped) since
    the last clear, each with its status: 'GET /bucket/key HTTP/1.1 206'."""
    out = []
    for r in caplog.records:
        msg = re.sub(r"\x1b\[[0-9;]*m", "", r.getMessage())
        if r.name == "werkzeug" and msg.count('"') >= 2:
            _, request, rest = msg.split('"', 2)
            out.append(f"{request} {rest.split()[0]}")
    return out


@pytest.mark.parametrize(
    "kind", ["scalars", "histograms", "images", "audio", "text", "pr_curves", "mesh", "hparams"]
)
def test_every_kind_reads_the_same_from_the_bucket_as_from_disk(
    s3, tmp_path: Path, kind: str
) -> None:
    """The demo logdir (every kind, a projector config, configs, a graph) uploaded as is: the
    bucket gives what the same files on disk give, byte for byte of each command's output."""
    from tuiboard.demo import write_demo

    local = tmp_path / "demo"
    write_demo(str(local), live=False)
    upload(s3, local, "demo")
    url = f"s3://{s3.bucket}/demo"
    if kind == "scalars":  # once: ls (every kind's tags, configs, embeddings, warnings)
        got, want = tuiboard_cmd("ls", url), tuiboard_cmd("ls", str(local))
        assert got.returncode == 0 and got.stderr == want.stderr == ""
        assert got.stdout == want.stdout and "embeddings (" in got.stdout
    got = tuiboard_cmd("export", url, "--kind", kind, "--format", "jsonl")
    want = tuiboard_cmd("export", str(local), "--kind", kind, "--format", "jsonl")
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout and got.stdout.strip(), kind


def test_reupload_with_more_bytes_is_read_from_the_offset(
    s3, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    run = tmp_path / "run"
    w = SummaryWriter(str(run))
    for s in range(100):
        w.add_scalar("loss", float(s), s, walltime=T0 + s)
    w.flush()
    (event,) = run.iterdir()
    upload(s3, tmp_path, "live")
    ld = tuiboard.open(f"s3://{s3.bucket}/live")
    src = ld._roots[0].remote
    assert src is not None
    first_size = event.stat().st_size
    assert ld.stats.bytes_read == first_size

    before, lists = src.requests, src.list_requests
    caplog.clear()
    changes = ld.refresh()
    assert not changes
    assert (src.requests - before, src.list_requests - lists) == (1, 1)  # the listing only
    (line,) = server_requests(caplog)  # what the server saw: one ListObjectsV2, no HEAD/GET
    assert line.startswith(f"GET /{s3.bucket}?list-type=2"), line

    for s in range(100, 250):
        w.add_scalar("loss", float(s), s, walltime=T0 + s)
    w.flush()
    upload(s3, tmp_path, "live")  # the whole object again, longer
    before = src.requests
    caplog.clear()
    changes = ld.refresh()
    seen = server_requests(caplog)
    # The listing, then two ranged GETs made together: the object's first 4 KiB (its first
    # bytes must be unchanged) and the bytes past the remembered offset.
    assert len(seen) == 3, seen
    for line in seen[1:]:
        assert line.startswith(f"GET /{s3.bucket}/live/run/") and line.endswith(" 206"), seen
    new_size = s3.head_object(Bucket=s3.bucket, Key=f"live/run/{event.name}")["ContentLength"]
    assert changes.bytes_read == new_size - first_size  # only the new bytes
    assert src.requests - before == 3
    got = ld.runs[0].scalars("loss")
    # TensorBoard on the object as it is in the bucket (the writer's thread may have written
    # more to the local file since).
    there = tmp_path / "downloaded"
    there.mkdir()
    s3.download_file(s3.bucket, f"live/run/{event.name}", str(there / event.name))
    want = accumulate(there).Scalars("loss")
    assert got.step.tolist() == [e.step for e in want]
    assert len(want) > 200
    assert got.value.astype(np.float64).tolist() == [e.value for e in want]
    w.close()


def test_rewritten_object_is_read_again_and_deleted_one_keeps_its_points(
    s3, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    w = SummaryWriter(str(run), filename_suffix=".a")
    for s in range(50):
        w.add_scalar("loss", float(s), s, walltime=T0 + s)
    w.close()
    w = SummaryWriter(str(run), filename_suffix=".b")
    for s in range(50):
        w.add_scalar("hist_count", float(s), s, walltime=T0 + s)
    w.close()
    upload(s3, tmp_path, "p")
    url = f"s3://{s3.bucket}/p"
    ld = tuiboard.open(url)
    assert ld.runs[0].scalars("loss").step.tolist() == list(range(50))
    a_file = next(p for p in run.iterdir() if p.name.endswith(".a"))
    b_file = next(p for p in run.iterdir() if p.name.endswith(".b"))

    # A new writer under the same name: different first bytes (its file_version record's
    # wall time), longer: read again from scratch, not from the old offset.
    a_file.unlink()
    w = SummaryWriter(str(run), filename_suffix=".a")
    for s in range(80):
        w.add_scalar("loss", float(-s), s, walltime=T0 + 1000 + s)
    w.close()
    new_a = next(p for p in run.iterdir() if p.name.endswith(".a"))
    s3.delete_object(Bucket=s3.bucket, Key=f"p/run/{a_file.name}")
    s3.upload_file(str(new_a), s3.bucket, f"p/run/{a_file.name}")
    ld.refresh()
    loss = ld.runs[0].scalars("loss")
    assert loss.step.tolist() == list(range(80))
    assert loss.value.tolist() == [float(-s) for s in range(80)]

    s3.delete_object(Bucket=s3.bucket, Key=f"p/run/{b_file.name}")
    ld.refresh()
    run_view = ld.runs[0]
    assert run_view.scalars("hist_count").step.tolist() == list(range(50))
    assert any("vanished" in w.message for w in run_view.warnings), run_view.warnings


def test_bad_object_warns_and_the_good_data_stays(s3, tmp_path: Path) -> None:
    run = tmp_path / "run"
    w = SummaryWriter(str(run))
    for s in range(30):
        w.add_scalar("loss", float(s), s, walltime=T0 + s)
    w.close()
    (event,) = run.iterdir()
    data = bytearray(event.read_bytes())
    pos = 0
    for _ in range(10):  # the 10th record (record 0 is file_version)
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + n + 4
    (n,) = struct.unpack_from("<Q", data, pos)
    data[pos + 12 + n // 2] ^= 0x01  # its payload: its data CRC fails
    event.write_bytes(bytes(data))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "events.out.tfevents.0.junk").write_bytes(b"\xff" * 100)
    upload(s3, tmp_path, "bad")
    url = f"s3://{s3.bucket}/bad"
    ld = tuiboard.open(url)
    run_view = ld.run("run")
    assert run_view is not None
    (warning,) = run_view.warnings
    assert warning.file == f"{url}/run/{event.name}" and warning.offset == pos
    assert run_view.scalars("loss").step.tolist() == [s for s in range(30) if s != 9]
    junk = ld.run("junk")
    assert junk is not None and junk.warnings
    ls = tuiboard_cmd("ls", url)
    assert ls.returncode == 0 and "Traceback" not in ls.stderr
    assert ls.stdout == tuiboard_cmd("ls", str(tmp_path)).stdout.replace(str(tmp_path), url)


def test_missing_bucket_is_one_clear_line(s3) -> None:
    res = tuiboard_cmd("summary", "s3://no-such-bucket-here/logs")
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert "s3://no-such-bucket-here/logs: cannot list" in res.stderr
    assert "testing" not in res.stderr + res.stdout  # the secret is never printed
    ld = tuiboard.open("s3://no-such-bucket-here/logs")
    assert ld.runs == [] and ld.warnings[0].message.startswith("cannot list")


def test_store_errors_on_refresh_keep_the_runs_on_screen(s3, tmp_path: Path) -> None:
    write_runs(tmp_path / "logs")
    upload(s3, tmp_path / "logs", "gone")
    ld = tuiboard.open(f"s3://{s3.bucket}/gone")
    before = [(r.name, r.point_count) for r in ld.runs]
    assert len(before) == 2 and all(n > 0 for _, n in before)
    for obj in s3.list_objects_v2(Bucket=s3.bucket)["Contents"]:
        s3.delete_object(Bucket=s3.bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=s3.bucket)  # the store now refuses every listing
    ld.refresh()
    assert [(r.name, r.point_count) for r in ld.runs] == before
    (warning,) = ld.warnings
    assert warning.message.startswith("cannot list") and "Traceback" not in warning.message
    s3.create_bucket(Bucket=s3.bucket)  # back, empty: now the runs are really gone
    ld.refresh()
    assert ld.runs == []


@pytest.mark.parametrize(
    "url,module,extra",
    [
        ("s3://bucket/logs", "s3fs", "s3"),
        ("gs://bucket/logs", "gcsfs", "gcs"),
        ("az://container/logs", "adlfs", "azure"),
        ("abfs://container/logs", "adlfs", "azure"),
        ("ssh://host/logs", "sshfs", "ssh"),
    ],
)
def test_missing_package_names_the_extra(url: str, module: str, extra: str) -> None:
    """Each URL goes to its fsspec package; when that package is missing, every command says
    in one line which extra installs it (exit 2)."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from tuiboard.cli import main\n"
        f"sys.exit(main(['ls', {url!r}]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr == f"tuiboard: cannot read {url}: pip install 'tuiboard[{extra}]'\n"


def test_unknown_protocol_is_one_line() -> None:
    res = tuiboard_cmd("ls", "nosuchproto://bucket/logs")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("tuiboard: nosuchproto://bucket/logs: ")
    assert len(res.stderr.splitlines()) == 1


def test_local_logdir_never_imports_fsspec(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("loss", 1.0, 0)
    w.close()
    code = (
        "import sys, io, tuiboard\n"
        "from tuiboard.export import export_scalars\n"
        f"ld = tuiboard.open({str(tmp_path)!r})\n"
        "assert [r.name for r in ld.runs] == ['run']\n"
        "export_scalars(ld, io.StringIO())\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fsspec', 's3fs', 'botocore', 'aiobotocore', 'tuiboard.core.remote'))))\n"
        "print('tuiboard.core.remote' in sys.modules)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert res.stdout.split("\n")[:2] == ["", "False"], res.stdout


def test_storage_option_reaches_fsspec_and_secrets_stay_unprinted(
    s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_runs(tmp_path / "logs")
    upload(s3, tmp_path / "logs", "opt")
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    url = f"s3://{s3.bucket}/opt"
    want = tuiboard_cmd("ls", url)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the option says where the store is
    got = tuiboard_cmd("ls", url, "--storage-option", f"endpoint_url={endpoint}")
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout and "tbx" in got.stdout
    # A store that refuses (here: nothing listens at the endpoint) is one line, no traceback,
    # and the secret given on the command line is never printed.
    secret = "s3cr3t-Do-Not-Print"
    bad = tuiboard_cmd(
        "summary",
        url,
        "--storage-option=endpoint_url=http://127.0.0.1:9",
        "--storage-option",
        f"secret={secret}",
        "--storage-option",
        'config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 2}',
    )
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "Traceback" not in bad.stderr and secret not in bad.stderr + bad.stdout
    assert f"{url}: cannot list" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_embeddings_read_from_the_bucket(s3, tmp_path: Path) -> None:
    """A projector run (tensorboardX add_embedding: tensors.tsv, metadata.tsv, sprite.png) and
    a raw float32 tensor (TensorBoard's binary form): the tensors, metadata and sprite read
    from the bucket are the ones written."""
    from tuiboard.core.embeddings import load

    rng = np.random.default_rng(1)
    mat = rng.normal(size=(30, 5)).astype(np.float32)
    labels = [f"pt{i}" for i in range(30)]
    thumbs = rng.random(size=(30, 3, 8, 8)).astype(np.float32)
    w = SummaryWriter(str(tmp_path / "proj"))
    w.add_embedding(mat, metadata=labels, label_img=thumbs, global_step=0, tag="words")
    w.close()
    raw = rng.normal(size=(12, 4)).astype(np.float32)
    binary = tmp_path / "bin"
    binary.mkdir()
    raw.tofile(binary / "t.bytes")
    (binary / "projector_config.pbtxt").write_text(
        'embeddings {\n  tensor_name: "raw"\n  tensor_path: "t.bytes"\n'
        "  tensor_shape: 12\n  tensor_shape: 4\n}\n"
    )
    events = SummaryWriter(str(binary))
    events.add_scalar("x", 1.0, 0)
    events.close()
    upload(s3, tmp_path, "emb")
    url = f"s3://{s3.bucket}/emb"
    ld = tuiboard.open(url)
    proj, bin_run = ld.run("proj"), ld.run("bin")
    assert proj is not None and bin_run is not None
    (info,) = proj.embeddings
    assert info.tensor_path.startswith(f"{url}/proj/")
    got = load(info)
    assert got.warnings == ()
    assert got.tensor is not None and np.array_equal(got.tensor, mat)
    assert got.metadata is not None and got.metadata.columns[0].values == tuple(labels)
    (sprite,) = (tmp_path / "proj").rglob("sprite.png")
    assert got.sprite == sprite.read_bytes()
    (raw_info,) = bin_run.embeddings
    got = load(raw_info)
    assert got.warnings == () and got.tensor is not None
    assert got.tensor.dtype == np.float32 and np.array_equal(got.tensor, raw)
    # the command draws from the bucket what it draws from disk
    plot = tuiboard_cmd("plot", url, "--kind", "embeddings", "--json")
    assert plot.returncode == 0, plot.stderr
    local = tuiboard_cmd("plot", str(tmp_path), "--kind", "embeddings", "--json")
    assert plot.stdout == local.stdout and plot.stdout.strip()


def test_jsonl_media_files_read_from_the_bucket(s3, tmp_path: Path) -> None:
    """A JSONL run's image-file objects name PNGs beside it: read from the bucket; a path
    leading out of the run's directory is refused there as on disk."""
    from PIL import Image

    from tuiboard.core.types import IMAGES

    run = tmp_path / "r"
    (run / "media").mkdir(parents=True)
    pixels = np.arange(6 * 9 * 3, dtype=np.uint8).reshape(6, 9, 3)
    Image.fromarray(pixels).save(run / "media" / "a.png")
    (tmp_path / "secret.png").write_bytes((run / "media" / "a.png").read_bytes())
    lines = [
        {"_step": 0, "loss": 1.0, "img": {"_type": "image-file", "path": "media/a.png"}},
        {"_step": 1, "loss": 0.5, "img": {"_type": "image-file", "path": "../secret.png"}},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    upload(s3, tmp_path, "media")
    r = tuiboard.open(f"s3://{s3.bucket}/media").run("r")
    assert r is not None
    (img,) = r.values(IMAGES, "img")
    assert img.step == 0 and (img.width, img.height) == (9, 6)
    assert img.images[0] == (run / "media" / "a.png").read_bytes()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(img.images[0]))), pixels)
    (warning,) = r.warnings
    assert "outside the run directory" in warning.message and warning.line == 2


def test_same_size_rewrite_is_read_again_by_its_etag(s3, tmp_path: Path) -> None:
    """An object rewritten whole with the same size and the same first bytes (S3's times have
    1 s resolution, and the loader's head check sees no change): the listing's ETag changed,
    so the run is read again."""
    from tuiboard.writer import EventWriter

    def write(where: Path, sign: float) -> Path:
        w = EventWriter(str(where), filename="events.out.tfevents.1.h", start_time=T0)
        for s in range(50):
            w.add_scalar("loss", 1.0 if s < 5 else sign * s, s, wall_time=T0 + s)
        w.close()
        return where / "events.out.tfevents.1.h"

    first, second = write(tmp_path / "a", 1.0), write(tmp_path / "b", -1.0)
    assert first.stat().st_size == second.stat().st_size
    assert first.read_bytes() != second.read_bytes()
    assert first.read_bytes()[:200] == second.read_bytes()[:200]  # the loader's head check: 64
    key = "etag/run/events.out.tfevents.1.h"
    s3.upload_file(str(first), s3.bucket, key)
    ld = tuiboard.open(f"s3://{s3.bucket}/etag")
    assert ld.runs[0].scalars("loss").value[5:].tolist() == [float(s) for s in range(5, 50)]
    etag = ld._roots[0].remote.listing[f"s3://{s3.bucket}/{key}"].etag
    assert etag
    s3.upload_file(str(second), s3.bucket, key)
    ld.refresh()
    assert ld._roots[0].remote.listing[f"s3://{s3.bucket}/{key}"].etag != etag
    assert ld.runs[0].scalars("loss").value[5:].tolist() == [-float(s) for s in range(5, 50)]
    assert ld.runs[0].scalars("loss").step.tolist() == list(range(50))
    before = ld._roots[0].remote.requests
    ld.refresh()  # the same ETag again: the listing only
    assert ld._roots[0].remote.requests - before == 1
