"""Where a pull's CPU goes: the client's, the upstream's and the serving process's, per
MiB, and the busiest single thread among them, from /proc and ``getrusage``.

On loopback every process of a pull shares the machine's cores, so a rate says as much
about the machine as about the server. Two figures derived from the CPU say what a rate
could be: with every core busy (``cores x 1000 / total ms per MiB``), and with cores to
spare, where the busiest thread of the chain sets the pace (``1000 / its ms per MiB``).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from bench.rss import process_tree


def thread_cpu_seconds(root: int) -> dict[int, float]:
    """User + system CPU seconds of every thread of ``root``'s process tree, by thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    threads: dict[int, float] = {}
    for pid in process_tree(root):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            threads[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return threads


def own_cpu_seconds() -> float:
    """This process's user + system CPU seconds (the client's, in a bench)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Budget:
    """One pull's CPU in ms per MiB: the client's, the upstream's (0 for a pull that
    does not reach an upstream), the server's, and the busiest thread's among all three."""

    client: float
    upstream: float
    server: float
    busiest_thread: float

    @property
    def total(self) -> float:
        return self.client + self.upstream + self.server

    def all_cores_busy(self, cores: int) -> float:
        """The MiB/s at which ``cores`` cores would all be busy with this pull."""
        return cores * 1000 / self.total if self.total else 0.0

    def cores_to_spare(self) -> float:
        """The MiB/s the busiest thread allows, where no thread waits for a core."""
        return 1000 / self.busiest_thread if self.busiest_thread else 0.0


class Meter:
    """CPU of a pull, from :meth:`start` to :meth:`stop`, of the client (this process),
    the server at ``server_pid`` and the upstream at ``upstream_pid`` (if any)."""

    def __init__(self, server_pid: int, upstream_pid: int | None = None) -> None:
        self._pids = (server_pid,) if upstream_pid is None else (server_pid, upstream_pid)
        self._client = 0.0
        self._threads: list[dict[int, float]] = []

    def start(self) -> Meter:
        self._threads = [thread_cpu_seconds(pid) for pid in self._pids]
        self._client = own_cpu_seconds()
        return self

    def stop(self, mib: float) -> Budget:
        client = own_cpu_seconds() - self._client
        spent = []
        for pid, before in zip(self._pids, self._threads, strict=True):
            after = thread_cpu_seconds(pid)
            spent.append({tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()})
        busiest = max([client] + [max(used.values(), default=0.0) for used in spent])
        server = sum(spent[0].values())
        upstream = sum(spent[1].values()) if len(spent) > 1 else 0.0
        per_mib = 1000 / mib
        return Budget(client * per_mib, upstream * per_mib, server * per_mib, busiest * per_mib)
