"""``http.timeouts`` and ``http.maxconnections``: the numbers the connection guard uses.

The default cap leaves headroom below the soft ``RLIMIT_NOFILE`` for storage files, Redis
and log handles: a registry out of file descriptors can serve nobody, while one that
closes its oldest idle connection keeps serving.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

from pyregistry.config.model import HTTPConfig

DEFAULT_HEADER_TIMEOUT = 30.0
DEFAULT_IDLE_TIMEOUT = 60.0
#: Bytes of request line and headers a request may send: Go's default (1 MiB, plus the 4 KiB
#: it reads past it), so any request distribution takes is taken; beyond it a client could
#: grow the parser's buffers until the header timeout.
MAX_HEADER_BYTES = (1 << 20) + 4096
#: Descriptors kept free for everything but client connections (at least this many).
MIN_HEADROOM = 64


@dataclass(frozen=True)
class ConnectionLimits:
    #: Seconds a client has to send a request's headers (from the connection, or from the
    #: first byte after a keep-alive pause).
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    #: Seconds a keep-alive connection may wait for its next request.
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    #: Open client connections per process; at the cap the oldest idle one is closed.
    max_connections: int = 0
    #: Bytes of request line and headers; more is answered 431 and the connection closed.
    max_header_bytes: int = MAX_HEADER_BYTES


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (as Go programs do at start); the
    resulting soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def default_max_connections(soft_limit: int) -> int:
    """The open-file limit minus a quarter (at least :data:`MIN_HEADROOM`) of headroom."""
    if soft_limit == resource.RLIM_INFINITY or soft_limit <= 0:
        soft_limit = 65536
    headroom = max(MIN_HEADROOM, soft_limit // 4)
    return max(1, soft_limit - headroom)


def limits_from_config(http: HTTPConfig) -> ConnectionLimits:
    """The configured limits; an unset cap follows this process's open-file limit."""
    cap = http.maxconnections or default_max_connections(raise_open_file_limit())
    return ConnectionLimits(
        header_timeout=http.timeouts_header_seconds or DEFAULT_HEADER_TIMEOUT,
        idle_timeout=http.timeouts_idle_seconds or DEFAULT_IDLE_TIMEOUT,
        max_connections=cap,
    )
