"""Registry events and who caused them, shared by the storage side that emits them and
the features that hear them, with no HTTP knowledge.

Events are emitted by a wrapper around the storage interfaces
(:mod:`pyregistry.notifications.listener`), so a write or read is reported whoever makes
it: the API, a mirror, replication, garbage collection, a management API. The caller is
not passed through every storage call; it travels in :data:`current_caller`, a
``ContextVar`` that the API sets for each request (:func:`acting_as`). A ContextVar fits
because asyncio copies it into every task a request starts, it needs no change to the
storage signatures, and code that sets none (a background job) gets an empty caller.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

# Event kinds passed to EventSink.emit.
BLOB_PUSH = "blob.push"
BLOB_PULL = "blob.pull"
BLOB_MOUNT = "blob.mount"
BLOB_DELETE = "blob.delete"
MANIFEST_PUSH = "manifest.push"
MANIFEST_PULL = "manifest.pull"
MANIFEST_DELETE = "manifest.delete"
TAG_DELETE = "tag.delete"


class Caller(Protocol):
    """What an event says about who caused it (the API's ``RequestContext`` is one)."""

    @property
    def request_id(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def remote_addr(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def user_agent(self) -> str | None: ...


@dataclass(frozen=True)
class InternalCaller:
    """The caller of work no request started (a background job): all fields empty."""

    request_id: str = ""
    method: str = ""
    actor: str | None = None
    remote_addr: str | None = None
    host: str | None = None
    user_agent: str | None = None


#: The caller of the code running now; set per request by the API layer.
current_caller: ContextVar[Caller | None] = ContextVar("pyregistry_caller", default=None)


def caller() -> Caller:
    """The caller of the code running now (an empty one outside a request)."""
    return current_caller.get() or InternalCaller()


@contextlib.contextmanager
def acting_as(who: Caller) -> Iterator[None]:
    """Run a block on behalf of ``who``: events it causes name that caller."""
    token = current_caller.set(who)
    try:
        yield
    finally:
        current_caller.reset(token)


class EventSink(Protocol):
    """Receives registry events: ``details`` always include ``context`` (the Caller) and
    ``repository``."""

    async def emit(self, event_kind: str, **details: Any) -> None: ...


class NullEventSink:
    """The default sink: events go nowhere."""

    async def emit(self, event_kind: str, **details: Any) -> None:
        return None


class FanOutEventSink:
    """Delivers each event to several sinks, in order."""

    def __init__(self, sinks: list[EventSink]) -> None:
        self.sinks = list(sinks)

    async def emit(self, event_kind: str, **details: Any) -> None:
        for sink in self.sinks:
            await sink.emit(event_kind, **details)
