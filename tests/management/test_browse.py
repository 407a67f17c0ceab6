"""The index's browse answers (``pyregistry.index.browse``) are the same from SQLite and
from Redis: search, project filter, sorting, pages, tag rows newest first, and repository
sizes kept by every push and delete, equal to what a rebuild finds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.client.content import build_image, build_multiarch
from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.index import IndexService, SqliteBackend
from pyregistry.index.browse import RepositoryQuery
from pyregistry.index.redis_backend import RedisBackend
from pyregistry.storage import Registry
from pyregistry.storage.digest import Digest
from storage_drivers import create_driver
from tests.management.helpers import push, push_image, stored_bytes
from tests.support.redis import RedisServer

REPOSITORIES = {"library/a": 1, "library/b": 3, "team/api": 2, "team/web": 1, "solo": 1}


@pytest.fixture(params=["sqlite", "redis"])
async def index(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer
) -> AsyncIterator[IndexService]:
    root = tmp_path / "data"
    if request.param == "sqlite":
        backend: SqliteBackend | RedisBackend = SqliteBackend(str(tmp_path / "index"))
    else:
        backend = RedisBackend(RedisSettings(redis_server.host, redis_server.port, db=6))
    service = IndexService(backend, build_in_background=False, check_on_start=False)
    registry = Registry(create_driver("filesystem", {"rootdirectory": str(root)}), index=service)
    assert await service.list_repositories(RepositoryQuery()) is None  # never built: unready
    for name, count in REPOSITORIES.items():
        for number in range(count):
            await push_image(registry, name, f"t{number}")
    assert await service.rebuild()
    yield service
    await registry.close()


async def names(index: IndexService, **query: object) -> tuple[list[str], int]:
    listing = await index.list_repositories(RepositoryQuery(**query))  # type: ignore[arg-type]
    assert listing is not None
    return [row.name for row in listing.rows], listing.total


async def test_search_filter_sort_and_page(index: IndexService) -> None:
    assert await names(index) == (["library/a", "library/b", "solo", "team/api", "team/web"], 5)
    assert await names(index, contains="b") == (["library/a", "library/b", "team/web"], 3)
    assert await names(index, projects=["team", "solo"]) == (["solo", "team/api", "team/web"], 3)
    assert await names(index, projects=[]) == ([], 0)
    top, total = await names(index, sort="tags", descending=True, limit=2)
    assert (top, total) == (["library/b", "team/api"], 5)
    assert await names(index, offset=3, limit=5) == (["team/api", "team/web"], 5)
    newest, _ = await names(index, sort="pushed", descending=True, limit=1)
    assert newest == ["solo"]  # pushed last


async def test_tag_rows_newest_first(index: IndexService) -> None:
    rows = await index.tag_rows("library/b")
    assert rows is not None and {r.tag for r in rows} == {"t0", "t1", "t2"}
    times = [r.pushed_at or 0.0 for r in rows]
    assert times == sorted(times, reverse=True) and all(r.digest for r in rows)
    listing = await index.list_repositories(RepositoryQuery(contains="library/b"))
    assert listing is not None and listing.rows[0].tag_count == 3
    assert listing.rows[0].pushed_at == max(times)
    assert await index.tag_rows("nothing/here") is None


async def size_of(index: IndexService, name: str) -> int | None:
    listing = await index.list_repositories(RepositoryQuery(name=name))
    assert listing is not None and [row.name for row in listing.rows] == [name]
    return listing.rows[0].size


async def test_sizes_follow_pushes_and_deletes(index: IndexService) -> None:
    name, registry = "sizes/app", index.registry
    base = build_image(seed="size-base", layers=1)
    one = build_image(seed="size-one", layers=1, base_layers=base.layers)
    two = build_image(seed="size-two", layers=1, base_layers=base.layers)
    multi = build_multiarch(seed="size-multi")
    await push(registry, name, one, ["one"])
    assert await size_of(index, name) == stored_bytes(one)
    await push(registry, name, two, [])  # untagged: the repository stores it all the same
    await push(registry, name, multi, ["multi"])
    await push(registry, name, two, ["two"])  # pushed again: counted once
    assert await size_of(index, name) == stored_bytes(one, two, multi)
    ordered = await index.list_repositories(RepositoryQuery(sort="size", descending=True))
    assert ordered is not None and len(ordered.rows) == len(REPOSITORIES) + 1
    sizes = [row.size or 0 for row in ordered.rows]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) > 0
    await registry.repository(name).manifests.delete(Digest.parse(one.digest))
    assert await size_of(index, name) == stored_bytes(two, multi)  # shared layer stays
    await registry.repository(name).tags.untag("multi")
    assert await size_of(index, name) == stored_bytes(two, multi)
    assert await index.rebuild()
    assert await size_of(index, name) == stored_bytes(two, multi)


async def test_a_manifest_stored_without_its_blobs_is_repaired(index: IndexService) -> None:
    """A writer that cannot tell a manifest's blobs (garbage collection restoring one)
    leaves the repository to a repair, which counts it from storage."""
    name = "library/a"
    before = await size_of(index, name)
    async with index.change(name) as change:
        change.manifest_stored(Digest.parse("sha256:" + "0" * 64), "x", 10)
    answer = await index.backend.read_tags(name, None, None, 0.0)
    assert answer.state == "stale"
    assert await index.repair(name)
    assert await size_of(index, name) == before == await _stored_size(index, name)


async def test_a_dirty_row_is_repaired_before_it_is_listed(
    index: IndexService, tmp_path: Path
) -> None:
    """A write the index could not follow leaves the row dirty with old figures; a list
    or a tag page repairs it first instead of showing them (seen in CI as a size of 0
    after a push that raced the index's first build)."""
    name = "library/a"
    root = str(tmp_path / "data")
    behind = Registry(create_driver("filesystem", {"rootdirectory": root}))  # no index
    await push_image(behind, name, "later")
    await behind.close()
    await index.backend.mark_dirty([name])
    listing = await index.list_repositories(RepositoryQuery(name=name))
    assert listing is not None and listing.rows[0].tag_count == 2
    assert not listing.rows[0].dirty
    assert listing.rows[0].size == await _stored_size(index, name)
    await push_image(behind, name, "latest")
    await index.backend.mark_dirty([name])
    rows = await index.tag_rows(name)
    assert rows is not None and {r.tag for r in rows} == {"t0", "later", "latest"}


async def test_index_of_an_older_schema_is_rebuilt(index: IndexService) -> None:
    """An index built by a pyregistry without sizes is not trusted: it answers nothing
    until rebuilt, and the rebuild counts every repository's size."""
    backend = index.backend
    if isinstance(backend, SqliteBackend):
        await backend._run(lambda store: store._set_meta("schema", "1"))
    else:
        assert isinstance(backend, RedisBackend)
        await backend._client.hset("pyregistry:index:meta", "schema", "1")
    assert not await backend.ready()
    assert await index.list_repositories(RepositoryQuery()) is None
    assert await index.rebuild()
    assert await size_of(index, "library/b") == await _stored_size(index, "library/b")


async def _stored_size(index: IndexService, name: str) -> int:
    """The repository's size figured from storage alone (its manifests' documents)."""
    repository = index.registry.repository(name)
    sizes: dict[str, int] = {}
    async for digest in repository.manifests.enumerate():
        stored = await repository.manifests.get(digest)
        sizes[str(digest)] = len(stored.content)
        document = json.loads(stored.content)
        for blob in [document["config"], *document["layers"]]:
            sizes[blob["digest"]] = blob["size"]
    return sum(sizes.values())
