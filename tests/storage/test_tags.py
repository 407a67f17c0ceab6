"""Tags: links on disk, get/tag/untag/list/lookup with pagination and errors."""

from __future__ import annotations

import pytest

from pyregistry.storage import (
    ManifestUnknown,
    NameUnknown,
    Registry,
    Repository,
    Unsupported,
    paths,
)
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import push_image, sha256


async def test_tag_links_on_disk(repo: Repository, driver: InMemoryDriver) -> None:
    _, result = await push_image(repo, "a", tag="v1")
    current = await driver.get_content(paths.tag_current_link_path(repo.name, "v1"))
    index = await driver.get_content(paths.tag_index_link_path(repo.name, "v1", result.digest))
    assert current == index == str(result.digest).encode()
    assert await repo.tags.get("v1") == result.digest


async def test_retag_moves_current_and_keeps_index(
    repo: Repository, driver: InMemoryDriver
) -> None:
    _, first = await push_image(repo, "a", tag="v1")
    _, second = await push_image(repo, "b", tag="v1")
    assert await repo.tags.get("v1") == second.digest
    assert await repo.tags.lookup(first.digest) == []
    assert await repo.tags.lookup(second.digest) == ["v1"]
    assert paths.tag_index_link_path(repo.name, "v1", first.digest) in driver._files


async def test_tag_unknown_manifest(repo: Repository) -> None:
    with pytest.raises(ManifestUnknown):
        await repo.tags.tag("v1", sha256(b"nothing"))


async def test_get_unknown_tag(repo: Repository) -> None:
    with pytest.raises(ManifestUnknown) as info:
        await repo.tags.get("nope")
    assert info.value.detail == {"tag": "nope"}


async def test_untag(repo: Repository, driver: InMemoryDriver) -> None:
    _, result = await push_image(repo, "a", tag="v1")
    await repo.tags.untag("v1")
    assert not [p for p in driver._files if "/_manifests/tags/v1/" in p]
    with pytest.raises(ManifestUnknown):
        await repo.tags.get("v1")
    assert await repo.manifests.exists(result.digest)
    with pytest.raises(ManifestUnknown):
        await repo.tags.untag("v1")


async def test_untag_disabled(driver: InMemoryDriver) -> None:
    await push_image(Registry(driver).repository("a"), "a", tag="v1")
    with pytest.raises(Unsupported):
        await Registry(driver, delete_enabled=False).repository("a").tags.untag("v1")
    with pytest.raises(Unsupported, match="read-only"):
        await Registry(driver, readonly=True).repository("a").tags.untag("v1")
    with pytest.raises(Unsupported, match="read-only"):
        await Registry(driver, readonly=True).repository("a").tags.tag("v2", sha256(b""))


async def test_list_and_pagination(repo: Repository) -> None:
    names = ["v10", "v2", "latest", "V1", "a_b", "1.0"]
    _, result = await push_image(repo, "a")
    for name in names:
        await repo.tags.tag(name, result.digest)
    expected = sorted(names)
    assert await repo.tags.list() == expected
    assert await repo.tags.list(n=2) == expected[:2]
    assert await repo.tags.list(n=2, last=expected[1]) == expected[2:4]
    assert await repo.tags.list(last=expected[-1]) == []
    assert await repo.tags.list(last="m") == [t for t in expected if t > "m"]
    assert await repo.tags.list(n=0) == []
    assert sorted(await repo.tags.lookup(result.digest)) == expected


async def test_list_unknown_repository_and_empty(registry: Registry) -> None:
    with pytest.raises(NameUnknown) as info:
        await registry.repository("ghost").tags.list()
    assert info.value.code == "NAME_UNKNOWN"
    repo = registry.repository("blobs/only")
    await repo.blobs.put(b"x")
    assert await repo.tags.list() == []
