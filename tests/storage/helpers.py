"""Helpers shared by the storage tests: chunk streams, image pushes, a recording driver."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pyregistry.storage import BlobDescriptor, Digest, PutManifestResult, Repository
from storage_drivers.base import FileInfo, FileWriter, StorageDriver

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def sha256(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def sha512(data: bytes) -> Digest:
    return Digest("sha512", hashlib.sha512(data).hexdigest())


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": str(sha256(data)), "size": len(data), **extra}


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


async def upload(repo: Repository, data: bytes) -> BlobDescriptor:
    """Push a blob the way clients do: create, one append, commit by digest."""
    session = await repo.uploads.create()
    await session.append(stream(data))
    return await session.commit(sha256(data))


def image_manifest(
    config: bytes,
    layers: Iterable[bytes],
    *,
    media_type: str | None = OCI_MANIFEST,
    config_type: str = OCI_CONFIG,
    layer_type: str = OCI_LAYER,
    **extra: Any,
) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, layer) for layer in layers],
        **extra,
    }
    if media_type is not None:
        doc["mediaType"] = media_type
    return dumps(doc)


async def push_image(
    repo: Repository, seed: str, *, tag: str | None = None, **extra: Any
) -> tuple[bytes, PutManifestResult]:
    """Upload config and one layer, then put an OCI manifest (optionally tagged)."""
    config = dumps({"architecture": "amd64", "os": "linux", "seed": seed})
    layer = f"layer-{seed}".encode() * 10
    await repo.blobs.put(config)
    await upload(repo, layer)
    content = image_manifest(config, [layer], **extra)
    result = await repo.manifests.put(content, OCI_MANIFEST)
    if tag is not None:
        await repo.tags.tag(tag, result.digest)
    return content, result


class RecordingDriver(StorageDriver):
    """Passes every call through to a real driver and records its name and path."""

    name = "recording"

    def __init__(self, inner: StorageDriver) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    async def get_content(self, path: str) -> bytes:
        self.calls.append(("get_content", path))
        return await self.inner.get_content(path)

    async def put_content(self, path: str, content: bytes) -> None:
        self.calls.append(("put_content", path))
        await self.inner.put_content(path, content)

    async def reader(
        self, path: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        self.calls.append(("reader", path))
        return await self.inner.reader(path, offset, length)

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self.calls.append(("writer", path))
        return await self.inner.writer(path, append)

    async def stat(self, path: str) -> FileInfo:
        self.calls.append(("stat", path))
        return await self.inner.stat(path)

    async def list(self, path: str) -> list[str]:
        self.calls.append(("list", path))
        return await self.inner.list(path)

    async def move(self, source: str, dest: str) -> None:
        self.calls.append(("move", f"{source} -> {dest}"))
        await self.inner.move(source, dest)

    async def delete(self, path: str) -> None:
        self.calls.append(("delete", path))
        await self.inner.delete(path)

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        self.calls.append(("redirect_url", path))
        return await self.inner.redirect_url(path, method)

    async def walk(self, path: str) -> AsyncIterator[FileInfo]:
        self.calls.append(("walk", path))
        async for info in self.inner.walk(path):
            yield info

    async def close(self) -> None:
        await self.inner.close()
