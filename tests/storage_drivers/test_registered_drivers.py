"""The driver suite (:mod:`storage_drivers.testsuite`) for every registered driver.

The names come from the factory (built-ins and the ``pyregistry.storage_drivers`` entry
points), not from a list here: a driver registered without a way to build it for tests
fails here (see ``test_third_party_suite`` for that case and for a third party's driver).
"""

from __future__ import annotations

from storage_drivers.testsuite import RegisteredDriverSuite


class TestRegisteredDrivers(RegisteredDriverSuite):
    """Every registered driver against the whole contract."""
