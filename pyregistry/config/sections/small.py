"""pyregistry's own small sections: ``catalog`` and ``index``."""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import Section, setting
from pyregistry.config.schema import BOOL, DURATION, INT, STR


@dataclass(eq=False)
class CatalogConfig(Section):
    NAME = "catalog"

    #: the most repositories one ``/v2/_catalog`` page may ask for (None: the default)
    maxentries: int | None = setting(INT)


@dataclass(eq=False)
class IndexConfig(Section):
    """The metadata index (docs/index.md)."""

    NAME = "index"

    enabled: bool = setting(BOOL, default=True)
    #: a directory (None: beside the data, or Redis when configured)
    path: str | None = setting(STR)
    #: how often one instance compares the index with storage while serving (None: only
    #: at start-up); for roots another program writes to meanwhile (docs/index.md)
    checkinterval_seconds: float | None = setting(DURATION, "checkinterval")
