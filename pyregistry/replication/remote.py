"""Another registry as a replication endpoint, over the shared
:class:`~pyregistry.client.AsyncRegistryClient` of its target (one connection pool and
token cache per target, however many policies use it).

Blobs go up in resumable chunks when they are at least the target's ``chunksize`` (a
cut connection continues from the offset the target reports, and so does the next
process after a crash: :mod:`sessions`), else in one streamed PUT;
either way they are read from the source as they are sent, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from pyregistry.client import AsyncRegistryClient, BlobSource, CredentialHelper, Manifest
from pyregistry.client.errors import NotFoundError, RegistryResponseError
from pyregistry.client.sources import ChunkReader
from pyregistry.config.sections.replication import TargetSettings
from pyregistry.replication.sessions import UploadSessions


def client_for(target: TargetSettings) -> AsyncRegistryClient:
    credentials = helper = None
    if target.exec.command:  # it wins over username and password, as in a mirror
        helper = CredentialHelper(target.exec.command, target.exec.lifetime)
    elif target.username is not None:
        credentials = (target.username, target.password or "")
    return AsyncRegistryClient(
        target.url,
        credentials=credentials,
        credential_helper=helper,
        token=target.token or None,
        ca_file=target.ca or None,
        insecure=target.insecure,
        timeout=target.timeout,
        max_connections=max(target.concurrency * 2, 4),
    )


class RemoteEndpoint:
    def __init__(
        self,
        target: TargetSettings,
        client: AsyncRegistryClient,
        sessions: UploadSessions | None = None,
    ) -> None:
        self.label = target.name
        self.client = client
        self.chunk_size = target.chunksize
        self.sessions = sessions

    async def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        try:
            return await self.client.get_manifest(repository, reference)
        except NotFoundError:
            return None

    async def manifest_digest(self, repository: str, reference: str) -> str | None:
        try:
            desc = await self.client.head_manifest(repository, reference)
        except NotFoundError:
            return None
        return None if desc is None else desc.digest

    async def blob_size(self, repository: str, digest: str) -> int | None:
        try:
            desc = await self.client.head_blob(repository, digest)
        except NotFoundError:
            return None
        return None if desc is None else desc.size

    def blob_reader(self, repository: str, digest: str, size: int) -> ChunkReader:
        client = self.client

        async def read(offset: int, length: int) -> AsyncIterator[bytes]:
            # Pull writes into a local upload from 0; a later offset skips what came.
            skip, left = offset, length
            async for chunk in client.stream_blob(repository, digest):
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                piece = chunk[skip : skip + left]
                skip = 0
                left -= len(piece)
                yield piece
                if left <= 0:
                    break

        return read

    async def put_blob(
        self, repository: str, digest: str, size: int, read: ChunkReader, mount_from: str | None
    ) -> None:
        chunked = self.chunk_size if 0 < self.chunk_size <= size else None
        sessions = self.sessions if chunked else None
        resume_from = await sessions.find(repository, digest) if sessions else None

        async def progress(location: httpx.URL, offset: int) -> None:
            if sessions is not None:
                await sessions.save(repository, digest, location)

        await self.client.push_blob(
            repository,
            BlobSource(digest, size, read),
            chunk_size=chunked,
            mount_from=mount_from if resume_from is None else None,
            check_exists=False,
            resume_from=resume_from,
            on_progress=progress if sessions is not None else None,
        )
        if sessions is not None:
            await sessions.forget(repository, digest)

    async def forget_upload(self, repository: str, digest: str, size: int) -> None:
        if self.sessions is not None and 0 < self.chunk_size <= size:  # only chunked ones
            await self.sessions.forget(repository, digest)

    async def put_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> None:
        await self.client.push_manifest(repository, reference, content, media_type)

    async def delete(self, repository: str, reference: str) -> bool:
        try:
            await self.client.delete_manifest(repository, reference)
        except NotFoundError:
            return True
        except RegistryResponseError as exc:
            if exc.status_code in (400, 405) or exc.code == "UNSUPPORTED":
                return False  # distribution 2.8 deletes no tags, or deletes are off
            raise
        return True

    async def tags(self, repository: str) -> list[str]:
        try:
            return await self.client.tags(repository)
        except NotFoundError:
            return []

    async def repositories(self) -> list[str]:
        return await self.client.catalog()

    async def referrers(self, repository: str, digest: str) -> list[dict[str, Any]]:
        try:
            index = await self.client.referrers(repository, digest)
        except NotFoundError:
            return []
        except RegistryResponseError as exc:
            if exc.status_code in (400, 405):
                return []  # no referrers API (distribution 2.8)
            raise
        manifests = index.get("manifests") if isinstance(index, dict) else None
        return [m for m in manifests or [] if isinstance(m, dict)]
