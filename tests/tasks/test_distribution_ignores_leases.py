"""Lease objects sit where distribution 2.8 never trips over them.

A job's lease lives under ``/pyregistry/leases`` (outside ``/docker/registry/v2``), an
upload session's lock file inside the session's directory. Distribution's
``garbage-collect`` must run clean on such a root and leave them alone, and its catalog
must list only repositories and serve the image.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import yaml

from pyregistry.storage import Digest, Registry, paths
from pyregistry.tasks.leases import LeaseFactory
from pyregistry.tasks.upload_leases import UploadLeases
from storage_drivers.filesystem import FilesystemDriver
from tests.storage.helpers import stream
from tests.support.command import find_tool, free_port
from tests.support.distribution import build_config, run_distribution
from tests.support.images import OCI_MANIFEST, build_image


async def _populate(root: Path) -> tuple[str, bytes]:
    """An image tagged ``v1``, a held job lease, and an open session with its lock file."""
    driver = FilesystemDriver(root)
    leases = LeaseFactory(driver, settle=0.05)
    registry = Registry(driver, upload_locks=UploadLeases(leases))
    try:
        repo = registry.repository("ours/app")
        image = build_image(seed="leases", layers=1)
        for digest, content in image.blobs().items():
            session = await repo.uploads.create()
            await session.append(stream(content))
            await session.commit(Digest.parse(digest))
        result = await repo.manifests.put(image.manifest, OCI_MANIFEST)
        await repo.tags.tag("v1", result.digest)
        job = leases.job("upload-purge", ttl=3600)
        assert await job.acquire()  # and kept: a holder that is still running
        open_session = await repo.uploads.create()
        await open_session.append(stream(b"first half "))
        lock = await leases.upload(repo.name, open_session.id).acquire()
        assert lock
        return open_session.id, image.manifest
    finally:
        await registry.close()


def test_distribution_garbage_collect_and_catalog_ignore_leases(tmp_path: Path) -> None:
    root = tmp_path / "root"
    upload_id, manifest = asyncio.run(_populate(root))
    job_lease = root / paths.lease_path("upload-purge").lstrip("/")
    session_lock = root / paths.upload_started_at_path("ours/app", upload_id).lstrip("/")
    assert job_lease.is_file() and session_lock.is_file()
    before = job_lease.read_bytes()

    config = tmp_path / "distribution.yml"
    config.write_text(yaml.safe_dump(build_config(root, free_port())))
    gc = subprocess.run(
        [find_tool("docker-registry"), "garbage-collect", "--delete-untagged", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert job_lease.read_bytes() == before

    with run_distribution(root) as dist, httpx.Client(base_url=dist.url, timeout=30) as client:
        assert client.get("/v2/_catalog").json()["repositories"] == ["ours/app"]
        pulled = client.get("/v2/ours/app/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert pulled.status_code == 200 and pulled.content == manifest
    assert job_lease.read_bytes() == before
    assert session_lock.is_file()
