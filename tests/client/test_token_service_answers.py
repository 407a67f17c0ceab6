"""What token services may answer that pyregistry's does not: ``access_token`` only, no
``expires_in`` (then a token lives 60 s), and a token the registry later refuses. A
small upstream that plays registry and token service, over a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pyregistry.client import AsyncRegistryClient
from pyregistry.embedding import BackgroundServer


class Upstream:
    """Issues ``t1``, ``t2``, ... as ``access_token``; accepts only ``valid`` tokens."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.server = BackgroundServer(
            Starlette(
                routes=[
                    Route("/token", self.token),
                    Route("/v2/{name:path}/tags/list", self.tags),
                ]
            ),
            name="token-upstream",
        )

    async def token(self, request: Request) -> Response:
        token = f"t{len(self.issued) + 1}"
        self.issued.append(request.query_params.get("scope", ""))
        self.valid.add(token)
        return JSONResponse({"access_token": token})

    async def tags(self, request: Request) -> Response:
        sent = request.headers.get("authorization", "")
        if sent.removeprefix("Bearer ") in self.valid:
            return JSONResponse({"name": request.path_params["name"], "tags": ["v1"]})
        name = request.path_params["name"]
        challenge = (
            f'Bearer realm="{self.server.url}/token",service="up",scope="repository:{name}:pull"'
        )
        body = {"errors": [{"code": "UNAUTHORIZED", "message": "token needed"}]}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    upstream = Upstream()
    upstream.server.start()
    try:
        yield upstream
    finally:
        upstream.server.stop()


async def test_access_token_lives_sixty_seconds_and_a_refused_one_is_renewed(
    upstream: Upstream,
) -> None:
    now = [0.0]
    async with AsyncRegistryClient(upstream.server.url, clock=lambda: now[0]) as client:
        assert await client.tags("up/app") == ["v1"]
        assert upstream.issued == ["repository:up/app:pull"]
        now[0] += 50
        assert await client.tags("up/app") == ["v1"]
        assert len(upstream.issued) == 1  # still fresh
        now[0] += 15
        assert await client.tags("up/app") == ["v1"]
        assert len(upstream.issued) == 2  # 65 s: renewed before use

        upstream.valid.clear()  # the registry revokes every token
        assert await client.tags("up/app") == ["v1"]
        assert len(upstream.issued) == 3  # refused, renewed once, retried
