"""Creating drivers by name: built-ins, unknown names, third-party entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path

import pytest

from storage_drivers import factory
from storage_drivers.errors import StorageDriverError
from storage_drivers.factory import available_drivers, create_driver, driver_class
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver

THIRD_PARTY = EntryPoint(
    name="thirdparty",
    value="tests.storage_drivers.test_factory:ThirdPartyDriver",
    group=factory.ENTRY_POINT_GROUP,
)


class ThirdPartyDriver(InMemoryDriver):
    """Stands for a driver shipped by another package."""

    name = "thirdparty"


def fake_entry_points(*, group: str) -> EntryPoints:
    return EntryPoints([THIRD_PARTY] if group == factory.ENTRY_POINT_GROUP else [])


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


def test_entry_point_driver_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "entry_points", fake_entry_points)
    assert driver_class("thirdparty") is ThirdPartyDriver
    assert "thirdparty" in available_drivers()
    assert isinstance(create_driver("thirdparty", {}), ThirdPartyDriver)
    assert driver_class("filesystem") is FilesystemDriver  # built-ins still there


def test_entry_point_must_be_a_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = EntryPoint(name="bogus", value="pathlib:Path", group=factory.ENTRY_POINT_GROUP)
    monkeypatch.setattr(factory, "entry_points", lambda *, group: EntryPoints([bogus]))
    with pytest.raises(StorageDriverError, match="not a StorageDriver"):
        driver_class("bogus")
