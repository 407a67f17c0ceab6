"""The blocking face of :class:`AsyncRegistryClient`, for code without an event loop
(the embedding's helpers, scripts, tests).

It runs one async client on a private event loop in a daemon thread and waits for each
call there, so the protocol exists once. Calls are thread-safe; a streamed blob is
pulled through the loop a chunk at a time, so memory stays constant here too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from pyregistry.client.aio import AsyncRegistryClient
from pyregistry.client.content import Built
from pyregistry.client.manifests import Manifest
from pyregistry.client.media import MANIFEST_TYPES, Descriptor
from pyregistry.client.sources import BlobSource

T = TypeVar("T")


class RegistryClient:
    """Blocking calls into an :class:`AsyncRegistryClient` (same arguments)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="pyregistry-client", daemon=True
        )
        self._thread.start()
        self.aio: AsyncRegistryClient = self._run(_create(base_url, options))
        self.base_url = self.aio.base_url

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():
            coroutine.close()
            raise RuntimeError("the registry client is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        try:
            while True:
                try:
                    yield self._run(_next(iterator))
                except StopAsyncIteration:
                    return
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None and not self._loop.is_closed():
                self._run(close())

    def close(self) -> None:
        """Close the connections and stop the private loop. Safe to call twice."""
        if self._loop.is_closed():
            return
        try:
            self._run(self.aio.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def tokens_fetched(self) -> int:
        return self.aio.tokens_fetched

    def push(self, repository: str, content: Built, tag: str | None = None) -> str:
        return self._run(self.aio.push(repository, content, tag))

    def ping(self) -> int:
        return self._run(self.aio.ping())

    def head_blob(self, repository: str, digest: str) -> Descriptor | None:
        return self._run(self.aio.head_blob(repository, digest))

    def blob_exists(self, repository: str, digest: str) -> bool:
        return self._run(self.aio.blob_exists(repository, digest))

    def stream_blob(self, repository: str, digest: str, *, verify: bool = True) -> Iterator[bytes]:
        return self._iterate(self.aio.stream_blob(repository, digest, verify=verify))

    def get_blob(self, repository: str, digest: str) -> bytes:
        return self._run(self.aio.get_blob(repository, digest))

    def delete_blob(self, repository: str, digest: str) -> None:
        self._run(self.aio.delete_blob(repository, digest))

    def mount_blob(self, repository: str, digest: str, source: str) -> httpx.URL | None:
        return self._run(self.aio.mount_blob(repository, digest, source))

    def push_blob(
        self,
        repository: str,
        data: bytes | BlobSource,
        *,
        chunk_size: int | None = None,
        mount_from: str | None = None,
        check_exists: bool = True,
    ) -> str:
        return self._run(
            self.aio.push_blob(
                repository,
                data,
                chunk_size=chunk_size,
                mount_from=mount_from,
                check_exists=check_exists,
            )
        )

    def get_manifest(
        self, repository: str, reference: str, *, accept: Sequence[str] = MANIFEST_TYPES
    ) -> Manifest:
        return self._run(self.aio.get_manifest(repository, reference, accept=accept))

    def head_manifest(
        self, repository: str, reference: str, *, accept: Sequence[str] = MANIFEST_TYPES
    ) -> Descriptor | None:
        return self._run(self.aio.head_manifest(repository, reference, accept=accept))

    def manifest_descriptor(self, repository: str, reference: str) -> dict[str, Any]:
        return self._run(self.aio.manifest_descriptor(repository, reference))

    def push_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> str:
        return self._run(self.aio.push_manifest(repository, reference, content, media_type))

    def delete_manifest(self, repository: str, digest: str) -> None:
        self._run(self.aio.delete_manifest(repository, digest))

    def tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        return self._run(self.aio.tags(repository, page_size=page_size))

    def catalog(self, *, page_size: int | None = None) -> list[str]:
        return self._run(self.aio.catalog(page_size=page_size))

    def referrers(
        self, repository: str, digest: str, *, artifact_type: str | None = None
    ) -> dict[str, Any]:
        return self._run(self.aio.referrers(repository, digest, artifact_type=artifact_type))

    def __repr__(self) -> str:
        return f"<RegistryClient {self.base_url}>"


async def _create(base_url: str, options: dict[str, Any]) -> AsyncRegistryClient:
    """Built on the private loop, where its connection pool will live."""
    return AsyncRegistryClient(base_url, **options)


async def _next(iterator: AsyncIterator[T]) -> T:
    return await anext(iterator)
