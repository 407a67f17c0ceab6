"""Cached content nobody pulls within ``expire`` is removed (manifest and tag, then links,
then blob data nothing else names); content pulled meanwhile stays, and a pull of expired
content fetches it from the upstream again. Real mirror and upstream over sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.app import build_registry
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image, random_layer
from pyregistry.embedding.options import config_from_mapping
from pyregistry.proxy import mirror_namespace
from pyregistry.proxy.expiry import JOB_NAME
from pyregistry.proxy.expiry_pending import PendingRemovals
from pyregistry.proxy.pulls import RECORDS_ROOT
from pyregistry.storage import Digest, paths
from tests.proxy.conftest import MirrorFactory
from tests.support.registry_process import RegistryProcess, free_port, write_config


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmbeddedRegistry]:
    with pyregistry.serve() as registry:
        yield registry


def _exists(root: Path, path: str) -> bool:
    return (root / path.lstrip("/")).exists()


def _revision(root: Path, name: str, digest: str) -> bool:
    return _exists(root, paths.manifest_revision_link_path(name, Digest.parse(digest)))


def _blob(root: Path, digest: str) -> bool:
    return _exists(root, paths.blob_data_path(Digest.parse(digest)))


def test_unpulled_content_expires_and_pulled_content_stays(
    upstream: EmbeddedRegistry, start_mirror: MirrorFactory, tmp_path: Path
) -> None:
    base = random_layer("expiry-shared-base")
    kept = build_image(seed="expiry-kept", layers=1, base_layers=[base])
    gone = build_image(seed="expiry-gone", layers=1, base_layers=[base])
    with RegistryClient(upstream.url) as up:
        up.push("team/kept", kept, "v1")
        up.push("team/gone", gone, "v1")
    root = tmp_path / "mirror"
    mirror = start_mirror(root, mirrors=[{"prefix": "up", "url": upstream.url, "expire": "2s"}])
    with RegistryClient(mirror) as client:
        for name, image in (("up/team/kept", kept), ("up/team/gone", gone)):
            assert client.get_manifest(name, "v1").digest == image.digest
            for digest, data in image.blobs().items():
                assert client.get_blob(name, digest) == data
        assert _revision(root, "up/team/gone", gone.digest)
        gone_layer = gone.layer_digests[-1]
        deadline = time.monotonic() + 20
        while _revision(root, "up/team/gone", gone.digest) or _blob(root, gone_layer):
            assert time.monotonic() < deadline, "unpulled content was not removed"
            # pulled by tag (HEAD, then GET by digest as clients do): never expires
            head = httpx.head(f"{mirror}/v2/up/team/kept/manifests/v1", headers=_ACCEPT)
            assert head.status_code == 200
            client.get_manifest("up/team/kept", kept.digest)
            time.sleep(0.2)
        # gone: tag and manifest unlinked, its own blobs' data removed; the shared base
        # layer stays (kept names it), as does everything of kept
        assert not _exists(root, paths.tag_path("up/team/gone", "v1"))
        assert not _blob(root, gone.config_digest)
        assert not _exists(root, paths.layer_link_path("up/team/gone", Digest.parse(gone_layer)))
        assert _revision(root, "up/team/kept", kept.digest)
        for digest in kept.blobs():
            assert _blob(root, digest), digest
        assert _exists(root, paths.tag_path("up/team/kept", "v1"))
        # the pull records are few small objects, one per repository and process
        # (a name starting with "." is the filesystem driver's temporary file of a record
        # being rewritten at this moment, renamed over the record when complete)
        folder = root / RECORDS_ROOT.lstrip("/") / "up/team/kept"
        records = [p for p in folder.iterdir() if not p.name.startswith(".")]
        assert [p.name[0] for p in records] == ["_"]
        # expired content is fetched again on the next pull
        assert client.get_manifest("up/team/gone", "v1").digest == gone.digest
        for digest, data in gone.blobs().items():
            assert client.get_blob("up/team/gone", digest) == data
    assert _revision(root, "up/team/gone", gone.digest)


def test_a_run_killed_midway_is_finished_by_the_next(tmp_path: Path) -> None:
    """A run killed after unlinking leaves blob data nothing names; its digests were
    recorded as pending first, and the next run removes that data (what any repository
    still links stays)."""
    root = tmp_path / "data"
    config = config_from_mapping(
        {
            "storage": {"filesystem": {"rootdirectory": str(root)}},
            "mirrors": [{"prefix": "up", "url": "http://127.0.0.1:9", "expire": "1s"}],
        }
    )
    registry = build_registry(config)
    namespace = mirror_namespace(registry, config)
    assert namespace is not None

    async def scenario() -> None:
        orphan = await registry.blob_store.put(b"left behind by a killed run")
        linked = await registry.repository("mine/app").blobs.put(b"still linked")
        # what a run records before it unlinks, and then was killed
        await PendingRemovals(registry.driver).add(blobs=[str(orphan.digest), str(linked.digest)])
        await asyncio.sleep(1.5)  # past the grace period (the shortest expire)
        report = await namespace.expiry.expire_once()
        assert report.blobs_deleted == 1, report.summary()
        assert not _blob(root, str(orphan.digest))
        assert _blob(root, str(linked.digest))
        left = PendingRemovals(registry.driver)
        await left.load()  # the linked one is tried again until past the grace period
        assert set(left.blobs) == {str(linked.digest)}
        await namespace.close()

    asyncio.run(scenario())


_ACCEPT = {
    "Accept": "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
}


def test_pulls_through_another_instance_keep_content(tmp_path: Path) -> None:
    """Two instances on one storage: the one holding the expiry lease sees the pulls made
    through the other (its flushed pull records), and expires only what nobody pulled."""
    kept = build_image(seed="expiry-shared-kept", layers=1)
    gone = build_image(seed="expiry-shared-gone", layers=1)
    root = tmp_path / "shared"
    with pyregistry.serve() as upstream:
        with RegistryClient(upstream.url) as up:
            up.push("team/kept", kept, "v1")
            up.push("team/gone", gone, "v1")
        sections = {
            "storage": {"filesystem": {"rootdirectory": str(root)}},
            # 8 s, not 2 or 4: the kept image must stay pulled through a loaded second instance
            # (its pull records flushed every tenth of that) while the other one expires
            "mirrors": [{"prefix": "up", "url": upstream.url, "expire": "8s"}],
        }
        first, second = (_instance(tmp_path / name, sections) for name in ("a", "b"))
        with first:
            _wait_for_lease(root, first)  # the first instance runs expiry
            with second:
                with RegistryClient(first.url) as client:
                    client.get_manifest("up/team/kept", "v1")
                    client.get_manifest("up/team/gone", "v1")
                # the mirror answers, then finishes storing its copy: wait for both
                deadline = time.monotonic() + 60
                while not (
                    _revision(root, "up/team/kept", kept.digest)
                    and _revision(root, "up/team/gone", gone.digest)
                ):
                    assert time.monotonic() < deadline, "the mirror did not store its copies"
                    time.sleep(0.05)
                with RegistryClient(second.url) as client:
                    while _revision(root, "up/team/gone", gone.digest):
                        assert time.monotonic() < deadline, "unpulled content was not removed"
                        client.get_manifest("up/team/kept", "v1")  # only through the second
                        time.sleep(0.2)
                assert _revision(root, "up/team/kept", kept.digest)
                assert json.loads(_lease_record(root))["holder"].endswith(f":{first.pid}")


class _Instance(RegistryProcess):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def _instance(directory: Path, sections: dict[str, Any]) -> _Instance:
    directory.mkdir()
    port = free_port()
    return _Instance(["serve", str(write_config(directory, port, **sections))], port=port)


def _lease_record(root: Path) -> str:
    return (root / paths.lease_path(JOB_NAME).lstrip("/")).read_text()


def _wait_for_lease(root: Path, instance: _Instance) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            if json.loads(_lease_record(root))["holder"].endswith(f":{instance.pid}"):
                return
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, "the first instance never took the expiry lease"
        time.sleep(0.1)
