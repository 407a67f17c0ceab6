"""Blob upload sessions (end-4a/4b/4c, end-5, end-6, end-11, end-13, end-14).

POST starts a session, mounts a blob from another repository, or (with ``?digest=``)
takes the whole blob at once; a ``?digest-algorithm=`` it cannot verify is refused before
any byte is sent. PATCH appends a chunk; PUT ``?digest=`` completes the upload with an
optional last chunk; GET reports progress; DELETE cancels.
"""

from __future__ import annotations

import logging

from starlette.responses import Response

from pyregistry.api.bodies import body_chunks, declared_length, has_body
from pyregistry.api.errors import UploadRangeInvalid
from pyregistry.api.headers import CONTENT_DIGEST, OCI_CHUNK_MIN_LENGTH, UPLOAD_UUID, make_response
from pyregistry.api.ranges import parse_content_range
from pyregistry.api.state import ApiCall
from pyregistry.storage import BlobDescriptor, Digest
from pyregistry.storage.digest import ALGORITHMS
from pyregistry.storage.errors import (
    BlobUnknown,
    DigestInvalid,
    NameInvalid,
    NameUnknown,
    RangeInvalid,
    RegistryError,
    SizeInvalid,
    UnsupportedDigestAlgorithm,
)
from pyregistry.storage.interfaces import BlobUpload

log = logging.getLogger("pyregistry.api")


def _range_value(size: int) -> str:
    # distribution answers "0-0" for an empty session; clients expect that.
    return f"0-{max(size - 1, 0)}"


def _session_headers(call: ApiCall, upload_id: str, size: int) -> list[tuple[str, str]]:
    return [
        ("Location", call.state.urls.upload(call.request, call.name, upload_id)),
        ("Range", _range_value(size)),
        (UPLOAD_UUID, upload_id),
    ]


def _blob_created(call: ApiCall, desc: BlobDescriptor) -> Response:
    dgst = str(desc.digest)
    return make_response(
        201,
        [("Location", call.state.urls.blob(call.request, call.name, dgst)), (CONTENT_DIGEST, dgst)],
    )


def _parse_digest_param(value: str | None) -> Digest:
    if not value:
        raise DigestInvalid("digest missing", detail={"digest": value})
    return Digest.parse(value)


def _check_algorithm(value: str | None) -> None:
    """end-4c: the client names the algorithm of the digest it will close the session with."""
    if value is not None and value not in ALGORITHMS:
        raise UnsupportedDigestAlgorithm(
            f"unsupported digest algorithm {value!r}; supported: {', '.join(ALGORITHMS)}",
            detail={"digest-algorithm": value},
        )


def _chunk_offset(call: ApiCall, expected: int | None) -> int | None:
    """The chunk's start from ``Content-Range`` (checked against ``Content-Length``)."""
    header = call.request.headers.get("content-range")
    if header is None:
        return None
    start, end = parse_content_range(header)
    if expected and expected != end - start + 1:
        raise SizeInvalid(
            "Content-Length does not match Content-Range",
            detail={"Content-Range": header, "Content-Length": expected},
        )
    return start


async def _try_mount(call: ApiCall, digest: Digest, source: str | None) -> BlobDescriptor | None:
    """Link ``digest`` from ``source`` (or the global store); None means: upload instead."""
    if source is not None:
        if not call.context.allow_source_mount:
            return None
        try:
            call.state.registry.repository(source)
        except NameInvalid:
            return None
    elif not call.context.allow_global_mount:
        return None
    try:
        return await call.repository.blobs.mount(digest, source)
    except (BlobUnknown, NameUnknown, NameInvalid):
        return None


async def start_upload(call: ApiCall) -> Response:
    query = call.request.query_params
    repo = call.repository
    _check_algorithm(query.get("digest-algorithm"))

    mount = query.get("mount")
    if mount is not None:
        digest = _parse_digest_param(mount)
        source = query.get("from") or None
        desc = await _try_mount(call, digest, source)
        if desc is not None:
            return _blob_created(call, desc)

    digest_param = query.get("digest")
    if digest_param is not None and mount is None:
        digest = _parse_digest_param(digest_param)
        expected = declared_length(call.request)
        session = await repo.uploads.create()
        try:
            chunks = body_chunks(call.request, expected) if has_body(call.request) else None
            desc = await session.commit(digest, chunks)
        except BaseException:
            await _cancel_quietly(session)
            raise
        return _blob_created(call, desc)

    session = await repo.uploads.create()
    headers = _session_headers(call, session.id, 0)
    min_chunk = call.state.registry.min_chunk_size
    if min_chunk > 0:
        headers.append((OCI_CHUNK_MIN_LENGTH, str(min_chunk)))
    return make_response(202, headers)


async def _cancel_quietly(session: BlobUpload) -> None:
    try:
        await session.cancel()
    except RegistryError:
        pass
    except Exception:
        log.warning("could not cancel a failed single-request upload", exc_info=True)


async def _out_of_order(call: ApiCall, session: BlobUpload, exc: RangeInvalid) -> RegistryError:
    """A 416 that also tells the client where the session stands (Range, Location)."""
    try:
        current = await session.size()
    except RegistryError:
        return exc
    headers = dict(_session_headers(call, session.id, current))
    return UploadRangeInvalid(exc.message, exc.detail, headers=headers)


async def upload_status(call: ApiCall) -> Response:
    session = await call.repository.uploads.resume(call.route.reference or "")
    size = await session.size()
    return make_response(204, _session_headers(call, session.id, size))


async def patch_upload(call: ApiCall) -> Response:
    session = await call.repository.uploads.resume(call.route.reference or "")
    expected = declared_length(call.request)
    offset = _chunk_offset(call, expected)
    try:
        size = await session.append(body_chunks(call.request, expected), offset=offset)
    except RangeInvalid as exc:
        raise await _out_of_order(call, session, exc) from exc
    return make_response(202, _session_headers(call, session.id, size))


async def complete_upload(call: ApiCall) -> Response:
    session = await call.repository.uploads.resume(call.route.reference or "")
    digest = _parse_digest_param(call.request.query_params.get("digest"))
    expected = declared_length(call.request)
    offset = _chunk_offset(call, expected)
    chunks = body_chunks(call.request, expected) if has_body(call.request) else None
    try:
        desc = await session.commit(digest, chunks, offset)
    except RangeInvalid as exc:
        raise await _out_of_order(call, session, exc) from exc
    return _blob_created(call, desc)


async def cancel_upload(call: ApiCall) -> Response:
    session = await call.repository.uploads.resume(call.route.reference or "")
    await session.cancel()
    return make_response(204, [(UPLOAD_UUID, session.id)])
