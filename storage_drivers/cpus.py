"""The CPUs this process may use: those it may run on (``taskset``, cpusets) and, inside a
container, the cgroup's CPU quota rounded up, whichever is smaller.

Two decisions rest on it: how many worker processes ``pyregistry serve`` runs
(:mod:`pyregistry.workers`), and whether the filesystem writer hashes big batches on a
thread of their own (:mod:`storage_drivers.filesystem.taps`). A container limited to two
CPUs on a big host sees every host CPU in its affinity, so the quota must count too.
"""

from __future__ import annotations

import math
import os

#: cgroup v2's CPU limit: ``"<quota> <period>"`` or ``"max <period>"``.
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"
#: cgroup v1's: the quota (-1: none) and the period, in microseconds.
CGROUP_V1_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
CGROUP_V1_PERIOD = "/sys/fs/cgroup/cpu/cpu.cfs_period_us"


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


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return None


def _whole_cpus(quota: str, period: str) -> int | None:
    try:
        value, length = int(quota), int(period or "100000")
    except ValueError:
        return None
    if value <= 0 or length <= 0:
        return None
    return max(1, math.ceil(value / length))


def cgroup_cpu_limit(
    path: str = CGROUP_CPU_MAX,
    v1_quota: str = CGROUP_V1_QUOTA,
    v1_period: str = CGROUP_V1_PERIOD,
) -> int | None:
    """The container's CPU quota in whole CPUs (rounded up), None when unlimited/unknown."""
    text = _read(path)
    if text is not None:
        quota, _, period = text.partition(" ")
        return None if quota == "max" else _whole_cpus(quota, period)
    quota_v1, period_v1 = _read(v1_quota), _read(v1_period)
    if quota_v1 is None or period_v1 is None:
        return None
    return _whole_cpus(quota_v1, period_v1)  # -1: no quota


def usable_cores() -> int:
    """The CPUs this process may run on, capped by the container's quota (at least 1)."""
    limit = cgroup_cpu_limit()
    cpus = usable_cpus()
    return min(cpus, limit) if limit is not None else cpus
