"""The driver's small, frequent S3 requests sent without botocore.

botocore spends about 1.2 ms of CPU on every request (events, user agent, endpoint
rules, generic parsing) whatever its size; a registry push of a small image makes dozens
of requests, and a manifest GET two. The requests here (GET, HEAD, PUT, copy, one listing
page, DeleteObjects) are built, signed (SigV4) and parsed directly on ``http.client``
keep-alive connections, at a fraction of that. Everything else (multipart uploads,
presigned URLs) stays on boto3, as do configurations this module does not cover (SigV2,
accelerate, dual-stack, FIPS endpoints, virtual-host style on a custom endpoint): for
those, :func:`direct_client` returns None.

Calls take and return the same shapes as the boto3 client methods they stand for, so the
driver cannot tell them apart; errors are ``S3Error`` (code, status, message), translated
by the backend like botocore's. Credentials come from the boto3 session (keys, session
token or any provider boto3 knows), frozen per request so refreshes are honoured.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import http.client
import random
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

#: Operations sent directly (all idempotent, so a retry on a fresh connection is safe).
OPERATIONS = frozenset(
    {"get_object", "head_object", "put_object", "copy_object", "list_objects_v2", "delete_objects"}
)
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_RETRY_STATUS = {500, 502, 503, 504}
_ATTEMPTS = 3
_TIMEOUT = 120.0
_IDLE_CONNECTIONS = 32
_OBJECT_HEADERS = {
    "ContentType": "Content-Type",
    "ACL": "x-amz-acl",
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
}


class S3Error(Exception):
    """An S3 error response (or a transport failure: status 0)."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message


def _quote(text: str, safe: str = "") -> str:
    return quote(text, safe="-_.~" + safe)


class Signer:
    """AWS Signature Version 4 for S3, with the daily signing key cached."""

    def __init__(self, region: str, credentials: Callable[[], Any], unsigned: bool) -> None:
        self._region = region
        self._credentials = credentials
        self._unsigned = unsigned
        self._key_cache: tuple[str, str, bytes] | None = None

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = self._key_cache
        if cached is not None and cached[0] == secret and cached[1] == day:
            return cached[2]
        key = hmac.new(b"AWS4" + secret.encode(), day.encode(), hashlib.sha256).digest()
        for part in (self._region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._key_cache = (secret, day, key)
        return key

    def sign(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> None:
        """Add the x-amz-date, x-amz-content-sha256, token and Authorization headers."""
        creds = self._credentials()
        amz_date = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        if self._unsigned:
            payload = "UNSIGNED-PAYLOAD"
        else:
            payload = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        signed = {"host": host}
        for name, value in headers.items():
            lower = name.lower()
            if lower.startswith("x-amz-") or lower in ("content-type", "content-md5", "range"):
                signed[lower] = " ".join(str(value).split())
        names = sorted(signed)
        canonical = "\n".join(
            [
                method,
                path,
                query,
                "".join(f"{n}:{signed[n]}\n" for n in names),
                ";".join(names),
                payload,
            ]
        )
        scope = f"{day}/{self._region}/s3/aws4_request"
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                amz_date,
                scope,
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = self._signing_key(creds.secret_key, day)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )


class Body:
    """A GET response body: ``read``/``close`` like botocore's StreamingBody; the
    connection goes back to the pool once the body was read to its end."""

    def __init__(self, client: DirectS3, conn: http.client.HTTPConnection, response: Any):
        self._client = client
        self._conn: http.client.HTTPConnection | None = conn
        self._response = response

    def read(self, amt: int | None = None) -> bytes:
        data: bytes = self._response.read(amt)
        if (amt is None or not data) and self._conn is not None:
            self.close()
        return data

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._response.isclosed():
            self._client.release(conn)  # read to the end: reusable
        else:
            conn.close()


class DirectS3:
    """Path-style or virtual-host requests to one bucket, on pooled connections."""

    def __init__(
        self, endpoint: str, bucket: str, path_style: bool, signer: Signer, verify: bool
    ) -> None:
        parts = urlsplit(endpoint)
        self._tls = parts.scheme == "https"
        self._host = parts.netloc if path_style else f"{bucket}.{parts.netloc}"
        self._base = parts.path.rstrip("/") + (f"/{_quote(bucket)}" if path_style else "")
        self._bucket = bucket
        self._signer = signer
        self._context: ssl.SSLContext | None = None
        if self._tls:
            self._context = ssl.create_default_context()
            if not verify:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    # -- connections --------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        if self._tls:
            return http.client.HTTPSConnection(self._host, timeout=_TIMEOUT, context=self._context)
        return http.client.HTTPConnection(self._host, timeout=_TIMEOUT)

    def _acquire(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # -- requests -----------------------------------------------------------------------

    def _send(
        self,
        method: str,
        key: str | None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        stream: bool = False,
    ) -> tuple[int, http.client.HTTPMessage, bytes | Body]:
        """Send one request (retried on a stale connection or a 5xx); stream: GET body."""
        path = self._base + ("/" + _quote(key, "/") if key is not None else "/")
        canonical_query = "&".join(
            f"{_quote(k)}={_quote(v)}" for k, v in sorted((query or {}).items())
        )
        target = path + ("?" + canonical_query if canonical_query else "")
        attempt = 0
        while True:
            request_headers = dict(headers or {})
            request_headers["Host"] = self._host
            if body or method in ("PUT", "POST"):
                request_headers["Content-Length"] = str(len(body))
            self._signer.sign(method, self._host, path, canonical_query, request_headers, body)
            conn, reused = self._acquire()
            try:
                conn.request(method, target, body=body or None, headers=request_headers)
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused:
                    continue  # a kept-alive connection the server had closed: a fresh one
                attempt += 1
                if attempt < _ATTEMPTS:
                    _backoff(attempt)
                    continue
                raise S3Error("RequestFailed", 0, str(exc) or exc.__class__.__name__) from None
            status = response.status
            if status in _RETRY_STATUS and attempt + 1 < _ATTEMPTS:
                attempt += 1
                response.read()
                self.release(conn)
                _backoff(attempt)
                continue
            if stream and status < 300:
                return status, response.headers, Body(self, conn, response)
            try:
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise S3Error("RequestFailed", 0, str(exc)) from None
            self.release(conn)
            if status >= 300:
                raise _error(status, data)
            return status, response.headers, data

    def invoke(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` as boto3 would (same keyword arguments, same result shape)."""
        result: dict[str, Any] = getattr(self, "_" + operation)(**kwargs)
        return result

    def _get_object(self, Key: str, Range: str = "", IfMatch: str = "") -> dict[str, Any]:
        headers = {}
        if Range:
            headers["Range"] = Range
        if IfMatch:
            headers["If-Match"] = IfMatch
        _, response_headers, body = self._send("GET", Key, headers=headers, stream=True)
        result = _object_head(response_headers)
        result["Body"] = body
        return result

    def _head_object(self, Key: str) -> dict[str, Any]:
        _, headers, _ = self._send("HEAD", Key)
        return _object_head(headers)

    def _put_object(
        self,
        Key: str,
        Body: bytes | bytearray = b"",
        Metadata: dict[str, str] | None = None,
        **args: str,
    ) -> dict[str, Any]:
        headers = _object_headers(args, Metadata)
        _, response_headers, _ = self._send("PUT", Key, headers=headers, body=bytes(Body))
        return {"ETag": response_headers.get("ETag", "")}

    def _copy_object(self, Key: str, CopySource: dict[str, str], **args: str) -> dict[str, Any]:
        headers = _object_headers(args, None)
        source = f"/{CopySource['Bucket']}/{CopySource['Key']}"
        headers["x-amz-copy-source"] = _quote(source, "/")
        _, _, data = self._send("PUT", Key, headers=headers)
        assert isinstance(data, bytes)
        root = _parse(data)
        if root.tag.endswith("Error"):  # S3 may report a failed copy in a 200 response
            raise _error_from(200, root)
        return {"CopyObjectResult": {"ETag": _text(root, "ETag", _ns(root))}}

    def _list_objects_v2(
        self,
        Prefix: str = "",
        Delimiter: str = "",
        MaxKeys: int = 1000,
        ContinuationToken: str = "",
    ) -> dict[str, Any]:
        query = {"list-type": "2", "prefix": Prefix, "max-keys": str(MaxKeys)}
        if Delimiter:
            query["delimiter"] = Delimiter
        if ContinuationToken:
            query["continuation-token"] = ContinuationToken
        _, _, data = self._send("GET", None, query=query)
        assert isinstance(data, bytes)
        root = _parse(data)
        ns = _ns(root)
        contents = [
            {
                "Key": _text(item, "Key", ns),
                "Size": int(_text(item, "Size", ns) or 0),
                "LastModified": _timestamp(_text(item, "LastModified", ns)),
            }
            for item in root.iter(ns + "Contents")
        ]
        prefixes = [
            {"Prefix": _text(item, "Prefix", ns)} for item in root.iter(ns + "CommonPrefixes")
        ]
        result: dict[str, Any] = {
            "IsTruncated": _text(root, "IsTruncated", ns) == "true",
            "Contents": contents,
            "CommonPrefixes": prefixes,
        }
        token = _text(root, "NextContinuationToken", ns)
        if token:
            result["NextContinuationToken"] = token
        return result

    def _delete_objects(self, Delete: dict[str, Any]) -> dict[str, Any]:
        root = ET.Element("Delete", xmlns=_NS[1:-1])
        if Delete.get("Quiet"):
            ET.SubElement(root, "Quiet").text = "true"
        for obj in Delete["Objects"]:
            ET.SubElement(ET.SubElement(root, "Object"), "Key").text = obj["Key"]
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        headers = {"Content-MD5": md5, "Content-Type": "application/xml"}
        _, _, data = self._send("POST", None, query={"delete": ""}, headers=headers, body=body)
        assert isinstance(data, bytes)
        result = _parse(data)
        ns = _ns(result)
        errors = [
            {
                "Key": _text(item, "Key", ns),
                "Code": _text(item, "Code", ns),
                "Message": _text(item, "Message", ns),
            }
            for item in result.iter(ns + "Error")
        ]
        return {"Errors": errors}


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.05 * (2**attempt)))


def _object_headers(args: dict[str, str], metadata: dict[str, str] | None) -> dict[str, str]:
    unknown = set(args) - set(_OBJECT_HEADERS)
    if unknown:
        raise TypeError(f"direct S3 client: unsupported arguments {sorted(unknown)}")
    headers = {_OBJECT_HEADERS[name]: value for name, value in args.items()}
    for name, value in (metadata or {}).items():
        headers[f"x-amz-meta-{name}"] = value
    return headers


def _object_head(headers: http.client.HTTPMessage) -> dict[str, Any]:
    metadata = {
        name[len("x-amz-meta-") :]: value
        for name, value in ((n.lower(), v) for n, v in headers.items())
        if name.startswith("x-amz-meta-")
    }
    modified = headers.get("Last-Modified")
    return {
        "ContentLength": int(headers.get("Content-Length") or 0),
        "ETag": headers.get("ETag", ""),
        "LastModified": _timestamp(modified) if modified else None,
        "Metadata": metadata,
    }


def parse_timestamp(value: str) -> datetime:
    """Timestamps of responses (``Last-Modified`` headers, ``LastModified`` in listings).

    botocore's default goes through dateutil's generic parser, a quarter of the CPU of
    a small request; S3 only ever sends these two forms, each parsed by the standard
    library (anything else is left to botocore's parser).
    """
    try:
        if value[:4].isdigit():
            moment = datetime.fromisoformat(value)  # 2024-05-01T10:00:00.000Z
        else:
            moment = email.utils.parsedate_to_datetime(value)  # Wed, 01 May 2024 ...
    except (TypeError, ValueError):
        import botocore.utils

        parsed: datetime = botocore.utils.parse_timestamp(value)
        moment = parsed
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _timestamp(value: str) -> datetime | None:
    return parse_timestamp(value) if value else None


def _parse(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise S3Error("MalformedResponse", 0, f"unreadable XML from S3: {exc}") from None


def _ns(root: ET.Element) -> str:
    """The document's namespace prefix (S3's, or none: error documents, some clones)."""
    return root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""


def _text(element: ET.Element, name: str, ns: str = "") -> str:
    found = element.find(ns + name)
    return (found.text or "") if found is not None else ""


def _error(status: int, data: bytes) -> S3Error:
    if not data.strip():
        return S3Error(str(status), status, http.client.responses.get(status, ""))
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return S3Error(str(status), status, data[:200].decode("utf-8", "replace"))
    return _error_from(status, root)


def _error_from(status: int, root: ET.Element) -> S3Error:
    ns = _ns(root)
    code = _text(root, "Code", ns) or str(status)
    return S3Error(code, status, _text(root, "Message", ns) or code)


def direct_client(options: Any, session: Any) -> DirectS3 | None:
    """A direct client for this configuration, or None where boto3 must do it all."""
    if not options.v4auth or options.accelerate or options.usedualstack:
        return None
    if options.usefipsendpoint:
        return None
    endpoint = options.endpoint_url
    if endpoint is not None:
        if not options.forcepathstyle:
            return None  # botocore's addressing rules for custom endpoints: keep them
        path_style = True
    else:
        region = options.region
        if not region or region.startswith(("cn-", "us-iso")):
            return None  # other partitions, other domains
        scheme = "https" if options.secure else "http"
        endpoint = f"{scheme}://s3.{region}.amazonaws.com"
        path_style = options.forcepathstyle or "." in options.bucket
    if session.get_credentials() is None:
        return None  # anonymous: let boto3 report it
    unsigned = endpoint.lower().startswith("https://")

    def credentials() -> Any:
        return session.get_credentials().get_frozen_credentials()

    signer = Signer(options.region, credentials, unsigned)
    return DirectS3(endpoint, options.bucket, path_style, signer, not options.skipverify)
