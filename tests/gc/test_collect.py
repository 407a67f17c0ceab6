"""Mark and sweep over the in-memory driver: what stays, what goes, and fail-safety."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyregistry.gc import CollectOptions, Report, Sweeper, collect
from pyregistry.storage import Digest, InMemoryBlobDescriptorCache, Registry, paths
from pyregistry.storage import enumerate as stored
from pyregistry.storage.enumerate import StoredBlob
from storage_drivers.base import StorageDriver
from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.filesystem import FilesystemDriver
from storage_drivers.inmemory import InMemoryDriver
from tests.gc.conftest import snapshot
from tests.gc.scenario import Scenario, build_scenario


async def _blobs(driver: StorageDriver) -> set[Digest]:
    return {blob.digest async for blob in stored.blobs(driver)}


async def _revisions(driver: StorageDriver, repository: str) -> set[Digest]:
    return {e.digest async for e in stored.manifest_revisions(driver, repository)}


async def _links(driver: StorageDriver, repository: str) -> set[Digest]:
    return {e.digest async for e in stored.layer_links(driver, repository)}


async def test_default_collects_only_what_no_manifest_references(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    before = await _blobs(driver)
    report = await collect(driver)
    assert report.ok, report.errors
    expected_gone = {scenario["v2"], scenario["orphan"], *scenario.blobs["v2"]}
    assert await _blobs(driver) == before - expected_gone
    assert report.blobs_deleted == len(expected_gone)
    assert report.manifests_deleted == 0
    # Links to collected blobs go with them; the mounted shared layer stays linked.
    assert not (await _links(driver, "app")) & scenario.blobs["v2"]
    assert scenario["orphan"] not in await _links(driver, "scratch")
    assert scenario["base"] in await _links(driver, "mounted")
    assert scenario["untagged"] in await _revisions(driver, "scratch")


async def test_delete_untagged_keeps_index_children_and_referrers(
    driver: InMemoryDriver, registry: Registry, scenario: Scenario
) -> None:
    report = await collect(driver, CollectOptions(delete_untagged=True))
    assert report.ok, report.errors
    assert await _revisions(driver, "app") == {scenario["v1"], scenario["new"]}
    assert await _revisions(driver, "lib/multi") == {
        scenario["index"],
        scenario["amd64"],
        scenario["arm64"],
        scenario["sig"],
    }
    assert await _revisions(driver, "scratch") == set()
    assert report.manifests_deleted == 5
    blobs = await _blobs(driver)
    for kept in ("v1", "new", "amd64", "arm64", "sig", "docker"):
        assert scenario.blobs[kept] <= blobs, kept
    for gone in ("old", "s390x", "untagged", "v2"):
        assert not scenario.blobs[gone] & blobs, gone
    assert scenario["stale-index"] not in blobs and scenario["stale-sig"] not in blobs
    # The tag history of ``latest`` forgets the collected manifest.
    history = {(t, d) async for t, d in stored.tag_index_entries(driver, "app")}
    assert history == {("v1", scenario["v1"]), ("latest", scenario["new"])}
    # The pulled image still works end to end through the storage layer.
    multi = registry.repository("lib/multi")
    referrers = await multi.referrers(scenario["index"])
    assert [r["digest"] for r in referrers] == [str(scenario["sig"])]
    stale_entry = paths.referrer_link_path(
        "lib/multi", scenario["stale-index"], scenario["stale-sig"]
    )
    assert not await driver_exists(driver, stale_entry)


async def driver_exists(driver: InMemoryDriver, path: str) -> bool:
    try:
        await driver.stat(path)
    except PathNotFound:
        return False
    return True


async def test_dry_run_changes_nothing_and_counts_the_same(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    before = await snapshot(driver)
    for untagged in (False, True):
        dry = await collect(driver, CollectOptions(dry_run=True, delete_untagged=untagged))
        assert dry.ok and dry.dry_run
        assert await snapshot(driver) == before
    real = await collect(driver, CollectOptions(delete_untagged=True))
    assert (real.manifests_deleted, real.blobs_deleted, real.bytes_freed) == (
        dry.manifests_deleted,
        dry.blobs_deleted,
        dry.bytes_freed,
    )
    assert real.bytes_freed > 0


async def test_an_unreadable_manifest_stops_the_run_before_any_removal(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    # Even an untagged manifest: it might be the referrer that keeps something else.
    await driver.put_content(paths.blob_data_path(scenario["untagged"]), b"{not json")
    before = await snapshot(driver)
    report = await collect(driver, CollectOptions(delete_untagged=True))
    assert not report.ok
    assert f"scratch@{scenario['untagged']}" in report.errors[0]
    assert "nothing was deleted" in report.errors[0]
    assert await snapshot(driver) == before
    assert report.blobs_deleted == report.manifests_deleted == 0


class DeletingDriver(InMemoryDriver):
    """Deletes one path just before it is first read: a DELETE racing the collector."""

    def __init__(self, doomed: str) -> None:
        super().__init__()
        self.doomed = doomed

    async def get_content(self, path: str) -> bytes:
        if path == self.doomed:
            self.doomed = ""
            await self.delete(path)
        return await super().get_content(path)


async def test_a_revision_deleted_while_marking_is_not_an_error() -> None:
    """Online, a manifest DELETE between listing and reading a revision link must not
    stop the run (it names nothing any more); a link that is there but unreadable does."""
    driver = DeletingDriver("")
    registry = Registry(driver)
    scenario = await build_scenario(registry)
    driver.doomed = paths.manifest_revision_link_path("scratch", scenario["untagged"])
    report = await collect(driver, CollectOptions(delete_untagged=True))
    assert report.ok, report.errors
    assert scenario["untagged"] not in await _revisions(driver, "scratch")
    await driver.put_content(paths.manifest_revision_link_path("app", scenario["v1"]), b"junk")
    report = await collect(driver, CollectOptions(delete_untagged=True))
    assert not report.ok and "does not name it" in report.errors[0]
    await registry.close()


async def test_a_revision_without_manifest_data_is_reported_and_left(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    await driver.delete(paths.blob_path(scenario["untagged"]))
    report = await collect(driver, CollectOptions(delete_untagged=True))
    assert report.ok, report.errors
    assert any(str(scenario["untagged"]) in w and "missing" in w for w in report.warnings)
    # distribution leaves such a revision in place; so do we.
    assert scenario["untagged"] in await _revisions(driver, "scratch")


async def test_an_already_missing_blob_is_skipped_and_the_rest_goes_on(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    report = Report()
    sweeper = Sweeper(driver, report)
    ghost = StoredBlob(Digest.from_bytes(b"never stored"), 12)
    orphan = StoredBlob(scenario["orphan"], 26)
    await sweeper.blobs([ghost, orphan])
    assert report.ok
    assert report.blobs_deleted == 1 and report.bytes_freed == 26
    assert report.warnings == [f"blob {ghost.digest} was already missing; skipped"]
    assert scenario["orphan"] not in await _blobs(driver)


async def test_spare_vetoes_single_removals(driver: InMemoryDriver, scenario: Scenario) -> None:
    async def spare(kind: str, repository: str | None, digest: Digest) -> bool:
        return digest == scenario["orphan"]

    report = await collect(driver, spare=spare)
    assert report.ok
    assert scenario["orphan"] in await _blobs(driver)
    assert scenario["orphan"] in await _links(driver, "scratch")
    assert scenario["v2"] not in await _blobs(driver)


async def test_an_in_process_cache_forgets_what_was_collected() -> None:
    driver = InMemoryDriver()
    cache = InMemoryBlobDescriptorCache()
    registry = Registry(driver, blob_descriptor_cache=cache)
    again = await build_scenario(registry)
    app, scratch = registry.repository("app"), registry.repository("scratch")
    for blob in again.blobs["old"]:
        await app.blobs.stat(blob)  # a HEAD fills both the global and the repository entry
    await scratch.blobs.stat(again["orphan"])
    assert await cache.get("app", next(iter(again.blobs["old"]))) is not None

    report = await collect(driver, CollectOptions(delete_untagged=True), caches=[cache])
    assert report.ok
    for blob in again.blobs["old"]:
        assert await cache.get(None, blob) is None
        assert await cache.get("app", blob) is None
    assert await cache.get("scratch", again["orphan"]) is None
    kept = next(iter(again.blobs["v1"]))
    await app.blobs.stat(kept)
    await collect(driver, CollectOptions(delete_untagged=True), caches=[cache])
    assert await cache.get("app", kept) is not None


class FailingDeletes(InMemoryDriver):
    """An in-memory store whose backend refuses to delete one path (a permissions error)."""

    refused: str = ""

    async def delete(self, path: str) -> None:
        if path == self.refused:
            raise StorageDriverError("permission denied", driver=self.name, path=path)
        await super().delete(path)


async def test_a_failed_removal_is_an_error_and_the_rest_still_goes() -> None:
    driver = FailingDeletes()
    scenario = await build_scenario(Registry(driver))
    driver.refused = paths.blob_path(scenario["orphan"])
    report = await collect(driver)
    assert not report.ok
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"cannot delete blob {scenario['orphan']}: ")
    assert scenario["orphan"] in await _blobs(driver)
    assert not scenario.blobs["v2"] & await _blobs(driver)


class RecordingDeletes(FilesystemDriver):
    """The filesystem driver, recording every path removed, in order."""

    def __init__(self, root: Path) -> None:
        super().__init__(rootdirectory=str(root))
        self.removed: list[str] = []

    async def delete_many(self, paths: Sequence[str]) -> Sequence[bool]:
        found = await super().delete_many(paths)
        self.removed.extend(p for p, there in zip(paths, found, strict=True) if there)
        return found


async def test_each_blob_goes_after_every_link_to_it(tmp_path: Path) -> None:
    driver = RecordingDeletes(tmp_path)
    registry = Registry(driver)
    try:
        scenario = await build_scenario(registry)
        # Never referenced, linked from several repositories: its data goes last.
        shared = await registry.repository("scratch").blobs.put(b"linked thrice, unreferenced")
        for name in ("copy/one", "copy/two"):
            assert await registry.repository(name).blobs.mount(shared.digest, "scratch")
        report = await collect(driver, CollectOptions(delete_untagged=True))
    finally:
        await registry.close()
    assert report.ok, report.errors
    doomed = {shared.digest, scenario["orphan"], *scenario.blobs["v2"], *scenario.blobs["old"]}
    at = {path: index for index, path in enumerate(driver.removed)}
    for digest in doomed:
        data = at[paths.blob_path(digest)]
        links = [i for p, i in at.items() if "/_layers/" in p and p.endswith(digest.hex)]
        assert links, f"no link to {digest} was removed"
        assert max(links) < data, f"{digest}: data removed before one of its links"
    assert not await _blobs(driver) & doomed
    for name in ("scratch", "copy/one", "copy/two"):
        assert shared.digest not in await _links(driver, name)
