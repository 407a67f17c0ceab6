"""Fixtures for the garbage collection tests: a registry with the scenario on a driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pyregistry.storage import Registry
from storage_drivers.base import StorageDriver
from storage_drivers.inmemory import InMemoryDriver
from tests.gc.scenario import Scenario, build_scenario


@pytest.fixture
def driver() -> InMemoryDriver:
    return InMemoryDriver()


@pytest.fixture
async def registry(driver: InMemoryDriver) -> AsyncIterator[Registry]:
    reg = Registry(driver)
    yield reg
    await reg.close()


@pytest.fixture
async def scenario(registry: Registry) -> Scenario:
    return await build_scenario(registry)


async def snapshot(driver: StorageDriver) -> dict[str, bytes]:
    """Every file of the store and its content."""
    files = {}
    async for info in driver.walk("/"):
        if not info.is_dir:
            files[info.path] = await driver.get_content(info.path)
    return files
