"""The open connections of one server, and which to close when there are too many.

Each connection is either busy (a request's headers are in and it is being answered) or
waiting (for the first request's headers, or for the next request on a keep-alive
connection). At the cap, a new connection closes the connection that has been waiting
longest: slow or idle clients cannot starve clients with a request to make. Only when every
connection is busy is the newcomer turned away.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pyregistry.connections.accept_log import LogLimiter
from pyregistry.connections.limits import ConnectionLimits

log = logging.getLogger("pyregistry.connections")


class Closable(Protocol):
    def evict(self) -> None: ...


class ConnectionGuard:
    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: set[Closable] = set()
        #: Waiting connections, longest-waiting first (dicts keep insertion order).
        self.waiting: dict[Closable, None] = {}
        self.evicted = 0
        self.refused = 0
        self._notes = LogLimiter()

    def admit(self, connection: Closable) -> bool:
        """Register a new connection (waiting for its headers); False: turn it away."""
        cap = self.limits.max_connections
        while cap and len(self.open) >= cap and self.waiting:
            oldest = next(iter(self.waiting))
            self.forget(oldest)
            oldest.evict()
            self.evicted += 1
            self._note(f"at the connection cap ({cap}): closed the longest-waiting connection")
        if cap and len(self.open) >= cap:
            self.refused += 1
            self._note(f"at the connection cap ({cap}) with every connection busy: refused one")
            return False
        self.open.add(connection)
        self.waiting[connection] = None
        return True

    def busy(self, connection: Closable) -> None:
        self.waiting.pop(connection, None)

    def wait(self, connection: Closable) -> None:
        """The connection waits for a request again (keep-alive): now the newest waiter."""
        if connection in self.open:
            self.waiting.pop(connection, None)
            self.waiting[connection] = None

    def forget(self, connection: Closable) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)

    def _note(self, message: str) -> None:
        allowed, held = self._notes.allow()
        if allowed:
            more = f" ({held} more since the last report)" if held else ""
            log.warning(f"{message}{more}; see http.maxconnections")
