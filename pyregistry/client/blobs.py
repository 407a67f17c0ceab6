"""Blob operations: HEAD, streamed and verified GET, delete, and upload (monolithic,
chunked with resume, or by cross-repository mount with the upload as fallback).

A chunked upload that fails mid-chunk (connection lost, 5xx, 416) asks the session
where it stands (``GET`` on its ``Location``: the ``Range`` header) and continues from
that offset, as the distribution spec describes, a bounded number of times; when the
registry has dropped the session, it starts a new one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from pyregistry.client.auth import repository_scope
from pyregistry.client.errors import DigestMismatchError, NotFoundError, RegistryResponseError
from pyregistry.client.media import OCTET_STREAM, Descriptor, Digester
from pyregistry.client.sources import BlobSource
from pyregistry.client.transport import Transport

#: Chunk size of chunked uploads when the caller names none.
UPLOAD_CHUNK_SIZE = 16 * 1024 * 1024
#: How many failed chunks an upload survives (each resumed from the registry's offset).
UPLOAD_RETRIES = 3
#: Told the session URL and the bytes it holds after each chunk (to resume it later).
ProgressCallback = Callable[[httpx.URL, int], Awaitable[None]]


def _pull(repository: str) -> str:
    return repository_scope(repository, "pull")


def _push(repository: str) -> str:
    return repository_scope(repository, "pull", "push")


def _resumable(exc: Exception) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, RegistryResponseError) and (
        exc.status_code == 416 or exc.status_code >= 500
    )


class BlobOperations:
    """The blob half of :class:`~pyregistry.client.aio.AsyncRegistryClient`."""

    transport: Transport

    async def head_blob(self, repository: str, digest: str) -> Descriptor | None:
        """The blob's descriptor, or None when the repository does not have it."""
        response = await self.transport.request(
            "HEAD",
            f"/v2/{repository}/blobs/{digest}",
            action=f"head blob {repository}@{digest}",
            expected=(200, 404),
            scope=_pull(repository),
            follow_redirects=True,
        )
        if response.status_code == 404:
            return None
        size = int(response.headers.get("content-length") or 0)
        media_type = response.headers.get("content-type") or OCTET_STREAM
        return Descriptor(media_type, digest, size)

    async def blob_exists(self, repository: str, digest: str) -> bool:
        return await self.head_blob(repository, digest) is not None

    async def stream_blob(
        self,
        repository: str,
        digest: str,
        *,
        verify: bool = True,
        on_length: Callable[[int | None], None] | None = None,
    ) -> AsyncIterator[bytes]:
        """The blob's bytes as they arrive; raises :class:`DigestMismatchError` at the end
        when they do not hash to ``digest`` (so use nothing of it before the end).
        ``verify=False`` skips hashing (a benchmark that counts only bytes).
        ``on_length`` gets the announced size before the first chunk (no HEAD needed)."""
        digester = Digester.for_digest(digest) if verify else None
        async with self.transport.body(
            f"/v2/{repository}/blobs/{digest}",
            action=f"get blob {repository}@{digest}",
            scope=_pull(repository),
            on_length=on_length,
        ) as body:
            async for chunk in body:
                if digester is not None:
                    digester.update(chunk)
                yield chunk
        if digester is not None and digester.digest != digest:
            raise DigestMismatchError(f"blob {repository}@{digest}", digest, digester.digest)

    async def get_blob(self, repository: str, digest: str) -> bytes:
        """The whole blob, verified (for small blobs; big ones: :meth:`stream_blob`)."""
        return b"".join([chunk async for chunk in self.stream_blob(repository, digest)])

    async def delete_blob(self, repository: str, digest: str) -> None:
        await self.transport.request(
            "DELETE",
            f"/v2/{repository}/blobs/{digest}",
            action=f"delete blob {repository}@{digest}",
            expected=(202,),
            scope=repository_scope(repository, "delete"),
        )

    async def mount_blob(self, repository: str, digest: str, source: str) -> httpx.URL | None:
        """Ask for ``digest`` of repository ``source`` in ``repository`` too: None when
        mounted (201), else the upload session the registry opened instead (202)."""
        return await self._start_upload(repository, {"mount": digest, "from": source})

    async def push_blob(
        self,
        repository: str,
        data: bytes | BlobSource,
        *,
        chunk_size: int | None = None,
        mount_from: str | None = None,
        check_exists: bool = True,
        resume_from: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """Upload ``data`` unless the repository has it; its digest.

        ``chunk_size`` uploads in PATCHes of that size (resumed after failures), else one
        streamed PUT. ``mount_from`` tries a cross-repository mount first and uploads
        when the registry answers with an upload session instead. A chunked upload
        reports each chunk to ``on_progress``; ``resume_from`` (a session URL it
        reported, e.g. before the process died) continues that session where the
        registry says it stands (a new one when the registry has dropped it).
        """
        source = BlobSource.from_bytes(data) if isinstance(data, bytes) else data
        if check_exists and await self.blob_exists(repository, source.digest):
            return source.digest
        offset = 0
        if resume_from is not None and chunk_size is not None:
            location, offset = await self._resume(repository, self.transport.url(resume_from))
        else:
            query = {"mount": source.digest, "from": mount_from} if mount_from else {}
            started = await self._start_upload(repository, query)
            if started is None:
                return source.digest
            location = started
        if chunk_size is None:
            await self._put_whole(repository, location, source)
        else:
            await self._put_chunks(repository, location, source, chunk_size, offset, on_progress)
        return source.digest

    async def upload_status(
        self, repository: str, location: str | httpx.URL
    ) -> tuple[httpx.URL, int]:
        """Where an upload session stands: its current URL and how many bytes it holds."""
        response = await self.transport.request(
            "GET",
            location,
            action=f"upload status in {repository}",
            expected=(204,),
            scope=_push(repository),
        )
        return self.transport.location(response), _range_end(response)

    async def _start_upload(self, repository: str, query: dict[str, str]) -> httpx.URL | None:
        scope = _push(repository)
        if "from" in query:
            scope += " " + _pull(query["from"])
        response = await self.transport.request(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            action=f"start upload in {repository}",
            expected=(201, 202) if query else (202,),
            scope=scope,
            params=query,
        )
        return None if response.status_code == 201 else self.transport.location(response)

    async def _put_whole(self, repository: str, location: httpx.URL, source: BlobSource) -> None:
        await self.transport.request(
            "PUT",
            location,
            action=f"upload {source.digest} to {repository}",
            expected=(201,),
            scope=_push(repository),
            params={"digest": source.digest},
            headers={"Content-Type": OCTET_STREAM, "Content-Length": str(source.size)},
            body=lambda: source.read(0, source.size),
        )

    async def _put_chunks(
        self,
        repository: str,
        location: httpx.URL,
        source: BlobSource,
        chunk_size: int,
        offset: int = 0,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        failures = 0
        if on_progress is not None:
            await on_progress(location, offset)
        while offset < source.size:
            length = min(chunk_size, source.size - offset)
            try:
                location, offset = await self._patch(repository, location, source, offset, length)
            except (httpx.TransportError, RegistryResponseError) as exc:
                failures += 1
                if not _resumable(exc) or failures > UPLOAD_RETRIES:
                    raise
                location, offset = await self._resume(repository, location)
            if on_progress is not None:
                await on_progress(location, offset)
        await self.transport.request(
            "PUT",
            location,
            action=f"complete upload of {source.digest} to {repository}",
            expected=(201,),
            scope=_push(repository),
            params={"digest": source.digest},
            headers={"Content-Type": OCTET_STREAM, "Content-Length": "0"},
            body=b"",
        )

    async def _resume(self, repository: str, location: httpx.URL) -> tuple[httpx.URL, int]:
        """Where to go on after a failed chunk: the session's own offset, or a new
        session from 0 when the registry dropped it (distribution 2.8 does after a cut
        chunk: its session state no longer matches what it stored)."""
        try:
            return await self.upload_status(repository, location)
        except NotFoundError:
            restarted = await self._start_upload(repository, {})
            assert restarted is not None  # a plain POST never mounts
            return restarted, 0

    async def _patch(
        self, repository: str, location: httpx.URL, source: BlobSource, offset: int, length: int
    ) -> tuple[httpx.URL, int]:
        response = await self.transport.request(
            "PATCH",
            location,
            action=f"upload chunk {offset}-{offset + length - 1} of {source.digest}",
            expected=(202,),
            scope=_push(repository),
            headers={
                "Content-Type": OCTET_STREAM,
                "Content-Range": f"{offset}-{offset + length - 1}",
                "Content-Length": str(length),
            },
            body=lambda: source.read(offset, length),
        )
        return self.transport.location(response), _range_end(response) or offset + length


def _range_end(response: httpx.Response) -> int:
    """The byte count a session's ``Range: 0-<last>`` reports (``0-0``: none yet)."""
    value = response.headers.get("range", "")
    _, _, last = value.partition("-")
    try:
        end = int(last)
    except ValueError:
        return 0
    return end + 1 if end > 0 else 0
