"""The token flow and Basic auth against pyregistry over real sockets: challenges are
answered, tokens are cached per scope until they expire, and refusals are typed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from pyregistry import EmbeddedRegistry
from pyregistry.client import (
    AsyncRegistryClient,
    RegistryClient,
    TokenError,
    UnauthorizedError,
)
from pyregistry.client.content import build_image
from tests.client.conftest import SERVICE, USER
from tests.client.proxy import TcpProxy


class Clock:
    """Monotonic seconds the test moves forward, to expire tokens without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token_requests(proxy: TcpProxy) -> list[str]:
    return [path for path in proxy.paths("GET") if path.startswith("/auth/token")]


async def test_bearer_tokens_are_fetched_once_per_scope_and_renewed_on_expiry(
    token_registry: EmbeddedRegistry, proxy_to: Callable[[str], TcpProxy]
) -> None:
    proxy = proxy_to(token_registry.url)
    clock = Clock()
    image = build_image(seed="bearer-cache", layers=3)
    async with AsyncRegistryClient(proxy.url, credentials=USER, clock=clock) as client:
        assert await client.push("auth/app", image, "v1") == image.digest
        # one token to pull (the first HEAD), one to push; then everything from the cache
        fetched = token_requests(proxy)
        assert len(fetched) == client.tokens_fetched == 2
        assert all(f"service={SERVICE}" in path for path in fetched)
        assert (await client.get_manifest("auth/app", "v1")).digest == image.digest
        assert await client.tags("auth/app") == ["v1"]
        assert await client.get_blob("auth/app", image.config_digest) == image.config
        assert len(token_requests(proxy)) == 2

        # another repository is another scope
        await client.push("auth/other", image, "v1")
        assert len(token_requests(proxy)) == 4

        # an expired token is renewed before use, not sent to be refused
        clock.now += 3600  # past any expires_in the service gave
        assert (await client.get_manifest("auth/app", "v1")).digest == image.digest
        assert len(token_requests(proxy)) == 5
        refused = [p for verb, p in proxy.requests if verb == "GET" and "/manifests/" in p]
        assert len(refused) == 2  # no 401 round trip before the renewed token


async def test_concurrent_requests_share_one_token(
    token_registry: EmbeddedRegistry, proxy_to: Callable[[str], TcpProxy]
) -> None:
    proxy = proxy_to(token_registry.url)
    image = build_image(seed="bearer-concurrent", layers=1)
    async with AsyncRegistryClient(token_registry.url, credentials=USER) as setup:
        await setup.push("auth/shared", image, "v1")
    async with AsyncRegistryClient(proxy.url, credentials=USER) as client:
        await client.ping()
        results = await asyncio.gather(
            *(client.get_manifest("auth/shared", "v1") for _ in range(8))
        )
    assert {result.digest for result in results} == {image.digest}
    # the ping's token (no scope) and one for pulling auth/shared, not eight
    assert len(token_requests(proxy)) == 2


async def test_anonymous_and_wrong_credentials_are_refused(
    token_registry: EmbeddedRegistry,
) -> None:
    async with AsyncRegistryClient(token_registry.url) as anonymous:
        with pytest.raises(UnauthorizedError) as refused:
            await anonymous.get_manifest("auth/app", "v1")
        assert refused.value.code == "UNAUTHORIZED"
        assert refused.value.status_code == 401
        assert anonymous.tokens_fetched == 1  # an anonymous token, which grants nothing
    async with AsyncRegistryClient(token_registry.url, credentials=("alice", "nope")) as wrong:
        with pytest.raises(TokenError, match="401"):
            await wrong.get_manifest("auth/app", "v1")


def test_a_preset_token_is_sent_as_it_is(token_registry: EmbeddedRegistry) -> None:
    image = build_image(seed="bearer-preset", layers=1)
    with RegistryClient(token_registry.url, credentials=USER) as pusher:
        pusher.push("auth/preset", image, "v1")
    challenge = httpx.get(f"{token_registry.url}/v2/", trust_env=False)
    realm = challenge.headers["www-authenticate"].split('realm="')[1].split('"')[0]
    token = httpx.get(
        realm,
        params={"service": SERVICE, "scope": "repository:auth/preset:pull"},
        auth=USER,
        trust_env=False,
    ).json()["token"]
    with RegistryClient(token_registry.url, token=token) as client:
        assert client.get_manifest("auth/preset", "v1").digest == image.digest
        assert client.tokens_fetched == 0
        with pytest.raises(UnauthorizedError):  # the token grants pull only
            client.push_blob("auth/preset", b"not allowed")


def test_basic_auth_with_the_sync_client(basic_registry: EmbeddedRegistry) -> None:
    image = build_image(seed="basic", layers=2)
    with RegistryClient(basic_registry.url, credentials=USER) as client:
        assert client.ping() == 200
        assert client.push("basic/app", image, "v1") == image.digest
        assert client.get_manifest("basic/app", "v1").content == image.manifest
        assert client.tokens_fetched == 0
    with RegistryClient(basic_registry.url, credentials=("alice", "nope")) as wrong:
        assert wrong.ping() == 401
        with pytest.raises(UnauthorizedError) as refused:
            wrong.get_manifest("basic/app", "v1")
        assert refused.value.code == "UNAUTHORIZED"
    with RegistryClient(basic_registry.url) as anonymous, pytest.raises(UnauthorizedError):
        anonymous.tags("basic/app")
