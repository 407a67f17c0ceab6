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
import os
import ssl
import threading
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.httpsession import get_cert_path

from storage_drivers.errors import PathNotFound
from storage_drivers.s3.answers import (
    S3_XMLNS,
    delete_result,
    list_page,
    parse_timestamp,
    translate_error,
)
from storage_drivers.s3.options import S3Options

log = logging.getLogger("storage_drivers.s3")

#: Seconds to connect, then to wait for each answer (botocore's client uses the same).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
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
#: Answers handed back to the client instead: it retries them, or explains them.
_NOT_OURS = frozenset({301, 302, 307, 308, 400, 500, 502, 503, 504})


def takes(operation: str, kwargs: Mapping[str, Any], read_body: bool) -> bool:
    """Whether the direct path makes this call: a whole object read into memory
    (``read_body``), a HEAD, a PUT of a body in memory with headers it knows, a listing
    page, a batch delete. Anything else (ranges, streams, multipart, copies, single
    deletes) is botocore's."""
    names = kwargs.keys()
    if operation == "get_object":
        return read_body and names == {"Key"}
    if operation == "head_object":
        return names == {"Key"}
    if operation == "put_object":
        body = kwargs.get("Body")
        return (
            isinstance(body, bytes)
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

    def __init__(
        self, base: str, region: str, session: Any, options: S3Options, config: Any = None
    ) -> None:
        parts = urllib.parse.urlsplit(base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base = base
        self._prefix = parts.path  # "/<bucket>/" (path style) or "/" (virtual host)
        self._region = region
        self._session = session
        self._options = options
        #: the client's config: whether a body is signed (``payload_signing_enabled``)
        self._config = config
        self._local = threading.local()
        #: Every thread's connection, so :meth:`close` reaches those of idle threads.
        self._open: set[http.client.HTTPConnection] = set()
        self._open_lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        if self._https:
            self._context = _tls_context(options)

    @classmethod
    def for_client(cls, client: Any, session: Any, options: S3Options) -> DirectRequests | None:
        """Requests for ``client``'s bucket, or None when all must go through it."""
        if not options.v4auth:
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
        return cls(base, credential[2], session, options, client.meta.config)

    # -- requests -----------------------------------------------------------------------

    def call(self, operation: str, kwargs: dict[str, Any], path: str, bucket: str) -> Any:
        """``client.<operation>(**kwargs)`` for a call :func:`takes`."""
        if operation == "get_object":
            return self.get(kwargs["Key"], path, bucket)
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
        answer = self._send("GET", self._target(key))
        if answer is None:
            return None
        status, headers, body = answer
        if status == 200:
            return body, headers.get("etag", "")
        self._raise_for(status, body, "get_object", path, bucket)
        return None

    def head(self, key: str, path: str, bucket: str) -> dict[str, Any] | None:
        """What ``head_object`` answers that the driver reads: size, date, ETag and the
        object's metadata (``x-amz-meta-*``, names in lower case as S3 keeps them)."""
        answer = self._send("HEAD", self._target(key))
        if answer is None:
            return None
        status, headers, body = answer
        if status == 200 and "content-length" in headers:
            modified = headers.get("last-modified")
            return {
                "ContentLength": int(headers["content-length"]),
                "LastModified": parse_timestamp(modified) if modified else None,
                "ETag": headers.get("etag", ""),
                "Metadata": {
                    name[len(_METADATA) :]: value
                    for name, value in headers.items()
                    if name.startswith(_METADATA)
                },
            }
        self._raise_for(status, body, "head_object", path, bucket)
        return None

    def put(
        self, key: str, body: bytes, params: dict[str, Any], path: str, bucket: str
    ) -> dict[str, Any] | None:
        """``put_object`` of a body in memory with ``params`` among :data:`PUT_HEADERS`
        and ``Metadata``: the new object's ETag."""
        headers = {
            PUT_HEADERS[name]: str(value) for name, value in params.items() if name in PUT_HEADERS
        }
        for name, value in (params.get("Metadata") or {}).items():
            headers[_METADATA + name] = value
        answer = self._send("PUT", self._target(key), body, headers)
        if answer is None:
            return None
        status, answered, text = answer
        if status == 200:
            return {"ETag": answered.get("etag", "")}
        self._raise_for(status, text, "put_object", path, bucket)
        return None

    def listing(self, params: dict[str, Any], path: str, bucket: str) -> dict[str, Any] | None:
        """A ``list_objects_v2`` page for ``params`` among :data:`LIST_QUERY`, shaped as
        botocore shapes it (the fields the driver reads)."""
        query = [("list-type", "2")] + [
            (LIST_QUERY[name], str(value)) for name, value in params.items()
        ]
        encoded = "&".join(f"{_quote(name)}={_quote(value)}" for name, value in sorted(query))
        answer = self._send("GET", f"{self._prefix}?{encoded}")
        if answer is None:
            return None
        status, _, body = answer
        if status == 200:
            return list_page(body)
        self._raise_for(status, body, "list_objects_v2", path, bucket)
        return None

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
        answer = self._send("POST", f"{self._prefix}?delete", body, headers)
        if answer is None:
            return None
        status, _, text = answer
        if status == 200:
            return delete_result(text)
        self._raise_for(status, text, "delete_objects", path, bucket)
        return None

    def _target(self, key: str) -> str:
        return self._prefix + urllib.parse.quote(key, safe="/~")

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

    def _send(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes] | None:
        """One signed request on this thread's kept-alive connection; None when it could
        not be sent or answered (the connection is dropped: botocore takes over)."""
        signed = self._signed(method, target, body, headers or {})
        if signed is None:
            return None
        connection: http.client.HTTPConnection | None = None
        try:
            connection = self._connection()
            connection.request(method, target, body=body or None, headers=signed)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            log.debug("s3 direct %s %s failed (%s): through botocore", method, target, exc)
            if connection is not None:
                self._drop(connection)
            return None
        if response.will_close:
            self._drop(connection)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer

    def _signed(
        self, method: str, target: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, str] | None:
        credentials = self._session.get_credentials()
        if credentials is None:
            return None
        request = AWSRequest(
            method=method, url=self._origin() + target, data=body or None, headers=headers
        )
        # whether the body is hashed into the signature (over http) or not (over https),
        # as the client decides it
        request.context["client_config"] = self._config
        if self._options.useragent:
            request.headers["User-Agent"] = self._options.useragent
        S3SigV4Auth(credentials.get_frozen_credentials(), "s3", self._region).add_auth(request)
        return dict(request.headers.items())

    def _origin(self) -> str:
        scheme = "https" if self._https else "http"
        port = f":{self._port}" if self._port is not None else ""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}{port}"

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=CONNECT_TIMEOUT, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=CONNECT_TIMEOUT
                )
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(READ_TIMEOUT)
            self._local.connection = connection
            with self._open_lock:
                self._open.add(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._open_lock:
            self._open.discard(connection)

    def close(self) -> None:
        """Close every thread's connection (the driver is closing: none is in use)."""
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()


def _tls_context(options: S3Options) -> ssl.SSLContext:
    """TLS as the botocore client has it (:meth:`S3Options.verify`)."""
    verify = options.verify()
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    where = get_cert_path(verify)
    if os.path.isdir(where):
        return ssl.create_default_context(capath=where)
    return ssl.create_default_context(cafile=where)


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
