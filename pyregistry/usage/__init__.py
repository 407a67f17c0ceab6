"""Storage usage: bytes per repository, per project and for the whole registry.

:mod:`~pyregistry.usage.measure` walks the store (one listing of the blob store, one of
each repository's links); :mod:`~pyregistry.usage.gauges` publishes the last figures as
Prometheus gauges, refreshed by the online collector; ``pyregistry du`` prints them.
"""

from pyregistry.usage.measure import ProjectUsage, RepositoryUsage, Usage, measure, project_of

__all__ = ["ProjectUsage", "RepositoryUsage", "Usage", "measure", "project_of"]
