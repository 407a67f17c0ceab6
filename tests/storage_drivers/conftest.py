"""How the driver suite builds our drivers, and the filesystem-only tests' driver.

The suite itself is :mod:`storage_drivers.testsuite`; ``test_registered_drivers`` runs it
for every registered driver, finding each one's ``<name>_driver_target`` fixture here
(``inmemory``, ``filesystem``) or in ``tests/support`` (``s3``, ``swift``: they need the
servers those plugins start).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from storage_drivers.testsuite import DriverTarget


@pytest.fixture
def inmemory_driver_target() -> DriverTarget:
    # Each instance is its own store: there is nothing another instance could reopen.
    return DriverTarget(make=InMemoryDriver, content_in_process=True)


@pytest.fixture
def filesystem_driver_target(tmp_path: Path) -> DriverTarget:
    counter = itertools.count()

    def reopen(driver: StorageDriver) -> StorageDriver:
        assert isinstance(driver, FilesystemDriver)
        return FilesystemDriver(driver.root_directory)

    # The root does not exist yet: the driver must create it on first write.
    return DriverTarget(
        make=lambda: FilesystemDriver(str(tmp_path / f"root{next(counter)}")), reopen=reopen
    )


@pytest.fixture
async def fs(tmp_path: Path) -> AsyncIterator[FilesystemDriver]:
    """A filesystem driver for the filesystem-only tests (they may look at its files)."""
    d = FilesystemDriver(rootdirectory=str(tmp_path / "root"))
    yield d
    await d.close()
