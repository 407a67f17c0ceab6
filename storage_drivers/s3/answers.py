"""What an S3 answer means to the driver: its errors as the driver's typed errors, and
its timestamps parsed (shared by the botocore client and the direct reads)."""

from __future__ import annotations

import datetime
import email.utils
import xml.etree.ElementTree as ElementTree
from typing import Any

import botocore.utils

from storage_drivers.errors import ConditionFailed, PathNotFound, StorageDriverError

#: The namespace of S3's XML documents.
S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
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


def list_page(body: bytes) -> dict[str, Any] | None:
    """A ``ListObjectsV2`` answer shaped as botocore shapes it (``Contents`` with ``Key``,
    ``Size``, ``LastModified``, ``ETag``; ``CommonPrefixes``; ``IsTruncated``;
    ``NextContinuationToken``; ``KeyCount``); None for a body that is not one."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    if _local_name(root.tag) != "ListBucketResult":
        return None
    page: dict[str, Any] = {"IsTruncated": False}
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, str]] = []
    for element in root:
        name = _local_name(element.tag)
        if name == "Contents":
            fields = {_local_name(field.tag): field.text or "" for field in element}
            entry: dict[str, Any] = {
                "Key": fields.get("Key", ""),
                "Size": int(fields.get("Size") or 0),
            }
            if fields.get("LastModified"):
                entry["LastModified"] = parse_timestamp(fields["LastModified"])
            if "ETag" in fields:
                entry["ETag"] = fields["ETag"]
            contents.append(entry)
        elif name == "CommonPrefixes":
            for field in element:
                if _local_name(field.tag) == "Prefix":
                    prefixes.append({"Prefix": field.text or ""})
        elif name == "IsTruncated":
            page["IsTruncated"] = (element.text or "").strip().lower() == "true"
        elif name == "KeyCount":
            page["KeyCount"] = int(element.text or 0)
        elif name == "NextContinuationToken":
            page["NextContinuationToken"] = element.text or ""
    if contents:
        page["Contents"] = contents
    if prefixes:
        page["CommonPrefixes"] = prefixes
    return page


def delete_result(body: bytes) -> dict[str, Any] | None:
    """A ``DeleteObjects`` answer shaped as botocore shapes it (``Errors`` with ``Key``,
    ``Code``, ``Message``; ``Deleted`` with ``Key``); None for a body that is not one."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    if _local_name(root.tag) != "DeleteResult":
        return None
    result: dict[str, Any] = {}
    for element in root:
        name = _local_name(element.tag)
        if name in ("Error", "Deleted"):
            fields = {_local_name(field.tag): field.text or "" for field in element}
            result.setdefault("Errors" if name == "Error" else "Deleted", []).append(fields)
    return result


def _local_name(tag: str) -> str:
    """An XML tag without its namespace (S3's answers carry one)."""
    return tag.rsplit("}", 1)[-1]
