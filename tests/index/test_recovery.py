"""The index never answers wrongly: crashed writers, racing writers, a deleted or corrupt
database. Real SQLite files and a real filesystem root; a "crash" is a write whose change
was entered and never left, which is exactly what a killed process leaves behind."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.index import Backend, IndexService, SqliteBackend
from pyregistry.index.redis_backend import RedisBackend
from pyregistry.index.scan import scan_repository
from pyregistry.storage import Digest, Registry
from storage_drivers import create_driver
from tests.index.helpers import index_directory, wait_until
from tests.support.command import free_port
from tests.support.redis import RedisServer

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [],
    }
).encode()


def _sqlite(root: Path) -> IndexService:
    return IndexService(SqliteBackend(str(index_directory(root))), stale_intent_after=0.3)


def _redis(redis_server: RedisServer) -> IndexService:
    backend = RedisBackend(RedisSettings(redis_server.host, redis_server.port, db=5))
    return IndexService(backend, stale_intent_after=0.3)


@pytest.fixture(params=["sqlite", "redis"])
async def registry(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer
) -> AsyncIterator[Registry]:
    root = tmp_path / "data"
    index = _sqlite(root) if request.param == "sqlite" else _redis(redis_server)
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}), index=index)
    await registry.catalog()  # first use builds the (empty) index
    for _ in range(200):
        if await index.backend.read_catalog(None, None) is not None:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the index was never built")
    yield registry
    await registry.close()


def _directory(registry: Registry) -> Path:
    index = registry.index
    assert isinstance(index, IndexService) and isinstance(index.backend, SqliteBackend)
    return Path(index.backend.directory)


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


async def test_a_write_racing_the_build_of_an_unknown_repository_leaves_it_in_doubt(
    registry: Registry,
) -> None:
    """Found by the damaged-database test below (it failed once, listing ``["z"]``): a
    rebuild started the repair of a repository its fresh database had no row for yet; a
    push to it ended before the repair's commit (which then gave way to the push), and the
    push's row, made clean from nothing, became the index's whole answer once the build
    finished. A row made while the index is unbuilt knows nothing: it stays in doubt."""
    index = registry.index
    assert isinstance(index, IndexService)
    behind = Registry(registry.driver)  # written before this index (or database) knew it
    await tag(behind, "late/repo", "x", "y")
    backend, token, now = index.backend, "a-rebuild", time.time()
    assert await backend.claim_build(token, now, now - 60, True)
    generation = await backend.repair_start("late/repo", now - 60)
    assert generation is not None
    scan = await scan_repository(registry, "late/repo", {})  # x and y
    await tag(registry, "late/repo", "z")  # the push ends while the repair reads
    assert not await backend.repair_commit("late/repo", generation, scan)  # gives way
    assert await backend.finish_build(token)
    answer = await backend.read_tags("late/repo", None, None, time.time() - 60)
    assert answer.state != "ok" or answer.tags == ["x", "y", "z"], answer
    assert await registry.repository("late/repo").tags.list() == ["x", "y", "z"]
    await settled(registry, "late/repo", ["x", "y", "z"])


@pytest.mark.parametrize("damage", ["corrupt", "delete-file", "delete-directory"])
async def test_a_damaged_database_is_replaced_and_rebuilt(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "data"
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}))
    registry = Registry(registry.driver, index=_sqlite(root))
    await registry.catalog()
    await asyncio.to_thread(wait_until, index_directory(root), "ready")
    try:
        await _damage_and_check(registry, damage)
    finally:
        await registry.close()


async def test_writes_during_an_index_outage_are_owed(registry: Registry) -> None:
    """Index trouble never fails a write; the writes are listed, and told to the index
    once it is back (the outage: an index whose backend is a Redis that is not there)."""
    index = registry.index
    assert isinstance(index, IndexService)
    await tag(registry, "owed", "1")
    backend = index.backend
    broken: Backend = RedisBackend(RedisSettings("127.0.0.1", free_port()))
    index.backend = broken
    try:
        await tag(registry, "owed", "2")
        await tag(registry, "owed/new", "x")
        assert index.owing
        assert await registry.repository("owed").tags.list() == ["1", "2"]
        assert await registry.catalog() == ["owed", "owed/new"]
    finally:
        index.backend = backend
        await broken.close()
    await settled(registry, "owed", ["1", "2"])
    await settled(registry, "owed/new", ["x"])
    assert not index.owing


async def _damage_and_check(registry: Registry, damage: str) -> None:
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
