"""The bucket as the driver talks to it (:class:`GCSStore`): google-cloud-storage's client,
Google's errors turned into the driver's (a 404 is ``PathNotFound``, the rest
``StorageDriverError`` with what Google said)."""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import TYPE_CHECKING, Any

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.gcs.parameters import DRIVER, GCSParameters
from storage_drivers.object_store import Listed, ObjectStore

if TYPE_CHECKING:
    from google.cloud import storage


def _google() -> tuple[ModuleType, ModuleType]:
    """google-cloud-storage and its errors, imported when a driver is made: the driver
    class loads without the extra (every registered driver is listed), a driver says
    what to install."""
    try:
        from google.api_core import exceptions as google_errors
        from google.cloud import storage
    except ImportError:
        raise StorageDriverError(
            "gcs: google-cloud-storage is not installed: pip install 'pyregistry[gcs]'",
            driver=DRIVER,
        ) from None
    return storage, google_errors


#: How long a redirect URL stays valid (distribution's value).
REDIRECT_EXPIRY = dt.timedelta(minutes=20)


def _client(parameters: GCSParameters) -> storage.Client:
    storage, _ = _google()
    """Credentials from ``keyfile``, ``credentials``, an emulator (anonymous) or the
    environment's default (a VM's service account, ``GOOGLE_APPLICATION_CREDENTIALS``)."""
    from google.api_core.client_info import ClientInfo

    info = {"user_agent": parameters.useragent} if parameters.useragent else None
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


class GCSStore(ObjectStore):
    driver = DRIVER

    def __init__(self, parameters: GCSParameters) -> None:
        super().__init__(parameters.root, parameters.maxconcurrency)
        _, self._errors = _google()
        self.parameters = parameters
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

    def blob(self, name: str, **options: Any) -> storage.Blob:
        return self.bucket.blob(name, **options)

    def translate(self, exc: Exception, path: str) -> Exception | None:
        if isinstance(exc, self._errors.NotFound):
            return PathNotFound(path, driver=DRIVER)
        if isinstance(exc, self._errors.GoogleAPICallError):
            return StorageDriverError(f"gcs: {exc.message}", driver=DRIVER, path=path)
        if isinstance(exc, OSError):  # connection refused, reset... (requests' too)
            return StorageDriverError(f"gcs: {exc}", driver=DRIVER, path=path)
        return None

    def listing(self, prefix: str, delimiter: str | None = None) -> tuple[list[Listed], list[str]]:
        iterator = self.bucket.client.list_blobs(self.bucket, prefix=prefix, delimiter=delimiter)
        found = [
            (blob.name, int(blob.size or 0), blob.updated or dt.datetime.now(dt.UTC))
            for blob in iterator
        ]
        return found, sorted(iterator.prefixes) if delimiter else []

    def head(self, name: str) -> tuple[int, dt.datetime] | None:
        blob = self.bucket.get_blob(name)
        if blob is None:
            return None
        return int(blob.size or 0), blob.updated or dt.datetime.now(dt.UTC)

    def get(self, name: str) -> bytes:
        data: bytes = self.blob(name).download_as_bytes(checksum=None)
        return data

    def read(self, name: str, offset: int, count: int) -> bytes:
        end = offset + count - 1
        data: bytes = self.blob(name).download_as_bytes(start=offset, end=end, checksum=None)
        return data

    def put(self, name: str, data: bytes) -> None:
        self.blob(name).upload_from_string(data)

    def remove(self, name: str) -> None:
        self.blob(name).delete()

    def copy(self, source: str, dest: str) -> None:
        """A rewrite, token after token (large objects take several calls)."""
        target, origin = self.blob(dest), self.blob(source)
        token, _, _ = target.rewrite(origin)
        while token is not None:
            token, _, _ = target.rewrite(origin, token=token)

    def signed_url(self, name: str, method: str) -> str | None:
        """A V4 signed URL when the credentials are a service account's key."""
        if not (self.parameters.keyfile or self.parameters.credentials):
            return None
        url: str = self.blob(name).generate_signed_url(
            version="v4", expiration=REDIRECT_EXPIRY, method=method
        )
        return url

    def close(self) -> None:
        super().close()
        client, self._client, self._bucket = self._client, None, None
        if client is not None:
            client.close()
