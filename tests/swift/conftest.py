"""Fixtures for the swift driver's own tests: the server, and raw access to its objects.

The server fixtures live in ``tests.support.swift`` (a plugin of the root conftest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from tests.support.swift import SwiftServer


@dataclass
class RawSwift:
    """Direct HTTP access to the test account, to check what the driver stored."""

    client: httpx.AsyncClient
    storage_url: str

    def url(self, container: str, name: str = "") -> str:
        tail = f"/{quote(name)}" if name else ""
        return f"{self.storage_url}/{quote(container, safe='')}{tail}"

    async def names(self, container: str, prefix: str = "") -> list[str]:
        response = await self.client.get(
            self.url(container), params={"format": "json", "prefix": prefix}
        )
        assert response.status_code in (200, 204), response.text
        return [entry["name"] for entry in response.json()] if response.status_code == 200 else []

    async def head(self, container: str, name: str, **params: str) -> httpx.Response:
        return await self.client.head(self.url(container, name), params=params)

    async def put(
        self, container: str, name: str, content: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        response = await self.client.put(
            self.url(container, name), content=content, headers=headers
        )
        assert response.status_code == 201, response.text
        return response


@pytest.fixture
async def raw_swift(swift_server: SwiftServer) -> AsyncIterator[RawSwift]:
    async with httpx.AsyncClient(timeout=60) as client:
        auth = await client.get(
            swift_server.auth_url,
            headers={"X-Auth-User": swift_server.user, "X-Auth-Key": swift_server.key},
        )
        client.headers["X-Auth-Token"] = auth.headers["X-Auth-Token"]
        yield RawSwift(client, auth.headers["X-Storage-Url"])
