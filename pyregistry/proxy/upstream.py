"""One upstream registry as the mirror talks to it: a shared
:class:`~pyregistry.client.AsyncRegistryClient` (one connection pool and one token cache,
so the bearer flow runs once per scope until the token expires), timed and counted.

Errors are left to the caller (:mod:`pyregistry.proxy.errors` turns them into answers):
only the caller knows whether a cached copy can stand in.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from pyregistry.client import AsyncRegistryClient, CredentialHelper, Descriptor, Manifest
from pyregistry.client.errors import NotFoundError
from pyregistry.proxy import metrics
from pyregistry.proxy.errors import UPSTREAM_FAILURES, is_unknown
from pyregistry.proxy.settings import UpstreamSettings

T = TypeVar("T")


class Upstream:
    """The registry at ``settings.url``; repository names here are the upstream's."""

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.label = settings.label
        credentials = helper = None
        if settings.helper is not None:  # it wins over username and password, as there
            helper = CredentialHelper(settings.helper, settings.helper_lifetime)
        elif settings.username is not None:
            credentials = (settings.username, settings.password or "")
        self.client = AsyncRegistryClient(
            settings.url,
            credentials=credentials,
            credential_helper=helper,
            ca_file=settings.ca_file,
            insecure=settings.insecure,
            timeout=settings.timeout,
        )

    def failed(self, exc: BaseException) -> None:
        """Count a failure of this upstream (not a 404: that is an answer)."""
        if not is_unknown(exc):
            metrics.UPSTREAM_ERRORS.labels(self.label).inc()

    async def _timed(self, kind: str, call: Awaitable[T]) -> T:
        started = time.monotonic()
        try:
            return await call
        except UPSTREAM_FAILURES as exc:
            self.failed(exc)
            raise
        finally:
            metrics.UPSTREAM_LATENCY.labels(self.label, kind).observe(time.monotonic() - started)

    async def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        return await self._timed("manifest", self.client.head_manifest(repository, reference))

    async def get_manifest(self, repository: str, reference: str) -> Manifest:
        manifest: Manifest = await self._timed(
            "manifest", self.client.get_manifest(repository, reference)
        )
        metrics.UPSTREAM_BYTES.labels(self.label).inc(len(manifest.content))
        return manifest

    async def head_blob(self, repository: str, digest: str) -> Descriptor | None:
        return await self._timed("blob", self.client.head_blob(repository, digest))

    async def stream_blob(
        self,
        repository: str,
        digest: str,
        *,
        verify: bool = True,
        on_length: Callable[[int | None], None] | None = None,
    ) -> AsyncGenerator[bytes]:
        """The blob as it arrives; DigestMismatchError after the last chunk if it lies.
        ``verify=False``: the caller verifies (and counts a mismatch with :meth:`failed`).
        ``on_length``: the size the response head announces, before the first chunk."""
        started = time.monotonic()
        first = True
        counter = metrics.UPSTREAM_BYTES.labels(self.label)
        stream = self.client.stream_blob(repository, digest, verify=verify, on_length=on_length)
        assert isinstance(stream, AsyncGenerator)
        try:
            async for chunk in stream:
                if first:
                    first = False
                    metrics.UPSTREAM_LATENCY.labels(self.label, "blob").observe(
                        time.monotonic() - started
                    )
                counter.inc(len(chunk))
                yield chunk
        except UPSTREAM_FAILURES as exc:
            self.failed(exc)
            raise
        finally:
            await stream.aclose()

    async def referrers(
        self, repository: str, digest: str, artifact_type: str | None
    ) -> list[dict[str, Any]] | None:
        """The upstream's referrers of ``digest``; None when it has no referrers API."""
        try:
            index = await self._timed(
                "manifest", self.client.referrers(repository, digest, artifact_type=artifact_type)
            )
        except NotFoundError:
            return None
        found = index.get("manifests") if isinstance(index, dict) else None
        return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []

    async def aclose(self) -> None:
        await self.client.aclose()
