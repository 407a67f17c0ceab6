"""A real pyregistry HTTP server for tests: uvicorn in a background thread on loopback.

``run_server(app)`` binds ``127.0.0.1`` port 0 itself (so the port is known before uvicorn
starts and nothing races for it), waits until uvicorn reports started, yields the base
URL, and on exit stops the server, joins the thread and closes the socket - or fails
loudly if the thread will not stop.

Fixtures: ``registry_server`` (in-memory storage, deletes enabled) and
``fs_registry_server`` (filesystem storage under ``tmp_path``) yield a base URL;
``registry_server_factory`` starts servers for any ``Config`` (or app) and stops them at
teardown. Add ``"tests.support.server"`` to ``pytest_plugins`` to use them suite-wide.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 15.0


@contextlib.contextmanager
def run_server(app: Any, *, log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level=log_level,
        log_config=None,  # leave the test process's logging (pytest's capture) alone
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit on a failed lifespan startup, too
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"pyregistry-test-server-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"test server failed to start: {failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start within the timeout")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("test server thread did not stop")


def inmemory_config(**storage: Any) -> Config:
    """A config for a throw-away in-memory registry with deletes enabled."""
    options: dict[str, Any] = {"driver": "inmemory", "delete_enabled": True}
    options.update(storage)
    return Config(storage=StorageConfig(**options))


def filesystem_config(root: Path, **storage: Any) -> Config:
    """A config for a filesystem registry rooted at ``root`` with deletes enabled."""
    options: dict[str, Any] = {
        "driver": "filesystem",
        "parameters": {"rootdirectory": str(root)},
        "delete_enabled": True,
    }
    options.update(storage)
    return Config(storage=StorageConfig(**options))


@pytest.fixture
def registry_server() -> Iterator[str]:
    """Base URL of a fresh in-memory registry (deletes enabled)."""
    with run_server(create_app(inmemory_config())) as url:
        yield url


@pytest.fixture
def fs_registry_server(tmp_path: Path) -> Iterator[str]:
    """Base URL of a fresh filesystem registry storing under ``tmp_path / "storage"``."""
    with run_server(create_app(filesystem_config(tmp_path / "storage"))) as url:
        yield url


@pytest.fixture
def registry_server_factory() -> Iterator[Callable[[Config | Any], str]]:
    """Start servers for a Config (or a ready ASGI app); all are stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(config_or_app: Config | Any) -> str:
            app = create_app(config_or_app) if isinstance(config_or_app, Config) else config_or_app
            return stack.enter_context(run_server(app))

        yield start
