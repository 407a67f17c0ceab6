"""Any ASGI app served by uvicorn on a free loopback port, in a background thread with its
own event loop, so clients in any thread (or other processes: docker, skopeo) reach it
while the caller goes on, blocking or not.

The socket is bound (port 0) before uvicorn starts, so the port is known and nothing races
for it. ``stop()`` lets uvicorn shut down (the app's lifespan runs, connections close),
joins the thread and closes the socket; a thread that will not stop is an error, never
silently left behind. Off the main thread uvicorn installs no signal handlers.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from pyregistry.connections import protocol_path
from pyregistry.connections.limits import MAX_HEADER_BYTES
from pyregistry.sockets import bind, parse_addr

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 15.0
#: Seconds in-flight requests may take to finish after ``stop()`` before they are cut.
DRAIN_SECONDS = 5
_POLL = 0.002


class BackgroundServer:
    """``with BackgroundServer(app) as server: server.url`` (or ``start()``/``stop()``)."""

    def __init__(self, app: Any, *, log_level: str = "error", name: str = "asgi") -> None:
        self.app = app
        self.log_level = log_level
        self.name = name
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.started and not self._stopped

    @property
    def port(self) -> int:
        if self._port is None or self._stopped:
            raise RuntimeError(f"the {self.name} server is not running")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> BackgroundServer:
        """Serve; returns once connections are accepted. Raises if the app cannot start."""
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} server can be started once")
        try:
            self._start()
        except BaseException:
            self._release()
            raise
        return self

    def _start(self) -> None:
        sock = bind(parse_addr(f"{LOOPBACK}:0"))
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=LOOPBACK,
                port=self._port,
                log_level=self.log_level,
                log_config=None,  # leave the host process's logging alone
                access_log=False,
                server_header=False,
                ws="none",
                # the guarded protocols `pyregistry serve` uses: header and idle timeouts,
                # the connection cap, JSON answers to requests HTTP cannot parse
                http=protocol_path(),
                h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                lifespan="on",
                timeout_graceful_shutdown=DRAIN_SECONDS,
            )
        )
        self._server = server
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # noqa: BLE001 - SystemExit when the app's startup fails
                failure.append(exc)

        thread = threading.Thread(target=run, name=f"{self.name}-{self._port}", daemon=True)
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(
                    f"the {self.name} server failed to start ({failure[0]!r} in its thread; "
                    "the app's own error is in the 'uvicorn.error' log)"
                    if failure
                    else f"the {self.name} server stopped during start-up"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start in {STARTUP_TIMEOUT}s")
            time.sleep(_POLL)

    def stop(self) -> None:
        """Shut down, join the thread, close the socket. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._release()

    def _release(self) -> None:
        server, thread = self._server, self._thread
        alive = False
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(SHUTDOWN_TIMEOUT)
            alive = thread.is_alive()
        if self._socket is not None:
            self._socket.close()
        if alive and thread is not None:
            raise RuntimeError(f"thread {thread.name} did not stop")

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
