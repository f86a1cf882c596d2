"""Credentials refused by a real store: moto's S3 server in its own process with its IAM
authentication on (moto-api/reset-auth: every request must be signed by an IAM user's access key
whose policy allows it). Every command given wrong keys prints one warning line naming what is
wrong, exits non-zero, prints no traceback and never the secret; the right key reads the bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
from tensorboardX import SummaryWriter  # noqa: E402

from tests.moto_proc import MotoProcess  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "secured"
URL = f"s3://{BUCKET}"
"""The bucket's root: moto 5.2's signature check refuses any signed request whose query holds
an escaped "/" (ListObjectsV2 with prefix=exp/ fails even with the right key)."""
READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            # AWS checks ListObjectsV2 as s3:ListBucket; moto 5.2.6 by its operation name
            # (s3:ListObjectsV2): both, so the reader may list on either
            "Action": ["s3:ListBucket", "s3:ListObjectsV2", "s3:GetObject"],
            "Resource": "*",
        }
    ],
}
WRONG_SECRET = "Wr0ng-Secret-Do-Not-Print-1234"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, str]]]:
    """The server with a bucket of one run, a reader (allowed to list and get) and a nobody
    (no policy); authentication on. Yields each user's access key."""
    server = MotoProcess()
    server.start()
    admin = {
        "endpoint_url": server.endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "region_name": "us-east-1",
    }
    local = tmp_path_factory.mktemp("auth")
    w = SummaryWriter(str(local / "run"))
    for s in range(20):
        w.add_scalar("loss", 1.0 / (s + 1), s, walltime=1_700_000_000.0 + s)
    w.close()
    s3 = boto3.client("s3", **admin)
    s3.create_bucket(Bucket=BUCKET)
    for p in (local / "run").iterdir():
        s3.upload_file(str(p), BUCKET, f"run/{p.name}")
    iam = boto3.client("iam", **admin)
    keys = {}
    for user in ("reader", "nobody"):
        iam.create_user(UserName=user)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(
        UserName="reader", PolicyName="read", PolicyDocument=json.dumps(READ_POLICY)
    )
    server.set_auth(True)
    yield {
        "endpoint": {"AWS_ENDPOINT_URL": server.endpoint},
        **{u: {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]} for u, k in keys.items()},
    }
    server.stop()


def run(store: dict[str, dict[str, str]], key_id: str, secret: str, *args: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        store["endpoint"],
        AWS_ACCESS_KEY_ID=key_id,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [sys.executable, "-m", "tuiboard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


COMMANDS = [
    ("ls", URL),
    ("summary", URL),
    ("check", URL),
    ("export", URL),
    ("plot", URL, "--tag", "loss"),
]


def test_the_right_key_reads_the_bucket(store) -> None:  # type: ignore[no-untyped-def]
    reader = store["reader"]
    res = run(store, reader["id"], reader["secret"], "export", URL)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert len(res.stdout.splitlines()) == 21  # header + 20 points


CASES = [(c, "wrong-secret", "credentials refused") for c in COMMANDS] + [
    (COMMANDS[1], "unknown-key", "credentials refused"),
    (COMMANDS[0], "nobody", "access denied"),
]
"""Every command with the right key id and a wrong secret; an unknown key and a key without
permission once each."""


@pytest.mark.parametrize("command,who,reason", CASES, ids=[f"{c[0]}-{who}" for c, who, _ in CASES])
def test_refused_credentials_are_one_line_no_traceback_no_secret(  # type: ignore[no-untyped-def]
    store, command: tuple[str, ...], who: str, reason: str
) -> None:
    if who == "wrong-secret":
        key_id, secret = store["reader"]["id"], WRONG_SECRET
    elif who == "unknown-key":
        key_id, secret = "AKIAUNKNOWNKEY000000", WRONG_SECRET
    else:
        key_id, secret = store["nobody"]["id"], store["nobody"]["secret"]
    res = run(store, key_id, secret, *command)
    assert res.returncode != 0, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"tuiboard: warning: {URL}: cannot list: {reason}"), lines[0]
    assert secret not in res.stdout + res.stderr
