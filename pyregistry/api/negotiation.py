"""Manifest content negotiation.

Clients send ``Accept`` as several header lines (containers/image, docker: six of them,
in any order) or one comma-separated line, sometimes with ``*/*``; all lines count.
Like distribution for OCI and schema2 content we never refuse (no 406) and never convert:
the stored manifest is served with its own media type as ``Content-Type``. What the client
accepted is still worked out, so a mismatch shows in the debug log.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

log = logging.getLogger("pyregistry.api")


def accepted_media_types(request: Request) -> list[str]:
    """Every media type named in every ``Accept`` line, without parameters, lower-cased."""
    types: list[str] = []
    for line in request.headers.getlist("accept"):
        for item in line.split(","):
            media_type = item.split(";", 1)[0].strip().lower()
            if media_type:
                types.append(media_type)
    return types


def is_acceptable(media_type: str, accepted: list[str]) -> bool:
    """True when ``accepted`` is empty, has ``*/*``, the type itself or its ``major/*``."""
    if not accepted:
        return True
    media_type = media_type.lower()
    major = media_type.split("/", 1)[0]
    return any(a in ("*/*", media_type, f"{major}/*") for a in accepted)


def manifest_content_type(request: Request, stored_media_type: str) -> str:
    """The ``Content-Type`` to serve a stored manifest with: always its own media type."""
    accepted = accepted_media_types(request)
    if not is_acceptable(stored_media_type, accepted):
        log.debug("serving %s although the client accepts only %s", stored_media_type, accepted)
    return stored_media_type
