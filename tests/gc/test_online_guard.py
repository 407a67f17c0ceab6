"""The online collector's guard and repair, step by step on a real filesystem store.

Each test stops the collection where a push would race it (between marking and
sweeping, between the link sweep and the blob sweep) and pushes right there through the
storage layer, then lets the sweep go on: what the push needs must survive.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pyregistry.client.content import build_image, build_index
from pyregistry.gc import MarkResult, Report, Sweeper, mark
from pyregistry.gc.guard import Guard
from pyregistry.gc.online import OnlineCollector
from pyregistry.gc.settings import GCSettings
from pyregistry.storage import Digest, Registry
from pyregistry.storage.errors import BlobUnknown
from storage_drivers import create_driver
from tests.gc.scenario import push


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    reg = Registry(create_driver("filesystem", {"rootdirectory": str(tmp_path)}))
    yield reg
    await reg.close()


def _d(value: str) -> Digest:
    return Digest.parse(value)


async def _sweep(registry: Registry, guard: Guard, marked: MarkResult) -> None:
    """The sweep of a collection whose marking is ``marked``."""
    report = Report()
    sweeper = Sweeper(registry.driver, report, spare=guard.spare)
    await sweeper.manifests(marked.removals)
    await sweeper.layer_links(marked.repositories, marked.marked)
    await sweeper.blobs(await sweeper.unmarked_blobs(marked.marked))
    assert report.ok, report.errors


async def _guard_starting_now(registry: Registry) -> Guard:
    """A guard for a collection that starts now, with no grace and no skew.

    A file's modification time comes from the kernel's coarse clock, which lags
    ``time.time()`` by up to a tick (1-10 ms): a file written right after ``started``
    may look older than it. So the writes so far are let age past a tick, and the
    collection is said to start half-way: earlier writes stay before it, later ones
    after it.
    """
    await asyncio.sleep(0.1)
    started = time.time() - 0.05
    return Guard(registry.driver, grace=0, started=started, delete_untagged=True, skew=0)


def _collector(registry: Registry, grace: float, delete_untagged: bool = True) -> OnlineCollector:
    collector = OnlineCollector(
        registry, GCSettings(enabled=True, grace_seconds=grace, delete_untagged=delete_untagged)
    )
    collector.clock_skew = 0.0
    return collector


async def test_grace_keeps_a_blob_whose_manifest_is_not_pushed_yet(registry: Registry) -> None:
    repo = registry.repository("app")
    stored = await repo.blobs.put(b"layer uploaded, manifest to come")
    report = await _collector(registry, grace=60).collect_once()
    assert report.ok and report.blobs_deleted == 0
    assert (await repo.blobs.stat(stored.digest)).size == stored.size
    report = await _collector(registry, grace=0).collect_once()
    assert report.blobs_deleted == 1
    with pytest.raises(BlobUnknown):
        await repo.blobs.stat(stored.digest)


async def test_a_manifest_pushed_while_marking_keeps_its_blobs(registry: Registry) -> None:
    repo = registry.repository("app")
    image = build_image(seed="late")
    for data in image.blobs().values():
        await repo.blobs.put(data)
    guard = await _guard_starting_now(registry)
    marked = await mark(registry.driver, delete_untagged=True)
    assert not {_d(d) for d in image.blobs()} & marked.marked  # unreferenced when marked
    await repo.manifests.put(image.manifest, image.media_type)  # pushed after marking
    await repo.tags.tag("v1", _d(image.digest))
    await _sweep(registry, guard, marked)
    assert (await repo.manifests.get(_d(image.digest))).content == image.manifest
    for digest, data in image.blobs().items():
        assert (await repo.blobs.stat(_d(digest))).size == len(data)


async def test_an_index_pushed_while_marking_keeps_its_untagged_children(
    registry: Registry,
) -> None:
    repo = registry.repository("multi")
    amd, arm = build_image(seed="amd"), build_image(seed="arm", architecture="arm64")
    for child in (amd, arm):
        await push(repo, child)  # by digest: untagged, collectable with deleteuntagged
    guard = await _guard_starting_now(registry)
    marked = await mark(registry.driver, delete_untagged=True)
    assert {r.digest for r in marked.removals} == {_d(amd.digest), _d(arm.digest)}
    index = build_index([amd, arm])
    await push(repo, index, "latest")
    await _sweep(registry, guard, marked)
    for child in (amd, arm):
        assert (await repo.manifests.get(_d(child.digest))).content == child.manifest
        for digest in child.blobs():
            await repo.blobs.stat(_d(digest))


def _age(root: Path, seconds: float) -> None:
    """Make everything stored so far look written ``seconds`` ago."""
    then = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (then, then), follow_symlinks=False)


async def test_a_fresh_manifest_keeps_blobs_uploaded_before_the_grace_period(
    tmp_path: Path, registry: Registry
) -> None:
    # Blobs uploaded long ago, their manifest pushed a moment ago (a slow client, a mount
    # of old content): the revision stays for its age, and so must every link it needs.
    repo = registry.repository("app")
    image = build_image(seed="old-blobs")
    for data in image.blobs().values():
        await repo.blobs.put(data)
    _age(tmp_path, 600)
    await repo.manifests.put(image.manifest, image.media_type)  # untagged, fresh
    report = await _collector(registry, grace=60).collect_once()
    assert report.ok and report.manifests_deleted == 0, report.summary()
    assert (report.layer_links_deleted, report.blobs_deleted) == (0, 0)
    await repo.tags.tag("v1", _d(image.digest))  # tagged afterwards: it pulls whole
    for digest, data in image.blobs().items():
        assert (await repo.blobs.stat(_d(digest))).size == len(data)


async def test_a_fresh_index_keeps_its_old_children_and_their_blobs(
    tmp_path: Path, registry: Registry
) -> None:
    repo = registry.repository("multi")
    amd, arm = build_image(seed="old-amd"), build_image(seed="old-arm", architecture="arm64")
    for child in (amd, arm):
        await push(repo, child)  # by digest: untagged
    _age(tmp_path, 600)
    index = build_index([amd, arm])
    await repo.manifests.put(index.manifest, index.media_type)  # a moment ago, untagged
    report = await _collector(registry, grace=60).collect_once()
    assert report.ok and report.manifests_deleted == 0, report.summary()
    assert (report.layer_links_deleted, report.blobs_deleted) == (0, 0)
    for child in (amd, arm):
        assert (await repo.manifests.get(_d(child.digest))).content == child.manifest
        for digest in child.blobs():
            await repo.blobs.stat(_d(digest))
    # Once the index is as old as its children, all of it is garbage (untagged).
    _age(tmp_path, 600)
    report = await _collector(registry, grace=60).collect_once()
    assert report.ok and report.manifests_deleted == 3, report.summary()


async def test_a_link_removed_under_a_committing_manifest_is_restored(tmp_path: Path) -> None:
    # A registry that does not check blobs stands for a PUT whose check came just before
    # the link went: the manifest commits without the link.
    registry = Registry(
        create_driver("filesystem", {"rootdirectory": str(tmp_path)}),
        validate_manifest_blobs=False,
    )
    try:
        repo = registry.repository("app")
        image = build_image(seed="slow-put")
        for data in image.blobs().values():
            await repo.blobs.put(data)
        collector = _collector(registry, grace=0)
        guard = await _guard_starting_now(registry)
        marked = await mark(registry.driver, delete_untagged=True)
        sweeper = Sweeper(registry.driver, Report(), spare=guard.spare)
        await sweeper.layer_links(marked.repositories, marked.marked)
        assert len(sweeper.removed) == len(image.blobs())
        await repo.manifests.put(image.manifest, image.media_type)
        await repo.tags.tag("v1", _d(image.digest))
        await collector._repair(guard, sweeper)
        await sweeper.blobs(await sweeper.unmarked_blobs(marked.marked))
        assert sweeper.report.ok and sweeper.report.blobs_deleted == 0
        for digest, data in image.blobs().items():
            assert (await repo.blobs.stat(_d(digest))).size == len(data)
    finally:
        await registry.close()


async def test_untagged_manifests_go_once_past_the_grace_period(registry: Registry) -> None:
    repo = registry.repository("app")
    kept, untagged = build_image(seed="kept"), build_image(seed="untagged")
    await push(repo, kept, "v1")
    await push(repo, untagged)
    report = await _collector(registry, grace=60).collect_once()
    assert report.manifests_deleted == 0
    report = await _collector(registry, grace=0).collect_once()
    assert report.ok and report.manifests_deleted == 1
    assert not await repo.manifests.exists(_d(untagged.digest))
    assert await repo.manifests.exists(_d(kept.digest))


async def test_a_blob_check_keeps_few_lookups_in_flight(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob's check asks every repository for a link, and the sweep checks blobs side
    by side: the guard keeps at most CHECK_CONCURRENCY of those look-ups in flight, so a
    collection never queues hundreds of requests on the driver's threads ahead of the
    pushes of the same process."""
    from pyregistry.gc import guard as guard_module

    names = [f"team/app{n}" for n in range(40)]
    for name in names:
        await registry.repository(name).blobs.put(f"content of {name}".encode())
    unlinked = await registry.repository("team/app0").blobs.put(b"unlinked once deleted")
    await registry.repository("team/app0").blobs.delete(unlinked.digest)
    driver = registry.driver
    in_flight = most = 0
    real_stat = driver.stat

    async def counted_stat(path: str) -> object:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.002)  # long enough for the others to pile up
            return await real_stat(path)
        finally:
            in_flight -= 1

    monkeypatch.setattr(driver, "stat", counted_stat)
    guard = await _guard_starting_now(registry)
    checks = [guard.spare("blob", None, unlinked.digest) for _ in range(4)]
    assert await asyncio.gather(*checks) == [False] * 4  # nobody links it: not spared
    assert 1 < most <= guard_module.CHECK_CONCURRENCY, most
