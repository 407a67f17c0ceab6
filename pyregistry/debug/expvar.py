"""``/debug/vars``: a place where features publish live values, like Go's expvar.

Notifications publish their endpoint counters, Redis its pool, the proxy its
statistics: ``publish("registry.notifications", lambda: {...})``. Dotted names nest.
A value that must be read from somewhere shared (storage), so that it is right whatever
process answers, is published with ``publish_async``; the endpoint awaits it, and it
takes the place of a plain value of the same name.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

_published: dict[str, Callable[[], Any]] = {}
_published_async: dict[str, Callable[[], Awaitable[Any]]] = {}
_started = time.time()


def publish(name: str, value: Callable[[], Any]) -> None:
    """Show ``value()`` (JSON-serialisable) under ``name`` in ``/debug/vars``."""
    _published[name] = value


def publish_async(name: str, value: Callable[[], Awaitable[Any]]) -> None:
    """Show ``await value()`` under ``name`` in ``/debug/vars`` (see :func:`snapshot_async`)."""
    _published_async[name] = value


def unpublish(name: str) -> None:
    _published.pop(name, None)
    _published_async.pop(name, None)


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
        _place(out, name, result)
    return out


async def snapshot_async() -> dict[str, Any]:
    """:func:`snapshot`, with the values published by :func:`publish_async` awaited."""
    out = snapshot()
    for name, value in sorted(_published_async.items()):
        try:
            result = await value()
        except Exception as exc:  # noqa: BLE001 - one broken publisher must not hide the rest
            result = {"error": str(exc)}
        _place(out, name, result)
    return out


def _place(out: dict[str, Any], name: str, result: Any) -> None:
    *parents, leaf = name.split(".")
    node = out
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = result
