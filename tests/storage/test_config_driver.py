"""The config's ``storage:`` section picks the driver by name, as distribution's does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pyregistry.app import build_registry
from pyregistry.config import load_config
from pyregistry.storage import Registry
from storage_drivers import StorageDriverError
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import sha256
from tests.storage_drivers.helpers import install_third_party_driver, run_python

Build = Callable[..., Registry]


@pytest.fixture
async def build(tmp_path: Path) -> AsyncIterator[Build]:
    """Write a config.yml with the given ``storage:`` section, load it, build the registry."""
    made: list[Registry] = []

    def make(storage: str, environ: dict[str, str] | None = None) -> Registry:
        path = tmp_path / "config.yml"
        path.write_text(f"version: 0.1\nstorage:\n{storage}\nhttp:\n  addr: 127.0.0.1:0\n")
        made.append(build_registry(load_config(str(path), environ or {})))
        return made[-1]

    yield make
    for registry in made:
        await registry.close()


async def test_inmemory_section(build: Build) -> None:
    registry = build("  inmemory: {}")
    assert type(registry.driver) is InMemoryDriver
    descriptor = await registry.repository("a").blobs.put(b"kept in memory")
    assert (
        await registry.driver.get_content(
            f"/docker/registry/v2/blobs/sha256/{descriptor.digest.hex[:2]}/{descriptor.digest.hex}/data"
        )
        == b"kept in memory"
    )
    assert type(build("  inmemory").driver) is InMemoryDriver  # the bare-name form


async def test_filesystem_section(build: Build, tmp_path: Path) -> None:
    root = tmp_path / "registry-root"
    registry = build(
        f"  filesystem:\n    rootdirectory: {root}\n    maxthreads: 40\n"
        "  delete:\n    enabled: true\n  redirect:\n    disable: true\n"
    )
    driver = registry.driver
    assert isinstance(driver, FilesystemDriver)
    assert driver.root_directory == str(root) and driver.max_threads == 40
    assert registry.delete_enabled and not registry.redirect and not registry.readonly
    digest = (await registry.repository("lib/app").blobs.put(b"on disk")).digest
    blob = root / "docker/registry/v2/blobs/sha256" / digest.hex[:2] / digest.hex / "data"
    assert blob.read_bytes() == b"on disk"
    link = root / "docker/registry/v2/repositories/lib/app/_layers/sha256" / digest.hex / "link"
    assert link.read_text() == str(sha256(b"on disk"))


async def test_environment_overrides_the_section(build: Build, tmp_path: Path) -> None:
    env_root = tmp_path / "from-env"
    registry = build(
        f"  filesystem:\n    rootdirectory: {tmp_path / 'from-file'}\n"
        "  maintenance:\n    readonly:\n      enabled: true\n",
        {"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": str(env_root)},
    )
    assert isinstance(registry.driver, FilesystemDriver)
    assert registry.driver.root_directory == str(env_root)
    assert registry.readonly


def test_unknown_driver_name_is_an_error(build: Build) -> None:
    with pytest.raises(StorageDriverError, match="nosuchdriver"):
        build("  nosuchdriver:\n    bucket: x")


THIRD_PARTY_CONFIG = """
import asyncio, sys
from pyregistry.app import build_registry
from pyregistry.config import load_config

registry = build_registry(load_config(sys.argv[1], {}))
driver = registry.driver
print(type(driver).__module__, type(driver).__name__, driver.greeting)
descriptor = asyncio.run(registry.repository("a").blobs.put(b"third party"))
print(descriptor.digest, descriptor.size)
"""


def test_third_party_driver_named_in_the_config(tmp_path: Path) -> None:
    site = install_third_party_driver(tmp_path / "site-packages")
    config = tmp_path / "config.yml"
    config.write_text("version: 0.1\nstorage:\n  mydriver:\n    greeting: from-config\n")
    code = THIRD_PARTY_CONFIG.replace("sys.argv[1]", repr(str(config)))
    lines = run_python(code, site).splitlines()
    assert lines == ["mypkg MyDriver from-config", f"{sha256(b'third party')} 11"]
