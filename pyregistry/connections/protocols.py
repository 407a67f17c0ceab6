"""uvicorn's HTTP protocols (h11 and httptools) with the connection guard built in.

:class:`GuardedConnection` is mixed in front of uvicorn's protocol class. It watches
when a connection waits for request headers and when it is busy (a request object
exists and its response is not complete), and from that:

- closes a connection whose headers do not arrive within ``header_timeout`` (counted from
  the connection, or from the first byte after a keep-alive pause; uvicorn's own
  keep-alive timer, set to ``idle_timeout``, covers the pause itself);
- registers it with the server's :class:`ConnectionGuard`, which enforces the cap;
- turns uvicorn's "Invalid HTTP request received." warning into one info line naming
  the client, and explains TLS handshakes sent to a plain-HTTP port (skopeo and podman try
  HTTPS first) once per client address.

The classes are importable by name (``module:Class``) so worker processes can load them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from pyregistry import http_stack
from pyregistry.connections.accept_log import LogLimiter
from pyregistry.connections.corking import CorkedTransport
from pyregistry.connections.guard import ConnectionGuard
from pyregistry.connections.limits import ConnectionLimits, default_max_connections
from pyregistry.connections.refusal import headers_too_large_bytes, malformed_bytes, refusal_bytes

log = logging.getLogger("pyregistry.connections")
_INVALID = "Invalid HTTP request received"
#: uvicorn's two warnings for an ``Upgrade`` request when WebSockets are off.
_UPGRADE = "Unsupported upgrade request"
_NO_WEBSOCKETS = "No supported WebSocket library detected"
#: A TLS record carrying a handshake: content type 22, protocol major version 3.
_TLS_HANDSHAKE = b"\x16\x03"
_REFUSED = refusal_bytes()
_MALFORMED = malformed_bytes()
_HEADERS_TOO_LARGE = headers_too_large_bytes()
#: Seconds a refused connection still reads (and drops) what its client sends.
_DRAIN_SECONDS = 1.0
_MAX_REMEMBERED = 1024
_tls_clients: OrderedDict[str, None] = OrderedDict()
_timeout_notes = LogLimiter()
_timeouts = 0


def guard_for(server_state: Any, limits: ConnectionLimits) -> ConnectionGuard:
    """The guard shared by every connection of one uvicorn server."""
    guard = getattr(server_state, "pyregistry_guard", None)
    if guard is None:
        guard = ConnectionGuard(limits)
        server_state.pyregistry_guard = guard
    return guard


class _BadRequestLog:
    """Stands in for uvicorn's logger on one connection: the invalid-request warning
    becomes the connection's own line; everything else passes through."""

    def __init__(self, logger: logging.Logger, connection: GuardedConnection) -> None:
        self._logger = logger
        self._connection = connection

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith(_INVALID):
            self._connection.report_bad_request()
        elif isinstance(msg, str) and msg.startswith(_UPGRADE):
            client = self._connection.client
            log.info(
                f"{client[0] if client else 'a client'} asked to upgrade the connection "
                "(e.g. to WebSocket), which the registry does not offer; answered as HTTP"
            )
        elif not (isinstance(msg, str) and msg.startswith(_NO_WEBSOCKETS)):
            self._logger.warning(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


class GuardedConnection(asyncio.Protocol):
    """Mixin for uvicorn's H11Protocol / HttpToolsProtocol (put it first)."""

    config: Any
    server_state: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: tuple[str, int] | None
    cycle: Any
    logger: Any
    _draining = False
    _drain_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # uvicorn's flow control keeps the real transport; every write goes through this.
        self.transport = cast(asyncio.Transport, CorkedTransport(self.transport, self.loop))
        limits = getattr(self.config, "registry_limits", None) or ConnectionLimits(
            max_connections=default_max_connections(1024)
        )
        self._limits: ConnectionLimits = limits
        self._guard = guard_for(self.server_state, limits)
        self._header_timer: asyncio.TimerHandle | None = None
        self._first_bytes = b""
        self.logger = _BadRequestLog(self.logger, self)
        if not self._guard.admit(self):
            self.transport.write(_REFUSED)
            self.transport.close()
            return
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return
        if not self._first_bytes:
            self._first_bytes = data[:2]
        waiting = self._waiting()
        if waiting and self._header_timer is None and not self.transport.is_closing():
            self._arm_header_timer()
        super().data_received(data)
        self._update(waiting)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self._waiting():
            self._first_bytes = b""
        self._update(False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        self._guard.forget(self)
        super().connection_lost(exc)

    def evict(self) -> None:
        """Closed by the guard to make room (the connection was waiting for a request)."""
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.close()

    def report_bad_request(self) -> None:
        client = self.client[0] if self.client else "unknown client"
        if self._first_bytes.startswith(_TLS_HANDSHAKE):
            if client in _tls_clients:
                log.debug(f"TLS handshake from {client} on the plain-HTTP port (answered 400)")
                return
            _tls_clients[client] = None
            if len(_tls_clients) > _MAX_REMEMBERED:
                _tls_clients.popitem(last=False)
            log.info(
                f"{client} started a TLS handshake on this plain-HTTP port (answered 400); "
                "clients such as skopeo, podman and docker try HTTPS first and then fall "
                "back to HTTP, so this is expected once per client for an insecure registry"
            )
            return
        log.info(f"malformed HTTP request from {client} (answered 400 and closed)")

    def refuse_large_headers(self, sent_so_far: int) -> None:
        """Answer 431 and close: the request's line and headers passed the limit."""
        client = self.client[0] if self.client else "unknown client"
        log.info(
            f"{client} sent {sent_so_far} bytes of request line and headers, over the "
            f"{self._limits.max_header_bytes} accepted (answered 431 and closed)"
        )
        if self._response_half_sent():
            self.transport.close()
            return
        self.transport.write(_HEADERS_TOO_LARGE)
        if not self.transport.can_write_eof():  # TLS
            self.transport.close()
            return
        # The client is most likely still sending: closing now would answer its next
        # segment with a reset, which can destroy the 431 before it is read. Shut our
        # side instead and drop what still comes, for a moment.
        self.transport.write_eof()
        self._draining = True
        self._cancel_header_timer()
        self._drain_timer = self.loop.call_later(_DRAIN_SECONDS, self.transport.close)

    def _write_and_close(self, answer: bytes) -> None:
        """Write a complete answer and close (only close behind a half-sent response)."""
        if not self._response_half_sent():
            self.transport.write(answer)
        self.transport.close()

    def _response_half_sent(self) -> bool:
        """A response is being sent: nothing else can be written on this connection."""
        cycle = self.cycle
        return cycle is not None and cycle.response_started and not cycle.response_complete

    # -- state ------------------------------------------------------------------

    def _waiting(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _update(self, was_waiting: bool) -> None:
        if self._waiting():
            if not was_waiting:
                self._guard.wait(self)
            return
        self._cancel_header_timer()
        self._guard.busy(self)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self._limits.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        global _timeouts
        self._header_timer = None
        if not self._waiting() or self.transport.is_closing():
            return
        _timeouts += 1
        allowed, _ = _timeout_notes.allow()
        if allowed:
            log.info(
                f"closed a connection from {self.client[0] if self.client else 'a client'} "
                f"that sent no complete request headers in {self._limits.header_timeout:g}s "
                f"({_timeouts} so far; http.timeouts.header)"
            )
        self._guard.forget(self)
        self.transport.close()


class GuardedH11Protocol(GuardedConnection, H11Protocol):
    """h11 (pure Python) with the guard."""

    def send_400_response(self, msg: str) -> None:
        # Broken framing after a response went out (a body that continues past its
        # length): h11 cannot start another response, and uvicorn's attempt raised inside
        # data_received, which asyncio logged as a fatal error with a traceback.
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.close()
            return
        unparsed = len(self.conn.trailing_data[0])
        if unparsed > self._limits.max_header_bytes:  # h11's "Receive buffer too long"
            self.refuse_large_headers(unparsed)
            return
        self.transport.write(_MALFORMED)  # JSON, as every other error; then close
        self.transport.close()


if http_stack.http_implementation() == "httptools":  # installed and importable
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(GuardedConnection, HttpToolsProtocol):
        """httptools (llhttp, C) with the guard, and a limit on the request line and
        headers, which llhttp and uvicorn would otherwise gather without end."""

        _in_head = False
        _head_bytes = 0

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._in_head or self.transport.is_closing():
                return
            # Counted after parsing, from the chunk the request began in: at most one
            # read (256 KiB) over for a pipelined request, never under.
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_header_bytes:
                self._in_head = False
                self.refuse_large_headers(self._head_bytes)

        def on_message_begin(self) -> None:
            self._in_head, self._head_bytes = True, 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            self._write_and_close(_MALFORMED)  # JSON, as every other error


def protocol_path(http: str = "auto") -> str:
    """The ``module:Class`` of the guarded protocol for ``h11``, ``httptools`` or ``auto``
    (httptools when installed)."""
    if http == "auto":
        http = http_stack.http_implementation()
    if http == "httptools":
        if http_stack.http_implementation() != "httptools":
            raise RuntimeError("the httptools HTTP parser is not installed")
        return f"{__name__}:GuardedHttpToolsProtocol"
    if http == "h11":
        return f"{__name__}:GuardedH11Protocol"
    raise ValueError(f"unknown HTTP implementation {http!r}: expected h11, httptools or auto")


def event_loop_factory(loop: str = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """A new-loop function for ``asyncio``, ``uvloop`` or ``auto`` (uvloop when installed)."""
    if loop == "auto":
        loop = http_stack.loop_implementation()
    if loop == "uvloop":
        import uvloop  # ImportError names what is missing

        return uvloop.new_event_loop
    if loop == "asyncio":
        return asyncio.new_event_loop
    raise ValueError(f"unknown event loop {loop!r}: expected asyncio, uvloop or auto")
