"""The ``gcs`` driver: registry paths as objects in a Google Cloud Storage bucket.

Same options and keys as distribution's ``gcs`` driver (``<rootdirectory>/<path>``), on
google-cloud-storage (:mod:`storage_drivers.gcs.backend`) and the object-store driver
(:mod:`storage_drivers.object_store`); writers keep segments beside the path until
``commit`` composes them (:mod:`storage_drivers.gcs.writer`). ``STORAGE_EMULATOR_HOST``
points the driver at an emulator, as for every Google client.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from storage_drivers.base import FileWriter
from storage_drivers.gcs.backend import GCSStore
from storage_drivers.gcs.parameters import DRIVER, GCSParameters
from storage_drivers.gcs.writer import GCSWriter
from storage_drivers.object_store import ObjectStoreDriver


class GCSDriver(ObjectStoreDriver[GCSStore]):
    """Stores every path as an object under ``rootdirectory`` in ``bucket``."""

    name: ClassVar[str] = DRIVER

    def __init__(self, **parameters: Any) -> None:
        self.parameters = GCSParameters.from_mapping(parameters)
        self.store = GCSStore(self.parameters)
        with contextlib.suppress(Exception):  # else the first call says why
            _ = self.store.bucket

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        chunksize = self.parameters.chunksize
        if append:
            return await GCSWriter.resume(self.store, path, chunksize)
        return await GCSWriter.start(self.store, path, chunksize)
