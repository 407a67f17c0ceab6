"""Small metadata reads on the event loop, while the filesystem answers them fast.

Handing a call to the thread pool costs about 60 µs of CPU (queue it, wake a worker,
hand the result back to the loop); reading a link file of 71 bytes or ``stat``-ing a
path whose metadata the kernel has cached costs about 20 µs in all. A manifest GET by
tag reads two links and a blob HEAD a link and a stat, so on a local filesystem the hops
were a quarter of their CPU. The driver therefore makes ``get_content`` of small files,
``stat``, the ``open`` of a streamed read and its reads of up to :data:`INLINE_MAX_BYTES`
directly on the loop - as long as they stay fast. Each one slower than
:data:`SLOW_SECONDS` adds its time to a debt that halves every second; once the debt
passes :data:`DEBT_LIMIT_SECONDS` (a cold disk, a network filesystem, one hung call) every
such call goes back to the thread pool for :data:`BACKOFF_SECONDS`, then the loop tries
again. Only calls during which the thread slept count (its voluntary context switches,
from ``getrusage``): a call the scheduler merely preempted on a busy machine was not
waiting for the filesystem and does not move the reads.
Writes, listings, walks, moves, deletes and big reads always run on the pool, and
``inlinereads: false`` keeps the small reads there too.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable

from storage_drivers.filesystem.ops import open_regular, os_errors
from storage_drivers.filesystem.root import Root

#: Files up to this size are read whole on the loop (links, most manifests).
INLINE_MAX_BYTES = 64 * 1024
#: An inline call slower than this counts against the loop.
SLOW_SECONDS = 0.002
#: Slow time (halving every second) after which the small reads go back to the pool.
DEBT_LIMIT_SECONDS = 0.010
DEBT_HALF_LIFE_SECONDS = 1.0
#: How long they stay there.
BACKOFF_SECONDS = 5.0


def thread_sleeps() -> int:
    """How often this thread has blocked so far (where the OS says; else always more)."""
    if _RUSAGE_THREAD is None:
        return time.perf_counter_ns()
    return resource.getrusage(_RUSAGE_THREAD).ru_nvcsw


_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)


class InlineGate:
    """Whether small reads may run on the loop now, learnt from how long they took."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        slow_seconds: float = SLOW_SECONDS,
        debt_limit_seconds: float = DEBT_LIMIT_SECONDS,
        backoff_seconds: float = BACKOFF_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
        sleeps: Callable[[], int] = thread_sleeps,
    ) -> None:
        self.enabled = enabled
        self.slow_seconds = slow_seconds
        self.debt_limit_seconds = debt_limit_seconds
        self.backoff_seconds = backoff_seconds
        self.clock = clock
        self.sleeps = sleeps
        self._pool_until = 0.0
        self._debt = 0.0
        self._debt_at = 0.0

    def open(self) -> bool:
        return self.enabled and self.clock() >= self._pool_until

    def start(self) -> tuple[float, int]:
        """Mark the start of an inline call (hand the mark to :meth:`took`)."""
        return self.clock(), self.sleeps()

    def took(self, mark: tuple[float, int]) -> None:
        """Record an inline call that began at ``mark``."""
        now = self.clock()
        elapsed = now - mark[0]
        if elapsed <= self.slow_seconds or self.sleeps() == mark[1]:
            return  # fast, or only preempted
        decay = 0.5 ** ((now - self._debt_at) / DEBT_HALF_LIFE_SECONDS)
        self._debt = self._debt * decay + elapsed
        self._debt_at = now
        if self._debt > self.debt_limit_seconds:
            self._pool_until = now + self.backoff_seconds
            self._debt = 0.0


def read_small(root: Root, path: str, limit: int = INLINE_MAX_BYTES) -> bytes | None:
    """The whole file if it holds at most ``limit`` bytes, else None (read it elsewhere)."""
    with os_errors(path):
        fd, size = open_regular(path, root.resolve(path))
        try:
            if size > limit:
                return None
            parts: list[bytes] = []
            while chunk := os.read(fd, max(size, 4096)):
                parts.append(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)
