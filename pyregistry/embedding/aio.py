"""The embedded registry for asyncio code: ``async with serve_async() as reg``.

The server still runs in its own thread and event loop, so a test may block (run skopeo,
call a sync client) without starving it. Starting, stopping and the content helpers run
in a worker thread (``asyncio.to_thread``) so they never block the caller's loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from pyregistry.client import Manifest
from pyregistry.client.media import OCTET_STREAM
from pyregistry.config import Config
from pyregistry.embedding.preload import PushedManifest
from pyregistry.embedding.registry import EmbeddedRegistry


class AsyncEmbeddedRegistry:
    """Awaitable face of an :class:`EmbeddedRegistry` (``sync`` is the registry itself)."""

    def __init__(self, registry: EmbeddedRegistry) -> None:
        self.sync = registry

    @property
    def config(self) -> Config:
        return self.sync.config

    @property
    def url(self) -> str:
        return self.sync.url

    @property
    def host(self) -> str:
        return self.sync.host

    @property
    def port(self) -> int:
        return self.sync.port

    def reference(self, repository: str, tag_or_digest: str = "latest") -> str:
        return self.sync.reference(repository, tag_or_digest)

    async def start(self) -> AsyncEmbeddedRegistry:
        await asyncio.to_thread(self.sync.start)
        return self

    async def stop(self) -> None:
        await asyncio.to_thread(self.sync.stop)

    async def __aenter__(self) -> AsyncEmbeddedRegistry:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def push_random_image(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        layers: int = 2,
        size: int = 1024,
        seed: str | int | None = None,
        architecture: str = "amd64",
    ) -> str:
        """See :meth:`EmbeddedRegistry.push_random_image`."""
        return await asyncio.to_thread(
            self.sync.push_random_image,
            repository,
            tag,
            layers=layers,
            size=size,
            seed=seed,
            architecture=architecture,
        )

    async def push_artifact(
        self,
        repository: str,
        artifact_type: str,
        blobs: Sequence[bytes] = (),
        *,
        subject: str | None = None,
        tag: str | None = None,
        blob_media_type: str = OCTET_STREAM,
        annotations: Mapping[str, str] | None = None,
    ) -> str:
        """See :meth:`EmbeddedRegistry.push_artifact`."""
        return await asyncio.to_thread(
            self.sync.push_artifact,
            repository,
            artifact_type,
            blobs,
            subject=subject,
            tag=tag,
            blob_media_type=blob_media_type,
            annotations=annotations,
        )

    async def preload(
        self,
        source: str | os.PathLike[str],
        repository: str | None = None,
        *,
        tag: str | None = None,
    ) -> list[PushedManifest]:
        """See :meth:`EmbeddedRegistry.preload`."""
        return await asyncio.to_thread(self.sync.preload, source, repository, tag=tag)

    async def get_manifest(self, repository: str, reference: str) -> Manifest:
        return await asyncio.to_thread(self.sync.get_manifest, repository, reference)

    async def get_blob(self, repository: str, digest: str) -> bytes:
        return await asyncio.to_thread(self.sync.get_blob, repository, digest)

    async def tags(self, repository: str) -> list[str]:
        return await asyncio.to_thread(self.sync.tags, repository)

    async def catalog(self) -> list[str]:
        return await asyncio.to_thread(self.sync.catalog)

    async def referrers(self, repository: str, digest: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.sync.referrers, repository, digest)

    def __repr__(self) -> str:
        return f"<Async{repr(self.sync)[1:]}"
