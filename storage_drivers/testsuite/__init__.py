"""The storage-driver suite: the driver contract as pytest tests, for any driver.

Importing this package imports pytest and pytest-asyncio; nothing in the registry does,
so they stay test-time dependencies. A driver's own tests get the whole suite with::

    import pytest
    from storage_drivers.testsuite import DriverSuite, DriverTarget
    from mypkg import MyDriver

    class TestMyDriver(DriverSuite):
        @pytest.fixture
        def driver_target(self, tmp_path) -> DriverTarget:
            return DriverTarget(make=lambda: MyDriver(root=str(tmp_path / "x")))

:class:`RegisteredDriverSuite` runs it for every driver the factory knows (built-ins and
entry points); see :mod:`storage_drivers.testsuite.registered` for how a registered
driver says how to build a throwaway instance. docs/storage-drivers.md has the details.
"""

import pytest

# Before the test modules are imported: their plain asserts then explain failures as a
# test module's do.
pytest.register_assert_rewrite(
    *(
        f"storage_drivers.testsuite.{name}"
        for name in ("concurrency", "content", "large", "path_grammar", "tree", "writer")
    )
)

from storage_drivers.testsuite.registered import (  # noqa: E402
    TESTSUITE_GROUP,
    RegisteredDriverSuite,
    target_for,
)
from storage_drivers.testsuite.suite import DriverSuite  # noqa: E402
from storage_drivers.testsuite.target import Drivers, DriverTarget  # noqa: E402

__all__ = [
    "TESTSUITE_GROUP",
    "DriverSuite",
    "DriverTarget",
    "Drivers",
    "RegisteredDriverSuite",
    "target_for",
]
