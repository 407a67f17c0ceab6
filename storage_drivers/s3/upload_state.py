"""Where an uncommitted S3 writer stands, and where a new writer starts from.

An uncommitted writer for ``<path>`` (nothing of it is visible at ``<path>``) is:

* a **state object** at ``<root>/~pending/<path with / as ~>`` (one flat hidden
  directory, see ``S3Backend.tail_key``): its body holds the bytes not yet in a
  part (the tail), its metadata the multipart upload id (``upload-id``, absent while
  there is none) and the byte count of the parts before the tail (``base``). ``~`` is
  not a path character, so ``list``, ``walk`` and ``stat`` never show it;
* a multipart upload for the key of ``<path>``, started only once a full part
  (``chunksize``) is buffered; all its parts but a committed last one are >= 5 MiB.

So a small blob costs no multipart calls at all: committed in the writer session that
wrote it, it is one PutObject; closed before commit, its bytes live in the state object,
where ``writer(path, append=True)`` from any process finds them (one GET). The state
object names the upload, so a writer of ours never lists multipart uploads. When an upload is
started, the state object is rewritten at once to name it (with the tail it already
held), so no upload is ever unreachable from its state object. A tail whose ``base`` no
longer matches the parts (its bytes went into a part before a crash) is stale and
ignored: the parts are the truth.

A path without a state object may still have an uncommitted writer of distribution's S3
driver (a chunked upload it started, on a bucket it shares with pyregistry during a
rolling switch): distribution keeps nothing but the multipart upload on the path's key,
found by listing the key's uploads (it takes the first). Its parts are taken over as
they are, unless the last is under S3's minimum, as it mostly is (distribution ships what
it buffers as a part whenever a request ends), after which S3 takes no more parts: then
the upload is completed, as distribution itself would before writing more, and the path
reads as committed data, which the upload session takes back into a writer of ours.
Either way the client goes on with its next chunk. Uploads of pyregistry's writers are
never found this way: they are named by their state object.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from storage_drivers.errors import ConditionFailed, PathNotFound, StorageDriverError
from storage_drivers.s3.backend import S3Backend
from storage_drivers.s3.options import MIN_CHUNK_SIZE

UPLOAD_ID = "upload-id"
BASE = "base"


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What a writer starts from."""

    upload_id: str | None
    parts: list[Part]
    tail: bytes
    #: a state object exists
    state_exists: bool
    #: ... and it holds exactly ``tail`` at the parts' size (it is not stale)
    state_current: bool


async def abort_quietly(backend: S3Backend, path: str, key: str, upload_id: str) -> None:
    """Abort a multipart upload; one already gone is fine."""
    with contextlib.suppress(PathNotFound):
        await backend.call("abort_multipart_upload", path, Key=key, UploadId=upload_id)


async def read_state(backend: S3Backend, path: str) -> tuple[str | None, int] | None:
    """``(upload id, base)`` from the state object's metadata (a HEAD); None if absent."""
    try:
        head = await backend.call("head_object", path, Key=backend.tail_key(path))
    except PathNotFound:
        return None
    return _parse_metadata(dict(head.get("Metadata") or {}))


def _parse_metadata(metadata: dict[str, str]) -> tuple[str | None, int]:
    upload_id = metadata.get(UPLOAD_ID) or None
    try:
        base = int(metadata.get(BASE, "0"))
    except ValueError:
        base = -1  # never matches: the tail is ignored
    return upload_id, base


async def start_upload(backend: S3Backend, path: str) -> ResumeState:
    """A fresh writer: discard any uncommitted writer for ``path`` (one HEAD when none).

    Nothing is created yet: the state object is written on close, the multipart upload
    once a full part is buffered.
    """
    previous = await read_state(backend, path)
    if previous is None:
        return ResumeState(None, [], b"", False, False)
    upload_id, _ = previous
    if upload_id is not None:
        await abort_quietly(backend, path, backend.key(path), upload_id)
    # The old state object stays until this writer closes (overwrites it) or commits
    # or cancels (removes it); until then an append finds no usable upload in it.
    return await _empty_state(backend, path)


async def claim_fresh_state(backend: S3Backend, path: str) -> ResumeState | None:
    """A fresh writer's empty state object, created only where there is none
    (``If-None-Match: *``, where the server honours it): one request instead of the
    look for an older writer and the state object's write at close. None when a state
    object is there (:func:`start_upload` then discards that writer)."""
    try:
        return await _empty_state(backend, path, IfNoneMatch="*")
    except ConditionFailed:
        return None


async def _empty_state(backend: S3Backend, path: str, **condition: str) -> ResumeState:
    """Write the state object of a writer holding nothing yet."""
    await backend.call(
        "put_object",
        path,
        Key=backend.tail_key(path),
        Body=b"",
        ContentType="application/octet-stream",
        Metadata={BASE: "0"},
        **condition,
    )
    return ResumeState(None, [], b"", True, True)


async def resume_upload(backend: S3Backend, path: str) -> ResumeState:
    """The state of the uncommitted writer for ``path``; PathNotFound when none."""
    try:
        response = await backend.call("get_object", path, Key=backend.tail_key(path))
    except PathNotFound:
        return await _listed_upload(backend, path)
    body = response["Body"]
    try:
        tail: bytes = await backend.run(body.read)
    finally:
        body.close()
    upload_id, base = _parse_metadata(dict(response.get("Metadata") or {}))
    if upload_id is None:
        current = base == 0
        return ResumeState(None, [], tail if current else b"", True, current)
    try:
        parts = await list_parts(backend, path, backend.key(path), upload_id)
    except PathNotFound:
        raise PathNotFound(path, driver="s3") from None  # the upload was aborted
    # A stale tail's bytes went into a part before the state object was rewritten.
    current = sum(p.size for p in parts) == base
    return ResumeState(upload_id, parts, tail if current else b"", True, current)


async def _listed_upload(backend: S3Backend, path: str) -> ResumeState:
    """distribution's uncommitted writer for ``path`` (see the module's text), or
    PathNotFound: when there is none, or once its upload is completed."""
    key = backend.key(path)
    upload_id = await _first_upload(backend, path, key)
    if upload_id is None:
        raise PathNotFound(path, driver="s3")
    parts = await list_parts(backend, path, key, upload_id)
    if parts and parts[-1].size < MIN_CHUNK_SIZE:
        await backend.call(
            "complete_multipart_upload",
            path,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
        )
        raise PathNotFound(path, driver="s3")  # committed now: read, not resumed
    return ResumeState(upload_id, parts, b"", False, False)


async def _first_upload(backend: S3Backend, path: str, key: str) -> str | None:
    """The id of the first multipart upload listed for exactly ``key``, as distribution
    picks it."""
    kwargs: dict[str, Any] = {"Prefix": key}
    while True:
        page = await backend.call("list_multipart_uploads", path, **kwargs)
        for upload in page.get("Uploads", []):
            if upload.get("Key") == key:
                return str(upload["UploadId"])
        if not page.get("IsTruncated"):
            return None
        kwargs["KeyMarker"] = page.get("NextKeyMarker", "")
        kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker", "")


async def list_parts(backend: S3Backend, path: str, key: str, upload_id: str) -> list[Part]:
    parts: list[Part] = []
    kwargs: dict[str, Any] = {"Key": key, "UploadId": upload_id}
    while True:
        page = await backend.call("list_parts", path, **kwargs)
        parts.extend(
            Part(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
            for p in page.get("Parts", [])
        )
        if not page.get("IsTruncated"):
            break
        kwargs["PartNumberMarker"] = page.get("NextPartNumberMarker", 0)
    parts.sort(key=lambda p: p.number)
    for part in parts[:-1]:
        if part.size < MIN_CHUNK_SIZE:
            raise StorageDriverError(
                f"s3 upload for {path} has a {part.size}-byte part before its last one; "
                "it cannot be completed",
                driver="s3",
                path=path,
            )
    return parts
