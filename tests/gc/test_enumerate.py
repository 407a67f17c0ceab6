"""The storage layer's enumerators: every object once, foreign files skipped."""

from __future__ import annotations

from pyregistry.storage import Digest, Registry, paths
from pyregistry.storage import enumerate as stored
from storage_drivers.inmemory import InMemoryDriver
from tests.gc.scenario import Scenario


async def test_repositories_in_catalog_order(driver: InMemoryDriver, scenario: Scenario) -> None:
    names = [name async for name in stored.repositories(driver)]
    assert names == ["app", "docker", "lib/multi", "mounted", "scratch"]


async def test_revisions_links_tags_and_history(
    driver: InMemoryDriver, registry: Registry, scenario: Scenario
) -> None:
    revisions = [e async for e in stored.manifest_revisions(driver, "app")]
    assert {e.digest for e in revisions} == {scenario["v1"], scenario["old"], scenario["new"]}
    assert all(e.target == e.digest and e.path.endswith("/link") for e in revisions)
    tags = {t.tag: t.target async for t in stored.tags(driver, "app")}
    assert tags == {"v1": scenario["v1"], "latest": scenario["new"]}
    history = {(t, d) async for t, d in stored.tag_index_entries(driver, "app")}
    assert ("latest", scenario["old"]) in history and ("latest", scenario["new"]) in history
    links = {e.digest async for e in stored.layer_links(driver, "mounted")}
    assert links == {scenario["base"]}
    assert [e async for e in stored.manifest_revisions(driver, "mounted")] == []
    assert [e async for e in stored.layer_links(driver, "no/such/repo")] == []


async def test_blobs_with_sizes_and_foreign_files_skipped(
    driver: InMemoryDriver, scenario: Scenario
) -> None:
    found = {blob.digest: blob.size async for blob in stored.blobs(driver)}
    assert found[scenario["orphan"]] == len(b"uploaded, never referenced")
    await driver.put_content(f"{paths.BLOBS_ROOT}/sha256/zz/not-a-digest/data", b"x")
    await driver.put_content(f"{paths.BLOBS_ROOT}/sha256/README", b"x")
    orphan = scenario["orphan"]
    await driver.put_content(f"{paths.blob_path(orphan)}/other", b"x")
    again = {blob.digest async for blob in stored.blobs(driver)}
    assert again == set(found)
    mismatched = Digest("sha256", "ab" + orphan.hex[2:])
    assert mismatched not in again


async def test_empty_store_enumerates_nothing() -> None:
    driver = InMemoryDriver()
    assert [n async for n in stored.repositories(driver)] == []
    assert [b async for b in stored.blobs(driver)] == []
