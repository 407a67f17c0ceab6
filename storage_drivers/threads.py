"""A bounded thread pool for blocking I/O, so a driver never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ThreadRunner:
    """Runs blocking calls on at most ``max_threads`` threads (created on first use).

    The pool is independent of any event loop, so one driver can serve several loops
    (tests create one per test); ``close`` releases the threads and a later call simply
    starts a new pool.
    """

    def __init__(self, max_threads: int, name: str) -> None:
        self.max_threads = max_threads
        self._name = name
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.start(fn, *args, **kwargs)

    def start(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """``run`` without waiting: the call's future, for a caller that overlaps it with
        its own work (a writer receiving the next piece while the last one is written)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_threads, thread_name_prefix=self._name)
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
