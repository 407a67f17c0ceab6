"""Resident memory and CPU time of a server and its worker processes, from /proc.

Three measures: each process's VmHWM (the kernel's own high-water mark, which a sampler
cannot miss) gives the peak of the busiest single process; a sampler thread adds up
VmRSS over the whole process tree, and PSS (shared pages split between the processes
sharing them, so uvicorn's forked-from-the-same-image workers are not counted twice),
which is what the tree really costs the machine.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.05


def status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of /proc/PID/status, None when the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def pss_kib(pid: int) -> int | None:
    """Proportional set size from /proc/PID/smaps_rollup, None when unavailable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (uvicorn workers, their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


@dataclass
class RssReport:
    """Peaks in MiB: the tree's summed RSS (sampled) and the largest single VmHWM."""

    peak_tree_mib: float = 0.0
    peak_tree_pss_mib: float = 0.0
    peak_process_mib: float = 0.0
    processes: int = 0
    per_process_hwm_mib: dict[int, float] = field(default_factory=dict)


class RssSampler:
    """Samples a process tree's RSS in a background thread between start() and stop()."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.report = RssReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._pids: set[int] = set()

    def _sample(self) -> None:
        total = pss = 0
        for pid in process_tree(self.root_pid):
            self._pids.add(pid)
            total += status_kib(pid, "VmRSS") or 0
            pss += pss_kib(pid) or 0
        self.report.peak_tree_mib = max(self.report.peak_tree_mib, total / 1024)
        self.report.peak_tree_pss_mib = max(self.report.peak_tree_pss_mib, pss / 1024)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def start(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> RssReport:
        """Stop sampling and read every seen process's high-water mark (while it lives)."""
        self._stop.set()
        self._thread.join(5)
        self._sample()
        for pid in sorted(self._pids):
            hwm = status_kib(pid, "VmHWM")
            if hwm is not None:
                self.report.per_process_hwm_mib[pid] = hwm / 1024
        self.report.processes = len(self.report.per_process_hwm_mib)
        self.report.peak_process_mib = max(self.report.per_process_hwm_mib.values(), default=0.0)
        return self.report


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by ``root`` and its live descendants."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
