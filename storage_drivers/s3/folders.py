"""Whether the server keeps listing a folder once its last object is gone.

A directory-backed server (SeaweedFS, whose filer keeps real directories) lists an
emptied folder until a slow background cleaner removes it, unless the folder's
``<dir>/`` marker is deleted: so a delete there goes on up the tree, a listing per level,
deleting the markers of the folders it left empty (``removal.prune``). On AWS, MinIO,
Ceph or moto a folder is only a prefix of the keys there are, and those listings would
cost up to three requests on every delete for nothing (a blob push ends with one, the
removal of its upload session). So each driver asks its server once, the first time a
delete could leave a folder behind: it writes a probe object in a folder of its own
under the hidden ``~folder-probe/``, deletes it, and lists the folder. A question that
fails counts as "they linger" (the cautious answer) for now.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from storage_drivers.asked_once import AskedOnce
from storage_drivers.errors import StorageDriverError
from storage_drivers.s3.backend import S3Backend

log = logging.getLogger("storage_drivers.s3")

#: The hidden folder of probe objects (``~`` is outside the path grammar).
PROBE_DIR = "~folder-probe"


class EmptiedFolders:
    """Whether this backend's server lists emptied folders (asked once)."""

    def __init__(self, backend: S3Backend) -> None:
        self._backend = backend
        self._question = AskedOnce(self._probe, cautious=True)

    async def linger(self) -> bool:
        return await self._question.answer()

    async def _probe(self) -> bool:
        backend = self._backend
        parent = f"{backend.prefix('/')}{PROBE_DIR}/"
        folder = f"{parent}{uuid.uuid4().hex}"
        where = f"/{PROBE_DIR}"
        await backend.call("put_object", where, Key=f"{folder}/probe", Body=b"")
        try:
            await _delete(backend, where, [f"{folder}/probe"])
            # Empty now: whatever is listed there is the folder itself (SeaweedFS lists
            # it as a key ``<folder>/``).
            page = await backend.call(
                "list_objects_v2", where, Prefix=f"{folder}/", Delimiter="/", MaxKeys=2
            )
        finally:
            with contextlib.suppress(StorageDriverError):
                await _delete(backend, where, [f"{folder}/probe", f"{folder}/", parent])
        linger = bool(page.get("Contents") or page.get("CommonPrefixes"))
        if not linger:
            log.info("s3: emptied folders are not listed; deletes leave no markers to prune")
        return linger


async def _delete(backend: S3Backend, where: str, keys: list[str]) -> None:
    objects = [{"Key": key} for key in keys]
    await backend.call("delete_objects", where, Delete={"Objects": objects, "Quiet": True})
