"""Pluggable byte stores for pyregistry, modelled on distribution's storage drivers.

Importable on its own: nothing here knows about registries, blobs or manifests.
"""

from storage_drivers.base import FileInfo, FileWriter, StorageDriver
from storage_drivers.errors import (
    InvalidOffset,
    InvalidPath,
    PathNotFound,
    StorageDriverError,
    Unsupported,
    WriterClosed,
)
from storage_drivers.factory import available_drivers, create_driver

__all__ = [
    "FileInfo",
    "FileWriter",
    "InvalidOffset",
    "InvalidPath",
    "PathNotFound",
    "StorageDriver",
    "StorageDriverError",
    "Unsupported",
    "WriterClosed",
    "available_drivers",
    "create_driver",
]
