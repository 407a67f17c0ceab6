"""Creating drivers by name: built-ins, unknown names, third-party entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage_drivers.errors import StorageDriverError
from storage_drivers.factory import available_drivers, create_driver, driver_class
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from tests.storage_drivers.helpers import install_third_party_driver, run_python


async def test_create_filesystem_driver(tmp_path: Path) -> None:
    d = create_driver("filesystem", {"rootdirectory": str(tmp_path), "maxthreads": "30"})
    assert isinstance(d, FilesystemDriver)
    assert d.max_threads == 30
    await d.put_content("/x/y", b"via factory")
    assert (tmp_path / "x" / "y").read_bytes() == b"via factory"
    await d.close()


async def test_create_inmemory_driver() -> None:
    d = create_driver("inmemory")
    assert isinstance(d, InMemoryDriver)
    await d.put_content("/k", b"v")
    assert await d.get_content("/k") == b"v"


def test_unknown_driver_name() -> None:
    with pytest.raises(StorageDriverError, match="nosuchdriver"):
        create_driver("nosuchdriver")
    with pytest.raises(StorageDriverError):
        driver_class("")


def test_builtins_are_available() -> None:
    names = available_drivers()
    assert {"filesystem", "inmemory"} <= set(names)
    assert names == sorted(names)


THIRD_PARTY_CHECK = """
import asyncio
from storage_drivers import StorageDriverError, available_drivers, create_driver

driver = create_driver("mydriver", {"greeting": "hello"})
print(type(driver).__module__, type(driver).__name__, driver.greeting)
print(" ".join(available_drivers()))
asyncio.run(driver.put_content("/k", b"stored by a third-party driver"))
print(asyncio.run(driver.get_content("/k")).decode())
try:
    create_driver("notadriver")
except StorageDriverError as exc:
    print("refused:", exc)
"""


def test_entry_point_of_an_installed_distribution(tmp_path: Path) -> None:
    """A package installed beside pyregistry adds a driver through its entry points alone."""
    site = install_third_party_driver(tmp_path / "site-packages")
    lines = run_python(THIRD_PARTY_CHECK, site).splitlines()
    assert lines[0] == "mypkg MyDriver hello"
    assert {"mydriver", "notadriver", "filesystem", "inmemory"} <= set(lines[1].split())
    assert lines[2] == "stored by a third-party driver"
    assert lines[3] == "refused: mypkg:NotADriver is not a StorageDriver"
    # Without the distribution on the path, the name is unknown again.
    assert "mydriver" not in run_python("import storage_drivers as s; print(s.available_drivers())")


NO_TEST_MODULES = """
import sys
import pyregistry.app, pyregistry.cli
import storage_drivers.filesystem, storage_drivers.inmemory
import storage_drivers.s3, storage_drivers.swift
test_time = ("pytest", "_pytest", "pytest_asyncio", "storage_drivers.testsuite")
print(sorted(m for m in sys.modules if m.startswith(test_time)))
"""


def test_the_registry_and_its_drivers_never_import_the_suite() -> None:
    """pytest is a test-time dependency: only importing ``storage_drivers.testsuite`` loads it."""
    assert run_python(NO_TEST_MODULES).strip() == "[]"
    loaded = run_python(
        NO_TEST_MODULES.replace("import sys", "import sys, storage_drivers.testsuite")
    )
    assert "'pytest'" in loaded and "'storage_drivers.testsuite'" in loaded
