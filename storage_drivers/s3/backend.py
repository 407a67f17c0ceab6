"""The boto3 side of the S3 driver: one client, a thread pool, keys and error translation.

boto3 blocks, so every request runs on the driver's own thread pool and the event loop
never waits on the network. botocore errors never leave this module: they become
``PathNotFound`` or a ``StorageDriverError`` whose message says what to fix.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session
import botocore.utils

from storage_drivers.errors import StorageDriverError
from storage_drivers.s3.answers import RangeNotSatisfiable as RangeNotSatisfiable
from storage_drivers.s3.answers import parse_timestamp as parse_timestamp
from storage_drivers.s3.answers import translate_error
from storage_drivers.s3.direct import DirectRequests, takes
from storage_drivers.s3.options import S3Options
from storage_drivers.threads import ThreadRunner

T = TypeVar("T")

log = logging.getLogger("storage_drivers.s3")

#: Threads (and pooled HTTP connections) per driver: enough for a parallel multipart copy
#: and concurrent requests without letting one driver open hundreds of sockets.
MAX_THREADS = 32
#: A request that takes longer than this (seconds, waiting for a thread included) is
#: logged: an S3 server that stalls, or a pool kept busy, would otherwise show only as a
#: slow answer to a client.
SLOW_CALL_SECONDS = 15.0
#: Sizes of objects this driver just committed, remembered so ``move`` can skip a HEAD.
MAX_REMEMBERED_SIZES = 4096
#: Name of the hidden directory holding writers' uncommitted tails; ``~`` is outside the
#: path grammar, so no driver path can collide with it and listings drop it.
PENDING_DIR = "~pending"


class S3Backend:
    """A bucket, a root directory inside it, and the calls the driver makes on them."""

    def __init__(self, options: S3Options) -> None:
        self.options = options
        self.bucket = options.bucket
        self._root = options.rootdirectory
        self._runner = ThreadRunner(MAX_THREADS, "s3-driver")
        self._client: Any = None
        #: the common small requests sent without botocore's machinery (``direct.py``)
        self._direct: DirectRequests | None = None
        #: whether ``_direct`` was decided (on a pool thread, at the first read: it may
        #: look credentials up, which must not hold up the registry's start)
        self._direct_known = False
        self._session: Any = None
        self._client_lock = threading.Lock()
        self._observers: list[Callable[[str], None]] = []
        self._sizes: OrderedDict[str, int] = OrderedDict()
        # Built now, while the registry starts, not by its first request: building one
        # parses botocore's data (the first time in a process) holding the GIL, which
        # stalled the event loop serving that request for 0.1-0.7 s. A client that cannot
        # be built is left to the first call, which reports why.
        with contextlib.suppress(Exception):
            self._make_client()

    # -- keys ---------------------------------------------------------------------------

    def key(self, path: str) -> str:
        """The object key of a driver path (``/a/b`` -> ``<root>/a/b``)."""
        return f"{self._root}{path}" if self._root else path[1:]

    def prefix(self, path: str) -> str:
        """The key prefix of everything below ``path`` (a directory)."""
        if path == "/":
            return f"{self._root}/" if self._root else ""
        return self.key(path) + "/"

    def to_path(self, base: str, relative: str) -> str:
        """The driver path of a key found ``relative`` to the prefix of ``base``."""
        return ("" if base == "/" else base) + "/" + relative

    def tail_key(self, path: str) -> str:
        """Where the uncommitted writer for ``path`` keeps its state object.

        All of them sit in one flat hidden directory, the path's ``/`` written ``~``
        (outside the path grammar, so the mapping is reversible and no driver path can
        name it): removing one leaves no emptied folders to clean up, and the writers
        below a directory share the prefix :meth:`tail_prefix`.
        """
        return f"{self.prefix('/')}{PENDING_DIR}/{path[1:].replace('/', '~')}"

    def tail_prefix(self, path: str) -> str:
        """The prefix shared by the state objects of writers strictly below ``path``."""
        return self.tail_key(path) + "~"

    def tail_owner(self, key: str) -> str | None:
        """The driver path whose writer state is ``key``; None for anything else."""
        head = f"{self.prefix('/')}{PENDING_DIR}/"
        if not key.startswith(head) or len(key) == len(head):
            return None
        return "/" + key[len(head) :].replace("~", "/")

    def folder_markers(self, path: str) -> list[str]:
        """Keys ``<dir>/`` of every ancestor of ``path``, deepest first.

        Directory-backed servers (SeaweedFS) keep an emptied folder listed until a slow
        background cleaner runs; deleting ``<dir>/`` removes it at once when it is
        empty and is refused (or a no-op on AWS, where no such key exists) otherwise.
        Each such delete costs the server about as much as a small PUT, so the driver
        sends only those of folders it found empty (see ``removal.prune``).
        """
        markers = []
        parent = path.rsplit("/", 1)[0]
        while parent:
            markers.append(self.key(parent) + "/")
            parent = parent.rsplit("/", 1)[0]
        return markers

    # -- sizes of fresh commits ---------------------------------------------------------

    def remember_size(self, key: str, size: int) -> None:
        """Note the size of an object this driver has just written (see ``recall_size``)."""
        self._sizes[key] = size
        self._sizes.move_to_end(key)
        while len(self._sizes) > MAX_REMEMBERED_SIZES:
            self._sizes.popitem(last=False)

    def recall_size(self, key: str) -> int | None:
        """The size remembered for ``key``, forgotten as it is read: a hint only, since
        another process may have replaced the object since."""
        return self._sizes.pop(key, None)

    # -- calls --------------------------------------------------------------------------

    def _make_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                session = _build_session(self.options)
                client = _build_client(self.options, session)
                self._session = session
                self._client = client
            return self._client

    def add_observer(self, observer: Callable[[str], None]) -> None:
        """Call ``observer(operation)`` before every request (tests count them)."""
        self._observers.append(observer)

    def _invoke(self, operation: str, path: str, kwargs: dict[str, Any]) -> Any:
        client = self._client if self._client is not None else self._make_client()
        self._observe(operation)
        try:
            return getattr(client, operation)(Bucket=self.bucket, **kwargs)
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, operation, path, self.bucket) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise StorageDriverError(
                f"s3 {operation} failed: {exc}", driver="s3", path=path
            ) from None

    def _direct_call(
        self, operation: str, path: str, kwargs: dict[str, Any], read_body: bool
    ) -> Any:
        """The call made the direct way (``direct.py``); None for a call it does not
        make, or when botocore must take it."""
        if not takes(operation, kwargs, read_body):
            return None
        direct = self.direct_requests()
        if direct is None:
            return None
        self._observe(operation)
        return direct.call(operation, kwargs, read_body, path, self.bucket)

    def direct_requests(self) -> DirectRequests | None:
        """The direct requests, decided once (on a pool thread); None: botocore does all."""
        if not self._direct_known:
            client = self._client if self._client is not None else self._make_client()
            with self._client_lock:
                if not self._direct_known:
                    self._direct = DirectRequests.for_client(client, self._session, self.options)
                    self._direct_known = True
        return self._direct

    def _observe(self, operation: str) -> None:
        for observer in self._observers:
            observer(operation)

    async def call(self, operation: str, path: str, **kwargs: Any) -> Any:
        """Run ``client.<operation>(Bucket=..., **kwargs)`` on the pool (a slow one is
        logged, with how long it waited for a thread)."""
        return await self._timed(operation, path, kwargs, read_body=False)

    async def get_body(self, path: str, **kwargs: Any) -> bytes:
        """``get_object``'s body, read on the thread that sent it (a second trip to the
        pool cost a small object's read as much again)."""
        return (await self.get_versioned(path, **kwargs))[0]

    async def get_versioned(self, path: str, **kwargs: Any) -> tuple[bytes, str]:
        """:meth:`get_body` and the object's ETag."""
        body, etag = await self._timed("get_object", path, kwargs, read_body=True)
        return body, str(etag)

    async def _timed(
        self, operation: str, path: str, kwargs: dict[str, Any], *, read_body: bool
    ) -> Any:
        queued = time.monotonic()
        began: list[float] = []

        def timed() -> Any:
            began.append(time.monotonic())
            direct = self._direct_call(operation, path, kwargs, read_body)
            if direct is not None:
                return direct
            response = self._invoke(operation, path, kwargs)
            if not read_body:
                return response
            body = response["Body"]
            try:
                return body.read(), response.get("ETag", "")
            finally:
                body.close()

        try:
            return await self._runner.run(timed)
        finally:
            if (took := time.monotonic() - queued) > SLOW_CALL_SECONDS:
                waited = (began[0] if began else time.monotonic()) - queued
                log.warning(
                    "s3 %s of %s took %.1fs (%.1fs of it waiting for one of the driver's %d"
                    " threads)",
                    operation,
                    path,
                    took,
                    waited,
                    MAX_THREADS,
                )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking callable (reading a response body) on the pool."""
        return await self._runner.run(fn, *args)

    async def presign(self, operation: str, path: str, expires: int) -> str:
        """A presigned URL (credential look-up may touch the network: on the pool)."""

        def sign() -> str:
            client = self._client if self._client is not None else self._make_client()
            try:
                url: str = client.generate_presigned_url(
                    operation,
                    Params={"Bucket": self.bucket, "Key": self.key(path)},
                    ExpiresIn=expires,
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise StorageDriverError(f"s3 presign failed: {exc}", driver="s3") from None
            return url

        return await self._runner.run(sign)

    def close(self) -> None:
        self._runner.close()
        direct, self._direct = self._direct, None
        self._direct_known = False
        if direct is not None:
            direct.close()
        client, self._client = self._client, None
        if client is not None:
            client.close()


def translate(
    exc: botocore.exceptions.ClientError, operation: str, path: str, bucket: str
) -> StorageDriverError:
    """Turn an S3 error response into the driver's typed errors."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = error.get("Message") or code
    return translate_error(code, status, message, operation, path, bucket)


#: botocore's data (the S3 model, the endpoint rules: megabytes of JSON) parsed once per
#: process, not once per driver: a session of its own parses it again, ~0.1 s of CPU that
#: holds the GIL (so stalls the event loop) whenever a driver makes its first call.
_DATA_LOADER = botocore.loaders.create_loader()


def _build_session(options: S3Options) -> Any:
    """A botocore session of the driver's own (credentials from the options, else the
    provider chain, resolved for this driver) sharing the process's parsed data."""
    session = botocore.session.Session()
    session.register_component("data_loader", _DATA_LOADER)
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=parse_timestamp
    )
    if options.region:
        session.set_config_variable("region", options.region)
    if options.accesskey and options.secretkey:
        session.set_credentials(options.accesskey, options.secretkey, options.sessiontoken or None)
    return session


def _build_client(options: S3Options, session: Any) -> Any:
    """A boto3 S3 client configured from the driver options."""
    s3_config: dict[str, Any] = {
        "addressing_style": "path" if options.forcepathstyle else "auto",
        "use_accelerate_endpoint": options.accelerate,
        "use_dualstack_endpoint": options.usedualstack,
        # Over TLS the payload's integrity is TLS's: skip SigV4's extra SHA-256 pass over
        # every body (UNSIGNED-PAYLOAD, as AWS documents). Over plain http the payload
        # stays signed: nothing else protects it on the wire.
        "payload_signing_enabled": not _uses_tls(options),
    }
    config = botocore.config.Config(
        region_name=options.region,
        signature_version="s3v4" if options.v4auth else "s3",
        s3=s3_config,
        max_pool_connections=MAX_THREADS,
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=120,
        user_agent_extra=options.useragent or None,
        use_fips_endpoint=options.usefipsendpoint,
        # S3 look-alikes often reject the CRC32 trailers newer botocore sends by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # The driver builds every request's parameters itself: checking them against
        # the model again cost a twentieth of a small request.
        parameter_validation=False,
    )
    client = session.create_client(
        "s3",
        endpoint_url=options.endpoint_url,
        use_ssl=options.secure,
        verify=options.verify(),
        config=config,
    )
    client.meta.events.register("before-call.s3", _no_continue_for_empty_body)
    return client


def _uses_tls(options: S3Options) -> bool:
    """Whether requests go over https (the endpoint's scheme, else ``secure``)."""
    endpoint = options.endpoint_url
    if endpoint is None:
        return options.secure
    return endpoint.lower().startswith("https://")


def _no_continue_for_empty_body(params: dict[str, Any], **_: Any) -> None:
    """Drop ``Expect: 100-continue`` from empty-bodied PUTs.

    botocore adds it to every PUT; a server may answer an empty one without a
    ``100 Continue`` and then send it late, leaving the kept-alive connection one
    response out of step (seen with SeaweedFS: the next request hung until the read
    timeout). With no body to hold back, the header buys nothing.
    """
    headers = params.get("headers", {})
    if "Expect" not in headers:
        return
    body = params.get("body")
    if body is None or botocore.utils.determine_content_length(body) == 0:
        del headers["Expect"]
