"""Push workflow, blob side: every upload flow (end-4a/4b/4c, end-5, end-6, end-11, end-13,
end-14)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx

from conformance import content
from conformance.checks import (
    describe,
    expect,
    expect_content_digest,
    expect_error,
    expect_range,
    expect_status,
    header,
)
from conformance.content import Blob
from conformance.runner import Context, conformance_test

OCTET = {"Content-Type": "application/octet-stream"}


def _complete(ctx: Context, location: str, blob: Blob, body: bytes = b"") -> httpx.Response:
    """Close an upload session with PUT ?digest= and check the 201 the clients rely on."""
    headers = dict(OCTET) if body else {}
    resp = ctx.client.request(
        "PUT", location, params={"digest": blob.digest}, headers=headers, content=body
    )
    expect_status(resp, 201)
    header(resp, "Location")
    expect_content_digest(resp, blob)
    return resp


def _patch(ctx: Context, location: str, chunk: bytes, start: int | None) -> httpx.Response:
    headers = dict(OCTET)
    if start is not None:
        headers["Content-Range"] = f"{start}-{start + len(chunk) - 1}"
    return ctx.client.request("PATCH", location, headers=headers, content=chunk)


def _post(ctx: Context, repo: str, params: dict[str, str]) -> httpx.Response:
    """An empty POST to the uploads endpoint (a new session, a mount...), unchecked."""
    return ctx.client.request(
        "POST", f"/v2/{repo}/blobs/uploads/", params=params, headers={"Content-Length": "0"}
    )


def _chunk_size(started: httpx.Response) -> int:
    """4 KiB chunks, or the OCI-Chunk-Min-Length the registry asked for on POST."""
    wanted = started.headers.get("OCI-Chunk-Min-Length", "")
    expect(wanted == "" or wanted.isdigit(), f"OCI-Chunk-Min-Length {wanted!r} is not a size")
    return max(4096, int(wanted or 0))


@conformance_test("push", "upload-post-then-put")
def post_then_put(ctx: Context) -> None:
    """end-4a then end-6: 202 + Location, then 201 + Location + Docker-Content-Digest."""
    blob = content.random_blob(5000)
    started = ctx.client.start_upload(ctx.namespace)
    _complete(ctx, ctx.client.location(started), blob, blob.data)
    ctx.client.expect_blob(ctx.namespace, blob)


@conformance_test("push", "upload-session-closed")
def session_closed(ctx: Context) -> None:
    """After the closing PUT the session is gone: its Location answers 404."""
    blob = content.random_blob(1000)
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    _complete(ctx, location, blob, blob.data)
    expect_status(ctx.client.request("GET", location), 404)
    expect_status(_patch(ctx, location, b"late", len(blob.data)), 404)


@conformance_test("push", "upload-existing-blob")
def existing_blob(ctx: Context) -> None:
    """Uploading content the repository already has completes normally (201 again)."""
    blob = content.random_blob(1500)
    ctx.client.push_blob(ctx.namespace, blob)
    started = ctx.client.start_upload(ctx.namespace)
    _complete(ctx, ctx.client.location(started), blob, blob.data)
    ctx.client.expect_blob(ctx.namespace, blob)


@conformance_test("push", "upload-uuid-header", features=["upload-uuid"])
def upload_uuid(ctx: Context) -> None:
    """Docker-Upload-UUID on the 202s of POST, PATCH and the status GET (docker reads it)."""
    started = ctx.client.start_upload(ctx.namespace)
    header(started, "Docker-Upload-UUID")
    location = ctx.client.location(started)
    patched = _patch(ctx, location, b"abc", None)
    expect_status(patched, 202)
    header(patched, "Docker-Upload-UUID")
    status = ctx.client.request("GET", ctx.client.location(patched))
    expect_status(status, 204)
    header(status, "Docker-Upload-UUID")


@conformance_test("push", "upload-202-headers")
def upload_202_headers(ctx: Context) -> None:
    """Every 202 of an upload (POST, PATCH, a mount that falls back) carries Location and
    ``Range: 0-<end>`` (``0-0`` while empty): docker and containerd resume from them."""
    started = ctx.client.start_upload(ctx.namespace)
    expect_range(started, 0)
    patched = _patch(ctx, ctx.client.location(started), b"x" * 100, None)
    expect_status(patched, 202)
    header(patched, "Location")
    expect_range(patched, 99)
    source, _ = _blob_in_other_repo(ctx)
    fallback = _post(ctx, ctx.namespace, {"mount": content.random_digest(), "from": source})
    expect_status(fallback, 202)
    header(fallback, "Location")
    expect_range(fallback, 0)


@conformance_test("push", "upload-digest-algorithm", features=["digest-algorithm"])
def upload_digest_algorithm(ctx: Context) -> None:
    """end-4c: POST ?digest-algorithm=sha512 opens a session a sha512 digest closes; an
    algorithm the registry cannot verify is refused up front with 400."""
    started = _post(ctx, ctx.namespace, {"digest-algorithm": "sha512"})
    expect_status(started, 202)
    blob = content.random_blob(3000, algorithm="sha512")
    patched = _patch(ctx, ctx.client.location(started), blob.data, None)
    expect_status(patched, 202)
    _complete(ctx, ctx.client.location(patched), blob)
    ctx.client.expect_blob(ctx.namespace, blob)
    refused = _post(ctx, ctx.namespace, {"digest-algorithm": "no-such-algorithm"})
    expect_status(refused, 400)


@conformance_test("push", "upload-single-post", features=["single-post"])
def single_post(ctx: Context) -> None:
    """end-4b: 201 with a pullable Location, or 202 and the client finishes with PUT."""
    blob = content.random_blob(3000)
    resp = ctx.client.request(
        "POST",
        f"/v2/{ctx.namespace}/blobs/uploads/",
        params={"digest": blob.digest},
        headers=OCTET,
        content=blob.data,
    )
    expect_status(resp, 201, 202)
    location = ctx.client.location(resp)
    if resp.status_code == 202:
        _complete(ctx, location, blob, blob.data)
    ctx.client.expect_blob(ctx.namespace, blob)


@conformance_test("push", "upload-chunked")
def chunked(ctx: Context) -> None:
    """end-5: in-order PATCHes with Content-Range, each 202 + Location + Range: 0-<end>."""
    started = ctx.client.start_upload(ctx.namespace)
    size = _chunk_size(started)
    blob = content.random_blob(3 * size + 17)
    location = ctx.client.location(started)
    for start in range(0, len(blob.data), size):
        chunk = blob.data[start : start + size]
        resp = _patch(ctx, location, chunk, start)
        expect_status(resp, 202)
        expect_range(resp, start + len(chunk) - 1)
        location = ctx.client.location(resp)
    _complete(ctx, location, blob)
    ctx.client.expect_blob(ctx.namespace, blob)


@conformance_test("push", "upload-chunked-final-chunk-in-put")
def chunked_final_in_put(ctx: Context) -> None:
    """The last chunk may travel in the closing PUT (with its Content-Range)."""
    started = ctx.client.start_upload(ctx.namespace)
    size = _chunk_size(started)
    blob = content.random_blob(size + 2000)
    first = _patch(ctx, ctx.client.location(started), blob.data[:size], 0)
    expect_status(first, 202)
    expect_range(first, size - 1)
    resp = ctx.client.request(
        "PUT",
        ctx.client.location(first),
        params={"digest": blob.digest},
        headers={**OCTET, "Content-Range": f"{size}-{len(blob.data) - 1}"},
        content=blob.data[size:],
    )
    expect_status(resp, 201)
    expect_content_digest(resp, blob)
    ctx.client.expect_blob(ctx.namespace, blob)


@conformance_test("push", "upload-chunk-out-of-order", features=["upload-416"])
def chunk_out_of_order(ctx: Context) -> None:
    """A chunk that does not start where the upload ends must be 416."""
    blob = content.random_blob(8192)
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    skipped = _patch(ctx, location, blob.data[4096:], 4096)
    expect_status(skipped, 416)
    first = _patch(ctx, location, blob.data[:4096], 0)
    expect_status(first, 202)
    location = ctx.client.location(first)
    repeated = _patch(ctx, location, blob.data[:4096], 0)
    expect_status(repeated, 416)


@conformance_test("push", "upload-streamed")
def streamed(ctx: Context) -> None:
    """A PATCH without Content-Range (how docker and skopeo push), then an empty PUT."""
    blob = content.random_blob(20000)
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    resp = ctx.client.request("PATCH", location, headers=OCTET, content=blob.data)
    expect_status(resp, 202)
    expect_range(resp, len(blob.data) - 1)
    _complete(ctx, ctx.client.location(resp), blob)
    ctx.client.expect_blob(ctx.namespace, blob)


def _pieces(data: bytes, size: int = 1000) -> Iterator[bytes]:
    """A generator body: httpx sends it with Transfer-Encoding: chunked, no length."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


@conformance_test("push", "upload-transfer-encoding-chunked")
def transfer_encoding_chunked(ctx: Context) -> None:
    """Bodies without Content-Length (chunked transfer coding) on PATCH and on PUT."""
    blob = content.random_blob(9000)
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    resp = ctx.client.request("PATCH", location, content=_pieces(blob.data))
    expect_status(resp, 202)
    expect_range(resp, len(blob.data) - 1)
    _complete(ctx, ctx.client.location(resp), blob)
    ctx.client.expect_blob(ctx.namespace, blob)

    second = content.random_blob(7000)
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    put = ctx.client.request(
        "PUT",
        location,
        params={"digest": second.digest},
        headers=OCTET,
        content=_pieces(second.data),
    )
    expect_status(put, 201)
    ctx.client.expect_blob(ctx.namespace, second)


@conformance_test("push", "upload-status")
def upload_status(ctx: Context) -> None:
    """end-13: GET on the session is 204 with Location and Range: 0-<end>."""
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    fresh = ctx.client.request("GET", location)
    expect_status(fresh, 204)
    header(fresh, "Location")
    resp = _patch(ctx, location, b"x" * 1500, 0)
    expect_status(resp, 202)
    status = ctx.client.request("GET", ctx.client.location(resp))
    expect_status(status, 204)
    expect_range(status, 1499)
    header(status, "Location")
    expect(status.content == b"", f"204 with a body: {describe(status)}")


@conformance_test("push", "upload-cancel")
def upload_cancel(ctx: Context) -> None:
    """end-14: DELETE on the session is 204; afterwards the session is unknown (404)."""
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    patched = _patch(ctx, location, b"partial", 0)
    expect_status(patched, 202)
    location = ctx.client.location(patched)
    resp = ctx.client.request("DELETE", location)
    expect_status(resp, 204)
    gone = ctx.client.request("GET", location)
    expect_error(gone, 404, "BLOB_UPLOAD_UNKNOWN")
    again = ctx.client.request("DELETE", location)
    expect_status(again, 404)
    late = _patch(ctx, location, b"more", 7)
    expect_status(late, 404)


@conformance_test("push", "upload-sha512", features=["sha512"])
def upload_sha512(ctx: Context) -> None:
    """?digest=sha512:... completes, and the blob is addressable by its sha512 digest."""
    blob = content.random_blob(4000, algorithm="sha512")
    started = ctx.client.start_upload(ctx.namespace)
    _complete(ctx, ctx.client.location(started), blob, blob.data)
    ctx.client.expect_blob(ctx.namespace, blob)
    head = ctx.client.request("HEAD", f"/v2/{ctx.namespace}/blobs/{blob.digest}")
    expect_status(head, 200)
    expect_content_digest(head, blob)


def _blob_in_other_repo(ctx: Context) -> tuple[str, Blob]:
    source = f"{ctx.crossmount_namespace}/src-{content.random_tag('')}"
    blob = content.random_blob(2500)
    ctx.client.push_blob(source, blob)
    return source, blob


@conformance_test("push", "mount-cross-repository")
def mount(ctx: Context) -> None:
    """end-11: mounting a blob another repository holds is 201 with Location."""
    source, blob = _blob_in_other_repo(ctx)
    target = ctx.repo("mount")
    resp = _post(ctx, target, {"mount": blob.digest, "from": source})
    expect_status(resp, 201)
    header(resp, "Location")
    expect_content_digest(resp, blob)
    ctx.client.expect_blob(target, blob)


@conformance_test("push", "mount-fallback")
def mount_fallback(ctx: Context) -> None:
    """A mount that cannot happen (blob unknown in ``from``) starts an upload: 202."""
    source, _ = _blob_in_other_repo(ctx)
    blob = content.random_blob(1200)
    target = ctx.repo("mountfb")
    resp = _post(ctx, target, {"mount": blob.digest, "from": source})
    expect_status(resp, 202)
    _complete(ctx, ctx.client.location(resp), blob, blob.data)
    ctx.client.expect_blob(target, blob)


@conformance_test("push", "mount-without-from", features=["mount-without-from"])
def mount_without_from(ctx: Context) -> None:
    """The registry MAY treat ``from`` as optional and mount any blob it can find."""
    _, blob = _blob_in_other_repo(ctx)
    target = ctx.repo("mountnf")
    resp = _post(ctx, target, {"mount": blob.digest})
    expect_status(resp, 201)
    ctx.client.expect_blob(target, blob)


@conformance_test("push", "upload-unknown-session")
def upload_unknown(ctx: Context) -> None:
    """A session id the registry never issued: 404 on GET, PATCH, PUT and DELETE.

    BLOB_UPLOAD_UNKNOWN fits; BLOB_UPLOAD_INVALID is accepted too, since registries that
    sign their upload state (distribution) reject a forged id before looking it up.
    """
    url = f"/v2/{ctx.namespace}/blobs/uploads/{uuid.uuid4()}"
    codes = ("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID")
    expect_error(ctx.client.request("GET", url), 404, *codes)
    expect_error(ctx.client.request("PATCH", url, headers=OCTET, content=b"x"), 404, *codes)
    put = ctx.client.request("PUT", url, params={"digest": content.random_digest()})
    expect_error(put, 404, *codes)
    expect_error(ctx.client.request("DELETE", url), 404, *codes)
