"""The bucket as the driver talks to it: a google-cloud-storage client whose blocking calls
run on the driver's thread pool, driver paths mapped to object keys, and Google's errors
turned into the driver errors (a 404 is ``PathNotFound``, the rest ``StorageDriverError``
with what Google said)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.gcs.parameters import DRIVER, GCSParameters
from storage_drivers.threads import ThreadRunner

try:
    from google.api_core import exceptions as google_errors
    from google.cloud import storage
except ImportError:  # pragma: no cover - the extra not installed
    raise StorageDriverError(
        "gcs: google-cloud-storage is not installed: pip install 'pyregistry[gcs]'",
        driver=DRIVER,
    ) from None

P = ParamSpec("P")
T = TypeVar("T")


def _client(parameters: GCSParameters) -> storage.Client:
    """Credentials from ``keyfile``, ``credentials``, an emulator (anonymous) or the
    environment's default (a VM's service account, ``GOOGLE_APPLICATION_CREDENTIALS``)."""
    info = {"user_agent": parameters.useragent} if parameters.useragent else None
    from google.api_core.client_info import ClientInfo

    client_info = ClientInfo(**info) if info else None  # type: ignore[no-untyped-call]
    if parameters.keyfile:
        return storage.Client.from_service_account_json(parameters.keyfile, client_info=client_info)
    if parameters.credentials:
        return storage.Client.from_service_account_info(
            dict(parameters.credentials), client_info=client_info
        )
    if parameters.emulator:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project="emulated",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_info=client_info,
        )
    return storage.Client(client_info=client_info)


class GCSBackend:
    """One bucket under one root, and the pool its calls run on."""

    def __init__(self, parameters: GCSParameters) -> None:
        self.parameters = parameters
        self._threads = ThreadRunner(parameters.maxconcurrency, "gcs")
        self._client: storage.Client | None = None
        self._bucket: storage.Bucket | None = None

    @property
    def bucket(self) -> storage.Bucket:
        """Built on first use (on a pool thread: finding credentials may block)."""
        if self._bucket is None:
            try:
                self._client = _client(self.parameters)
            except Exception as exc:  # noqa: BLE001 - any failure to build is the config's
                raise StorageDriverError(f"gcs: no client: {exc}", driver=DRIVER) from None
            self._bucket = self._client.bucket(self.parameters.bucket)
        return self._bucket

    # -- keys ---------------------------------------------------------------------------

    def key(self, path: str) -> str:
        """The object key of a driver path (``/a/b`` -> ``<root>/a/b``)."""
        root = self.parameters.root
        return f"{root}{path}" if root else path[1:]

    def prefix(self, path: str) -> str:
        """The key prefix of everything below ``path`` (a directory)."""
        if path == "/":
            return f"{self.parameters.root}/" if self.parameters.root else ""
        return self.key(path) + "/"

    def to_path(self, base: str, relative: str) -> str:
        return ("" if base == "/" else base) + "/" + relative

    # -- calls --------------------------------------------------------------------------

    async def call(self, path: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` on a pool thread, its errors as the driver's (``path``: for them)."""
        return await self._threads.run(functools.partial(_translated, path, fn, *args, **kwargs))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._threads.run(fn, *args, **kwargs)

    def blob(self, key: str) -> storage.Blob:
        return self.bucket.blob(key)

    def listing(
        self, prefix: str, delimiter: str | None = None
    ) -> tuple[list[tuple[str, int, datetime]], list[str]]:
        """Every object (key, size, time) below ``prefix`` and, with a delimiter, the
        prefixes one level down; blocking (run it on the pool)."""
        iterator = self.bucket.client.list_blobs(self.bucket, prefix=prefix, delimiter=delimiter)
        found = [
            (blob.name, int(blob.size or 0), blob.updated or datetime.now(UTC)) for blob in iterator
        ]
        return found, sorted(iterator.prefixes) if delimiter else []

    def iter_keys(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        for blob in self.bucket.client.list_blobs(self.bucket, prefix=prefix):
            yield blob.name, int(blob.size or 0), blob.updated or datetime.now(UTC)

    def close(self) -> None:
        self._threads.close()
        client, self._client, self._bucket = self._client, None, None
        if client is not None:
            client.close()


def _translated(path: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except google_errors.NotFound:
        raise PathNotFound(path, driver=DRIVER) from None
    except google_errors.GoogleAPICallError as exc:
        raise StorageDriverError(f"gcs: {exc.message}", driver=DRIVER, path=path) from None
    except OSError as exc:  # connection refused, reset...
        raise StorageDriverError(f"gcs: {exc}", driver=DRIVER, path=path) from None
