"""Which endpoint a ``/v2/...`` path names, parsed from the right.

Repository names contain slashes, so no path-matching framework can tell where a name
ends; the fixed tail of each endpoint (``/blobs/<digest>``, ``/manifests/<ref>``,
``/tags/list`` ...) is matched at the end of the path and everything before it is the
name. Names are validated later, by the storage layer (NAME_INVALID).

:func:`required_access` says what a matched route needs; the dispatcher computes it once
per request for the request context, where auth (an access hook) enforces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyregistry.api.access import (
    ANY_ACTION,
    DELETE,
    PULL,
    PUSH,
    REGISTRY,
    REPOSITORY,
    Access,
    RequiredAccess,
)
from pyregistry.api.access import CATALOG as CATALOG_RESOURCE
from pyregistry.api.context import (
    BASE,
    BLOB,
    CATALOG,
    MANIFEST,
    REFERRERS,
    TAGS,
    UPLOAD,
    UPLOAD_START,
)
from pyregistry.storage.errors import NameInvalid
from pyregistry.storage.names import check_name


@dataclass(frozen=True, slots=True)
class RouteMatch:
    endpoint: str
    name: str | None = None
    reference: str | None = None


# Order matters only for "uploads" without a trailing slash, which would otherwise read as
# a blob whose digest is "uploads". Patterns match the whole path (``fullmatch``: ``$``
# would accept a trailing newline) and ``.`` matches control characters too (DOTALL), so a
# name holding one reaches the name check and is answered NAME_INVALID, not a 404.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (UPLOAD_START, re.compile(r"(?P<name>.+)/blobs/uploads/?", re.DOTALL)),
    (UPLOAD, re.compile(r"(?P<name>.+)/blobs/uploads/(?P<ref>[^/]+)", re.DOTALL)),
    (BLOB, re.compile(r"(?P<name>.+)/blobs/(?P<ref>[^/]+)", re.DOTALL)),
    (MANIFEST, re.compile(r"(?P<name>.+)/manifests/(?P<ref>[^/]+)", re.DOTALL)),
    (TAGS, re.compile(r"(?P<name>.+)/tags/list/?", re.DOTALL)),
    (REFERRERS, re.compile(r"(?P<name>.+)/referrers/(?P<ref>[^/]+)", re.DOTALL)),
]

#: Methods each endpoint answers; GET implies HEAD.
METHODS: dict[str, frozenset[str]] = {
    BASE: frozenset({"GET", "HEAD"}),
    CATALOG: frozenset({"GET", "HEAD"}),
    TAGS: frozenset({"GET", "HEAD"}),
    MANIFEST: frozenset({"GET", "HEAD", "PUT", "DELETE"}),
    BLOB: frozenset({"GET", "HEAD", "DELETE"}),
    UPLOAD_START: frozenset({"POST"}),
    UPLOAD: frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"}),
    REFERRERS: frozenset({"GET", "HEAD"}),
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_api_path(rest: str) -> RouteMatch | None:
    """Parse the part of the path after ``/v2``; None when no endpoint matches."""
    if rest in ("", "/"):
        return RouteMatch(BASE)
    if not rest.startswith("/"):
        return None
    rest = rest[1:]
    if rest.rstrip("/") == "_catalog":
        return RouteMatch(CATALOG)
    for endpoint, pattern in _PATTERNS:
        m = pattern.fullmatch(rest)
        if m:
            groups = m.groupdict()
            return RouteMatch(endpoint, groups["name"], groups.get("ref"))
    return None


def actions_for_method(method: str) -> tuple[str, ...]:
    """Distribution's rule (``appendAccessRecords`` in its ``registry/handlers/app.go``):
    the method alone decides, so cancelling an upload (DELETE) needs ``delete``."""
    if method in ("GET", "HEAD"):
        return (PULL,)
    if method == "DELETE":
        return (DELETE,)
    return (PULL, PUSH)  # POST, PUT, PATCH; any other method is refused later: ask the most


def _valid_name(name: str) -> bool:
    """An invalid ``from`` only drops the mount source (the request becomes a plain
    upload), and must never reach a challenge header."""
    try:
        check_name(name)
    except NameInvalid:
        return False
    return True


def required_access(
    route: RouteMatch, method: str, mount_from: str | None = None
) -> RequiredAccess:
    """The access ``method`` on ``route`` needs: nothing but valid credentials for ``/v2/``,
    ``registry:catalog:*`` for the catalog, else actions on the repository; a blob mount
    (``from``) also asks for ``pull`` on its source."""
    if route.endpoint == BASE:
        return RequiredAccess()
    if route.endpoint == CATALOG:
        return RequiredAccess((Access(REGISTRY, CATALOG_RESOURCE, ANY_ACTION),))
    name = route.name or ""  # every other endpoint names a repository
    required = tuple(Access(REPOSITORY, name, a) for a in actions_for_method(method))
    if mount_from and route.endpoint == UPLOAD_START and _valid_name(mount_from):
        return RequiredAccess(required, Access(REPOSITORY, mount_from, PULL))
    return RequiredAccess(required)
