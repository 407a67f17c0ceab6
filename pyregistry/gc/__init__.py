"""Garbage collection: reclaim the space of manifests and blobs nothing keeps any more.

:func:`collect` is distribution's ``registry garbage-collect`` (offline, on the same
root, deleting the same objects); :mod:`~pyregistry.gc.mark` and
:mod:`~pyregistry.gc.sweep` are its two halves, reusable by an online collector. The
package uses only the storage layer's enumerators and removal primitives.
"""

from pyregistry.gc.collector import CollectOptions, collect
from pyregistry.gc.mark import ManifestRemoval, MarkResult, mark
from pyregistry.gc.progress import Progress
from pyregistry.gc.references import ManifestUnreadable
from pyregistry.gc.report import Report
from pyregistry.gc.sweep import Sweeper

__all__ = [
    "CollectOptions",
    "ManifestRemoval",
    "ManifestUnreadable",
    "MarkResult",
    "Progress",
    "Report",
    "Sweeper",
    "collect",
    "mark",
]
