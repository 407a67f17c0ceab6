"""Until when this process trusts each cached tag without asking how old it is.

A mirrored tag is trusted for its upstream's tag ``ttl`` from when its link was last
written (the last upstream check that moved or refreshed it). Its age costs a ``stat`` of
the link on top of the read a local pull makes; this process remembers instead until
when the tag is trusted, so a warm pull by tag reads the link alone, as a local pull
does. The link is still read on every pull, so a tag that another process or instance
moved is seen at once; a remembered time can only be early (a later check rewrites the
link, never an earlier one), which costs one more ``stat``, never a stale answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Tags remembered per process; past this many, all are forgotten (each costs one stat).
MEMO_TAGS = 65536


class TagChecks:
    """Monotonic deadlines by (repository, tag)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = MEMO_TAGS) -> None:
        self._clock = clock
        self._limit = limit
        self._until: dict[tuple[str, str], float] = {}

    def trusted(self, repository: str, tag: str) -> bool:
        return self._until.get((repository, tag), 0.0) > self._clock()

    def trust(self, repository: str, tag: str, seconds: float) -> None:
        """Trust the tag's link for ``seconds`` from now."""
        if len(self._until) >= self._limit:
            self._until.clear()
        self._until[(repository, tag)] = self._clock() + seconds

    def forget(self, repository: str, tag: str) -> None:
        self._until.pop((repository, tag), None)
