"""Small writes of one loop iteration leave in one send.

uvicorn writes a response's status line and headers, then its body, as two writes, each a
``send`` of its own: two system calls and two TCP segments for every small answer (a
manifest, a HEAD, a 404). :class:`CorkedTransport` stands between a connection and its
transport and holds small writes until the event loop's current iteration ends (or a
large write, a close, or an end of file comes first), then sends them together, as
``TCP_CORK`` would. Nothing waits longer than that iteration, and the order of bytes on
the connection never changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: A write this large goes out at once (after what is held): joining it would copy it.
LARGE_WRITE = 64 * 1024


class CorkedTransport:
    """Wraps one connection's transport; everything but writing passes through."""

    __slots__ = ("_transport", "_loop", "_held", "_flush_handle")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= LARGE_WRITE:
            self.flush()
            self._transport.write(data)
            return
        if not data:
            return
        self._held.append(bytes(data))
        if self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what is held now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._held:
            return
        held = self._held
        self._held = []
        if self._transport.is_closing():
            return
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
