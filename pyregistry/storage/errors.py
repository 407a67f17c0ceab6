"""Registry-level errors, each carrying the OCI error code the spec names for it.

The storage layer raises these; the HTTP layer maps ``code`` to a status and a JSON body.
They are raised before any driver call wherever the input itself is at fault.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Base class: ``code`` is the OCI/distribution error code, ``detail`` goes in the body."""

    code: str = "UNKNOWN"
    default_message: str = "unknown error"

    def __init__(self, message: str | None = None, detail: Any = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.detail = detail


class BlobUnknown(RegistryError):
    code = "BLOB_UNKNOWN"
    default_message = "blob unknown to registry"


class BlobUploadInvalid(RegistryError):
    code = "BLOB_UPLOAD_INVALID"
    default_message = "blob upload invalid"


class BlobUploadUnknown(RegistryError):
    code = "BLOB_UPLOAD_UNKNOWN"
    default_message = "blob upload unknown to registry"


class RangeInvalid(BlobUploadInvalid):
    """A chunk did not start where the upload session ends (HTTP 416)."""

    default_message = "chunk out of order: the upload is at a different offset"


class DigestInvalid(RegistryError):
    code = "DIGEST_INVALID"
    default_message = "provided digest did not match uploaded content"


class UnsupportedDigestAlgorithm(DigestInvalid):
    default_message = "unsupported digest algorithm"


class ManifestBlobUnknown(RegistryError):
    code = "MANIFEST_BLOB_UNKNOWN"
    default_message = "manifest references a manifest or blob unknown to registry"


class ManifestInvalid(RegistryError):
    code = "MANIFEST_INVALID"
    default_message = "manifest invalid"


class ManifestUnknown(RegistryError):
    code = "MANIFEST_UNKNOWN"
    default_message = "manifest unknown to registry"


class NameInvalid(RegistryError):
    code = "NAME_INVALID"
    default_message = "invalid repository name"


class NameUnknown(RegistryError):
    code = "NAME_UNKNOWN"
    default_message = "repository name not known to registry"


class SizeInvalid(RegistryError):
    code = "SIZE_INVALID"
    default_message = "provided length did not match content length"


class TagInvalid(RegistryError):
    code = "TAG_INVALID"
    default_message = "invalid tag"


class Unsupported(RegistryError):
    code = "UNSUPPORTED"
    default_message = "the operation is unsupported"


class Denied(RegistryError):
    code = "DENIED"
    default_message = "requested access to the resource is denied"


class ManifestTooLarge(ManifestInvalid):
    code = "SIZE_INVALID"
    default_message = "manifest too large"


class StorageError(RegistryError):
    """The storage backend failed: not the client's fault, so the API answers 500."""

    code = "UNKNOWN"
    default_message = "storage backend error"


class StorageFull(StorageError):
    """The backend is out of space: 507 Insufficient Storage, so clients and operators
    see what is wrong (distribution answers a bare 500)."""

    default_message = "insufficient storage: the registry's storage is full"


READONLY_MESSAGE = "registry is in read-only mode"
