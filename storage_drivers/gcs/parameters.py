"""``storage.gcs`` as distribution spells it: ``bucket``, ``keyfile`` or ``credentials``,
``rootdirectory``, ``chunksize``, ``maxconcurrency``, ``useragent``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage_drivers.errors import StorageDriverError

DRIVER = "gcs"
#: GCS's resumable-upload granularity; distribution wants chunksize a multiple of it.
MIN_CHUNK_SIZE = 256 * 1024
#: distribution's default chunksize (20 x 256 KiB).
DEFAULT_CHUNK_SIZE = 20 * MIN_CHUNK_SIZE
DEFAULT_MAX_CONCURRENCY = 50
#: Set (to host:port) to talk to an emulator, as google-cloud-storage reads it.
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_KNOWN = {"bucket", "keyfile", "credentials", "rootdirectory", "chunksize", "maxconcurrency"}
_KNOWN |= {"useragent"}


def _error(message: str) -> StorageDriverError:
    return StorageDriverError(f"gcs: {message}", driver=DRIVER)


@dataclass(frozen=True)
class GCSParameters:
    bucket: str
    keyfile: str | None = None
    credentials: Mapping[str, Any] | None = None
    #: The key prefix of every path ("" or ``a/b`` without slashes around it).
    root: str = ""
    chunksize: int = DEFAULT_CHUNK_SIZE
    maxconcurrency: int = DEFAULT_MAX_CONCURRENCY
    useragent: str | None = None

    @property
    def emulator(self) -> str | None:
        return os.environ.get(EMULATOR_ENV) or None

    @classmethod
    def from_mapping(cls, parameters: Mapping[str, Any]) -> GCSParameters:
        unknown = sorted(set(parameters) - _KNOWN)
        if unknown:
            raise _error(f"unknown parameters: {', '.join(unknown)}")
        bucket = parameters.get("bucket")
        if not isinstance(bucket, str) or not bucket:
            raise _error("bucket is required")
        credentials = parameters.get("credentials")
        if credentials is not None and not isinstance(credentials, Mapping):
            raise _error("credentials must be a mapping (a service account's key)")
        chunksize = _integer(parameters.get("chunksize"), DEFAULT_CHUNK_SIZE, "chunksize")
        if chunksize < MIN_CHUNK_SIZE or chunksize % MIN_CHUNK_SIZE:
            raise _error(f"chunksize must be a multiple of {MIN_CHUNK_SIZE}")
        concurrency = _integer(
            parameters.get("maxconcurrency"), DEFAULT_MAX_CONCURRENCY, "maxconcurrency"
        )
        return cls(
            bucket=bucket,
            keyfile=str(parameters["keyfile"]) if parameters.get("keyfile") else None,
            credentials=credentials,
            root=str(parameters.get("rootdirectory") or "").strip("/"),
            chunksize=chunksize,
            maxconcurrency=max(concurrency, 1),
            useragent=str(parameters["useragent"]) if parameters.get("useragent") else None,
        )


def _integer(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _error(f"{name} must be an integer") from None
