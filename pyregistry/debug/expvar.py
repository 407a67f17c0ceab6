"""``/debug/vars``: a place where features publish live values, like Go's expvar.

Notifications publish their endpoint counters, Redis its pool, the proxy its
statistics: ``publish("registry.notifications", lambda: {...})``. Dotted names nest.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

_published: dict[str, Callable[[], Any]] = {}
_started = time.time()


def publish(name: str, value: Callable[[], Any]) -> None:
    """Show ``value()`` (JSON-serialisable) under ``name`` in ``/debug/vars``."""
    _published[name] = value


def unpublish(name: str) -> None:
    _published.pop(name, None)


def snapshot() -> dict[str, Any]:
    """Everything published, evaluated now, plus the process basics."""
    out: dict[str, Any] = {
        "cmdline": list(sys.argv),
        "process": {
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - _started, 3),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        },
    }
    for name, value in sorted(_published.items()):
        try:
            result = value()
        except Exception as exc:  # noqa: BLE001 - one broken publisher must not hide the rest
            result = {"error": str(exc)}
        *parents, leaf = name.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = result
    return out
