"""A real Redis Cluster for tests, on 127.0.0.1: three ``redis-server`` masters with
``cluster-enabled``, the 16,384 slots spread over them by ``redis-cli --cluster create``,
every node asking for :data:`CLUSTER_PASSWORD`. ``redis_cluster_tls`` is the same over
TLS (clients and the cluster bus; a throwaway CA): the nodes then announce their TLS ports,
and clients must speak TLS, as on a cloud's managed cluster with encryption in transit."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from tests.client.tls import ServerCert, make_server_cert
from tests.support.ports import free_port_block
from tests.support.redis import INSTALL_HINT, RedisServer

CLUSTER_PASSWORD = "cluster-secret"
NODES = 3
#: How long the cluster may take to agree on its slots before the test fails.
READY_TIMEOUT = 30.0


class ClusterNodeServer(RedisServer):
    """A cluster node; with ``tls``, also a TLS port (the one it announces to clients)."""

    def __init__(self, binary: str, workdir: Path, tls: ServerCert | None) -> None:
        self.tls = tls
        super().__init__(binary, workdir, password=CLUSTER_PASSWORD)
        self.pick_ports()

    def pick_ports(self) -> None:
        super().pick_ports()
        self.tls_port = free_port_block(1) if self.tls else None
        self.bus_port = free_port_block(1)

    def command(self) -> list[str]:
        arguments = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
            # the bus port named (else port + 10000, which may be taken or too high)
            "--cluster-port",
            str(self.bus_port),
            "--requirepass",
            CLUSTER_PASSWORD,
            "--masterauth",
            CLUSTER_PASSWORD,
        ]
        tls = self.tls
        if tls is not None:
            arguments += ["--tls-port", str(self.tls_port), "--tls-cluster", "yes"]
            arguments += ["--tls-cert-file", str(tls.certificate), "--tls-key-file", str(tls.key)]
            arguments += ["--tls-ca-cert-file", str(tls.ca_file), "--tls-auth-clients", "no"]
        return super().command() + arguments

    @property
    def client_port(self) -> int:
        """The port a cluster client is given (the TLS port on a TLS cluster)."""
        return self.tls_port or self.port

    @property
    def client_addr(self) -> str:
        return f"{self.host}:{self.client_port}"


class RedisClusterSet:
    """The cluster's nodes; :meth:`client` talks to the whole cluster."""

    def __init__(
        self, nodes: list[ClusterNodeServer], tls: ServerCert | None = None, replicas: int = 0
    ) -> None:
        self.nodes = nodes
        self.tls = tls
        self.replicas = replicas

    @property
    def addrs(self) -> list[str]:
        return [node.client_addr for node in self.nodes]

    def client(self) -> RedisCluster:
        """A synchronous cluster client, for inspecting what the registry wrote."""
        nodes = [ClusterNode(node.host, node.client_port) for node in self.nodes]
        return RedisCluster(
            startup_nodes=nodes,
            password=CLUSTER_PASSWORD,
            decode_responses=True,
            ssl=self.tls is not None,
            ssl_ca_certs=str(self.tls.ca_file) if self.tls else None,
        )

    def node_of(self, key: str) -> RedisServer:
        """The node serving ``key``'s slot."""
        with self.client() as client:
            node = client.get_node_from_key(key)
        return next(n for n in self.nodes if int(node.port) in (n.port, n.tls_port))

    def create(self, cli: str) -> None:
        command = [cli, "-a", CLUSTER_PASSWORD, "--no-auth-warning", "--cluster", "create"]
        command += [node.addr for node in self.nodes]
        command += ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
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


@contextlib.contextmanager
def running_cluster(tls: bool, replicas: int = 0) -> Iterator[RedisClusterSet]:
    """:data:`NODES` masters, each with ``replicas`` replicas."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        pytest.fail(INSTALL_HINT + " redis-tools", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="pyregistry-redis-cluster-") as work:
        cert = make_server_cert(Path(work)) if tls else None
        nodes = []
        for index in range(NODES * (1 + replicas)):
            workdir = Path(work) / f"node{index}"
            workdir.mkdir()
            nodes.append(ClusterNodeServer(binary, workdir, cert))
        cluster = RedisClusterSet(nodes, cert, replicas)
        try:
            for node in nodes:
                node.start()
            cluster.create(cli)
            yield cluster
        finally:
            for node in nodes:
                node.stop()


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisClusterSet]:
    with running_cluster(tls=False) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def redis_cluster_tls() -> Iterator[RedisClusterSet]:
    with running_cluster(tls=True) as cluster:
        yield cluster
