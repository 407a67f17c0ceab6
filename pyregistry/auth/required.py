"""What access an API request needs, decided from its method and path as distribution
does: GET/HEAD need ``pull``; POST/PUT/PATCH need ``pull`` and ``push``; DELETE needs
``delete``; ``?from=`` (a cross-repository mount) also needs ``pull`` on the source;
``/v2/_catalog`` needs ``registry:catalog:*``; ``/v2/`` needs only valid credentials.

The path is split by the API's own router (:func:`pyregistry.api.routes.parse_api_path`)
so that auth and the handlers can never disagree on which repository a path names.

Names are checked against the scope grammar before any challenge is built: a challenge
echoes the name in ``WWW-Authenticate``, and a name holding a control or non-ASCII
character cannot go in a header. An invalid repository name is NAME_INVALID (raised here,
answered by the middleware); an invalid ``from`` only drops the mount source, as the API
does, so the request becomes a plain upload.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.api.context import BASE, UPLOAD_START
from pyregistry.api.context import CATALOG as CATALOG_ENDPOINT
from pyregistry.api.routes import RouteMatch, parse_api_path
from pyregistry.auth.access import (
    ANY_ACTION,
    CATALOG,
    DELETE,
    PULL,
    PUSH,
    REGISTRY,
    REPOSITORY,
    Access,
)
from pyregistry.auth.scopes import valid_resource_name
from pyregistry.storage.errors import NameInvalid


@dataclass(frozen=True)
class ApiRequest:
    """An API path, once matched: its route and the access it needs."""

    route: RouteMatch
    required: tuple[Access, ...]
    #: ``pull`` on a mount's ``from`` repository: asked for in the challenge (so clients
    #: fetch a token for it) but not required - without it the mount becomes a plain
    #: upload (202), as the spec allows.
    mount_source: Access | None = None

    @property
    def wanted(self) -> tuple[Access, ...]:
        """Everything a challenge should name: the required access and the mount source."""
        return self.required + ((self.mount_source,) if self.mount_source else ())


def actions_for_method(method: str) -> tuple[str, ...]:
    if method in ("GET", "HEAD"):
        return (PULL,)
    if method in ("POST", "PUT", "PATCH"):
        return (PULL, PUSH)
    if method == "DELETE":
        return (DELETE,)
    return (PULL, PUSH)  # anything else is refused by the API; ask for the most


def required_access(
    method: str, path: str, prefix: str, mount_from: str | None = None
) -> ApiRequest | None:
    """The access ``method path`` needs; None when the path is not an API endpoint
    (the API answers those 404 itself, as distribution's router does)."""
    v2 = f"{prefix}/v2"
    if not path.startswith(v2):
        return None
    route = parse_api_path(path[len(v2) :])
    if route is None:
        return None
    if route.endpoint == BASE:
        return ApiRequest(route, ())
    if route.endpoint == CATALOG_ENDPOINT:
        return ApiRequest(route, (Access(REGISTRY, CATALOG, ANY_ACTION),))
    if route.name is None:
        return None
    if not valid_resource_name(route.name):
        raise NameInvalid("invalid repository name", detail={"name": route.name})
    required = tuple(Access(REPOSITORY, route.name, a) for a in actions_for_method(method))
    if mount_from and route.endpoint == UPLOAD_START and valid_resource_name(mount_from):
        return ApiRequest(route, required, Access(REPOSITORY, mount_from, PULL))
    return ApiRequest(route, required)
