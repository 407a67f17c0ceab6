"""A real Redis Sentinel set for tests, on 127.0.0.1: a master, its replica, and one
sentinel watching them (quorum 1), so that a test can fail the master over and see who
follows. Each is a ``redis-server`` process (the sentinel in ``--sentinel`` mode); the
data nodes ask for :data:`MASTER_PASSWORD`, the sentinel for :data:`SENTINEL_PASSWORD`."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis import INSTALL_HINT, RedisServer

MASTER_NAME = "pyregistry-master"
MASTER_PASSWORD = "master-secret"
SENTINEL_PASSWORD = "sentinel-secret"
#: How long a failover may take before the test fails.
FAILOVER_TIMEOUT = 30.0


class SentinelServer(RedisServer):
    """A ``redis-server --sentinel`` watching ``master`` under :data:`MASTER_NAME`."""

    def __init__(self, binary: str, workdir: Path, master: RedisServer) -> None:
        super().__init__(binary, workdir, password=SENTINEL_PASSWORD)
        self.config = workdir / "sentinel.conf"  # the sentinel rewrites it as it learns
        self.config.write_text(
            f"requirepass {SENTINEL_PASSWORD}\n"
            f"sentinel monitor {MASTER_NAME} {master.host} {master.port} 1\n"
            f"sentinel auth-pass {MASTER_NAME} {MASTER_PASSWORD}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
        )

    def command(self) -> list[str]:
        return [
            self.binary,
            str(self.config),
            "--sentinel",
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.log_path),
        ]

    def master_port(self) -> int:
        with self.client() as client:
            _, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return int(port)

    def replicas_seen(self) -> int:
        with self.client() as client:
            replicas = client.execute_command("SENTINEL", "REPLICAS", MASTER_NAME)
        return sum(1 for r in replicas if "s_down" not in str(r))


class SentinelSet:
    """The master, the replica and the sentinel."""

    def __init__(self, master: RedisServer, replica: RedisServer, sentinel: SentinelServer):
        self.master = master
        self.replica = replica
        self.sentinel = sentinel

    def fail_over(self) -> None:
        """Make the replica the master (and the master its replica), and wait until the
        sentinel says so and the former master has become a replica."""
        _wait(lambda: self.sentinel.replicas_seen() >= 1, "the sentinel sees the replica")
        with self.sentinel.client() as client:
            client.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        _wait(lambda: self.sentinel.master_port() == self.replica.port, "the failover")
        self.master, self.replica = self.replica, self.master
        _wait(lambda: _role(self.replica) == "slave", "the former master following")


def _role(server: RedisServer) -> str:
    with server.client() as client:
        return str(client.info("replication")["role"])


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def redis_sentinel() -> Iterator[SentinelSet]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with tempfile.TemporaryDirectory(prefix="pyregistry-sentinel-") as workdir:
        root = Path(workdir)
        for part in ("master", "replica", "sentinel"):
            (root / part).mkdir()
        auth = ("--requirepass", MASTER_PASSWORD, "--masterauth", MASTER_PASSWORD)
        master = RedisServer(binary, root / "master", auth, MASTER_PASSWORD)
        master.start()
        follow = ("--replicaof", master.host, str(master.port))
        replica = RedisServer(binary, root / "replica", auth + follow, MASTER_PASSWORD)
        sentinel = SentinelServer(binary, root / "sentinel", master)
        servers = (master, replica, sentinel)
        try:
            replica.start()
            sentinel.start()
            yield SentinelSet(master, replica, sentinel)
        finally:
            for server in servers:
                server.stop()
