"""The OCI distribution HTTP API (``/v2/...``) over Starlette.

Handlers live one concept per module (``blobs``, ``uploads``, ``manifests``, ``tags``,
``catalog``, ``referrers``); ``dispatch`` routes to them; ``context`` holds the extension
points auth and notifications use. The app itself is built by :func:`pyregistry.app.create_app`.
"""

from pyregistry.api.context import (
    AccessHook,
    EventSink,
    FanOutEventSink,
    NullEventSink,
    RequestContext,
)
from pyregistry.api.errors import ApiError, TooManyRequests, Unauthorized

__all__ = [
    "AccessHook",
    "ApiError",
    "EventSink",
    "FanOutEventSink",
    "NullEventSink",
    "RequestContext",
    "TooManyRequests",
    "Unauthorized",
]
