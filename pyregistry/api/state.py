"""What handlers get: the app-wide :class:`ApiState` and the per-request :class:`ApiCall`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from starlette.requests import Request

from pyregistry.api.context import AccessHook, RequestContext
from pyregistry.api.routes import RouteMatch
from pyregistry.api.urls import UrlBuilder
from pyregistry.config.model import Config
from pyregistry.storage.interfaces import Namespace, RepositoryService
from pyregistry.storage.policy import MAX_MANIFEST_SIZE

log = logging.getLogger("pyregistry.api")
#: distribution's ``catalog.maxentries`` default, and its page size when ``n`` is absent.
DEFAULT_CATALOG_MAX_ENTRIES = 1000
DEFAULT_CATALOG_PAGE = 100


@dataclass
class ApiState:
    """Everything the handlers share for the lifetime of the app."""

    config: Config
    #: The storage namespace (wrapped for events; the API sees only the Protocol).
    registry: Namespace
    urls: UrlBuilder
    access_hooks: list[AccessHook] = field(default_factory=list)
    #: How much of a manifest body is read at most (the storage policy checks the limit).
    max_manifest_size: int = MAX_MANIFEST_SIZE
    catalog_max_entries: int = DEFAULT_CATALOG_MAX_ENTRIES


@dataclass
class ApiCall:
    """One routed request: the request, its route, its context and its repository."""

    request: Request
    state: ApiState
    route: RouteMatch
    context: RequestContext
    _repository: RepositoryService | None = None

    @property
    def repository(self) -> RepositoryService:
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
