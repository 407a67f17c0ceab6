"""Registry-level errors, each carrying the entry of the error table that names it.

The storage layer raises these; the HTTP layer answers them with the code, message and
status of their :class:`~pyregistry.errcode.Descriptor`, so this module says nothing about
HTTP. They are raised before any driver call wherever the input itself is at fault.
"""

from __future__ import annotations

from pyregistry import errcode
from pyregistry.errcode import RegistryError

__all__ = [
    "READONLY_MESSAGE",
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "Denied",
    "DigestInvalid",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestTooLarge",
    "ManifestUnknown",
    "NameInvalid",
    "NameUnknown",
    "RangeInvalid",
    "RegistryError",
    "SizeInvalid",
    "StorageError",
    "StorageFull",
    "TagInvalid",
    "Unsupported",
    "UnsupportedDigestAlgorithm",
]


class BlobUnknown(RegistryError):
    descriptor = errcode.BLOB_UNKNOWN


class BlobUploadInvalid(RegistryError):
    descriptor = errcode.BLOB_UPLOAD_INVALID


class BlobUploadUnknown(RegistryError):
    descriptor = errcode.BLOB_UPLOAD_UNKNOWN


class RangeInvalid(BlobUploadInvalid):
    """A chunk did not start where the upload session ends."""

    descriptor = errcode.RANGE_INVALID


class DigestInvalid(RegistryError):
    descriptor = errcode.DIGEST_INVALID


class UploadDigestMismatch(DigestInvalid):
    """The uploaded bytes hash to ``computed``, not to the digest the client named."""

    def __init__(self, expected: str, computed: str) -> None:
        message = f"upload has digest {computed}, not {expected}"
        super().__init__(message, detail={"digest": expected})
        self.computed = computed


class UnsupportedDigestAlgorithm(DigestInvalid):
    descriptor = errcode.DIGEST_ALGORITHM_UNSUPPORTED


class ManifestBlobUnknown(RegistryError):
    descriptor = errcode.MANIFEST_BLOB_UNKNOWN


class ManifestInvalid(RegistryError):
    descriptor = errcode.MANIFEST_INVALID


class ManifestUnknown(RegistryError):
    descriptor = errcode.MANIFEST_UNKNOWN


class NameInvalid(RegistryError):
    descriptor = errcode.NAME_INVALID


class NameUnknown(RegistryError):
    descriptor = errcode.NAME_UNKNOWN


class SizeInvalid(RegistryError):
    descriptor = errcode.SIZE_INVALID


class TagInvalid(RegistryError):
    descriptor = errcode.TAG_INVALID


class Unsupported(RegistryError):
    descriptor = errcode.UNSUPPORTED


class Denied(RegistryError):
    descriptor = errcode.DENIED


class ManifestTooLarge(ManifestInvalid):
    descriptor = errcode.MANIFEST_TOO_LARGE


class StorageError(RegistryError):
    """The storage backend failed: not the client's fault."""

    descriptor = errcode.STORAGE_FAILED


class StorageFull(StorageError):
    """The backend is out of space."""

    descriptor = errcode.STORAGE_FULL


READONLY_MESSAGE = "registry is in read-only mode"
