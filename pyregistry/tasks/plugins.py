"""Jobs from installed packages: the ``pyregistry.jobs`` entry-point group.

Each entry point names ``register(scheduler, config)``, which calls ``scheduler.every``
for the jobs it brings. A plugin that fails to load or register is logged and left out:
a broken extra must not keep the registry from serving.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from pyregistry.config.model import Config
from pyregistry.tasks.scheduler import Scheduler

GROUP = "pyregistry.jobs"

log = logging.getLogger("pyregistry.tasks")


def register_plugin_jobs(scheduler: Scheduler, config: Config) -> None:
    for entry in entry_points(group=GROUP):
        try:
            entry.load()(scheduler, config)
        except Exception:
            log.exception(f"job plugin {entry.name} ({entry.value}) could not be registered")
