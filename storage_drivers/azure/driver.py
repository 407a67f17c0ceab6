"""The ``azure`` driver: registry paths as block blobs in an Azure Storage container.

Same options and blob names as distribution's ``azure`` driver
(``<rootdirectory>/<path>``), on azure-storage-blob (:mod:`storage_drivers.azure.backend`)
and the object-store driver (:mod:`storage_drivers.object_store`); writers stage blocks
on the path's own blob, invisible until committed (:mod:`storage_drivers.azure.writer`).
``serviceurl`` points it at another endpoint (Azurite, a sovereign cloud).
"""

from __future__ import annotations

from typing import Any, ClassVar

from storage_drivers.azure.backend import AzureStore
from storage_drivers.azure.parameters import CHUNK_SIZE, DRIVER, AzureParameters
from storage_drivers.azure.writer import AzureWriter
from storage_drivers.base import FileWriter
from storage_drivers.object_store import ObjectStoreDriver


class AzureDriver(ObjectStoreDriver[AzureStore]):
    """Stores every path as a block blob under ``rootdirectory`` in ``container``."""

    name: ClassVar[str] = DRIVER

    def __init__(self, **parameters: Any) -> None:
        self.parameters = AzureParameters.from_mapping(parameters)
        self.store = AzureStore(self.parameters)

    async def writer(self, path: str, append: bool = False) -> FileWriter:
        self._check(path)
        if append:
            return await AzureWriter.resume(self.store, path, CHUNK_SIZE)
        return await AzureWriter.start(self.store, path, CHUNK_SIZE)
