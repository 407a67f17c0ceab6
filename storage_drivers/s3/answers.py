"""What an S3 answer means to the driver: its errors as the driver's typed errors, and
its timestamps parsed (shared by the botocore client and the direct reads)."""

from __future__ import annotations

import datetime
import email.utils

import botocore.utils

from storage_drivers.errors import ConditionFailed, PathNotFound, StorageDriverError

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
#: A conditional write refused (AWS answers 409 to one racing another on the same key).
_CONDITION_FAILED = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_AUTH = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
}


class RangeNotSatisfiable(StorageDriverError):
    """A ranged GET starting at or past the end of the object (HTTP 416)."""


def translate_error(
    code: str, status: int | None, message: str, operation: str, path: str, bucket: str
) -> StorageDriverError:
    """The driver error for an S3 error code and HTTP status (botocore's or ours)."""
    if code == "RequestFailed":
        return StorageDriverError(f"s3 {operation} failed: {message}", driver="s3", path=path)
    if code == "NoSuchBucket":
        return StorageDriverError(
            f"s3 bucket {bucket!r} does not exist (create it before starting the registry)",
            driver="s3",
            path=path,
        )
    if code in _NOT_FOUND:
        return PathNotFound(path, driver="s3")
    if code in _CONDITION_FAILED or status == 412:
        return ConditionFailed(f"s3 {operation}: {message}", driver="s3", path=path)
    if code == "InvalidRange" or status == 416:
        return RangeNotSatisfiable(f"s3 {operation}: range not satisfiable", driver="s3", path=path)
    if code in _AUTH or status == 403:
        return StorageDriverError(
            f"s3 refused {operation} on bucket {bucket!r} ({code}: {message}); check the "
            "accesskey/secretkey (or the credentials boto3 found) and the bucket policy",
            driver="s3",
            path=path,
        )
    return StorageDriverError(f"s3 {operation} failed ({code}: {message})", driver="s3", path=path)


def parse_timestamp(text: str) -> datetime.datetime:
    """An S3 timestamp: RFC 7231 in headers (``Last-Modified``), ISO 8601 in listings.

    botocore's own parser goes through dateutil's general one, a tenth of the CPU of a
    small request; these two shapes parse with the standard library in a fraction of
    it. Anything else goes to botocore's parser."""
    try:
        if text[-1:] == "Z" and text[4:5] == "-":
            return datetime.datetime.fromisoformat(text)
        if text[-4:] == " GMT":
            return email.utils.parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError):
        pass
    return botocore.utils.parse_timestamp(text)  # type: ignore[no-any-return]
