"""A real Google Cloud Storage API for tests: gcp-storage-emulator (pure Python, from the
test extra) on 127.0.0.1, in memory, with one bucket; and the driver suite's target for
the ``gcs`` driver. The driver finds the emulator through ``STORAGE_EMULATOR_HOST``, as
every Google client does."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.gcs import GCSDriver
from storage_drivers.gcs.parameters import EMULATOR_ENV
from storage_drivers.testsuite import DriverTarget
from tests.support.command import free_port
from tests.support.emulator import running

BUCKET = "pyregistry-test"
INSTALL_HINT = "pip install -e '.[test]' (gcp-storage-emulator)"


@dataclass
class GCSServer:
    endpoint: str

    @property
    def host(self) -> str:
        return self.endpoint.removeprefix("http://")

    def driver_parameters(self, rootdirectory: str, **overrides: Any) -> dict[str, Any]:
        return {"bucket": BUCKET, "rootdirectory": rootdirectory, **overrides}

    def object_names(self, prefix: str) -> list[str]:
        """The bucket's object names under ``prefix``, straight from the API."""
        response = httpx.get(
            f"{self.endpoint}/storage/v1/b/{BUCKET}/o", params={"prefix": prefix}, timeout=10
        )
        response.raise_for_status()
        return [item["name"] for item in response.json().get("items", [])]


def _emulator() -> str:
    found = shutil.which("gcp-storage-emulator", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"gcp-storage-emulator is not installed: {INSTALL_HINT}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSServer]:
    """The session's emulator; ``STORAGE_EMULATOR_HOST`` points at it while it runs."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    argv = [_emulator(), "start", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--default-bucket", BUCKET, "--in-memory"]

    def ready() -> bool:
        return httpx.get(f"{endpoint}/storage/v1/b/{BUCKET}", timeout=2).is_success

    with running("gcp-storage-emulator", lambda _state: argv, ready):
        previous = os.environ.get(EMULATOR_ENV)
        os.environ[EMULATOR_ENV] = endpoint
        try:
            yield GCSServer(endpoint)
        finally:
            if previous is None:
                os.environ.pop(EMULATOR_ENV, None)
            else:
                os.environ[EMULATOR_ENV] = previous


@pytest.fixture
def gcs_driver_target(gcs_server: GCSServer) -> DriverTarget:
    """The driver suite's gcs drivers: a fresh root each on the emulator's bucket."""

    def make() -> StorageDriver:
        root = f"/t-{uuid.uuid4().hex[:12]}"
        return GCSDriver.from_parameters(gcs_server.driver_parameters(root))

    def reopen(driver: StorageDriver) -> StorageDriver:
        assert isinstance(driver, GCSDriver)
        return GCSDriver.from_parameters(gcs_server.driver_parameters("/" + driver.parameters.root))

    # the emulator keeps every object in its own memory, not the test process's
    # the emulator copies a whole object for each ranged read: 128 MiB, not 256
    return DriverTarget(make=make, reopen=reopen, big_blob_mib=128)
