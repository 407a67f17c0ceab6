"""The API's extension points: what a request is about, who may see it, who hears of it.

Auth, notifications and metrics plug in here instead of patching handlers:

* every request routed to the registry API gets a :class:`RequestContext` (also stored as
  ``request.state.registry_context``) naming the repository, the endpoint and the access
  it needs (``pull``, ``push``, ``delete``, or ``*`` on the catalog), computed once;
* :data:`AccessHook` callables run after routing and before the handler; they may set
  ``context.actor`` or raise a ``RegistryError`` (``Unauthorized``/``Denied`` from
  :mod:`pyregistry.api.errors`, whose ``headers`` go on the response);
* an :class:`~pyregistry.events.EventSink` hears of every blob/manifest push, pull, mount
  and delete once it has succeeded; the events come from the storage side (a wrapper
  around the repository), and the context travels there as the current caller
  (:mod:`pyregistry.events`). Sink failures are logged, never turned into request failures.

This module imports only the access vocabulary from the API (and the event names of
:mod:`pyregistry.events`, re-exported), so that extensions can depend on it alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from pyregistry.api.access import RequiredAccess
from pyregistry.events import (  # re-exported: extensions import them from here
    BLOB_DELETE,
    BLOB_MOUNT,
    BLOB_PULL,
    BLOB_PUSH,
    MANIFEST_DELETE,
    MANIFEST_PULL,
    MANIFEST_PUSH,
    TAG_DELETE,
    EventSink,
    FanOutEventSink,
    NullEventSink,
)

# Endpoints, as the router names them.
BASE = "base"
CATALOG = "catalog"
TAGS = "tags"
MANIFEST = "manifest"
BLOB = "blob"
UPLOAD_START = "upload_start"
UPLOAD = "upload"
REFERRERS = "referrers"


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


__all__ = [
    "BLOB_DELETE",
    "BLOB_MOUNT",
    "BLOB_PULL",
    "BLOB_PUSH",
    "MANIFEST_DELETE",
    "MANIFEST_PULL",
    "MANIFEST_PUSH",
    "TAG_DELETE",
    "AccessHook",
    "EventSink",
    "FanOutEventSink",
    "NullEventSink",
    "RequestContext",
]
