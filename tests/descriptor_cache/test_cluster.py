"""``redis.addrs`` with several nodes and no ``mastername``: a Redis Cluster, as go-redis's
universal client (distribution 3.x) reaches it. A real ``pyregistry serve`` on a real
three-node cluster keeps its blob descriptor cache and its metadata index there (keys on
every node, each reached through the node owning its slot); leases and the login throttle
work on it through the same client; TLS, unreachable nodes, a lost node and a failover."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from pyregistry.auth.throttle_redis import RedisCounts
from pyregistry.config.model import RedisConfig
from pyregistry.descriptor_cache.connection import (
    REDIS_FAILURES,
    close_client,
    create_client,
    settings_from_config,
)
from pyregistry.tasks.redis_lease import RedisLease
from tests.api.helpers import push_blob_at
from tests.index.helpers import push_tagged
from tests.support.redis_cluster import CLUSTER_PASSWORD, NODES, RedisClusterSet, running_cluster
from tests.support.registry_process import RegistryProcess, free_port, write_config

INDEX = "{pyregistry:index}:"


def _cached_storage(tmp_path: Path) -> dict[str, object]:
    """Filesystem storage with the blob descriptor cache in Redis."""
    return {
        "filesystem": {"rootdirectory": str(tmp_path / "root")},
        "cache": {"blobdescriptor": "redis"},
    }


def _config(tmp_path: Path, port: int, cluster: RedisClusterSet) -> Path:
    redis = {"addrs": cluster.addrs, "password": CLUSTER_PASSWORD, "db": 0}
    return write_config(tmp_path, port, storage=_cached_storage(tmp_path), redis=redis)


def _index_ready(cluster: RedisClusterSet) -> bool:
    with cluster.client() as client:
        return bool(client.hget(INDEX + "meta", "ready") == "1")


def test_serve_keeps_cache_and_index_in_a_redis_cluster(
    tmp_path: Path, redis_cluster: RedisClusterSet
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(_config(tmp_path, port, redis_cluster))], port=port) as p:
        # blob descriptors, one key per digest: spread over the nodes by slot
        digests = [push_blob_at(base, "team/app", b"layer %d" % i) for i in range(12)]
        with redis_cluster.client() as client:
            for i, digest in enumerate(digests):
                assert client.hget(f"blobs::{digest}", "size") == str(len(b"layer %d" % i))
                assert client.sismember("repository::team/app::blobs", digest)
        holders = {redis_cluster.node_of(f"blobs::{digest}").port for digest in digests}
        assert len(holders) > 1, "every key landed on one node: not a cluster test"

        # the metadata index: built in the cluster (one slot), then kept by each push
        deadline = time.monotonic() + 30
        while not _index_ready(redis_cluster):
            assert time.monotonic() < deadline, f"the index was never built:\n{p.stderr}"
            time.sleep(0.1)
        with httpx.Client(base_url=base) as http:
            push_tagged(http, "team/app", ["v1", "v2"], "cluster")
            push_tagged(http, "other/repo", ["latest"], "cluster-2")
            assert http.get("/v2/_catalog").json()["repositories"] == ["other/repo", "team/app"]
            assert http.get("/v2/team/app/tags/list").json()["tags"] == ["v1", "v2"]
            # pulls through the cache: HEAD answered from the cluster's descriptors
            assert http.head(f"/v2/team/app/blobs/{digests[0]}").status_code == 200
        with redis_cluster.client() as client:
            assert client.zrange(INDEX + "tags:team/app", 0, -1) == ["v1", "v2"]
        assert not p.server_errors()


async def test_fenced_leases_take_renew_and_release_on_a_cluster(
    redis_cluster: RedisClusterSet,
) -> None:
    """A job's lease and its fence counter are two keys of one script: braces keep them in
    one slot (else CROSSSLOT)."""
    settings = settings_from_config(
        RedisConfig(addrs=redis_cluster.addrs, password=CLUSTER_PASSWORD)
    )
    first, second = create_client(settings), create_client(settings)
    try:
        lease = RedisLease("job:cluster-test", first, ttl=5)
        rival = RedisLease("job:cluster-test", second, ttl=5)
        assert await lease.acquire()
        assert not await rival.acquire()
        assert await lease.renew()
        await lease.release()
        assert await rival.acquire()
        assert rival.fence == lease.fence + 1
        await rival.release()
    finally:
        await close_client(first)
        await close_client(second)


def test_cluster_settings_name_every_seed_node_and_keep_database_0() -> None:
    settings = settings_from_config(
        RedisConfig(addrs=["10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.1:7000"], db=3)
    )
    assert settings.cluster_nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001))
    assert settings.db == 0
    assert settings.address == "cluster 10.0.0.1:7000, 10.0.0.2:7001"
    single = settings_from_config(RedisConfig(addrs=["10.0.0.1:7000"], db=3))
    assert not single.cluster and single.db == 3


async def test_login_throttle_counts_in_the_cluster(redis_cluster: RedisClusterSet) -> None:
    """The throttle's counter and lock are two keys of other slots: a transaction per key,
    a delete split per slot."""
    client = create_client(
        settings_from_config(RedisConfig(addrs=redis_cluster.addrs, password=CLUSTER_PASSWORD))
    )
    try:
        counts = RedisCounts(client)
        assert await counts.add_failure("alice@127.0.0.1", 60) == 1
        assert await counts.add_failure("alice@127.0.0.1", 60) == 2
        await counts.lock("alice@127.0.0.1", 30)
        assert 0 < await counts.locked_for("alice@127.0.0.1") <= 30
        await counts.clear("alice@127.0.0.1")
        assert await counts.locked_for("alice@127.0.0.1") == 0
        assert await counts.add_failure("alice@127.0.0.1", 60) == 1
        assert not counts._warned  # every call reached the cluster (no in-process fallback)
    finally:
        await close_client(client)


def test_serve_talks_tls_to_a_cluster(tmp_path: Path, redis_cluster_tls: RedisClusterSet) -> None:
    """A cluster with encryption in transit (as managed clouds offer it): ``redis.tls``
    with the CA that signed the nodes' certificate; every node is reached over TLS."""
    assert redis_cluster_tls.tls is not None
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        storage=_cached_storage(tmp_path),
        redis={
            "addrs": redis_cluster_tls.addrs,
            "password": CLUSTER_PASSWORD,
            "tls": {"enabled": True, "clientcas": [str(redis_cluster_tls.tls.ca_file)]},
        },
    )
    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(config)], port=port) as served:
        digests = [push_blob_at(base, "team/tls", b"over tls %d" % i) for i in range(8)]
        with redis_cluster_tls.client() as client:
            for digest in digests:
                assert client.sismember("repository::team/tls::blobs", digest)
                assert client.hget(f"blobs::{digest}", "digest") == digest
        assert len({redis_cluster_tls.node_of(f"blobs::{d}").port for d in digests}) > 1
        deadline = time.monotonic() + 30
        while not _index_ready(redis_cluster_tls):
            assert time.monotonic() < deadline, f"the index was never built:\n{served.stderr}"
            time.sleep(0.1)
        assert not served.server_errors()


def test_an_unreachable_cluster_costs_the_cache_not_the_requests(tmp_path: Path) -> None:
    """No seed node answers: the cluster client's own error (not a RedisError) is an
    outage like any other, and pushes and pulls go on from storage."""
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        storage=_cached_storage(tmp_path),
        redis={"addrs": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]},
    )
    base = f"http://127.0.0.1:{port}"
    with RegistryProcess(["serve", str(config)], port=port) as served:
        digest = push_blob_at(base, "team/app", b"stored without a cache")
        with httpx.Client(base_url=base) as http:
            push_tagged(http, "team/app", ["v1"], "no-cluster")
            assert http.get(f"/v2/team/app/blobs/{digest}").content == b"stored without a cache"
            assert http.get("/v2/team/app/tags/list").json()["tags"] == ["v1"]
            assert http.get("/v2/_catalog").json()["repositories"] == ["team/app"]
        assert not served.server_errors()


def test_a_node_lost_while_serving_costs_the_cache_not_the_requests(tmp_path: Path) -> None:
    """A master of the cluster dies (no replica takes its slots): keys of its slots fail,
    the others still work, and no request fails."""
    with running_cluster(tls=False) as cluster:
        port = free_port()
        config = _config(tmp_path, port, cluster)
        base = f"http://127.0.0.1:{port}"
        with RegistryProcess(["serve", str(config)], port=port) as served:
            before = [push_blob_at(base, "team/app", b"before %d" % i) for i in range(6)]
            cluster.nodes[0].stop()
            after = [push_blob_at(base, "team/app", b"after %d" % i) for i in range(6)]
            with httpx.Client(base_url=base) as http:
                push_tagged(http, "team/app", ["v1"], "node-lost")
                for i, digest in enumerate(before):
                    assert http.get(f"/v2/team/app/blobs/{digest}").content == b"before %d" % i
                for digest in after:
                    assert http.head(f"/v2/team/app/blobs/{digest}").status_code == 200
                assert http.get("/v2/team/app/tags/list").json()["tags"] == ["v1"]
            assert not served.server_errors()


async def test_a_failover_is_followed() -> None:
    """A master dies and its replica takes its slots over: the client finds the new owner
    and the key is served again, within the cluster's own failover time."""
    with running_cluster(tls=False, replicas=1) as cluster:
        masters = cluster.addrs[:NODES]  # redis-cli makes the first ones masters
        settings = settings_from_config(RedisConfig(addrs=masters, password=CLUSTER_PASSWORD))
        client = create_client(settings)
        try:
            await client.set("the-key", "kept")
            cluster.node_of("the-key").stop()
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert await client.get("the-key") == "kept"
                    break
                except REDIS_FAILURES:
                    assert time.monotonic() < deadline, "the replica's promotion was not followed"
                    await asyncio.sleep(0.2)
        finally:
            await close_client(client)
