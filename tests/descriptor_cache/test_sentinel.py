"""``redis.mastername``: the blob descriptor cache behind Redis Sentinel (distribution
3.x's failover client), as a real ``pyregistry serve`` process with a real master,
replica and sentinel. The cache writes to the master the sentinel names, and follows it
when the master fails over."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from pyregistry.config.model import RedisConfig
from pyregistry.descriptor_cache.connection import settings_from_config
from tests.api.helpers import push_blob_at
from tests.support.redis_sentinel import (
    MASTER_NAME,
    MASTER_PASSWORD,
    SENTINEL_PASSWORD,
    SentinelSet,
)
from tests.support.registry_process import RegistryProcess, free_port


def _cached_on_master(base: str, sentinels: SentinelSet, digest: str, size: int) -> None:
    """Until the master has the blob's descriptor: a HEAD fills the cache from storage
    (a write that met the former master was dropped, and the cache pauses after errors)."""
    deadline = time.monotonic() + 30
    while True:
        head = httpx.head(f"{base}/v2/team/app/blobs/{digest}")
        assert head.status_code == 200
        with sentinels.master.client() as client:
            if client.hget(f"blobs::{digest}", "size") == str(size):
                return
        assert time.monotonic() < deadline, "the descriptor never reached the master"
        time.sleep(0.2)


def test_cache_writes_to_the_master_sentinel_names_and_follows_a_failover(
    tmp_path: Path, redis_sentinel: SentinelSet
) -> None:
    port = free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        f"""
version: 0.1
storage:
  filesystem: {{rootdirectory: {tmp_path / "root"}}}
  cache: {{blobdescriptor: redis}}
http:
  addr: 127.0.0.1:{port}
redis:
  addrs: [{redis_sentinel.sentinel.addr}]
  mastername: {MASTER_NAME}
  password: {MASTER_PASSWORD}
  sentinelpassword: {SENTINEL_PASSWORD}
  dialtimeout: 500ms
"""
    )
    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(config)], port=port):
        first = push_blob_at(base, "team/app", b"before the failover")
        with redis_sentinel.master.client() as client:
            assert client.hget(f"blobs::{first}", "size") == "19"

        former = redis_sentinel.master
        redis_sentinel.fail_over()
        assert redis_sentinel.master is not former

        second = push_blob_at(base, "team/app", b"after it")
        _cached_on_master(base, redis_sentinel, second, 8)
        # pulls go on, the first blob's descriptor replicated to the new master
        response = httpx.get(f"{base}/v2/team/app/blobs/{first}")
        assert response.content == b"before the failover"
        with redis_sentinel.master.client() as client:
            assert client.hget(f"blobs::{first}", "size") == "19"


def test_sentinel_settings_name_the_master_and_every_sentinel() -> None:
    config = RedisConfig(
        addrs=["10.0.0.1:26379", "[::1]:26380"], mastername="main", sentinelpassword="s3"
    )
    settings = settings_from_config(config)
    assert settings.master_name == "main"
    assert settings.sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    assert settings.sentinel_password == "s3"
    assert settings.address == "main (sentinels 10.0.0.1:26379, [::1]:26380)"
    assert settings_from_config(RedisConfig(addrs=["10.0.0.1:6379"])).address == "10.0.0.1:6379"
