"""A real pyregistry HTTP server for tests: uvicorn in a background thread on loopback.

``run_server(app)`` serves any ASGI app on ``127.0.0.1`` (a free port) through the public
embedding's :class:`BackgroundServer` and yields the base URL.

Fixtures: ``registry_server`` (in-memory storage, deletes enabled) and
``fs_registry_server`` (filesystem storage under ``tmp_path``) yield a base URL;
``registry_server_factory`` starts servers for any ``Config`` (or app) and stops them at
teardown. Add ``"tests.support.server"`` to ``pytest_plugins`` to use them suite-wide.

Every server started here watches its own answers: a 500 (any 5xx but the health gate's
deliberate 503) or an exception escaping the app fails the test that started it, when the
server stops. A test that provokes one on purpose passes ``allow_server_errors=True``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.app import create_app
from pyregistry.config.model import Config, StorageConfig
from pyregistry.embedding.server import BackgroundServer


class ServerErrorRecorder:
    """Pure ASGI around an app under test: remembers every 5xx it answers (but 503, the
    health gate's deliberate "unavailable") and every exception that escapes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.errors: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = f"{scope['method']} {scope['path']}"

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status >= 500 and status != 503:
                    self.errors.append(f"{request} answered {status}")
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            self.errors.append(f"{request} raised {exc!r}")
            raise


@contextlib.contextmanager
def run_server(
    app: Any, *, log_level: str = "warning", allow_server_errors: bool = False
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields the base URL.

    The public embedding's :class:`BackgroundServer` does the work, so tests exercise the
    same server thread users get. Unless ``allow_server_errors``, a 500 the app answered
    fails the block once the server has stopped."""
    recorder = ServerErrorRecorder(app)
    try:
        with BackgroundServer(
            recorder, log_level=log_level, name="pyregistry-test-server"
        ) as server:
            yield server.url
    except BaseException:
        recorder.errors.clear()  # the test failed already: keep its own error in front
        raise
    if recorder.errors and not allow_server_errors:
        raise AssertionError(
            "the registry answered with server errors (no request may get a 500):\n  "
            + "\n  ".join(recorder.errors)
        )


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
def registry_server_factory() -> Iterator[Callable[..., str]]:
    """Start servers for a Config (or a ready ASGI app); all are stopped at teardown.
    ``start(config_or_app, allow_server_errors=False)`` returns the base URL."""
    with contextlib.ExitStack() as stack:

        def start(config_or_app: Config | Any, *, allow_server_errors: bool = False) -> str:
            app = create_app(config_or_app) if isinstance(config_or_app, Config) else config_or_app
            return stack.enter_context(run_server(app, allow_server_errors=allow_server_errors))

        yield start
