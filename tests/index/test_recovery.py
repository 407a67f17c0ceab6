"""The index never answers wrongly: crashed writers, racing writers, a deleted or corrupt
database. Real SQLite files and a real filesystem root; a "crash" is a write whose change
was entered and never left, which is exactly what a killed process leaves behind."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.index import IndexService, SqliteBackend
from pyregistry.storage import Digest, Registry
from storage_drivers import create_driver
from tests.index.helpers import index_directory, wait_until

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [],
    }
).encode()


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    root = tmp_path / "data"
    index = IndexService(SqliteBackend(str(index_directory(root))), stale_intent_after=0.3)
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}), index=index)
    await registry.catalog()  # first use builds the (empty) index
    await wait_for(registry, "ready")
    yield registry
    await registry.close()


def _directory(registry: Registry) -> Path:
    index = registry.index
    assert isinstance(index, IndexService) and isinstance(index.backend, SqliteBackend)
    return Path(index.backend.directory)


async def wait_for(registry: Registry, condition: str) -> None:
    await asyncio.to_thread(wait_until, _directory(registry), condition)


async def tag(registry: Registry, name: str, *tags: str) -> Digest:
    repository = registry.repository(name)
    digest = (await repository.manifests.put(MANIFEST, None)).digest
    for each in tags:
        await repository.tags.tag(each, digest)
    return digest


async def settled(registry: Registry, name: str, expected: list[str]) -> None:
    """Listings are right at once; later the index answers them itself again."""
    index = registry.index
    assert isinstance(index, IndexService)
    assert await registry.repository(name).tags.list() == expected
    assert name in await registry.catalog()
    for _ in range(100):
        answered = index.answered
        assert await registry.repository(name).tags.list() == expected
        if index.answered > answered:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the index never answered for {name} again")


async def test_a_write_whose_writer_died_is_listed_then_repaired(registry: Registry) -> None:
    await tag(registry, "crash/me", "before")
    change = registry.index.change("crash/me") if registry.index else None
    assert change is not None
    await change.__aenter__()  # the intent is recorded ...
    other = Registry(registry.driver)  # ... storage is written behind the index's back ...
    await other.repository("crash/me").tags.tag("after", await tag(other, "crash/me"))
    # ... and the writer dies: no __aexit__, ever.
    assert await registry.repository("crash/me").tags.list() == ["after", "before"]
    await settled(registry, "crash/me", ["after", "before"])
    await wait_for(registry, "clean")


async def test_a_first_write_whose_writer_died_shows_in_the_catalog(registry: Registry) -> None:
    change = registry.index.change("brand/new") if registry.index else None
    assert change is not None
    await change.__aenter__()
    await tag(Registry(registry.driver), "brand/new", "v1")
    assert await registry.catalog() == ["brand/new"]
    await settled(registry, "brand/new", ["v1"])


async def test_overlapping_writes_leave_it_to_storage_until_repaired(registry: Registry) -> None:
    digest = await tag(registry, "race", "a")
    repository = registry.repository("race")
    index = registry.index
    assert index is not None
    async with index.change("race") as first:
        async with index.change("race") as second:
            await Registry(registry.driver).repository("race").tags.tag("b", digest)
            second.tagged("b", digest)
        await Registry(registry.driver).repository("race").tags.untag("a")
        first.untagged("a")
    assert await repository.tags.list() == ["b"]
    await settled(registry, "race", ["b"])
    await wait_for(registry, "clean")


@pytest.mark.parametrize("damage", ["corrupt", "delete-file", "delete-directory"])
async def test_a_damaged_database_is_replaced_and_rebuilt(registry: Registry, damage: str) -> None:
    await tag(registry, "lib/one", "1", "2")
    await tag(registry, "lib/two", "x")
    directory = _directory(registry)
    database = next(directory.glob("index-*.sqlite"))
    if damage == "corrupt":
        database.write_bytes(b"this is not a database" * 4096)
    elif damage == "delete-file":
        for path in directory.glob("index-*"):
            path.unlink()
    else:
        shutil.rmtree(directory)
    # Another worker (its own connection) starts after the damage.
    worker = Registry(registry.driver, index=IndexService(SqliteBackend(str(directory))))
    try:
        await tag(registry, "lib/two", "y")  # a write while the database is gone or garbage
        for _ in range(3):
            for each in (registry, worker):
                assert await each.catalog() == ["lib/one", "lib/two"]
                assert await each.repository("lib/two").tags.list() == ["x", "y"]
        await tag(worker, "lib/two", "z")
        await settled(registry, "lib/two", ["x", "y", "z"])
        await settled(worker, "lib/two", ["x", "y", "z"])
        state = await asyncio.to_thread(wait_until, directory, "clean")
        assert state.tags == {"lib/one": ["1", "2"], "lib/two": ["x", "y", "z"]}
    finally:
        await worker.index.close() if worker.index else None
