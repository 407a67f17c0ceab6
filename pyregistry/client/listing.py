"""Lists: tags of a repository and the catalog, page by page as the registry's ``Link``
header leads, and the referrers of a manifest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from pyregistry.client.auth import CATALOG_SCOPE, repository_scope
from pyregistry.client.transport import Transport


class ListingOperations:
    """The listing part of :class:`~pyregistry.client.aio.AsyncRegistryClient`."""

    transport: Transport

    async def _pages(
        self, path: str, key: str, scope: str, page_size: int | None
    ) -> AsyncIterator[str]:
        target: str | httpx.URL | None = path
        params = {"n": str(page_size)} if page_size else None
        while target is not None:
            response = await self.transport.request(
                "GET", target, action=f"list {path}", expected=(200,), scope=scope, params=params
            )
            for entry in response.json().get(key) or []:
                yield str(entry)
            link = response.links.get("next", {}).get("url")
            target = response.request.url.join(link) if link else None
            params = None  # the link carries n and last itself

    def iter_tags(self, repository: str, *, page_size: int | None = None) -> AsyncIterator[str]:
        """The tags of ``repository``, fetched a page at a time."""
        scope = repository_scope(repository, "pull")
        return self._pages(f"/v2/{repository}/tags/list", "tags", scope, page_size)

    async def tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag of ``repository`` (following ``Link`` pages)."""
        return [tag async for tag in self.iter_tags(repository, page_size=page_size)]

    def iter_catalog(self, *, page_size: int | None = None) -> AsyncIterator[str]:
        """Repository names, fetched a page at a time."""
        return self._pages("/v2/_catalog", "repositories", CATALOG_SCOPE, page_size)

    async def catalog(self, *, page_size: int | None = None) -> list[str]:
        """Every repository name (following ``Link`` pages)."""
        return [name async for name in self.iter_catalog(page_size=page_size)]

    async def referrers(
        self, repository: str, digest: str, *, artifact_type: str | None = None
    ) -> dict[str, Any]:
        """The OCI 1.1 referrers index of ``digest`` (filtered by ``artifact_type``)."""
        response = await self.transport.request(
            "GET",
            f"/v2/{repository}/referrers/{digest}",
            action=f"referrers of {repository}@{digest}",
            expected=(200,),
            scope=repository_scope(repository, "pull"),
            params={"artifactType": artifact_type} if artifact_type else None,
        )
        result: dict[str, Any] = response.json()
        return result
