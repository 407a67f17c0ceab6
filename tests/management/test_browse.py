"""The index's browse answers (``pyregistry.index.browse``) are the same from SQLite and
from Redis: search, project filter, sorting, pages, tag rows newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.index import IndexService, SqliteBackend
from pyregistry.index.browse import RepositoryQuery
from pyregistry.index.redis_backend import RedisBackend
from pyregistry.storage import Registry
from storage_drivers import create_driver
from tests.management.helpers import push_image
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
