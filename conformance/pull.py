"""Pull workflow: the API check, manifests and blobs by GET/HEAD, ranged blob reads.

Every registry must support this category (spec: Conformance / Requirements).
"""

from __future__ import annotations

import httpx

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import (
    CheckFailed,
    describe,
    expect,
    expect_header,
    expect_status,
    header,
    media_type_of,
)
from conformance.runner import Context, conformance_test


@conformance_test("pull", "api-version-check")
def api_version(ctx: Context) -> None:
    """end-1: GET /v2/ is 200 and announces registry/2.0 (clients use it to detect v2)."""
    resp = ctx.client.request("GET", "/v2/")
    expect_status(resp, 200)
    expect_header(resp, "Docker-Distribution-API-Version", "registry/2.0")


def _pushed_image(ctx: Context) -> tuple[str, str, content.Manifest]:
    repo, tag = ctx.namespace, content.random_tag()
    manifest = content.image()
    ctx.client.push_manifest(repo, tag, manifest)
    return repo, tag, manifest


def _check_manifest_answer(
    resp_body_expected: bool, resp: httpx.Response, manifest: content.Manifest
) -> None:
    expect_status(resp, 200)
    expect(
        media_type_of(resp) == manifest.media_type,
        f"Content-Type {media_type_of(resp)!r}, pushed as {manifest.media_type!r}: "
        f"{describe(resp)}",
    )
    expect_header(resp, "Docker-Content-Digest", manifest.digest)
    expect_header(resp, "Content-Length", str(len(manifest.body)))
    if resp_body_expected:
        expect(resp.content == manifest.body, f"manifest bytes differ: {describe(resp)}")
    else:
        expect(resp.content == b"", f"HEAD answer has a body: {describe(resp)}")


@conformance_test("pull", "manifest-get-by-tag")
def manifest_get_by_tag(ctx: Context) -> None:
    """end-3: byte-exact manifest, its media type, digest and length."""
    repo, tag, manifest = _pushed_image(ctx)
    resp = ctx.client.get_manifest(repo, tag, [mt.OCI_MANIFEST])
    _check_manifest_answer(True, resp, manifest)


@conformance_test("pull", "manifest-get-by-digest")
def manifest_get_by_digest(ctx: Context) -> None:
    repo, _, manifest = _pushed_image(ctx)
    resp = ctx.client.get_manifest(repo, manifest.digest, [mt.OCI_MANIFEST])
    _check_manifest_answer(True, resp, manifest)


@conformance_test("pull", "manifest-head-by-tag")
def manifest_head_by_tag(ctx: Context) -> None:
    """HEAD must carry Content-Length and Docker-Content-Digest (docker pull depends on it)."""
    repo, tag, manifest = _pushed_image(ctx)
    resp = ctx.client.get_manifest(repo, tag, [mt.OCI_MANIFEST], method="HEAD")
    _check_manifest_answer(False, resp, manifest)


@conformance_test("pull", "manifest-head-by-digest")
def manifest_head_by_digest(ctx: Context) -> None:
    repo, _, manifest = _pushed_image(ctx)
    resp = ctx.client.get_manifest(repo, manifest.digest, [mt.OCI_MANIFEST], method="HEAD")
    _check_manifest_answer(False, resp, manifest)


@conformance_test("pull", "manifest-multiple-accept-lines")
def manifest_multiple_accept_lines(ctx: Context) -> None:
    """Accept split over several header lines: all of them count, not just the first."""
    repo, tag, manifest = _pushed_image(ctx)
    accept = [mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.OCI_INDEX, mt.OCI_MANIFEST]
    resp = ctx.client.get_manifest(repo, tag, accept)
    _check_manifest_answer(True, resp, manifest)


@conformance_test("pull", "manifest-accept-comma-list")
def manifest_accept_comma_list(ctx: Context) -> None:
    """One comma-separated Accept line with parameters and */* also negotiates."""
    repo, tag, manifest = _pushed_image(ctx)
    accept = f"{mt.DOCKER_MANIFEST}, {mt.OCI_MANIFEST};q=0.9, */*;q=0.1"
    resp = ctx.client.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": accept})
    _check_manifest_answer(True, resp, manifest)


def _pushed_blob(ctx: Context, size: int = 4096) -> tuple[str, content.Blob]:
    blob = content.random_blob(size)
    ctx.client.push_blob(ctx.namespace, blob)
    return ctx.namespace, blob


def _expect_blob_digest_header(resp: httpx.Response, blob: content.Blob) -> None:
    if not resp.history:
        expect_header(resp, "Docker-Content-Digest", blob.digest)
        return
    redirect = resp.history[0]
    if "Docker-Content-Digest" in redirect.headers:
        expect_header(redirect, "Docker-Content-Digest", blob.digest)


@conformance_test("pull", "blob-get")
def blob_get(ctx: Context) -> None:
    """end-2: exact bytes with Content-Length and Docker-Content-Digest.

    A registry may redirect blob reads to other storage; the digest header is then checked
    on the registry's own (redirect) answer only if it sent one.
    """
    repo, blob = _pushed_blob(ctx)
    resp = ctx.client.request("GET", f"/v2/{repo}/blobs/{blob.digest}")
    expect_status(resp, 200)
    expect(resp.content == blob.data, f"blob bytes differ: {describe(resp)}")
    expect_header(resp, "Content-Length", str(len(blob.data)))
    _expect_blob_digest_header(resp, blob)


@conformance_test("pull", "blob-head")
def blob_head(ctx: Context) -> None:
    """HEAD must give Content-Length, Docker-Content-Digest and Content-Type, and no body."""
    repo, blob = _pushed_blob(ctx)
    resp = ctx.client.request("HEAD", f"/v2/{repo}/blobs/{blob.digest}")
    expect_status(resp, 200)
    expect_header(resp, "Content-Length", str(len(blob.data)))
    header(resp, "Content-Type")
    _expect_blob_digest_header(resp, blob)
    expect(resp.content == b"", f"HEAD answer has a body: {describe(resp)}")


@conformance_test("pull", "blob-other-repository-not-visible")
def blob_other_repo(ctx: Context) -> None:
    """Blobs are scoped to a repository: another repository must answer 404."""
    _, blob = _pushed_blob(ctx)
    other = ctx.repo("other")
    ctx.client.push_manifest(other, "latest", content.image())
    resp = ctx.client.request("GET", f"/v2/{other}/blobs/{blob.digest}")
    expect_status(resp, 404)


@conformance_test("pull", "blob-range-get", features=["range"])
def blob_range(ctx: Context) -> None:
    """Range requests (RFC 9110): 206 with the slice and a matching Content-Range."""
    repo, blob = _pushed_blob(ctx, 10000)
    size = len(blob.data)
    url = f"/v2/{repo}/blobs/{blob.digest}"
    for spec, start, end in (("100-1099", 100, 1099), (f"{size - 500}-", size - 500, size - 1)):
        resp = ctx.client.request("GET", url, headers={"Range": f"bytes={spec}"})
        expect_status(resp, 206)
        expect_header(resp, "Content-Range", f"bytes {start}-{end}/{size}")
        expect(resp.content == blob.data[start : end + 1], f"range bytes differ: {describe(resp)}")


@conformance_test("pull", "blob-range-unsatisfiable", features=["range-416"])
def blob_range_unsatisfiable(ctx: Context) -> None:
    """A range starting past the end is 416 with ``Content-Range: bytes */<size>``."""
    repo, blob = _pushed_blob(ctx, 1000)
    url = f"/v2/{repo}/blobs/{blob.digest}"
    with ctx.client.http.stream("GET", url, headers={"Range": "bytes=5000-6000"}) as resp:
        expect(resp.status_code == 416, f"expected 416, got {resp.status_code}")
        got = header(resp, "Content-Range")
        expect(got == "bytes */1000", f"Content-Range {got!r}, expected 'bytes */1000'")
        try:
            resp.read()
        except httpx.RemoteProtocolError as exc:
            raise CheckFailed(
                f"416 answer is not a well-formed HTTP message (Content-Length "
                f"{resp.headers.get('Content-Length')} does not frame its body): {exc}"
            ) from None
