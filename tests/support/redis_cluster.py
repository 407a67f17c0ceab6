"""A real Redis Cluster for tests, on 127.0.0.1: three ``redis-server`` masters with
``cluster-enabled``, the 16,384 slots spread over them by ``redis-cli --cluster create``,
every node asking for :data:`CLUSTER_PASSWORD`."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from tests.support.redis import INSTALL_HINT, RedisServer
from tests.support.registry_process import free_port

CLUSTER_PASSWORD = "cluster-secret"
NODES = 3
#: How long the cluster may take to agree on its slots before the test fails.
READY_TIMEOUT = 30.0


class RedisClusterSet:
    """The cluster's nodes; :meth:`client` talks to the whole cluster."""

    def __init__(self, nodes: list[RedisServer]) -> None:
        self.nodes = nodes

    @property
    def addrs(self) -> list[str]:
        return [node.addr for node in self.nodes]

    def client(self) -> RedisCluster:
        """A synchronous cluster client, for inspecting what the registry wrote."""
        return RedisCluster(
            startup_nodes=[ClusterNode(node.host, node.port) for node in self.nodes],
            password=CLUSTER_PASSWORD,
            decode_responses=True,
        )

    def node_of(self, key: str) -> RedisServer:
        """The node serving ``key``'s slot."""
        with self.client() as client:
            node = client.get_node_from_key(key)
        return next(n for n in self.nodes if n.port == node.port)

    def create(self, cli: str) -> None:
        command = [cli, "-a", CLUSTER_PASSWORD, "--no-auth-warning", "--cluster", "create"]
        command += [*self.addrs, "--cluster-replicas", "0", "--cluster-yes"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout}{done.stderr}")
        deadline = time.monotonic() + READY_TIMEOUT
        while not all(_cluster_ok(node) for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)


def _cluster_ok(node: RedisServer) -> bool:
    try:
        with node.client() as client:
            info = client.execute_command("CLUSTER", "INFO")
    except redis.RedisError:
        return False
    text = info if isinstance(info, str) else str(info)
    return "cluster_state:ok" in text


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisClusterSet]:
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        pytest.fail(INSTALL_HINT + " redis-tools", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="pyregistry-redis-cluster-") as work:
        nodes = []
        for index in range(NODES):
            workdir = Path(work) / f"node{index}"
            workdir.mkdir()
            arguments = (
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                # the bus port named (else port + 10000, which may be taken or too high)
                "--cluster-port",
                str(free_port()),
                "--requirepass",
                CLUSTER_PASSWORD,
                "--masterauth",
                CLUSTER_PASSWORD,
            )
            nodes.append(RedisServer(binary, workdir, arguments, password=CLUSTER_PASSWORD))
        cluster = RedisClusterSet(nodes)
        try:
            for node in nodes:
                node.start()
            cluster.create(cli)
            yield cluster
        finally:
            for node in nodes:
                node.stop()
