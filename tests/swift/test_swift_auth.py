"""Authentication: tempauth failures and re-authentication, Keystone v2/v3 flows, options."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from storage_drivers.errors import StorageDriverError
from storage_drivers.swift import SwiftDriver
from tests.support.swift import SwiftDriverFactory, SwiftServer


async def test_wrong_password_is_a_clear_error(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory(password="wrong")
    with pytest.raises(StorageDriverError) as caught:
        await driver.get_content("/x")
    message = str(caught.value)
    assert "swift authentication failed" in message and "401" in message
    assert "/auth/v1.0" in message


async def test_unreachable_auth_service(swift_driver_factory: SwiftDriverFactory) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = await swift_driver_factory(authurl=f"http://127.0.0.1:{port}/auth/v1.0")
    with pytest.raises(StorageDriverError, match="cannot reach"):
        await driver.list("/")


async def test_reauthenticates_once_when_the_token_is_refused(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/a", b"1")
    conn = driver._conn
    assert conn._auth is not None
    conn._auth = dataclasses.replace(conn._auth, token="AUTH_ftkinvalidated")
    assert await driver.get_content("/a") == b"1"
    assert conn._auth.token != "AUTH_ftkinvalidated"
    # a segment's body is streamed and cannot be replayed after a 401, so a token not
    # accepted recently is checked (and replaced) before a segment upload starts
    writer = await driver.writer("/w")
    conn._auth = dataclasses.replace(conn._auth, token="AUTH_ftkinvalidated")
    conn._confirmed = 0.0
    await writer.write(b"segment data")
    await writer.commit()
    assert await driver.get_content("/w") == b"segment data"
    assert conn._auth.token != "AUTH_ftkinvalidated"


async def test_refreshes_a_token_about_to_expire(swift_driver_factory: SwiftDriverFactory) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/a", b"1")
    old = driver._conn._auth
    assert old is not None and old.expires_at is not None  # tempauth sends the lifetime
    # as if issued a day ago and expiring in 5 s
    now = time.time()
    driver._conn._auth = dataclasses.replace(old, issued_at=now - 86400, expires_at=now + 5)
    assert await driver.get_content("/a") == b"1"
    new = driver._conn._auth
    assert new is not None and new.expires_at is not None and new.expires_at > time.time() + 3600


# ---------------------------------------------------------------- Keystone stand-in
# A small Keystone: it checks the request body the way Keystone would and answers with
# a catalog whose object-store endpoint is the real Swift, and a real tempauth token.


@dataclasses.dataclass
class Keystone:
    url: str
    requests: list[dict[str, Any]]


def _keystone_app(swift: SwiftServer, requests: list[dict[str, Any]]) -> Starlette:
    async def swift_token() -> str:
        async with httpx.AsyncClient() as client:
            headers = {"X-Auth-User": swift.user, "X-Auth-Key": swift.key}
            return (await client.get(swift.auth_url, headers=headers)).headers["X-Auth-Token"]

    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    bad = "http://127.0.0.1:9/v1/AUTH_wrong"

    async def v2(request: Request) -> JSONResponse:
        body = await request.json()
        requests.append(body)
        creds = body["auth"]["passwordCredentials"]
        if (creds["username"], creds["password"]) != ("alice", "pw"):
            return JSONResponse({"error": {"code": 401}}, status_code=401)
        endpoints = [
            {"region": "Other", "publicURL": bad, "internalURL": bad},
            {"region": "RegionOne", "publicURL": bad, "internalURL": swift.storage_url},
        ]
        catalog: list[dict[str, Any]] = [{"type": "identity", "endpoints": []}]
        catalog.append({"type": "object-store", "endpoints": endpoints})
        token = {"id": await swift_token(), "expires": expires, "tenant": {"id": "t1"}}
        return JSONResponse({"access": {"token": token, "serviceCatalog": catalog}})

    async def v3(request: Request) -> JSONResponse:
        body = await request.json()
        requests.append(body)
        user = body["auth"]["identity"]["password"]["user"]
        if (user["name"], user["password"]) != ("alice", "pw"):
            return JSONResponse({"error": {"code": 401}}, status_code=401)
        endpoints = [
            {"interface": "admin", "region": "RegionOne", "url": bad},
            {"interface": "public", "region": "Other", "url": bad},
            {"interface": "public", "region": "RegionOne", "url": swift.storage_url},
        ]
        token = {
            "expires_at": expires,
            "project": {"id": "p1"},
            "catalog": [{"type": "object-store", "endpoints": endpoints}],
        }
        response = JSONResponse({"token": token}, status_code=201)
        response.headers["X-Subject-Token"] = await swift_token()
        return response

    routes = [Route("/v2.0/tokens", v2, methods=["POST"])]
    routes.append(Route("/v3/auth/tokens", v3, methods=["POST"]))
    return Starlette(routes=routes)


@pytest.fixture
async def keystone(swift_server: SwiftServer) -> AsyncIterator[Keystone]:
    requests: list[dict[str, Any]] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
    config = uvicorn.Config(
        _keystone_app(swift_server, requests), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield Keystone(f"http://127.0.0.1:{sock.getsockname()[1]}", requests)
    server.should_exit = True
    await task
    sock.close()


async def test_keystone_v2_with_tenant_region_and_internal_endpoint(
    swift_driver_factory: SwiftDriverFactory, keystone: Keystone
) -> None:
    driver = await swift_driver_factory(
        authurl=f"{keystone.url}/v2.0",
        username="alice",
        password="pw",
        tenant="proj",
        region="RegionOne",
        endpointtype="internal",
    )
    await driver.put_content("/k2", b"via keystone v2")
    assert await driver.get_content("/k2") == b"via keystone v2"
    body = keystone.requests[0]["auth"]
    assert body["tenantName"] == "proj"
    assert driver._conn._auth is not None and driver._conn._auth.tenant_id == "t1"


async def test_keystone_v3_with_domains(
    swift_driver_factory: SwiftDriverFactory, keystone: Keystone
) -> None:
    driver = await swift_driver_factory(
        authurl=f"{keystone.url}/v3",
        username="alice",
        password="pw",
        domain="Default",
        tenant="proj",
        tenantdomainid="d-42",
        region="RegionOne",
    )
    await driver.put_content("/k3", b"via keystone v3")
    assert await driver.get_content("/k3") == b"via keystone v3"
    auth = keystone.requests[0]["auth"]
    assert auth["identity"]["methods"] == ["password"]
    assert auth["identity"]["password"]["user"]["domain"] == {"name": "Default"}
    assert auth["scope"] == {"project": {"name": "proj", "domain": {"id": "d-42"}}}
    wrong = await swift_driver_factory(authurl=f"{keystone.url}/v3", username="alice")
    with pytest.raises(StorageDriverError, match="401"):
        await wrong.list("/")


async def test_keystone_v3_trust_scope(
    swift_driver_factory: SwiftDriverFactory, keystone: Keystone
) -> None:
    driver = await swift_driver_factory(
        authurl=f"{keystone.url}/v3/auth/tokens",
        authversion="3",
        username="alice",
        password="pw",
        trustid="trust-1",
        region="RegionOne",
    )
    await driver.list("/")
    assert keystone.requests[0]["auth"]["scope"] == {"OS-TRUST:trust": {"id": "trust-1"}}


# ---------------------------------------------------------------- options
BASE: dict[str, Any] = {"authurl": "http://127.0.0.1:1/auth/v1.0", "username": "u", "password": "p"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"username": ""}, "no username"),
        ({"container": ""}, "no container"),
        ({"chunksize": "1000"}, "chunksize"),
        ({"chunksize": "lots"}, "chunksize"),
        ({"authversion": "4"}, "authversion"),
        ({"authurl": "http://127.0.0.1:1/identity"}, "auth version"),
        ({"endpointtype": "private"}, "endpointtype"),
        ({"insecureskipverify": "maybe"}, "insecureskipverify"),
        ({"regoin": "typo"}, "unknown parameter"),
    ],
)
def test_bad_options_are_refused_at_start(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SwiftDriver(**{**BASE, "container": "c", **options})


def test_auth_version_is_detected_from_the_url() -> None:
    for url, version in [
        ("http://h/auth/v1.0", 1),
        ("https://h/v2.0", 2),
        ("https://h/identity/v3", 3),
    ]:
        driver = SwiftDriver(**{**BASE, "container": "c", "authurl": url})
        assert driver.params.auth_version == version
    mixed_case: dict[str, Any] = {
        "AuthURL": "http://h/x",
        "UserName": "u",
        "Password": "p",
        "Container": "c",
    }
    driver = SwiftDriver(**mixed_case, authversion=2, ChunkSize=5 << 20)
    assert driver.params.auth_version == 2 and driver.params.chunksize == 5 << 20
