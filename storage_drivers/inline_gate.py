"""When a blocking call may run on the event loop instead of a thread: while it is fast.

Handing a call to a thread pool costs tens of microseconds of CPU (queue it, wake a
worker, hand the result back to the loop), more than many small reads take. A
:class:`InlineGate` lets such reads run on the loop and watches them: each one slower
than ``slow_seconds`` adds its time to a debt that halves every second; once the debt
passes ``debt_limit_seconds`` (a cold disk, a network filesystem, a lock held elsewhere)
every call goes back to the pool for ``backoff_seconds``, then the loop tries again.
Only calls during which the thread slept count (its voluntary context switches, from
``getrusage``): a call the scheduler merely preempted on a busy machine was not waiting.
And the debt closes the loop only while most recent calls are slow (their share, a
moving average over calls, above :data:`SLOW_SHARE_LIMIT`): a slow filesystem slows
every call, whereas a busy process slows a few, which gave up the GIL for their system
call and then slept waiting for it while the pool's threads (writing a push's files)
held it. Without that, a 16-pusher workload kept every small read on the pool.
Used by the filesystem driver's small reads and the SQLite metadata index's reads.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

#: An inline call slower than this counts against the loop.
SLOW_SECONDS = 0.002
#: Slow time (halving every second) after which the small reads go back to the pool.
DEBT_LIMIT_SECONDS = 0.010
DEBT_HALF_LIFE_SECONDS = 1.0
#: How long they stay there.
BACKOFF_SECONDS = 5.0
#: The share of slow calls (moving average, each call weighing this much) it takes too.
SLOW_SHARE_LIMIT = 0.5
SLOW_SHARE_WEIGHT = 1 / 16


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
        slow_share_limit: float = SLOW_SHARE_LIMIT,
        clock: Callable[[], float] = time.perf_counter,
        sleeps: Callable[[], int] = thread_sleeps,
    ) -> None:
        self.enabled = enabled
        self.slow_seconds = slow_seconds
        self.debt_limit_seconds = debt_limit_seconds
        self.backoff_seconds = backoff_seconds
        self.slow_share_limit = slow_share_limit
        self.clock = clock
        self.sleeps = sleeps
        self._pool_until = 0.0
        self._debt = 0.0
        self._debt_at = 0.0
        self._slow_share = 0.0

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
            self._slow_share -= self._slow_share * SLOW_SHARE_WEIGHT
            return  # fast, or only preempted
        self._slow_share += (1.0 - self._slow_share) * SLOW_SHARE_WEIGHT
        decay = 0.5 ** ((now - self._debt_at) / DEBT_HALF_LIFE_SECONDS)
        self._debt = self._debt * decay + elapsed
        self._debt_at = now
        if self._debt > self.debt_limit_seconds and self._slow_share > self.slow_share_limit:
            self._pool_until = now + self.backoff_seconds
            self._debt = 0.0
