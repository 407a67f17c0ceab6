"""build_blob_descriptor_cache from real config files, in 2.8 and 3.x spellings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyregistry.config import Config, ConfigError, load_config
from pyregistry.descriptor_cache import (
    RedisBlobDescriptorCache,
    build_blob_descriptor_cache,
    build_redis_health_check,
)
from pyregistry.descriptor_cache.connection import (
    DEFAULT_CONNECT_TIMEOUT,
    parse_address,
    settings_from_config,
)
from pyregistry.storage import BlobDescriptor, Digest, InMemoryBlobDescriptorCache
from tests.support.redis import RedisServer

DIGEST = Digest("sha256", "a" * 64)


def config_from(tmp_path: Path, cache: dict[str, Any] | None, **sections: Any) -> Config:
    storage: dict[str, Any] = {"filesystem": {"rootdirectory": str(tmp_path / "data")}}
    if cache is not None:
        storage["cache"] = cache
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"version": "0.1", "storage": storage, **sections}))
    return load_config(str(path), environ={})


async def round_trip(cache: object, server: RedisServer, db: int = 0) -> None:
    assert isinstance(cache, RedisBlobDescriptorCache)
    try:
        await cache.set("a/b", BlobDescriptor(DIGEST, 11))
        assert await cache.get("a/b", DIGEST) == BlobDescriptor(DIGEST, 11)
    finally:
        await cache.close()
    with server.client(db=db) as r:
        assert r.hget(f"blobs::{DIGEST}", "size") == "11"


async def test_redis_28_form(tmp_path: Path, redis_server: RedisServer) -> None:
    redis = {
        "addr": redis_server.addr,
        "db": 0,
        "dialtimeout": "10ms",
        "readtimeout": "200ms",
        "writetimeout": "300ms",
        "pool": {"maxidle": 16, "maxactive": 64, "idletimeout": "300s"},
    }
    config = config_from(tmp_path, {"blobdescriptor": "redis"}, redis=redis)
    cache = build_blob_descriptor_cache(config)
    assert isinstance(cache, RedisBlobDescriptorCache)
    settings = cache.settings
    assert (settings.host, settings.port, settings.db) == ("127.0.0.1", redis_server.port, 0)
    assert settings.connect_timeout == pytest.approx(0.01)
    assert settings.socket_timeout == pytest.approx(0.3)
    assert settings.max_connections == 64
    await round_trip(cache, redis_server)


async def test_redis_3x_form(tmp_path: Path, redis_server: RedisServer) -> None:
    # one address (several: a Redis Cluster, tests/descriptor_cache/test_cluster.py)
    redis = {"addrs": [redis_server.addr], "db": 2, "poolsize": 8}
    config = config_from(tmp_path, {"blobdescriptor": "redis"}, redis=redis)
    cache = build_blob_descriptor_cache(config)
    assert isinstance(cache, RedisBlobDescriptorCache)
    assert cache.settings.port == redis_server.port
    assert cache.settings.max_connections == 8
    assert cache.settings.connect_timeout == DEFAULT_CONNECT_TIMEOUT
    await round_trip(cache, redis_server, db=2)


async def test_old_layerinfo_name(tmp_path: Path, redis_server: RedisServer) -> None:
    config = config_from(tmp_path, {"layerinfo": "redis"}, redis={"addr": redis_server.addr})
    await round_trip(build_blob_descriptor_cache(config), redis_server)


def test_inmemory_and_size(tmp_path: Path) -> None:
    cache = build_blob_descriptor_cache(
        config_from(tmp_path, {"blobdescriptor": "inmemory", "blobdescriptorsize": 7})
    )
    assert isinstance(cache, InMemoryBlobDescriptorCache) and cache.size == 7
    cache = build_blob_descriptor_cache(config_from(tmp_path, {"layerinfo": "inmemory"}))
    assert isinstance(cache, InMemoryBlobDescriptorCache) and cache.size == 10000


def test_no_cache(tmp_path: Path) -> None:
    assert build_blob_descriptor_cache(config_from(tmp_path, None)) is None
    assert build_blob_descriptor_cache(Config()) is None


def test_unknown_cache_type_disables_caching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pyregistry.descriptor_cache")
    assert (
        build_blob_descriptor_cache(config_from(tmp_path, {"blobdescriptor": "memcache"})) is None
    )
    assert "memcache" in caplog.text


def test_redis_cache_without_redis_section_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="redis configuration required"):
        build_blob_descriptor_cache(config_from(tmp_path, {"blobdescriptor": "redis"}))


def test_tls_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    redis = {
        "addrs": ["[::1]:6380"],
        "username": "registry",
        "password": "secret",
        "clientname": "pyregistry",
        "tls": {"enabled": True, "clientcas": [str(ca)], "insecure": True},
    }
    settings = settings_from_config(config_from(tmp_path, None, redis=redis).redis)  # type: ignore[arg-type]
    assert (settings.host, settings.port, settings.address) == ("::1", 6380, "[::1]:6380")
    assert (settings.username, settings.password) == ("registry", "secret")
    assert settings.tls and settings.tls_insecure and settings.tls_cas == [str(ca)]
    assert settings.client_name == "pyregistry"
    assert "secret" not in repr(RedisBlobDescriptorCache(settings))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("localhost:6379", ("localhost", 6379)),
        ("redis.example.org", ("redis.example.org", 6379)),
        ("[::1]:7000", ("::1", 7000)),
        ("::1", ("::1", 6379)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", ":6379", "host:port", "host:70000", "[::1"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid redis address"):
        parse_address(text)


async def test_health_check_from_config(tmp_path: Path, redis_server: RedisServer) -> None:
    assert build_redis_health_check(config_from(tmp_path, None)) is None
    check = build_redis_health_check(config_from(tmp_path, None, redis={"addr": redis_server.addr}))
    assert check is not None
    await check()
