"""The suite for every driver the factory can create: the built-ins and each driver a
package registers in the ``pyregistry.storage_drivers`` entry-point group.

A registry only knows how to build a driver from its config parameters; the suite needs
a *throwaway* one. For each registered name, the first of these that exists says how:

1. a pytest fixture ``<name>_driver_target`` returning a :class:`DriverTarget`, for
   drivers whose throwaway instances need what only the test session has (servers it
   started: the built-in ``s3`` and ``swift``);
2. the driver package's own hook: an entry point ``<name>`` in the group
   ``pyregistry.storage_drivers.testsuite`` naming a callable
   ``(tmp_path: pathlib.Path) -> DriverTarget``. The hook is an entry point rather than
   an attribute of the driver class so that test-only code never ships inside the
   driver's runtime module, and a package can add it beside its existing registration;
3. neither: every test of that driver FAILS and says what to add. A registered driver
   the suite cannot build is a driver nobody checked.

Each driver a target builds must be an instance of the registered class, so a fixture
cannot silently test another class than the one the registry would load.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from storage_drivers.base import StorageDriver
from storage_drivers.factory import available_drivers, driver_class
from storage_drivers.testsuite.suite import DriverSuite
from storage_drivers.testsuite.target import DriverTarget

TESTSUITE_GROUP = "pyregistry.storage_drivers.testsuite"


def hook_target(name: str, tmp_path: Path) -> DriverTarget | None:
    """The target from the driver package's ``pyregistry.storage_drivers.testsuite`` hook."""
    for ep in entry_points(group=TESTSUITE_GROUP, name=name):
        target = ep.load()(tmp_path)
        if not isinstance(target, DriverTarget):
            pytest.fail(f"{ep.value} returned {target!r}, not a DriverTarget", pytrace=False)
        return target
    return None


def target_for(request: pytest.FixtureRequest, name: str, tmp_path: Path) -> DriverTarget:
    """How to build throwaway drivers registered as ``name`` (see the module docstring)."""
    cls = driver_class(name)
    fixture = f"{name}_driver_target"
    target: DriverTarget | None
    try:
        target = request.getfixturevalue(fixture)
    except pytest.FixtureLookupError as exc:
        if exc.argname != fixture:
            raise
        target = hook_target(name, tmp_path)
    if target is None:
        pytest.fail(
            f"storage driver {name!r} ({cls.__module__}.{cls.__qualname__}) is registered, "
            f"but the driver suite has no way to build a throwaway instance of it: define "
            f"a pytest fixture {fixture!r} or register a factory under {name!r} in the "
            f"{TESTSUITE_GROUP!r} entry-point group (docs/storage-drivers.md)",
            pytrace=False,
        )
    if not isinstance(target, DriverTarget):
        pytest.fail(f"fixture {fixture!r} gave {target!r}, not a DriverTarget", pytrace=False)
    return _checked(target, cls)


def _checked(target: DriverTarget, cls: type[StorageDriver]) -> DriverTarget:
    """``target`` with every driver it builds checked to be a ``cls``."""

    def check(driver: StorageDriver) -> StorageDriver:
        if not isinstance(driver, cls):
            pytest.fail(f"the target for {cls.__name__} built a {type(driver).__name__}")
        return driver

    reopen: Callable[[StorageDriver], StorageDriver] | None = None
    if target.reopen is not None:
        original = target.reopen

        def reopen(driver: StorageDriver) -> StorageDriver:
            return check(original(driver))

    return dataclasses.replace(target, make=lambda: check(target.make()), reopen=reopen)


class RegisteredDriverSuite(DriverSuite):
    """The suite, once per registered driver name (the test ids carry the name)."""

    @pytest.fixture(params=available_drivers())
    def driver_target(self, request: pytest.FixtureRequest, tmp_path: Path) -> DriverTarget:
        name: str = request.param
        return target_for(request, name, tmp_path)
