"""The storage root the garbage collection bench collects, built through the storage layer.

``manifests`` OCI image manifests spread over repositories of 100, each with a config and
layers of its own (small blobs: collection time depends on object counts, not bytes),
``blobs`` blobs in all; every other manifest is deleted again, so about half of the
manifests and blobs are garbage. Blobs the manifests cannot use up are uploaded and
linked but never referenced (garbage too). Every kept manifest is tagged.

The root is written once on the filesystem through :class:`pyregistry.storage.Registry`
(no HTTP, many writes at once), then copied: to a second directory, or into the S3 test
server under two key prefixes (:mod:`bench.gcs3`), so both collectors start from
identical data.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pyregistry.storage import Registry, Repository
from storage_drivers.filesystem import FilesystemDriver

MANIFESTS_PER_REPOSITORY = 100
CONCURRENCY = 32
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class StoreShape:
    """What was built: manifests and blobs in all, and how many of each are garbage."""

    manifests: int
    blobs: int
    garbage_manifests: int
    garbage_blobs: int
    files: int


def _blob(seed: str, size: int = 256) -> bytes:
    """Deterministic, unique content for ``seed``."""
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _image(number: int, layers: int) -> tuple[bytes, list[bytes]]:
    """Manifest ``number``: its document and its blobs (config first)."""
    layer_data = [_blob(f"layer-{number}-{n}") for n in range(layers)]
    diff_ids = ["sha256:" + hashlib.sha256(data).hexdigest() for data in layer_data]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "bench": number,
        },
        sort_keys=True,
    ).encode()
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(OCI_CONFIG, config),
        "layers": [_descriptor(OCI_LAYER, data) for data in layer_data],
    }
    return json.dumps(document, sort_keys=True).encode(), [config, *layer_data]


async def _bounded(jobs: Iterable[Callable[[], Awaitable[object]]], limit: int) -> None:
    """Run every job, at most ``limit`` at once."""
    queue = list(jobs)
    queue.reverse()

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(limit)))


async def _push(repository: Repository, number: int, layers: int, garbage: bool) -> None:
    document, blobs = _image(number, layers)
    for data in blobs:
        await repository.blobs.put(data)
    tags = () if garbage else (f"t{number}",)
    stored = await repository.manifests.put(document, OCI_MANIFEST, tags=tags)
    if garbage:
        await repository.manifests.delete(stored.digest)


async def build_store(root: Path, manifests: int, blobs: int) -> StoreShape:
    """Write the store under ``root`` (a filesystem storage root)."""
    if manifests < 2 or blobs < 2 * manifests:
        raise ValueError("need at least 2 manifests and 2 blobs per manifest")
    layers = blobs // manifests - 1
    spare = blobs - manifests * (layers + 1)
    driver = FilesystemDriver(rootdirectory=str(root))
    registry = Registry(driver, delete_enabled=True)

    def repository(number: int) -> Repository:
        return registry.repository(f"bench/r{number // MANIFESTS_PER_REPOSITORY:04d}")

    def push(number: int) -> Callable[[], Awaitable[None]]:
        return lambda: _push(repository(number), number, layers, garbage=number % 2 == 1)

    def upload(number: int) -> Callable[[], Awaitable[object]]:
        return lambda: repository(number % manifests).blobs.put(_blob(f"spare-{number}"))

    try:
        await _bounded([push(n) for n in range(manifests)], CONCURRENCY)
        await _bounded([upload(n) for n in range(spare)], CONCURRENCY)
    finally:
        await registry.close()
    garbage_manifests = manifests // 2
    files = sum(len(names) for _, _, names in os.walk(root))
    return StoreShape(
        manifests=manifests,
        blobs=blobs,
        garbage_manifests=garbage_manifests,
        garbage_blobs=garbage_manifests * (layers + 1) + spare,
        files=files,
    )


def copy_tree(source: Path, target: Path) -> None:
    """An identical filesystem root (contents and modification times)."""
    shutil.copytree(source, target, symlinks=True)


def listing(root: Path) -> set[str]:
    """Every file below ``root``, relative (what is left after a collection)."""
    return {
        Path(directory, name).relative_to(root).as_posix()
        for directory, _, names in os.walk(root)
        for name in names
    }


def content_files(files: set[str]) -> set[str]:
    """``files`` without layer links: blob data, manifest revisions and tags, which every
    collector must leave alike. (distribution 2.8 leaves links to collected blobs behind
    in ``_layers``; 3.x and pyregistry remove them.)"""
    return {path for path in files if "/_layers/" not in f"/{path}"}
