"""Where a pull's CPU goes: the client's, the upstream's and the serving process's, per
MiB, from /proc and ``getrusage``.

On loopback every process of a pull shares the machine's cores, so a rate says as much
about the machine as about the server. The CPU says what a rate could be with every core
busy: ``cores x 1000 / total ms per MiB``. (Not what it could be with cores to spare: a
serial stage, such as a writer's batches, moves between the threads of a pool, and
Python before 3.14 does not name its threads for /proc, so the stages cannot be told
apart from outside.)
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

from bench.rss import tree_cpu_seconds


def own_cpu_seconds() -> float:
    """This process's user + system CPU seconds (the client's, in a bench)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Budget:
    """One pull's CPU in ms per MiB: the client's, the upstream's (0 for a pull that
    does not reach an upstream) and the server's."""

    client: float
    upstream: float
    server: float

    @property
    def total(self) -> float:
        return self.client + self.upstream + self.server

    def all_cores_busy(self, cores: int) -> float:
        """The MiB/s at which ``cores`` cores would all be busy with this pull."""
        return cores * 1000 / self.total if self.total else 0.0


class Meter:
    """CPU of a pull, from :meth:`start` to :meth:`stop`, of the client (this process),
    the server at ``server_pid`` and the upstream at ``upstream_pid`` (if any), each
    with its child processes."""

    def __init__(self, server_pid: int, upstream_pid: int | None = None) -> None:
        self._server = server_pid
        self._upstream = upstream_pid
        self._started = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        upstream = 0.0 if self._upstream is None else tree_cpu_seconds(self._upstream)
        return own_cpu_seconds(), upstream, tree_cpu_seconds(self._server)

    def start(self) -> Meter:
        self._started = self._now()
        return self

    @property
    def server_started(self) -> float:
        """The server's CPU seconds at :meth:`start` (for a caller that counts on)."""
        return self._started[2]

    def stop(self, mib: float) -> Budget:
        spent = [now - then for now, then in zip(self._now(), self._started, strict=True)]
        client, upstream, server = (1000 * seconds / mib for seconds in spent)
        return Budget(client, upstream, server)
