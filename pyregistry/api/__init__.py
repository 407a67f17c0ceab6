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
from pyregistry.api.errors import TooManyRequests, Unauthorized
from pyregistry.errcode import RegistryError

__all__ = [
    "AccessHook",
    "EventSink",
    "FanOutEventSink",
    "NullEventSink",
    "RegistryError",
    "RequestContext",
    "TooManyRequests",
    "Unauthorized",
]
