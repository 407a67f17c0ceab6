"""How many worker processes ``pyregistry serve`` runs: every core it may use, by default.

distribution uses every core (Go schedules goroutines on all of them); a Python process
runs its code on one, so pyregistry forks one worker per usable core. Usable means the
CPUs this process may run on (``taskset``, cpusets) and, inside a container, the cgroup's
CPU quota rounded up, whichever is smaller. ``--workers`` and ``$PYREGISTRY_WORKERS``
override it.
"""

from __future__ import annotations

from storage_drivers.cpus import cgroup_cpu_limit, usable_cores, usable_cpus

__all__ = ["cgroup_cpu_limit", "default_workers", "usable_cpus"]


def default_workers() -> int:
    """One worker per usable core (:func:`storage_drivers.cpus.usable_cores`)."""
    return usable_cores()
