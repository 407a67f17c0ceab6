"""Sparse manifests: a registry that does not check manifest references MAY accept them.

The spec lets a registry accept a manifest whose blobs or child manifests it does not hold
(mirrors and partial replication push such manifests). These tests run in place of the
reference checks, with ``--skip-feature manifest-blob-check``: the registry must then
store a sparse image manifest and a sparse index under their tags, hand back the exact
bytes, list the tags, and still answer 404 for the content that was never pushed.
"""

from __future__ import annotations

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import describe, expect, expect_error, expect_header, expect_status
from conformance.content import Manifest
from conformance.runner import Context, conformance_test


def _expect_stored(ctx: Context, repo: str, tag: str, manifest: Manifest) -> None:
    """GET by tag and by digest, HEAD by digest: the pushed bytes and digest."""
    for reference in (tag, manifest.digest):
        resp = ctx.client.get_manifest(repo, reference, mt.ALL_MANIFESTS)
        expect_status(resp, 200)
        expect(resp.content == manifest.body, f"manifest bytes differ: {describe(resp)}")
        expect_header(resp, "Docker-Content-Digest", manifest.digest)
    head = ctx.client.get_manifest(repo, manifest.digest, mt.ALL_MANIFESTS, method="HEAD")
    expect_status(head, 200)
    tags = ctx.client.request("GET", f"/v2/{repo}/tags/list")
    expect_status(tags, 200)
    expect(tag in (tags.json().get("tags") or []), f"tag {tag} not listed: {describe(tags)}")


@conformance_test("push", "sparse-image-manifest", unless=["manifest-blob-check"])
def sparse_image_manifest(ctx: Context) -> None:
    """An image manifest with one layer never pushed is accepted (201) and served."""
    repo = ctx.repo("sparse")
    manifest = content.image(layers=2)
    config, present, absent = manifest.blobs
    for blob in (config, present):
        ctx.client.push_blob(repo, blob)
    tag = content.random_tag("sparse-image-")
    resp = ctx.client.put_manifest(repo, tag, manifest)
    expect_status(resp, 201)
    expect_header(resp, "Docker-Content-Digest", manifest.digest)
    _expect_stored(ctx, repo, tag, manifest)
    ctx.client.expect_blob(repo, present)
    missing = ctx.client.request("GET", f"/v2/{repo}/blobs/{absent.digest}")
    expect_error(missing, 404, "BLOB_UNKNOWN")


@conformance_test("push", "sparse-image-manifest-no-blobs", unless=["manifest-blob-check"])
def sparse_image_without_blobs(ctx: Context) -> None:
    """Not even the config needs to be there."""
    repo = ctx.repo("sparse")
    manifest = content.image()
    tag = content.random_tag("sparse-bare-")
    expect_status(ctx.client.put_manifest(repo, tag, manifest), 201)
    _expect_stored(ctx, repo, tag, manifest)


@conformance_test("push", "sparse-index", unless=["manifest-blob-check"])
def sparse_index(ctx: Context) -> None:
    """An index naming one pushed image and one absent manifest is accepted and served;
    the absent child stays unknown."""
    repo = ctx.repo("sparse")
    present = content.image()
    ctx.client.push_manifest(repo, present.digest, present)
    absent = content.image()
    index = content.index([present, absent])
    tag = content.random_tag("sparse-index-")
    resp = ctx.client.put_manifest(repo, tag, index)
    expect_status(resp, 201)
    _expect_stored(ctx, repo, tag, index)
    child = ctx.client.get_manifest(repo, absent.digest, mt.ALL_MANIFESTS)
    expect_error(child, 404, "MANIFEST_UNKNOWN")
