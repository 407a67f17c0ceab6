"""The whole stack over a real socket: the API app with the Redis cache, blob push + HEAD."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from pyregistry.app import create_app
from pyregistry.descriptor_cache.connection import RedisSettings
from pyregistry.descriptor_cache.redis import RedisBlobDescriptorCache
from pyregistry.storage import Registry
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import RecordingDriver
from tests.support.redis import RedisServer
from tests.support.server import inmemory_config, run_server

BLOB = b"a layer pushed over HTTP" * 50


class CloseCacheOnShutdown:
    """Close the cache in the server's own event loop (its connections live there)."""

    def __init__(self, app: Any, cache: RedisBlobDescriptorCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def on_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.cache.close()
            return message

        await self.app(scope, on_receive, send)


def test_push_and_head_use_redis(redis_server: RedisServer) -> None:
    digest = "sha256:" + hashlib.sha256(BLOB).hexdigest()
    cache = RedisBlobDescriptorCache(RedisSettings(redis_server.host, redis_server.port))
    driver = RecordingDriver(InMemoryDriver())
    registry = Registry(driver, blob_descriptor_cache=cache)
    app = CloseCacheOnShutdown(create_app(inmemory_config(), registry=registry), cache)
    with run_server(app) as url, httpx.Client(base_url=url) as client:
        started = client.post("/v2/team/app/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["location"]
        separator = "&" if "?" in location else "?"
        done = client.put(
            f"{location}{separator}digest={digest}",
            content=BLOB,
            headers={"content-type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text

        with redis_server.client() as r:
            assert r.sismember("repository::team/app::blobs", digest)
            assert r.hgetall(f"blobs::{digest}")["size"] == str(len(BLOB))
            assert r.hget(f"repository::team/app::blobs::{digest}", "mediatype")

        driver.calls.clear()
        head = client.head(f"/v2/team/app/blobs/{digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(BLOB))
        assert head.headers["docker-content-digest"] == digest
        assert driver.calls == [], "HEAD was answered from Redis"

        missing = client.head(f"/v2/other/app/blobs/{digest}")
        assert missing.status_code == 404
