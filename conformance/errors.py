"""Error paths: each must be the spec's 4xx with the spec's error code in a JSON body."""

from __future__ import annotations

import httpx

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import (
    describe,
    error_codes,
    expect,
    expect_error,
    expect_status,
    json_body,
)
from conformance.content import Manifest
from conformance.runner import Context, conformance_test


def _existing_repo(ctx: Context) -> str:
    repo = ctx.repo("err")
    ctx.client.push_manifest(repo, "latest", content.image())
    return repo


@conformance_test("pull", "blob-unknown")
def blob_unknown(ctx: Context) -> None:
    """A digest nobody pushed: 404 BLOB_UNKNOWN (HEAD: 404 with no body)."""
    repo = _existing_repo(ctx)
    url = f"/v2/{repo}/blobs/{content.random_digest()}"
    expect_error(ctx.client.request("GET", url), 404, "BLOB_UNKNOWN")
    head = ctx.client.request("HEAD", url)
    expect_status(head, 404)
    expect(head.content == b"", f"HEAD answer has a body: {describe(head)}")


@conformance_test("pull", "manifest-unknown")
def manifest_unknown(ctx: Context) -> None:
    """Unknown tag or digest in an existing repository: 404 MANIFEST_UNKNOWN."""
    repo = _existing_repo(ctx)
    for ref in (content.random_tag("missing"), content.random_digest()):
        resp = ctx.client.get_manifest(repo, ref, mt.ALL_MANIFESTS)
        expect_error(resp, 404, "MANIFEST_UNKNOWN")
        head = ctx.client.get_manifest(repo, ref, mt.ALL_MANIFESTS, method="HEAD")
        expect_status(head, 404)


@conformance_test("pull", "repository-unknown")
def repository_unknown(ctx: Context) -> None:
    """A repository that was never pushed to: 404 (NAME_UNKNOWN or the object's code)."""
    repo = ctx.repo("never")
    resp = ctx.client.get_manifest(repo, "latest", mt.ALL_MANIFESTS)
    expect_error(resp, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")
    resp = ctx.client.request("GET", f"/v2/{repo}/blobs/{content.random_digest()}")
    expect_error(resp, 404, "NAME_UNKNOWN", "BLOB_UNKNOWN")
    head = ctx.client.request("HEAD", f"/v2/{repo}/blobs/{content.random_digest()}")
    expect_status(head, 404)


#: Strings in the place of a digest that are not one (bad hex, wrong length, no hex).
MALFORMED_DIGESTS = ("sha256:not-hex-at-all", "sha256:" + "a" * 63, "sha256:")


def _expect_client_error(resp: httpx.Response, *codes: str) -> None:
    """400 or 404 (a bad reference names nothing), never a server error; a JSON body
    carries one of ``codes``."""
    expect_status(resp, 400, 404)
    found = error_codes(resp)
    expect(
        not found or any(c in codes for c in found),
        f"error codes {found}, expected {'/'.join(codes)}: {describe(resp)}",
    )


@conformance_test("pull", "blob-malformed-digest")
def blob_malformed_digest(ctx: Context) -> None:
    """GET/HEAD of a blob by something that is not a digest is a client error."""
    repo = _existing_repo(ctx)
    for bad in MALFORMED_DIGESTS:
        for method in ("GET", "HEAD"):
            resp = ctx.client.request(method, f"/v2/{repo}/blobs/{bad}")
            _expect_client_error(resp, "DIGEST_INVALID", "BLOB_UNKNOWN", "NAME_UNKNOWN")


@conformance_test("pull", "manifest-malformed-digest")
def manifest_malformed_digest(ctx: Context) -> None:
    """GET/HEAD of a manifest by a reference with a colon that is not a digest: a client
    error (it is neither a valid digest nor a valid tag)."""
    repo = _existing_repo(ctx)
    for bad in MALFORMED_DIGESTS:
        for method in ("GET", "HEAD"):
            resp = ctx.client.get_manifest(repo, bad, mt.ALL_MANIFESTS, method=method)
            _expect_client_error(resp, "DIGEST_INVALID", "MANIFEST_UNKNOWN", "TAG_INVALID")


@conformance_test("pull", "name-invalid")
def name_invalid(ctx: Context) -> None:
    """Names outside the spec's grammar are refused (never served, never accepted)."""
    for bad in (f"{ctx.namespace}/Upper-Case", f"{ctx.namespace}/double--dash-", "-lead"):
        for method, path in (("GET", "manifests/latest"), ("POST", "blobs/uploads/")):
            resp = ctx.client.request(method, f"/v2/{bad}/{path}")
            expect_status(resp, 400, 404)
            codes = error_codes(resp)
            expect(
                not codes or {"NAME_INVALID", "NAME_UNKNOWN"} & set(codes),
                f"invalid name answered with codes {codes}: {describe(resp)}",
            )


@conformance_test("discovery", "tags-list-repository-unknown")
def tags_unknown_repo(ctx: Context) -> None:
    """end-8a on a repository that does not exist: 404 NAME_UNKNOWN."""
    resp = ctx.client.request("GET", f"/v2/{ctx.repo('never')}/tags/list")
    expect_error(resp, 404, "NAME_UNKNOWN")


@conformance_test("push", "digest-invalid")
def digest_invalid(ctx: Context) -> None:
    """A malformed ?digest= on the closing PUT: 400 DIGEST_INVALID."""
    for bad in ("sha256:not-hex-at-all", "nodigest", "sha256:abc"):
        location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
        resp = ctx.client.request(
            "PUT",
            location,
            params={"digest": bad},
            headers={"Content-Type": "application/octet-stream"},
            content=b"some bytes",
        )
        expect_error(resp, 400, "DIGEST_INVALID")
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    missing = ctx.client.request("PUT", location, content=b"no digest given")
    expect_error(missing, 400, "DIGEST_INVALID")


@conformance_test("push", "tag-invalid")
def tag_invalid(ctx: Context) -> None:
    """A reference that is neither a digest nor a valid tag is never stored."""
    manifest = content.image()
    ctx.client.push_content(ctx.namespace, manifest)
    bad_tags = ("t" * 129, "-leading-dash", ".dot")
    for bad in bad_tags:
        resp = ctx.client.put_manifest(ctx.namespace, bad, manifest)
        expect(400 <= resp.status_code < 500, f"invalid tag {bad[:20]!r}: {describe(resp)}")
        codes = error_codes(resp)
        expect(
            not codes or {"TAG_INVALID", "MANIFEST_INVALID", "NAME_INVALID"} & set(codes),
            f"invalid tag answered with codes {codes}",
        )
    listed = ctx.client.request("GET", f"/v2/{ctx.namespace}/tags/list")
    tags: list[str] = []
    if listed.status_code == 200:
        tags = json_body(listed).get("tags") or []
    expect(not set(bad_tags) & set(tags), f"invalid tag listed: {tags}")


@conformance_test("push", "digest-mismatch")
def digest_mismatch(ctx: Context) -> None:
    """Bytes that do not hash to ?digest=: 400 DIGEST_INVALID, and nothing is stored."""
    blob = content.random_blob(3000)
    wrong = content.random_digest()
    location = ctx.client.location(ctx.client.start_upload(ctx.namespace))
    resp = ctx.client.request(
        "PUT",
        location,
        params={"digest": wrong},
        headers={"Content-Type": "application/octet-stream"},
        content=blob.data,
    )
    expect_error(resp, 400, "DIGEST_INVALID")
    for digest in (wrong, blob.digest):
        head = ctx.client.request("HEAD", f"/v2/{ctx.namespace}/blobs/{digest}")
        expect_status(head, 404)


@conformance_test("push", "manifest-invalid")
def manifest_invalid(ctx: Context) -> None:
    """Bodies that are not a manifest of the declared type: 400 MANIFEST_INVALID."""
    bodies = (b"this is not json", b'{"schemaVersion": 2, "mediaType": 5, "config": "x"}')
    for body in bodies:
        bad = Manifest(body, mt.OCI_MANIFEST)
        resp = ctx.client.put_manifest(ctx.namespace, content.random_tag(), bad)
        expect_error(resp, 400, "MANIFEST_INVALID")


@conformance_test("push", "manifest-digest-mismatch")
def manifest_digest_mismatch(ctx: Context) -> None:
    """PUT by a digest the body does not hash to: 400 DIGEST_INVALID."""
    manifest = content.image()
    ctx.client.push_content(ctx.namespace, manifest)
    wrong = content.random_digest()
    resp = ctx.client.put_manifest(ctx.namespace, wrong, manifest)
    expect_error(resp, 400, "DIGEST_INVALID")
    gone = ctx.client.get_manifest(ctx.namespace, wrong, mt.ALL_MANIFESTS, method="HEAD")
    expect_status(gone, 404)


@conformance_test("push", "manifest-blob-unknown", features=["manifest-blob-check"])
def manifest_blob_unknown(ctx: Context) -> None:
    """Descriptors (other than subject) naming absent content: 400 MANIFEST_BLOB_UNKNOWN."""
    manifest = content.image()
    config = manifest.blobs[0]
    ctx.client.push_blob(ctx.namespace, config)  # the layer stays unknown
    resp = ctx.client.put_manifest(ctx.namespace, content.random_tag(), manifest)
    expect_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")

    orphan_index = content.index([content.image()])
    resp = ctx.client.put_manifest(ctx.namespace, content.random_tag(), orphan_index)
    expect_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
