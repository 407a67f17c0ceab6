"""A real ``redis-server`` for tests, on 127.0.0.1 and a free port, without persistence.

``redis_server_process`` (session scope) starts one server for the whole run; the
function-scoped ``redis_server`` makes sure it is running (an outage test may have
stopped it), empties it, and yields it. :meth:`RedisServer.stop` / :meth:`start` simulate
an outage and recovery on the same port. A missing binary fails the test with an apt hint.
"""

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

from tests.support.ports import free_port_block

STARTUP_TIMEOUT = 10.0
#: First starts tried on new ports when the chosen one was taken meanwhile.
PORT_ATTEMPTS = 3
_ADDRESS_IN_USE = "Address already in use"
INSTALL_HINT = "redis-server is not installed: apt-get install redis-server"


def _free_port() -> int:
    """A free port below the ephemeral range: chosen before the server binds it (a
    cluster's nodes start one after the other), so it must not become the local end of
    another process's outgoing connection meanwhile (see ``ports.free_port_block``)."""
    return free_port_block(1)


class RedisServer:
    """One ``redis-server`` process that can be stopped and started again on its port."""

    host = "127.0.0.1"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        arguments: tuple[str, ...] = (),
        password: str | None = None,
    ) -> None:
        """``arguments`` go after the default ones (a replica's ``--replicaof``...);
        ``password``: what :meth:`client` logs in with (``--requirepass`` is for
        ``arguments`` to say)."""
        self.binary = binary
        self.workdir = workdir
        self.arguments = arguments
        self.password = password
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        #: Started once already: a restart (after an outage) keeps its ports.
        self.started = False
        self.log_path = workdir / "redis.log"

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, db: int = 0) -> redis.Redis:
        """A plain synchronous client, for inspecting what the cache wrote."""
        return redis.Redis(
            host=self.host, port=self.port, db=db, password=self.password, decode_responses=True
        )

    def start(self) -> None:
        """Start (again, on the same ports); a first start whose port was taken after all
        (another test worker picked it too) tries new ports."""
        if self.running:
            return
        first = not self.started
        for attempt in range(PORT_ATTEMPTS):
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            try:
                self._start_once()
                self.started = True
                return
            except RuntimeError:
                taken = _ADDRESS_IN_USE in self._log_tail(since=logged)
                if not (first and taken) or attempt + 1 == PORT_ATTEMPTS:
                    raise
                self.process = None
                self.pick_ports()

    def pick_ports(self) -> None:
        """New free ports (a subclass binding more ports picks those too)."""
        self.port = _free_port()

    def _start_once(self) -> None:
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start-up: {self._log_tail()}")
            # Bounded: whatever else listens on a port taken meanwhile may never answer.
            probe = redis.Redis(
                host=self.host,
                port=self.port,
                password=self.password,
                socket_timeout=1,
                socket_connect_timeout=1,
            )
            with contextlib.suppress(redis.RedisError), probe:
                if probe.ping():
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer: {self._log_tail()}")
            time.sleep(0.02)

    def command(self) -> list[str]:
        """The server's command line."""
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.log_path),
            *self.arguments,
        ]

    def stop(self) -> None:
        """Kill the server (an outage): connections drop, the port refuses connections."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def _log_tail(self, since: int = 0) -> str:
        try:
            return self.log_path.read_text(errors="replace")[since:][-2000:]
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def redis_server_process() -> Iterator[RedisServer]:
    """The session's redis-server (started once, stopped at the end)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with tempfile.TemporaryDirectory(prefix="pyregistry-redis-") as workdir:
        server = RedisServer(binary, Path(workdir))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_server(redis_server_process: RedisServer) -> Iterator[RedisServer]:
    """The running session server, emptied; restarted afterwards if a test stopped it."""
    redis_server_process.start()
    with redis_server_process.client() as client:
        client.flushall()
    yield redis_server_process
    redis_server_process.start()
