"""What handlers get: the app-wide :class:`ApiState` and the per-request :class:`ApiCall`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from pyregistry.api.context import AccessHook, EventSink, NullEventSink, RequestContext
from pyregistry.api.routes import RouteMatch
from pyregistry.api.urls import UrlBuilder
from pyregistry.config.model import Config
from pyregistry.config.validation import ValidationPolicy
from pyregistry.storage import Registry, Repository

log = logging.getLogger("pyregistry.api")

#: Manifests larger than this are refused with 413 (the spec asks for at least 4 MiB).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
#: distribution's ``catalog.maxentries`` default, and its page size when ``n`` is absent.
DEFAULT_CATALOG_MAX_ENTRIES = 1000
DEFAULT_CATALOG_PAGE = 100


@dataclass
class ApiState:
    """Everything the handlers share for the lifetime of the app."""

    config: Config
    registry: Registry
    urls: UrlBuilder
    events: EventSink = field(default_factory=NullEventSink)
    access_hooks: list[AccessHook] = field(default_factory=list)
    max_manifest_size: int = MAX_MANIFEST_SIZE
    catalog_max_entries: int = DEFAULT_CATALOG_MAX_ENTRIES
    #: The config's ``validation`` rules for manifest pushes.
    validation: ValidationPolicy = field(default_factory=ValidationPolicy)


@dataclass
class ApiCall:
    """One routed request: the request, its route, its context and its repository."""

    request: Request
    state: ApiState
    route: RouteMatch
    context: RequestContext
    _repository: Repository | None = None

    @property
    def repository(self) -> Repository:
        """The repository the path names (only for repository-scoped endpoints)."""
        if self._repository is None:
            raise RuntimeError(f"endpoint {self.route.endpoint} has no repository")
        return self._repository

    @property
    def name(self) -> str:
        return self.repository.name

    @property
    def head(self) -> bool:
        return self.request.method == "HEAD"

    async def emit(self, event_kind: str, **details: Any) -> None:
        """Tell the event sink; a failing sink is logged, the request still succeeds."""
        try:
            await self.state.events.emit(event_kind, context=self.context, **details)
        except Exception:
            log.exception("event sink failed for %s", event_kind)
