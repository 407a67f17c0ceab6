"""Fixtures for the storage-layer tests: registries over real drivers, and push helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.storage import Registry, Repository
from storage_drivers import StorageDriver, create_driver
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver


@pytest.fixture
def driver() -> InMemoryDriver:
    return InMemoryDriver()


@pytest.fixture
async def registry(driver: InMemoryDriver) -> AsyncIterator[Registry]:
    reg = Registry(driver)
    yield reg
    await reg.close()


@pytest.fixture
def repo(registry: Registry) -> Repository:
    return registry.repository("library/hello")


@pytest.fixture
def fs_root(tmp_path: Path) -> Path:
    root = tmp_path / "registry-root"
    root.mkdir()
    return root


@pytest.fixture(params=["inmemory", "filesystem"])
async def any_registry(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Registry]:
    """The same behaviour must hold on every driver."""
    if request.param == "inmemory":
        drv: StorageDriver = InMemoryDriver()
    else:
        drv = create_driver("filesystem", {"rootdirectory": str(tmp_path / "fs")})
    reg = Registry(drv)
    yield reg
    await reg.close()


@pytest.fixture
def recording() -> RecordingDriver:
    return RecordingDriver(InMemoryDriver())
