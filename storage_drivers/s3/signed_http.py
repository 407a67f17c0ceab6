"""Signed HTTP requests to one bucket's endpoint, over connections kept alive: the
transport under :mod:`storage_drivers.s3.direct`.

Each pool thread keeps a connection of its own for requests answered at once; a streamed
GET, read on whichever pool thread is free, takes one from a shared idle list and gives
it back once its body was read to the end (else it is closed: what is left of the body
would be read as the next answer). A request that fails to go out or be answered drops
its connection; the caller then asks botocore, which retries.
"""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import threading
import urllib.parse
from typing import Any

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.httpsession import get_cert_path

from storage_drivers.s3.options import S3Options
from storage_drivers.s3.quick_response import QuickResponse

log = logging.getLogger("storage_drivers.s3")

#: Seconds to connect, then to wait for each answer (botocore's client uses the same).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
#: Idle connections kept for streamed GETs.
IDLE_STREAMS = 8


class SignedHttp:
    """SigV4-signed requests to ``base`` (``scheme://host[:port]/[bucket/]``)."""

    def __init__(
        self, base: str, region: str, session: Any, options: S3Options, config: Any = None
    ) -> None:
        parts = urllib.parse.urlsplit(base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        #: "/<bucket>/" (path style) or "/" (virtual host)
        self.prefix = parts.path
        self._region = region
        self._session = session
        self._options = options
        #: the client's config: whether a body is signed (``payload_signing_enabled``)
        self._config = config
        self._local = threading.local()
        #: Every connection, so :meth:`close` reaches those of idle threads and streams.
        self._open: set[http.client.HTTPConnection] = set()
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        if self._https:
            self._context = _tls_context(options)

    def target(self, key: str) -> str:
        """The request target of an object (its key quoted as botocore quotes it)."""
        return self.prefix + urllib.parse.quote(key, safe="/~")

    def send(
        self,
        method: str,
        target: str,
        body: bytes | bytearray = b"",
        headers: dict[str, str] | None = None,
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
        self, method: str, target: str, body: bytes | bytearray, headers: dict[str, str]
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

    def open(
        self, target: str, headers: dict[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse] | None:
        """A GET whose answer's body is left to be read, on a connection of its own:
        :meth:`release` it once done. None as for :meth:`send`."""
        signed = self._signed("GET", target, b"", headers)
        if signed is None:
            return None
        connection: http.client.HTTPConnection | None = None
        try:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                connection = self._new_connection()
            connection.request("GET", target, headers=signed)
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            log.debug("s3 direct GET %s failed (%s): through botocore", target, exc)
            if connection is not None:
                self._forget(connection)
            return None

    def release(
        self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        """A streamed answer is done with: its connection is kept for the next stream if
        the body was read to its end and the server keeps it open, else closed."""
        if response.isclosed() and not response.will_close:
            with self._lock:
                if connection in self._open and len(self._idle) < IDLE_STREAMS:
                    self._idle.append(connection)
                    return
        response.close()
        self._forget(connection)

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._new_connection()
            self._local.connection = connection
        return connection

    def _new_connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=CONNECT_TIMEOUT, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)
        connection.response_class = QuickResponse
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(READ_TIMEOUT)
        with self._lock:
            self._open.add(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        """This thread's connection is done for."""
        self._local.connection = None
        self._forget(connection)

    def _forget(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._open.discard(connection)

    def close(self) -> None:
        """Close every connection (the driver is closing: none is in use)."""
        with self._lock:
            connections, self._open, self._idle = self._open, set(), []
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
