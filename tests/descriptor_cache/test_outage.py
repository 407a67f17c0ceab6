"""Redis going away mid-run: requests keep working from storage, the log says so once,
health checks report it, and the cache is used again once Redis is back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import pytest
from redis.asyncio import Redis

from pyregistry.config.model import DebugConfig
from pyregistry.debug.app import create_debug_app
from pyregistry.debug.health import HealthChecks
from pyregistry.descriptor_cache import RedisUnavailable, redis_ping_check
from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from pyregistry.storage import Registry
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver, upload
from tests.support.redis import RedisServer
from tests.support.server import run_server

RETRY = 0.3


def cache_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "pyregistry.descriptor_cache" and r.levelno == level
    ]


async def test_outage_and_recovery(
    make_cache: Callable[..., RedisBlobDescriptorCache],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pyregistry.descriptor_cache")
    cache = make_cache(retry_interval=RETRY)
    backend = RecordingDriver(InMemoryDriver())
    registry = Registry(backend, blob_descriptor_cache=cache)
    repo = registry.repository("library/app")
    first = await upload(repo, b"first")
    backend.calls.clear()
    assert await repo.blobs.stat(first.digest) == first
    assert backend.calls == [], "precondition: served from Redis"

    redis_server.stop()
    # Many requests, some concurrent, across several quiet periods: all succeed from
    # storage, and the outage is logged once.
    started = time.monotonic()
    for round_ in range(4):
        results = await asyncio.gather(*(repo.blobs.stat(first.digest) for _ in range(10)))
        assert results == [first] * 10
        other = await upload(repo, f"during outage {round_}".encode())
        assert await repo.blobs.stat(other.digest) == other
        chunks = [c async for c in await repo.blobs.open(other.digest)]
        assert b"".join(chunks) == f"during outage {round_}".encode()
        await asyncio.sleep(RETRY)
    assert time.monotonic() - started < 5, "a down Redis must not slow requests down"
    assert any(call == "stat" for call, _ in backend.calls), "storage answered instead"
    warnings = cache_records(caplog, logging.WARNING)
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "unavailable" in warnings[0].getMessage()
    assert redis_server.addr in warnings[0].getMessage()
    assert cache.availability.down

    redis_server.start()  # empty again: no persistence
    await asyncio.sleep(RETRY)
    back = await upload(repo, b"after recovery")
    with redis_server.client() as r:
        assert r.sismember("repository::library/app::blobs", str(back.digest))
    backend.calls.clear()
    assert await repo.blobs.stat(back.digest) == back
    assert backend.calls == [], "the cache is used again"
    infos = [r for r in cache_records(caplog, logging.INFO) if "reachable again" in r.getMessage()]
    assert len(infos) == 1
    assert len(cache_records(caplog, logging.WARNING)) == 1


async def test_down_cache_does_not_retry_every_request(
    make_cache: Callable[..., RedisBlobDescriptorCache],
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = make_cache(retry_interval=60)
    attempts = 0
    real_redis = cache._redis

    def counting() -> Redis:
        nonlocal attempts
        attempts += 1
        return real_redis()

    monkeypatch.setattr(cache, "_redis", counting)
    redis_server.stop()
    registry = Registry(InMemoryDriver(), blob_descriptor_cache=cache)
    for i in range(20):
        await upload(registry.repository("a/b"), f"blob {i}".encode())
    assert attempts == 1
    redis_server.start()


async def test_cache_health_check(
    cache: RedisBlobDescriptorCache, redis_server: RedisServer
) -> None:
    await cache.check()
    redis_server.stop()
    with pytest.raises(RedisUnavailable, match=redis_server.addr):
        await cache.check()
    redis_server.start()
    await cache.check()
    assert not cache.availability.down


def test_debug_health_reports_redis(redis_server: RedisServer) -> None:
    """``/debug/health`` over a real socket, with the standalone ping check registered."""
    checks = HealthChecks()
    checks.register("redis", redis_ping_check(RedisSettings(redis_server.host, redis_server.port)))
    with run_server(create_debug_app(checks, DebugConfig())) as url:
        asyncio.run(checks.run_once())
        assert httpx.get(f"{url}/debug/health").status_code == 200
        redis_server.stop()
        asyncio.run(checks.run_once())
        response = httpx.get(f"{url}/debug/health")
        assert response.status_code == 503
        assert redis_server.addr in response.json()["redis"]
        redis_server.start()
        asyncio.run(checks.run_once())
        assert httpx.get(f"{url}/debug/health").status_code == 200


async def test_hung_redis_fails_fast() -> None:
    """A Redis that accepts connections but never answers costs one short timeout, once."""
    held: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = RedisSettings("127.0.0.1", port, connect_timeout=0.2, socket_timeout=0.2)
    cache = RedisBlobDescriptorCache(settings, retry_interval=60)
    registry = Registry(InMemoryDriver(), blob_descriptor_cache=cache)
    try:
        started = time.monotonic()
        first = await upload(registry.repository("a/b"), b"payload")
        assert time.monotonic() - started < 2
        started = time.monotonic()
        for _ in range(20):
            assert await registry.repository("a/b").blobs.stat(first.digest) == first
        assert time.monotonic() - started < 0.5, "no Redis round trip during the quiet period"
        assert held, "the cache did try the hung server"
    finally:
        await cache.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
