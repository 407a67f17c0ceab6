"""The API's extension points: what a request is about, who may see it, who hears of it.

Auth, notifications and metrics plug in here instead of patching handlers:

* every request routed to the registry API gets a :class:`RequestContext` (also stored as
  ``request.state.registry_context``) naming the repository, the endpoint and the access
  it needs (``pull``, ``push``, ``delete``, or ``*`` on the catalog), computed once;
* :data:`AccessHook` callables run after routing and before the handler; they may set
  ``context.actor`` or raise a ``RegistryError`` (``Unauthorized``/``Denied`` from
  :mod:`pyregistry.api.errors`, whose ``headers`` go on the response);
* an :class:`EventSink` hears of every blob/manifest push, pull, mount and delete once it
  has succeeded. Sink failures are logged, never turned into request failures.

This module imports only the access vocabulary from the API, so that extensions can
depend on it alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request

from pyregistry.api.access import RequiredAccess

# Endpoints, as the router names them.
BASE = "base"
CATALOG = "catalog"
TAGS = "tags"
MANIFEST = "manifest"
BLOB = "blob"
UPLOAD_START = "upload_start"
UPLOAD = "upload"
REFERRERS = "referrers"

# Event kinds passed to EventSink.emit.
BLOB_PUSH = "blob.push"
BLOB_PULL = "blob.pull"
BLOB_MOUNT = "blob.mount"
BLOB_DELETE = "blob.delete"
MANIFEST_PUSH = "manifest.push"
MANIFEST_PULL = "manifest.pull"
MANIFEST_DELETE = "manifest.delete"
TAG_DELETE = "tag.delete"


@dataclass
class RequestContext:
    """What one API request touches; built by the router, enriched by access hooks."""

    request_id: str
    method: str
    endpoint: str
    #: Repository name for repository-scoped endpoints, else None.
    repository: str | None = None
    #: Tag, digest or upload id from the path, when there is one.
    reference: str | None = None
    #: The access the request needs (:func:`pyregistry.api.routes.required_access`).
    access: RequiredAccess = field(default_factory=RequiredAccess)
    #: For a cross-repository mount: the repository the blob comes from (needs ``pull``).
    mount_from: str | None = None
    #: A mount without ``from`` links from the global store; auth may forbid that.
    allow_global_mount: bool = True
    #: False when the caller may not pull ``mount_from``: the mount becomes an upload.
    allow_source_mount: bool = True
    #: Who is asking; set by an auth hook.
    actor: str | None = None
    remote_addr: str | None = None
    host: str | None = None
    user_agent: str | None = None
    #: Free-form data extensions share (e.g. the auth token's claims).
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def actions(self) -> tuple[str, ...]:
        """Actions the request needs on ``repository`` (or ``("*",)`` on the catalog)."""
        return self.access.actions


#: Called with the request and its context before the handler runs.
AccessHook = Callable[[Request, RequestContext], Awaitable[None]]


class EventSink(Protocol):
    """Receives registry events; ``details`` always include ``context`` (RequestContext)."""

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
