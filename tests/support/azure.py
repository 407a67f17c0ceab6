"""A real Azure Blob Storage API for tests: Azurite (Microsoft's emulator, installed by
scripts/test.sh with npm into ``.azurite``) on 127.0.0.1, in memory, with one container;
and the driver suite's target for the ``azure`` driver, reaching it through
``serviceurl`` with Azurite's well-known development account."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage_drivers.azure import AzureDriver
from storage_drivers.base import StorageDriver
from storage_drivers.testsuite import DriverTarget
from tests.support.command import free_port
from tests.support.emulator import running

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "devstoreaccount1"
#: Azurite's published development key (not a secret).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONTAINER = "pyregistry-test"
INSTALL_HINT = "npm install --prefix .azurite azurite@3 (scripts/test.sh does it)"


@dataclass
class AzuriteServer:
    service_url: str

    def driver_parameters(self, rootdirectory: str, **overrides: Any) -> dict[str, Any]:
        return {
            "accountname": ACCOUNT,
            "accountkey": ACCOUNT_KEY,
            "container": CONTAINER,
            "serviceurl": self.service_url,
            "rootdirectory": rootdirectory,
            **overrides,
        }

    def container(self) -> Any:
        from azure.storage.blob import ContainerClient

        return ContainerClient(
            self.service_url,
            CONTAINER,
            credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY},
            retry_total=0,
        )

    def blob_names(self, prefix: str) -> list[str]:
        with self.container() as container:
            return [blob.name for blob in container.list_blobs(name_starts_with=prefix)]


def _azurite() -> str:
    local = REPO_ROOT / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("azurite-blob")
    if found is None:
        pytest.fail(f"Azurite is not installed: {INSTALL_HINT}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[AzuriteServer]:
    port = free_port()
    server = AzuriteServer(f"http://127.0.0.1:{port}/{ACCOUNT}")
    argv = [_azurite(), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    argv += ["--inMemoryPersistence", "--skipApiVersionCheck", "--silent"]

    def ready() -> bool:
        with server.container() as container:
            container.create_container()
        return True

    with running("azurite", lambda _state: argv, ready):
        yield server


@pytest.fixture
def azure_driver_target(azurite_server: AzuriteServer) -> DriverTarget:
    """The driver suite's azure drivers: a fresh root each in Azurite's container."""

    def make() -> StorageDriver:
        root = f"/t-{uuid.uuid4().hex[:12]}"
        return AzureDriver(**azurite_server.driver_parameters(root))

    def reopen(driver: StorageDriver) -> StorageDriver:
        assert isinstance(driver, AzureDriver)
        return AzureDriver(**azurite_server.driver_parameters("/" + driver.parameters.root))

    # the emulator copies a whole object for each ranged read: 128 MiB, not 256
    return DriverTarget(make=make, reopen=reopen, big_blob_mib=128)
