"""``storage.azure`` as distribution 3.x spells it: ``accountname``, ``accountkey``,
``container``, ``realm`` or ``serviceurl``, ``rootdirectory``, ``credentials``
(``type``: ``shared_key``, ``client_secret`` with ``clientid``/``tenantid``/``secret``,
or ``default_credentials``), ``max_retries``, ``retry_delay`` and the copy-polling knobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage_drivers.errors import StorageDriverError

DRIVER = "azure"
DEFAULT_REALM = "core.windows.net"
#: Bytes staged as one block (the last of a write session may be less).
CHUNK_SIZE = 4 * 1024 * 1024
CREDENTIAL_TYPES = ("shared_key", "client_secret", "default_credentials")
_KNOWN = {
    "accountname",
    "accountkey",
    "container",
    "realm",
    "serviceurl",
    "rootdirectory",
    "credentials",
    "max_retries",
    "retry_delay",
    "copy_status_poll_max_retry",
    "copy_status_poll_delay",
}


def _error(message: str) -> StorageDriverError:
    return StorageDriverError(f"azure: {message}", driver=DRIVER)


def _text(parameters: Mapping[str, Any], key: str) -> str:
    value = parameters.get(key)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class AzureParameters:
    account: str
    container: str
    service_url: str
    key: str = ""
    #: ``shared_key`` (``key``), ``client_secret`` or ``default_credentials``.
    credential_type: str = "shared_key"
    client_id: str = ""
    tenant_id: str = ""
    secret: str = ""
    root: str = ""
    max_retries: int = 3

    @classmethod
    def from_mapping(cls, parameters: Mapping[str, Any]) -> AzureParameters:
        unknown = sorted(set(parameters) - _KNOWN)
        if unknown:
            raise _error(f"unknown parameters: {', '.join(unknown)}")
        account = _text(parameters, "accountname")
        container = _text(parameters, "container")
        if not account:
            raise _error("accountname is required")
        if not container:
            raise _error("container is required")
        credentials = parameters.get("credentials") or {}
        if not isinstance(credentials, Mapping):
            raise _error("credentials must be a mapping")
        kind = str(credentials.get("type") or "shared_key")
        if kind not in CREDENTIAL_TYPES:
            raise _error(f"credentials.type must be one of {', '.join(CREDENTIAL_TYPES)}")
        key = _text(parameters, "accountkey")
        if kind == "shared_key" and not key:
            raise _error("accountkey is required with shared_key credentials")
        realm = _text(parameters, "realm") or DEFAULT_REALM
        service_url = _text(parameters, "serviceurl") or f"https://{account}.blob.{realm}"
        try:
            retries = int(parameters.get("max_retries") or 3)
        except (TypeError, ValueError):
            raise _error("max_retries must be an integer") from None
        return cls(
            account=account,
            container=container,
            service_url=service_url.rstrip("/"),
            key=key,
            credential_type=kind,
            client_id=str(credentials.get("clientid") or ""),
            tenant_id=str(credentials.get("tenantid") or ""),
            secret=str(credentials.get("secret") or ""),
            root=_text(parameters, "rootdirectory").strip("/"),
            max_retries=max(retries, 0),
        )
