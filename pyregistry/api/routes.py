"""Which endpoint a ``/v2/...`` path names, parsed from the right.

Repository names contain slashes, so no path-matching framework can tell where a name
ends; the fixed tail of each endpoint (``/blobs/<digest>``, ``/manifests/<ref>``,
``/tags/list`` ...) is matched at the end of the path and everything before it is the
name. Names are validated later, by the storage layer (NAME_INVALID).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def actions_for(endpoint: str, method: str) -> tuple[str, ...]:
    """The access a request needs, in distribution's terms (pull, push, delete, ``*``)."""
    if endpoint == BASE:
        return ()
    if endpoint == CATALOG:
        return ("*",)
    if method in ("GET", "HEAD"):
        return ("pull",)
    if method == "DELETE" and endpoint in (MANIFEST, BLOB):
        return ("delete",)
    return ("pull", "push")
