"""This registry as a replication endpoint: reads from the core store (no pull events,
which would only be noise for webhooks), writes through the wrapped namespace, so a
pulled image is validated like any push and causes the events that drive onward push
policies and notifications.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pyregistry.client import Manifest
from pyregistry.client.sources import ChunkReader
from pyregistry.errcode import RegistryError
from pyregistry.storage.digest import Digest
from pyregistry.storage.interfaces import Namespace

CATALOG_PAGE = 1000


def _is_digest(reference: str) -> bool:
    return ":" in reference


def _missing(exc: RegistryError) -> bool:
    return exc.status == 404


class LocalEndpoint:
    """``reader``: the core registry; ``writer``: the namespace the API sees."""

    label = "local"

    def __init__(self, reader: Namespace, writer: Namespace | None = None) -> None:
        self.reader = reader
        self.writer = writer or reader

    async def _digest(self, repository: str, reference: str) -> Digest | None:
        repo = self.reader.repository(repository)
        try:
            if _is_digest(reference):
                digest = Digest.parse(reference)
                return digest if await repo.manifests.exists(digest) else None
            return await repo.tags.get(reference)
        except RegistryError as exc:
            if _missing(exc):
                return None
            raise

    async def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        digest = await self._digest(repository, reference)
        if digest is None:
            return None
        try:
            stored = await self.reader.repository(repository).manifests.get(digest)
        except RegistryError as exc:
            if _missing(exc):
                return None
            raise
        return Manifest(stored.content, stored.media_type, str(stored.digest))

    async def manifest_digest(self, repository: str, reference: str) -> str | None:
        digest = await self._digest(repository, reference)
        return None if digest is None else str(digest)

    async def blob_size(self, repository: str, digest: str) -> int | None:
        try:
            desc = await self.reader.repository(repository).blobs.stat(Digest.parse(digest))
        except RegistryError as exc:
            if _missing(exc):
                return None
            raise
        return desc.size

    def blob_reader(self, repository: str, digest: str, size: int) -> ChunkReader:
        blobs = self.reader.repository(repository).blobs

        async def read(offset: int, length: int) -> AsyncIterator[bytes]:
            async for chunk in await blobs.open(Digest.parse(digest), offset, length):
                yield chunk

        return read

    async def forget_upload(self, repository: str, digest: str, size: int) -> None:
        """Local uploads finish or are cancelled within one call: nothing is kept."""

    async def put_blob(
        self, repository: str, digest: str, size: int, read: ChunkReader, mount_from: str | None
    ) -> None:
        repo = self.writer.repository(repository)
        if mount_from is not None and await repo.blobs.mount(Digest.parse(digest), mount_from):
            return
        upload = await repo.uploads.create()
        try:
            await upload.commit(Digest.parse(digest), read(0, size))
        except BaseException:
            await upload.cancel()
            raise

    async def put_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> None:
        manifests = self.writer.repository(repository).manifests
        if _is_digest(reference):
            await manifests.put(content, media_type, digest=Digest.parse(reference))
        else:
            await manifests.put(content, media_type, tags=[reference])

    async def delete(self, repository: str, reference: str) -> bool:
        repo = self.writer.repository(repository)
        try:
            if _is_digest(reference):
                await repo.manifests.delete(Digest.parse(reference))
            else:
                await repo.tags.untag(reference)
        except RegistryError as exc:
            if not _missing(exc):
                raise
        return True

    async def tags(self, repository: str) -> list[str]:
        try:
            return await self.reader.repository(repository).tags.list()
        except RegistryError as exc:
            if _missing(exc):
                return []
            raise

    async def repositories(self) -> list[str]:
        """The catalog, a page at a time (from the metadata index when there is one)."""
        names: list[str] = []
        last: str | None = None
        while page := await self.reader.catalog(CATALOG_PAGE, last):
            names += page
            if len(page) < CATALOG_PAGE:
                break
            last = page[-1]
        return names

    async def referrers(self, repository: str, digest: str) -> list[dict[str, Any]]:
        try:
            return await self.reader.repository(repository).referrers(Digest.parse(digest))
        except RegistryError as exc:
            if _missing(exc):
                return []
            raise
