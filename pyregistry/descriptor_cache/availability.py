"""Whether the cache's Redis is worth asking right now, and saying so once in the log.

While Redis is down every request would otherwise pay a connection attempt and log a
line. Instead the first failure logs one warning and opens a quiet period; during it the
cache answers "miss" without touching the network. After the period one request probes
Redis again (the others keep skipping it); success logs one info line and closes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_RETRY_INTERVAL = 2.0

log = logging.getLogger("pyregistry.descriptor_cache")


class Availability:
    """A small circuit breaker with log-once transitions."""

    def __init__(
        self,
        what: str,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.retry_interval = retry_interval
        self._clock = clock
        self._down = False
        self._next_attempt = 0.0
        self.last_error: str | None = None

    @property
    def down(self) -> bool:
        return self._down

    def should_try(self) -> bool:
        """True when a call may go to Redis; while down, True for one caller per period."""
        if not self._down:
            return True
        now = self._clock()
        if now < self._next_attempt:
            return False
        self._next_attempt = now + self.retry_interval  # this caller is the probe
        return True

    def failed(self, error: BaseException) -> None:
        """A call could not reach Redis: warn on the transition only, then stay quiet."""
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self.last_error = message
        self._next_attempt = self._clock() + self.retry_interval
        if self._down:
            return
        self._down = True
        log.warning(
            f"{self.what} is unavailable ({message}); serving blob descriptors from storage "
            f"and retrying every {self.retry_interval:g}s"
        )

    def succeeded(self) -> None:
        """A call reached Redis: if it had been down, say once that it is back."""
        if not self._down:
            return
        self._down = False
        self.last_error = None
        log.info(f"{self.what} is reachable again; using the cache")
