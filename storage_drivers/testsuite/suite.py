"""The whole driver suite as one class: subclass it and supply a ``driver_target`` fixture.

Mixins keep each concern in its own module; this class only adds the fixtures every test
uses. Tests are marked ``asyncio`` here, so the suite runs under pytest-asyncio's strict
mode as well as its auto mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from storage_drivers.base import StorageDriver
from storage_drivers.testsuite.concurrency import ConcurrencyTests
from storage_drivers.testsuite.content import ContentTests
from storage_drivers.testsuite.large import LargeBlobTests
from storage_drivers.testsuite.path_grammar import PathGrammarTests
from storage_drivers.testsuite.target import Drivers, DriverTarget
from storage_drivers.testsuite.tree import TreeTests
from storage_drivers.testsuite.writer import WriterTests


class DriverSuite(
    ContentTests,
    WriterTests,
    TreeTests,
    PathGrammarTests,
    ConcurrencyTests,
    LargeBlobTests,
):
    """Every test of the driver contract (``storage_drivers.base``).

    A subclass named ``Test...`` provides the fixture ``driver_target`` (a
    :class:`DriverTarget`), as a method or from a conftest; the fixture may be
    parametrized to run the suite over several drivers.
    """

    pytestmark = [pytest.mark.asyncio]

    @pytest_asyncio.fixture
    async def drivers(self, driver_target: DriverTarget) -> AsyncIterator[Drivers]:
        """The drivers this test builds; all closed when it ends."""
        made = Drivers(driver_target)
        try:
            yield made
        finally:
            await made.close()

    @pytest.fixture
    def driver(self, drivers: Drivers) -> StorageDriver:
        """A fresh, empty driver of the backend under test."""
        return drivers.make()
