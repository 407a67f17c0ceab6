"""The S3 requests a registry makes most, sent without botocore's request machinery.

botocore spends about 0.85 ms of CPU on a small GET (its event hooks, the model,
serialisers, parsers, retry handlers), four times what signing the request and sending
it over ``http.client`` cost; under load, the driver's threads contending for the GIL with
that work doubled it. A manifest GET is two such reads (the tag's link, the manifest),
so on S3 it cost 3.4 ms of CPU against distribution's 1.2 for the whole request.

Whole small objects read (links, manifests), HEADs, PUTs of bodies in memory (links,
upload state), listing pages and batch deletes go this way instead (:func:`takes`):
signed by botocore's own SigV4 signer with the credentials botocore resolved (static,
environment, profile or instance role, refreshed as botocore refreshes them), sent to
the URL botocore builds for the bucket (found once from a presigned URL, so the
addressing style, FIPS, dual-stack and acceleration stay botocore's). An answer this
module does not expect (a 5xx, a redirect, a wrong region), a connection that fails,
and drivers it cannot serve (SigV2, an HTTP proxy in the environment) go through the
client as before, which retries.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from storage_drivers.errors import PathNotFound, StorageDriverError
from storage_drivers.s3.answers import (
    S3_XMLNS,
    delete_result,
    list_page,
    parse_timestamp,
    translate_error,
)
from storage_drivers.s3.options import S3Options
from storage_drivers.s3.signed_http import SignedHttp

log = logging.getLogger("storage_drivers.s3")

#: Seconds to connect, then to wait for each answer (botocore's client uses the same).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
R = TypeVar("R")
#: ``put_object`` parameters sent as headers (``Metadata`` as ``x-amz-meta-*``).
PUT_HEADERS = {
    "ContentType": "Content-Type",
    "ACL": "x-amz-acl",
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "IfNoneMatch": "If-None-Match",
    "IfMatch": "If-Match",
}
#: ``list_objects_v2`` parameters and their query names.
LIST_QUERY = {
    "Prefix": "prefix",
    "Delimiter": "delimiter",
    "MaxKeys": "max-keys",
    "ContinuationToken": "continuation-token",
    "StartAfter": "start-after",
}
#: A PUT of at most this many bytes in memory goes the direct way.
DIRECT_PUT_BYTES = 16 * 1024 * 1024
_PUT_PARAMETERS = {"Key", "Body", "Metadata", *PUT_HEADERS}
#: The prefix of an object's metadata headers.
_METADATA = "x-amz-meta-"
#: Answers handed back to the client instead: it retries them, or explains them. A 403
#: too: should this module ever sign a request botocore would sign otherwise, a request
#: costs two, rather than failing.
_NOT_OURS = frozenset({301, 302, 307, 308, 400, 403, 500, 502, 503, 504})
#: Directory buckets (S3 Express One Zone) take session-signed requests: botocore's.
_DIRECTORY_BUCKET = "--x-s3"


def takes(operation: str, kwargs: Mapping[str, Any], read_body: bool) -> bool:
    """Whether the direct path makes this call: a whole object read into memory
    (``read_body``) or streamed (a range of it too), a HEAD, a PUT of a body in memory
    with headers it knows, a listing page, a batch delete. Anything else (multipart,
    copies, single deletes) is botocore's."""
    names = kwargs.keys()
    if operation == "get_object":
        return names == {"Key"} if read_body else not names - {"Key", "Range"}
    if operation == "head_object":
        return names == {"Key"}
    if operation == "put_object":
        body = kwargs.get("Body")
        return (
            isinstance(body, bytes | bytearray)  # a writer's buffer is a bytearray
            and len(body) <= DIRECT_PUT_BYTES
            and not names - _PUT_PARAMETERS
        )
    if operation == "list_objects_v2":
        return not names - LIST_QUERY.keys()
    if operation == "delete_objects":
        delete = kwargs.get("Delete")
        return (
            names == {"Delete"}
            and isinstance(delete, dict)
            and not delete.keys() - {"Objects", "Quiet"}
            and all(obj.keys() == {"Key"} for obj in delete.get("Objects", []))
        )
    return False


class DirectRequests:
    """The calls :func:`takes` names, on one bucket; each returns None where the caller
    should ask botocore instead."""

    def __init__(self, http: SignedHttp) -> None:
        self._http = http

    @classmethod
    def for_client(cls, client: Any, session: Any, options: S3Options) -> DirectRequests | None:
        """Requests for ``client``'s bucket, or None when all must go through it."""
        if not options.v4auth or options.bucket.endswith(_DIRECTORY_BUCKET):
            return None
        try:
            url = client.generate_presigned_url(
                "get_object", Params={"Bucket": options.bucket, "Key": "probe"}, ExpiresIn=60
            )
        except Exception:  # noqa: BLE001 - no credentials yet: the client will say why
            return None
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        credential = query.get("X-Amz-Credential", [""])[0].split("/")
        if not parts.path.endswith("/probe") or len(credential) != 5:
            return None
        if _proxied(parts.scheme, parts.hostname or ""):
            return None
        base = f"{parts.scheme}://{parts.netloc}{parts.path[: -len('probe')]}"
        return cls(SignedHttp(base, credential[2], session, options, client.meta.config))

    # -- requests -----------------------------------------------------------------------

    def call(
        self, operation: str, kwargs: dict[str, Any], read_body: bool, path: str, bucket: str
    ) -> Any:
        """``client.<operation>(**kwargs)`` for a call :func:`takes`."""
        if operation == "get_object" and read_body:
            return self.get(kwargs["Key"], path, bucket)
        if operation == "get_object":
            return self.stream(kwargs["Key"], kwargs.get("Range"), path, bucket)
        if operation == "head_object":
            return self.head(kwargs["Key"], path, bucket)
        if operation == "put_object":
            others = {k: v for k, v in kwargs.items() if k not in ("Key", "Body")}
            return self.put(kwargs["Key"], kwargs["Body"], others, path, bucket)
        if operation == "delete_objects":
            delete = kwargs["Delete"]
            keys = [obj["Key"] for obj in delete.get("Objects", [])]
            return self.delete_many(keys, bool(delete.get("Quiet")), path, bucket)
        return self.listing(kwargs, path, bucket)

    def get(self, key: str, path: str, bucket: str) -> tuple[bytes, str] | None:
        """The object's body and ETag."""
        answer = self._http.send("GET", self._http.target(key))
        return self._read(answer, lambda h, b: (b, h.get("etag", "")), "get_object", path, bucket)

    def head(self, key: str, path: str, bucket: str) -> dict[str, Any] | None:
        """What ``head_object`` answers that the driver reads: size, date, ETag and the
        object's metadata (``x-amz-meta-*``, names in lower case as S3 keeps them)."""
        answer = self._http.send("HEAD", self._http.target(key))
        return self._read(
            answer,
            lambda h, _: _described(h) if "content-length" in h else None,
            "head_object",
            path,
            bucket,
        )

    def stream(
        self, key: str, byte_range: str | None, path: str, bucket: str
    ) -> dict[str, Any] | None:
        """``get_object``'s answer with its ``Body`` left to be read (by the driver's
        ``BodyChunks``, a piece at a time on the pool), ``byte_range`` of it if given."""
        opened = self._http.open(
            self._http.target(key), {"Range": byte_range} if byte_range else {}
        )
        if opened is None:
            return None
        connection, response = opened
        headers = {k.lower(): v for k, v in response.getheaders()}
        if response.status in (200, 206):
            answer = _described(headers)
            answer["ContentRange"] = headers.get("content-range")
            answer["Body"] = StreamedBody(self._http, connection, response, path)
            return answer
        try:
            error = response.read()
        except (OSError, http.client.HTTPException):
            error = b""
        self._http.release(connection, response)
        self._raise_for(response.status, error, "get_object", path, bucket)
        return None

    def put(
        self, key: str, body: bytes | bytearray, params: dict[str, Any], path: str, bucket: str
    ) -> dict[str, Any] | None:
        """``put_object`` of a body in memory with ``params`` among :data:`PUT_HEADERS`
        and ``Metadata``: the new object's ETag."""
        headers = {
            PUT_HEADERS[name]: str(value) for name, value in params.items() if name in PUT_HEADERS
        }
        for name, value in (params.get("Metadata") or {}).items():
            headers[_METADATA + name] = value
        answer = self._http.send("PUT", self._http.target(key), body, headers)
        return self._read(
            answer, lambda h, _: {"ETag": h.get("etag", "")}, "put_object", path, bucket
        )

    def listing(self, params: dict[str, Any], path: str, bucket: str) -> dict[str, Any] | None:
        """A ``list_objects_v2`` page for ``params`` among :data:`LIST_QUERY`, shaped as
        botocore shapes it (the fields the driver reads)."""
        query = [("list-type", "2")] + [
            (LIST_QUERY[name], str(value)) for name, value in params.items()
        ]
        encoded = "&".join(f"{_quote(name)}={_quote(value)}" for name, value in sorted(query))
        answer = self._http.send("GET", f"{self._http.prefix}?{encoded}")
        return self._read(answer, lambda _, b: list_page(b), "list_objects_v2", path, bucket)

    def delete_many(
        self, keys: list[str], quiet: bool, path: str, bucket: str
    ) -> dict[str, Any] | None:
        """``delete_objects`` of ``keys``: the keys that failed (``Errors``) and, unless
        ``quiet``, those deleted (``Deleted``)."""
        objects = "".join(f"<Object><Key>{escape(key)}</Key></Object>" for key in keys)
        quietly = "<Quiet>true</Quiet>" if quiet else ""
        body = f'<Delete xmlns="{S3_XMLNS}">{objects}{quietly}</Delete>'.encode()
        headers = {
            "Content-MD5": base64.b64encode(
                hashlib.md5(body, usedforsecurity=False).digest()
            ).decode(),
            "Content-Type": "application/xml",
        }
        answer = self._http.send("POST", f"{self._http.prefix}?delete", body, headers)
        return self._read(answer, lambda _, b: delete_result(b), "delete_objects", path, bucket)

    def close(self) -> None:
        self._http.close()

    def _read(
        self,
        answer: tuple[int, dict[str, str], bytes] | None,
        read: Callable[[dict[str, str], bytes], R | None],
        operation: str,
        path: str,
        bucket: str,
    ) -> R | None:
        """``read(headers, body)`` of a 200 answer; the driver's error for an S3 error;
        None (botocore's turn) for no answer, another one, or one ``read`` cannot read."""
        if answer is None:
            return None
        status, headers, body = answer
        if status == 200:
            return read(headers, body)
        self._raise_for(status, body, operation, path, bucket)
        return None

    def _raise_for(self, status: int, body: bytes, operation: str, path: str, bucket: str) -> None:
        """Raise what the driver raises for an S3 error; return for the answers botocore
        should have instead."""
        code, message = _error_of(body)
        if status == 404 and code != "NoSuchBucket":
            raise PathNotFound(path, driver="s3")
        if status in _NOT_OURS or status < 400:
            return
        raise translate_error(
            code or str(status), status, message or str(status), operation, path, bucket
        )


class StreamedBody:
    """A streamed GET's body, as botocore's ``StreamingBody`` is used: ``read`` (a piece,
    or the rest), then ``close``. A body cut short is an error, not a short blob."""

    def __init__(
        self,
        transport: SignedHttp,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        path: str,
    ) -> None:
        self._http = transport
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self._path = path

    def read(self, amount: int | None = None) -> bytes:
        try:
            data = self._response.read(amount)
        except (OSError, http.client.HTTPException) as exc:
            raise StorageDriverError(
                f"s3 get_object broke off: {exc}", driver="s3", path=self._path
            ) from None
        if not data and amount and self._response.length:  # closed before its length
            raise StorageDriverError(
                f"s3 get_object ended {self._response.length} bytes early",
                driver="s3",
                path=self._path,
            )
        return data

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._http.release(connection, self._response)


def _described(headers: dict[str, str]) -> dict[str, Any]:
    """What a GET or HEAD answer says of the object that the driver reads: size, date,
    ETag and its metadata (``x-amz-meta-*``, names in lower case as S3 keeps them)."""
    modified = headers.get("last-modified")
    return {
        "ContentLength": int(headers.get("content-length") or 0),
        "LastModified": parse_timestamp(modified) if modified else None,
        "ETag": headers.get("etag", ""),
        "Metadata": {
            name[len(_METADATA) :]: value
            for name, value in headers.items()
            if name.startswith(_METADATA)
        },
    }


def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment sends requests to ``host`` through a proxy (botocore
    honours ``HTTP(S)_PROXY``; these requests would not)."""
    proxies = urllib.request.getproxies()
    if scheme not in proxies:
        return False
    return not urllib.request.proxy_bypass(host)


def _quote(text: str) -> str:
    """A query name or value as SigV4 encodes it (RFC 3986 unreserved left alone)."""
    return urllib.parse.quote(text, safe="-_.~")


def _error_of(body: bytes) -> tuple[str, str]:
    """The ``Code`` and ``Message`` of an S3 error document (empty when there is none)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "", ""
    return root.findtext("Code") or "", root.findtext("Message") or ""
