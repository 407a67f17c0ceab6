"""Which HTTP parser and event loop the registry runs on: the fast ones when installed.

httptools (llhttp, in C) parses requests and uvloop (libuv) runs the event loop; together
they double the small-request rate of the pure-Python pair, h11 and asyncio's own loop.
Both come with ``uvicorn[standard]``; where either cannot be imported (a platform without
wheels, a trimmed install) the pure-Python one serves instead, with the same behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def http_implementation() -> str:
    """uvicorn's ``http`` setting: ``httptools`` when it imports, else ``h11``."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def loop_implementation() -> str:
    """uvicorn's ``loop`` setting: ``uvloop`` when it imports, else ``asyncio``."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A new uvloop loop, or None for asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def describe() -> str:
    """For the start-up log line."""
    return f"HTTP parser {http_implementation()}, event loop {loop_implementation()}"
