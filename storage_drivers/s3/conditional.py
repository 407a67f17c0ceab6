"""Conditional writes on S3: ``If-None-Match: *`` and ``If-Match`` on PutObject and
DeleteObject, where the server honours them.

AWS has since 2024 (deletes since 2025), and so have MinIO and SeaweedFS; servers that
predate them, or S3 look-alikes, may ignore the headers and write anyway, which would
make a lease built on them grant itself twice. So each driver asks the server once: it
writes a probe object and checks that a second create, a replace and a delete at a
wrong version are all refused. One carried out means no: callers then use plain
writes. A probe that fails (the server unreachable) is a no for now, asked again later.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from storage_drivers.asked_once import AskedOnce
from storage_drivers.errors import ConditionFailed, StorageDriverError
from storage_drivers.s3.backend import S3Backend

log = logging.getLogger("storage_drivers.s3")

#: The hidden folder of probe objects: ``~`` is outside the path grammar, so no driver
#: path can name it and listings drop it.
PROBE_DIR = "~conditional-probe"
#: A version no object has (ETags are quoted hex digests).
_NO_SUCH_VERSION = '"pyregistry-no-such-version"'


class ConditionalWrites:
    """A backend's conditional calls, and whether its server honours them."""

    def __init__(self, backend: S3Backend) -> None:
        self._backend = backend
        self._question = AskedOnce(self._probe, cautious=False)

    async def supported(self) -> bool:
        """Probed once per driver (see :class:`AskedOnce`): a probe that fails (S3
        unreachable) counts as no for now and is made again later."""
        return await self._question.answer()

    async def get(self, path: str) -> tuple[bytes, str]:
        return await self._backend.get_versioned(path, Key=self._backend.key(path))

    async def put(self, path: str, content: bytes, version: str | None) -> str:
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        response = await self._backend.call(
            "put_object",
            path,
            Key=self._backend.key(path),
            Body=content,
            **condition,
            **self._backend.options.object_args(),
        )
        return str(response["ETag"])

    async def delete(self, path: str, version: str) -> None:
        await self._backend.call(
            "delete_object", path, Key=self._backend.key(path), IfMatch=version
        )

    async def _probe(self) -> bool:
        """True when the server refused all three conditional requests; False when it
        carried one out; a StorageDriverError when it could not be asked."""
        backend = self._backend
        key = f"{backend.prefix('/')}{PROBE_DIR}/{uuid.uuid4().hex}"
        where = f"/{PROBE_DIR}"
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("put_object", {"Body": b"2", "IfNoneMatch": "*"}),
            ("put_object", {"Body": b"3", "IfMatch": _NO_SUCH_VERSION}),
            ("delete_object", {"IfMatch": _NO_SUCH_VERSION}),
        ]
        try:
            await backend.call("put_object", where, Key=key, Body=b"1", IfNoneMatch="*")
            for operation, kwargs in attempts:
                try:
                    await backend.call(operation, where, Key=key, **kwargs)
                except ConditionFailed:
                    continue
                log.info("s3: the server ignores If-None-Match/If-Match; leases use plain writes")
                return False
        finally:
            with contextlib.suppress(StorageDriverError):
                await backend.call("delete_object", where, Key=key)
        return True
