"""A job plugin for the two-instance tests, installed into a temporary directory.

:func:`install` writes this module and a ``dist-info`` declaring it in the
``pyregistry.jobs`` entry-point group, so a real ``pyregistry serve`` with that directory
on ``PYTHONPATH`` registers the job exactly as an installed package would. Every run
appends ``start``/``end`` lines (pid, wall-clock time, fence) to a shared file.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

JOB = "overlap-probe"
LOG_ENV = "PYREGISTRY_PROBE_LOG"
TTL_ENV = "PYREGISTRY_PROBE_TTL"
#: How long one run takes: long enough that two overlapping runs would show.
RUN_SECONDS = 0.3


def _record(event: str, fence: int) -> None:
    with open(os.environ[LOG_ENV], "a") as log:
        log.write(f"{event} {os.getpid()} {time.time():.6f} {fence}\n")


def register(scheduler: Any, config: Any) -> None:
    async def probe(run: Any) -> None:
        _record("start", run.fence)
        await asyncio.sleep(RUN_SECONDS)
        _record("end", run.fence)

    ttl = float(os.environ[TTL_ENV])
    scheduler.every(JOB, 0.05, probe, first_delay=0, lease_ttl=ttl)


def install(directory: Path) -> Path:
    """This module as the package ``probe_job`` with its entry point, under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "probe_job.py").write_text(Path(__file__).read_text())
    info = directory / "probe_job-0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-job\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[pyregistry.jobs]\nprobe = probe_job:register\n")
    return directory
