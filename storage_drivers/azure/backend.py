"""The container as the driver talks to it (:class:`AzureStore`): azure-storage-blob's
client, Azure's errors turned into the driver's (a missing blob is ``PathNotFound``, the
rest ``StorageDriverError`` with what Azure said)."""

from __future__ import annotations

import datetime as dt
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from storage_drivers.azure.parameters import DRIVER, AzureParameters
from storage_drivers.errors import ConditionFailed, PathNotFound, StorageDriverError
from storage_drivers.object_store import Listed, ObjectStore

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient


def azure_blob() -> tuple[ModuleType, ModuleType]:
    """azure-storage-blob and Azure's errors, imported when a driver is made: the driver
    class loads without the extra (every registered driver is listed), a driver says
    what to install."""
    try:
        from azure.core import exceptions as azure_errors
        from azure.storage import blob
    except ImportError:
        raise StorageDriverError(
            "azure: azure-storage-blob is not installed: pip install 'pyregistry[azure]'",
            driver=DRIVER,
        ) from None
    return blob, azure_errors


#: Threads for one driver's calls.
MAX_THREADS = 32
#: How long a redirect URL stays valid (distribution's value).
REDIRECT_EXPIRY = dt.timedelta(minutes=20)
#: A server-side copy still pending after this long fails the move.
COPY_TIMEOUT = 60.0
COPY_POLL_SECONDS = 0.1


def _credential(parameters: AzureParameters) -> Any:
    if parameters.credential_type == "shared_key":
        return {"account_name": parameters.account, "account_key": parameters.key}
    try:
        from azure import identity
    except ImportError:
        raise StorageDriverError(
            f"azure: {parameters.credential_type} credentials need azure-identity: "
            "pip install 'pyregistry[azure]'",
            driver=DRIVER,
        ) from None
    if parameters.credential_type == "client_secret":
        return identity.ClientSecretCredential(
            parameters.tenant_id, parameters.client_id, parameters.secret
        )
    return identity.DefaultAzureCredential()


class AzureStore(ObjectStore):
    driver = DRIVER

    def __init__(self, parameters: AzureParameters) -> None:
        super().__init__(parameters.root, MAX_THREADS)
        self.sdk, self._errors = azure_blob()
        self.parameters = parameters
        self.container = self.sdk.ContainerClient(
            parameters.service_url,
            parameters.container,
            credential=_credential(parameters),
            retry_total=parameters.max_retries,
        )

    def blob(self, name: str) -> BlobClient:
        client: BlobClient = self.container.get_blob_client(name)
        return client

    def translate(self, exc: Exception, path: str) -> Exception | None:
        if isinstance(exc, self._errors.ResourceNotFoundError):
            return PathNotFound(path, driver=DRIVER)
        if isinstance(exc, self._errors.AzureError):
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return StorageDriverError(f"azure: {message}", driver=DRIVER, path=path)
        return None

    def listing(self, prefix: str, delimiter: str | None = None) -> tuple[list[Listed], list[str]]:
        if delimiter is None:
            items: Any = self.container.list_blobs(name_starts_with=prefix or None)
        else:
            items = self.container.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter)
        found: list[Listed] = []
        prefixes: list[str] = []
        for item in items:
            if hasattr(item, "size"):
                modified = item.last_modified or dt.datetime.now(dt.UTC)
                found.append((item.name, int(item.size or 0), modified))
            else:  # a BlobPrefix
                prefixes.append(item.name)
        return found, sorted(prefixes)

    def head(self, name: str) -> tuple[int, dt.datetime] | None:
        try:
            properties = self.blob(name).get_blob_properties()
        except self._errors.ResourceNotFoundError:
            return None
        return int(properties.size or 0), properties.last_modified or dt.datetime.now(dt.UTC)

    def get(self, name: str) -> bytes:
        data: bytes = self.blob(name).download_blob().readall()
        return data

    def read(self, name: str, offset: int, count: int) -> bytes:
        data: bytes = self.blob(name).download_blob(offset=offset, length=count).readall()
        return data

    def put(self, name: str, data: bytes) -> None:
        self.blob(name).upload_blob(data, overwrite=True)

    # -- conditional writes: ETags with If-None-Match / If-Match ---------------------------

    offers_conditions = True
    no_such_version = '"0x0"'

    def get_versioned(self, name: str) -> tuple[bytes, str]:
        download = self.blob(name).download_blob()
        data: bytes = download.readall()
        return data, str(download.properties.etag)

    def put_if(self, name: str, data: bytes, version: str | None) -> str:
        from azure.core import MatchConditions

        try:
            if version is None:  # overwrite=False sends If-None-Match: *
                result = self.blob(name).upload_blob(data, overwrite=False)
            else:
                result = self.blob(name).upload_blob(
                    data,
                    overwrite=True,
                    etag=version,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (self._errors.ResourceExistsError, self._errors.ResourceModifiedError):
            raise ConditionFailed(f"azure: {name} is not as required", driver=DRIVER) from None
        return str(result["etag"])

    def remove_if(self, name: str, version: str) -> None:
        from azure.core import MatchConditions

        try:
            self.blob(name).delete_blob(etag=version, match_condition=MatchConditions.IfNotModified)
        except self._errors.ResourceModifiedError:
            raise ConditionFailed(f"azure: {name} is at another version", driver=DRIVER) from None

    def remove(self, name: str) -> None:
        self.blob(name).delete_blob()

    def copy(self, source: str, dest: str) -> None:
        """Copy from the source's URL (the same account), polled until it is done."""
        origin, target = self.blob(source), self.blob(dest)
        origin.get_blob_properties()  # a missing source: not found, before anything
        status = target.start_copy_from_url(origin.url).get("copy_status")
        deadline = time.monotonic() + COPY_TIMEOUT
        while status == "pending":
            if time.monotonic() > deadline:
                raise StorageDriverError(f"azure: copy to {dest} still pending", driver=DRIVER)
            time.sleep(COPY_POLL_SECONDS)
            status = target.get_blob_properties().copy.status
        if status != "success":
            raise StorageDriverError(f"azure: copy to {dest} ended {status}", driver=DRIVER)

    def signed_url(self, name: str, method: str) -> str | None:
        """A read SAS signed with the account key (None with other credentials)."""
        if self.parameters.credential_type != "shared_key":
            return None
        token = self.sdk.generate_blob_sas(
            self.parameters.account,
            self.parameters.container,
            name,
            account_key=self.parameters.key,
            permission=self.sdk.BlobSasPermissions(read=True),
            expiry=dt.datetime.now(dt.UTC) + REDIRECT_EXPIRY,
        )
        return f"{self.blob(name).url}?{token}"

    def close(self) -> None:
        super().close()
        self.container.close()
