"""A moto S3 server in its own process (`python -m moto.server`), for tests and benches that
stop and start the store mid-session, turn its authentication on, or must not share the
interpreter (and its GIL) with the server. Its state (buckets, IAM users) lives in that process
and is lost when it stops."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from tests.ports import free_port


class MotoProcess:
    """`start()` runs the server on `port` (a free one by default) and waits until it answers;
    `stop()` kills it; `start()` again brings up an empty store on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def client(self) -> Any:
        """A boto3 S3 client of this server (the test credentials, us-east-1)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def start(self, timeout: float = 30.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return
            except urllib.error.HTTPError:  # it answers
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not answer")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def set_auth(self, on: bool) -> None:
        """Turn moto's IAM authentication on (every request from now on must be signed by an
        access key of an IAM user allowed to make it) or off."""
        data = b"0" if on else b"inf"
        req = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=data,
            headers={"Content-Type": "text/plain"},  # not a form: moto reads the raw body
        )
        urllib.request.urlopen(req, timeout=10).close()
