"""Catalog: nested names, distribution's order, n/last, internals never listed."""

from __future__ import annotations

from pyregistry.storage import Registry, paths
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import push_image, stream

NAMES = ["a", "a/b", "a/b/c", "a-b", "b", "lib/x", "lib/y/z", "z.z", "z_z"]


async def _populate(registry: Registry) -> None:
    for i, name in enumerate(NAMES):
        repo = registry.repository(name)
        if i % 3 == 0:
            await push_image(repo, name, tag="v1")
        elif i % 3 == 1:
            await repo.blobs.put(name.encode())
        else:
            await (await repo.uploads.create()).append(stream(b"x"))


async def test_catalog_order_and_pagination(any_registry: Registry) -> None:
    await _populate(any_registry)
    expected = sorted(NAMES, key=lambda n: n.replace("/", "\x00"))
    assert expected[:4] == ["a", "a/b", "a/b/c", "a-b"]
    assert await any_registry.catalog() == expected
    assert await any_registry.catalog(n=3) == expected[:3]
    assert await any_registry.catalog(n=3, last="a/b") == expected[2:5]
    assert await any_registry.catalog(last="a-b") == expected[4:]
    assert await any_registry.catalog(last="lib") == expected[expected.index("lib/x") :]
    assert await any_registry.catalog(n=0) == []
    assert await any_registry.catalog(last="zzz") == []
    pages, last = [], None
    while True:
        page = await any_registry.catalog(n=2, last=last)
        if not page:
            break
        pages += page
        last = page[-1]
    assert pages == expected


async def test_empty_catalog(registry: Registry) -> None:
    assert await registry.catalog() == []


async def test_catalog_skips_internals_and_plain_directories(
    registry: Registry, driver: InMemoryDriver
) -> None:
    await push_image(registry.repository("real"), "r", tag="v1")
    # a directory without _manifests/_layers/_uploads is not a repository
    await driver.put_content(f"{paths.REPOSITORIES_ROOT}/notarepo/file", b"")
    # names inside internals are never walked into
    await driver.put_content(f"{paths.REPOSITORIES_ROOT}/real/_layers/x/_manifests/y", b"")
    assert await registry.catalog() == ["real"]
    assert await registry.repository("real").exists()
    assert not await registry.repository("notarepo").exists()
    assert not await registry.repository("nothing").exists()
