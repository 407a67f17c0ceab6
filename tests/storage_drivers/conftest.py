"""The shared driver suite's fixtures: every test taking ``driver`` runs once per driver.

A driver joins the suite by adding its name to ``DRIVER_NAMES`` and providing a fixture
``<name>_driver_factory``: an async callable returning a fresh, empty driver whose storage
no other test sees (a unique root directory, bucket prefix, container, ...). Factories
of drivers needing servers live in ``tests/support/<name>.py`` so they are visible here.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver

DriverFactory = Callable[[], Awaitable[StorageDriver]]

DRIVER_NAMES = ["inmemory", "filesystem", "s3", "swift"]


class MadeDrivers:
    """Builds drivers on demand (``make`` is the factory) and closes them all at the end."""

    def __init__(self, build: Callable[[], StorageDriver]) -> None:
        self._build = build
        self._made: list[StorageDriver] = []

    async def make(self) -> StorageDriver:
        self._made.append(self._build())
        return self._made[-1]

    async def close(self) -> None:
        for driver in self._made:
            await driver.close()


@pytest.fixture
async def inmemory_driver_factory() -> AsyncIterator[DriverFactory]:
    drivers = MadeDrivers(InMemoryDriver)
    yield drivers.make
    await drivers.close()


@pytest.fixture
async def filesystem_driver_factory(tmp_path: Path) -> AsyncIterator[DriverFactory]:
    counter = itertools.count()
    # The root does not exist yet: the driver must create it on first write.
    drivers = MadeDrivers(lambda: FilesystemDriver(str(tmp_path / f"root{next(counter)}")))
    yield drivers.make
    await drivers.close()


@pytest.fixture
async def fs(tmp_path: Path) -> AsyncIterator[FilesystemDriver]:
    """A filesystem driver for the filesystem-only tests (they may look at its files)."""
    d = FilesystemDriver(rootdirectory=str(tmp_path / "root"))
    yield d
    await d.close()


@pytest.fixture(params=DRIVER_NAMES)
def driver_factory(request: pytest.FixtureRequest) -> DriverFactory:
    """The factory of the driver under test (the parameter every shared test runs over)."""
    factory: DriverFactory = request.getfixturevalue(f"{request.param}_driver_factory")
    return factory


@pytest.fixture
async def driver(driver_factory: DriverFactory) -> StorageDriver:
    """A fresh, empty driver of each kind in ``DRIVER_NAMES``."""
    return await driver_factory()
