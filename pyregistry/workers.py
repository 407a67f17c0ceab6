"""How many worker processes ``pyregistry serve`` runs: every core it may use, by default.

distribution uses every core (Go schedules goroutines on all of them); a Python process
runs its code on one, so pyregistry forks one worker per usable core. Usable means the
CPUs this process may run on (``taskset``, cpusets) and, inside a container, the cgroup's
CPU quota rounded up, whichever is smaller. ``--workers`` and ``$PYREGISTRY_WORKERS``
override it.
"""

from __future__ import annotations

import math
import os

#: cgroup v2's CPU limit: ``"<quota> <period>"`` or ``"max <period>"``.
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def usable_cpus() -> int:
    """CPUs this process may run on (at least 1)."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        count = counter()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, count or 1)


def cgroup_cpu_limit(path: str = CGROUP_CPU_MAX) -> int | None:
    """The container's CPU quota in whole CPUs (rounded up), None when unlimited/unknown."""
    try:
        with open(path, encoding="ascii") as handle:
            quota, _, period = handle.read().strip().partition(" ")
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period or "100000")))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def default_workers() -> int:
    """One worker per usable core."""
    limit = cgroup_cpu_limit()
    cpus = usable_cpus()
    return min(cpus, limit) if limit is not None else cpus
