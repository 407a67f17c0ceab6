"""The enumerators garbage collection will use: every blob of the global store, every
manifest revision of a repository, every repository - read from the driver's tree, on the
in-memory and the filesystem driver."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pyregistry.storage import Digest, Registry, paths
from tests.storage.helpers import push_image, sha512, upload


async def collect(items: AsyncIterator[Digest]) -> list[Digest]:
    return [item async for item in items]


async def test_blobs_lists_every_blob_once_whoever_links_it(any_registry: Registry) -> None:
    assert await collect(any_registry.blob_store.enumerate()) == []
    a = any_registry.repository("a")
    b = any_registry.repository("nested/b")
    first = await upload(a, b"first blob")
    await upload(b, b"first blob")  # same content: one blob in the store
    second = await b.blobs.put(b"second blob")
    big = await b.blobs.put(b"sha512 content", "sha512")
    _, manifest = await push_image(a, "one")

    found = await collect(any_registry.blob_store.enumerate())
    assert len(found) == len(set(found))
    assert {first.digest, second.digest, big.digest, manifest.digest} <= set(found)
    assert big.digest == sha512(b"sha512 content")
    # config and layer of the image, plus the three blobs and the manifest itself
    assert len(found) == 6


async def test_blobs_ignores_what_is_not_a_blob(any_registry: Registry) -> None:
    repo = any_registry.repository("a")
    kept = await repo.blobs.put(b"kept")
    driver = any_registry.driver
    # a half-written blob directory (no data) and a directory that is no digest
    await driver.put_content(f"{paths.BLOBS_ROOT}/sha256/ab/{'ab' * 32}/other", b"x")
    await driver.put_content(f"{paths.BLOBS_ROOT}/sha256/zz/not-a-digest/data", b"x")
    await driver.put_content(f"{paths.BLOBS_ROOT}/md5/00/{'0' * 32}/data", b"x")
    assert await collect(any_registry.blob_store.enumerate()) == [kept.digest]


async def test_manifests_lists_every_revision_tagged_or_not(any_registry: Registry) -> None:
    repo = any_registry.repository("library/app")
    assert await collect(repo.manifests.enumerate()) == []
    _, tagged = await push_image(repo, "tagged", tag="v1")
    _, untagged = await push_image(repo, "untagged")
    _, retagged = await push_image(repo, "moved", tag="v1")  # v1 moves: the old one stays

    found = await collect(repo.manifests.enumerate())
    assert sorted(found) == sorted([tagged.digest, untagged.digest, retagged.digest])
    other = any_registry.repository("library/other")
    assert await collect(other.manifests.enumerate()) == []

    await repo.manifests.delete(untagged.digest)
    assert sorted(await collect(repo.manifests.enumerate())) == sorted(
        [tagged.digest, retagged.digest]
    )


async def test_repositories_in_catalog_order(any_registry: Registry) -> None:
    for name in ("b", "a/b", "a", "a-b"):
        await any_registry.repository(name).blobs.put(name.encode())
    assert [name async for name in any_registry.repositories()] == ["a", "a/b", "a-b", "b"]
    assert [name async for name in any_registry.repositories(after="a/b")] == ["a-b", "b"]
