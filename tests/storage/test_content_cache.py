"""The in-process manifest content cache: fewer reads, never a stale answer."""

from __future__ import annotations

import pytest

from pyregistry.storage import ManifestUnknown, Registry, paths
from pyregistry.storage.content_cache import ContentCache
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, push_image, sha256


def _reads(recording: RecordingDriver) -> list[str]:
    return [path for name, path in recording.calls if name == "get_content"]


async def test_manifest_get_reads_only_the_revision_link_once_cached(
    recording: RecordingDriver,
) -> None:
    registry = Registry(recording)
    repo = registry.repository("cache/reads")
    content, result = await push_image(repo, "one", tag="latest")
    recording.calls.clear()
    for _ in range(3):
        digest = await repo.tags.get("latest")
        assert (await repo.manifests.get(digest)).content == content
    revision = paths.manifest_revision_link_path("cache/reads", result.digest)
    tag_link = paths.tag_current_link_path("cache/reads", "latest")
    assert _reads(recording) == [tag_link, revision] * 3  # no content read at all
    await registry.close()


async def test_a_deleted_manifest_is_unknown_at_once_to_every_instance(
    driver: InMemoryDriver,
) -> None:
    """Two registries over one storage stand for two instances: B has the manifest
    cached when A deletes it, and must answer ManifestUnknown straight away."""
    a, b = Registry(driver), Registry(driver)
    content, result = await push_image(a.repository("cache/multi"), "m", tag="t")
    repo_b = b.repository("cache/multi")
    assert (await repo_b.manifests.get(result.digest)).content == content  # cached in B
    assert (await repo_b.manifests.get(result.digest)).content == content
    await a.repository("cache/multi").manifests.delete(result.digest)
    with pytest.raises(ManifestUnknown):
        await repo_b.manifests.get(result.digest)
    with pytest.raises(ManifestUnknown):
        await repo_b.tags.get("t")
    assert not await repo_b.manifests.exists(result.digest)
    # a re-push through A is seen by B at once, too
    await push_image(a.repository("cache/multi"), "m", tag="t")
    assert (await repo_b.manifests.get(result.digest)).content == content
    await a.close()
    await b.close()


async def test_a_retag_elsewhere_is_seen_at_once(driver: InMemoryDriver) -> None:
    a, b = Registry(driver), Registry(driver)
    first, one = await push_image(a.repository("cache/tag"), "1", tag="t")
    repo_b = b.repository("cache/tag")
    assert (await repo_b.manifests.get(await repo_b.tags.get("t"))).content == first
    second, two = await push_image(a.repository("cache/tag"), "2", tag="t")
    assert await repo_b.tags.get("t") == two.digest
    assert (await repo_b.manifests.get(two.digest)).content == second
    await a.close()
    await b.close()


def test_cache_keeps_only_verified_small_entries_within_bounds() -> None:
    cache = ContentCache(max_total_bytes=100, max_entry_bytes=40)
    good = [bytes([i]) * 30 for i in range(4)]
    for content in good:
        cache.put(sha256(content), content)
    assert cache.total_bytes <= 100 and len(cache) == 3  # the oldest was evicted
    assert cache.get(sha256(good[0])) is None
    assert cache.get(sha256(good[3])) == good[3]
    cache.put(sha256(b"x" * 50), b"x" * 50)  # too big for one entry
    assert cache.get(sha256(b"x" * 50)) is None
    cache.put(sha256(b"real"), b"forged")  # does not hash to its key
    assert cache.get(sha256(b"real")) is None
    cache.discard(sha256(good[3]))
    assert cache.get(sha256(good[3])) is None
    assert cache.total_bytes == 60
