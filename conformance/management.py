"""Content management: deleting tags, manifests and blobs (end-9, end-10).

Deletion is optional (a registry MAY disable it); with ``--skip-feature delete`` the suite
checks instead that a registry with deletion disabled says so properly.
"""

from __future__ import annotations

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import expect, expect_error, expect_status, json_body
from conformance.runner import Context, conformance_test


def _tagged(ctx: Context, *tags: str) -> tuple[str, content.Manifest]:
    repo, manifest = ctx.repo("mgmt"), content.image()
    ctx.client.push_tagged(repo, manifest, tags)
    return repo, manifest


def _status(ctx: Context, repo: str, reference: str) -> int:
    return ctx.client.get_manifest(repo, reference, mt.ALL_MANIFESTS).status_code


@conformance_test("management", "tag-delete", features=["tag-delete"])
def tag_delete(ctx: Context) -> None:
    """DELETE by tag is 202 and removes only that tag; the manifest and other tags stay."""
    repo, manifest = _tagged(ctx, "keep", "drop")
    resp = ctx.client.request("DELETE", f"/v2/{repo}/manifests/drop")
    expect_status(resp, 202)
    gone = ctx.client.get_manifest(repo, "drop", mt.ALL_MANIFESTS)
    expect_error(gone, 404, "MANIFEST_UNKNOWN")
    expect(_status(ctx, repo, "keep") == 200, "deleting one tag removed another")
    expect(_status(ctx, repo, manifest.digest) == 200, "deleting a tag removed the manifest")
    listed = ctx.client.request("GET", f"/v2/{repo}/tags/list")
    expect_status(listed, 200)
    tags = json_body(listed).get("tags")
    expect(tags == ["keep"], f"tags after deleting 'drop': {tags}")


@conformance_test("management", "tag-delete-disabled", unless=["tag-delete"])
def tag_delete_disabled(ctx: Context) -> None:
    """Without tag deletion, DELETE by tag is 400 or 405 and the tag stays."""
    repo, _ = _tagged(ctx, "keep")
    resp = ctx.client.request("DELETE", f"/v2/{repo}/manifests/keep")
    expect_status(resp, 400, 405)
    expect(_status(ctx, repo, "keep") == 200, "a refused tag deletion removed the tag")


@conformance_test("management", "manifest-delete", features=["delete"])
def manifest_delete(ctx: Context) -> None:
    """DELETE by digest is 202; the digest and every tag pointing at it then 404."""
    repo, manifest = _tagged(ctx, "one", "two")
    resp = ctx.client.request("DELETE", f"/v2/{repo}/manifests/{manifest.digest}")
    expect_status(resp, 202)
    for ref in (manifest.digest, "one", "two"):
        gone = ctx.client.get_manifest(repo, ref, mt.ALL_MANIFESTS)
        expect_error(gone, 404, "MANIFEST_UNKNOWN")


@conformance_test("management", "manifest-delete-unknown", features=["delete"])
def manifest_delete_unknown(ctx: Context) -> None:
    """Deleting a manifest the repository does not hold: 404 MANIFEST_UNKNOWN."""
    repo, _ = _tagged(ctx, "latest")
    resp = ctx.client.request("DELETE", f"/v2/{repo}/manifests/{content.random_digest()}")
    expect_error(resp, 404, "MANIFEST_UNKNOWN")


@conformance_test("management", "blob-delete", features=["delete"])
def blob_delete(ctx: Context) -> None:
    """DELETE of a blob is 202; afterwards GET and HEAD are 404 (BLOB_UNKNOWN)."""
    blob = content.random_blob(2000)
    ctx.client.push_blob(ctx.namespace, blob)
    url = f"/v2/{ctx.namespace}/blobs/{blob.digest}"
    expect_status(ctx.client.request("DELETE", url), 202)
    expect_error(ctx.client.request("GET", url), 404, "BLOB_UNKNOWN")
    expect_status(ctx.client.request("HEAD", url), 404)


@conformance_test("management", "blob-delete-unknown", features=["delete"])
def blob_delete_unknown(ctx: Context) -> None:
    """Deleting a blob that is not there: 404 BLOB_UNKNOWN."""
    repo, _ = _tagged(ctx, "latest")
    resp = ctx.client.request("DELETE", f"/v2/{repo}/blobs/{content.random_digest()}")
    expect_error(resp, 404, "BLOB_UNKNOWN")


@conformance_test("management", "delete-disabled", unless=["delete"])
def delete_disabled(ctx: Context) -> None:
    """With deletion disabled, DELETEs are 400/405 (UNSUPPORTED) and nothing disappears."""
    repo, manifest = _tagged(ctx, "latest")
    layer = manifest.blobs[-1]
    for url in (
        f"/v2/{repo}/manifests/{manifest.digest}",
        f"/v2/{repo}/blobs/{layer.digest}",
    ):
        expect_error(ctx.client.request("DELETE", url), (400, 405), "UNSUPPORTED")
    expect(_status(ctx, repo, "latest") == 200, "manifest vanished though deletion is disabled")
    ctx.client.expect_blob(repo, layer)
