"""Push workflow, manifest side (end-7): references, media types, indexes, tags, size."""

from __future__ import annotations

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import (
    describe,
    expect,
    expect_header,
    expect_status,
    header,
    media_type_of,
)
from conformance.content import Manifest
from conformance.runner import Context, conformance_test

FOUR_MIB = 4 * 1024 * 1024


def _expect_pullable(ctx: Context, repo: str, reference: str, manifest: Manifest) -> None:
    """GET by ``reference`` gives the pushed bytes with the pushed media type."""
    resp = ctx.client.get_manifest(repo, reference, mt.ALL_MANIFESTS)
    expect_status(resp, 200)
    expect(resp.content == manifest.body, f"manifest bytes differ: {describe(resp)}")
    expect(
        media_type_of(resp) == manifest.media_type,
        f"Content-Type {media_type_of(resp)!r}, pushed as {manifest.media_type!r}",
    )
    expect_header(resp, "Docker-Content-Digest", manifest.digest)


@conformance_test("push", "manifest-put-by-tag")
def put_by_tag(ctx: Context) -> None:
    """201 with Location and the manifest's Docker-Content-Digest."""
    manifest = content.image(layers=2)
    tag = content.random_tag()
    resp = ctx.client.push_manifest(ctx.namespace, tag, manifest)
    header(resp, "Location")
    expect_header(resp, "Docker-Content-Digest", manifest.digest)
    _expect_pullable(ctx, ctx.namespace, tag, manifest)
    _expect_pullable(ctx, ctx.namespace, manifest.digest, manifest)


@conformance_test("push", "manifest-put-by-digest")
def put_by_digest(ctx: Context) -> None:
    manifest = content.image()
    resp = ctx.client.push_manifest(ctx.namespace, manifest.digest, manifest)
    header(resp, "Location")
    expect_header(resp, "Docker-Content-Digest", manifest.digest)
    _expect_pullable(ctx, ctx.namespace, manifest.digest, manifest)


@conformance_test("push", "manifest-retag")
def retag(ctx: Context) -> None:
    """Pushing another manifest under an existing tag moves the tag."""
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, content.image())
    second = content.image()
    ctx.client.push_manifest(ctx.namespace, tag, second)
    _expect_pullable(ctx, ctx.namespace, tag, second)


@conformance_test("push", "manifest-put-multiple-tags", features=["multi-tag"])
def put_multi_tag(ctx: Context) -> None:
    """PUT by digest with ?tag=a&tag=b: 201 and an OCI-Tag header naming each tag applied."""
    manifest = content.image()
    ctx.client.push_content(ctx.namespace, manifest)
    tags = [content.random_tag("a"), content.random_tag("b")]
    resp = ctx.client.put_manifest(
        ctx.namespace, manifest.digest, manifest, params=[("tag", t) for t in tags]
    )
    expect_status(resp, 201)
    announced = {t.strip() for line in resp.headers.get_list("OCI-Tag") for t in line.split(",")}
    expect(set(tags) <= announced, f"OCI-Tag announces {sorted(announced)}, pushed {tags}")
    for tag in tags:
        _expect_pullable(ctx, ctx.namespace, tag, manifest)


@conformance_test("push", "manifest-sha512", features=["sha512"])
def manifest_sha512(ctx: Context) -> None:
    """A manifest over sha512 blobs, pushed by tag and by its own sha512 digest."""
    manifest = content.image(algorithm="sha512")
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, manifest, push_blobs=True)
    resp = ctx.client.push_manifest(ctx.namespace, manifest.digest, manifest, push_blobs=False)
    expect_header(resp, "Docker-Content-Digest", manifest.digest)
    _expect_pullable(ctx, ctx.namespace, manifest.digest, manifest)
    got = ctx.client.get_manifest(ctx.namespace, tag, [mt.OCI_MANIFEST])
    expect_status(got, 200)
    expect(got.content == manifest.body, f"manifest bytes differ: {describe(got)}")


@conformance_test("push", "index-push")
def index_push(ctx: Context) -> None:
    """An OCI index, children pushed first by digest, round-trips with its media type."""
    children = [content.image(), content.image()]
    idx = content.index(children)
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, idx)
    _expect_pullable(ctx, ctx.namespace, tag, idx)
    for child in children:
        _expect_pullable(ctx, ctx.namespace, child.digest, child)


@conformance_test("push", "docker-schema2-roundtrip")
def docker_schema2(ctx: Context) -> None:
    """Docker schema 2 manifests keep their media type (docker pushes these)."""
    manifest = content.image(docker=True)
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, manifest)
    _expect_pullable(ctx, ctx.namespace, tag, manifest)
    resp = ctx.client.get_manifest(ctx.namespace, tag, [mt.DOCKER_MANIFEST], method="HEAD")
    expect_status(resp, 200)
    expect(media_type_of(resp) == mt.DOCKER_MANIFEST, f"HEAD Content-Type: {describe(resp)}")


@conformance_test("push", "docker-manifest-list-roundtrip")
def docker_manifest_list(ctx: Context) -> None:
    children = [content.image(docker=True), content.image(docker=True)]
    lst = content.index(children, docker=True)
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, lst)
    _expect_pullable(ctx, ctx.namespace, tag, lst)


@conformance_test("push", "manifest-subject-unknown-accepted")
def subject_unknown(ctx: Context) -> None:
    """A manifest whose subject does not exist (yet) MUST be accepted."""
    ghost = content.image()
    referrer = content.artifact(ghost, "application/vnd.conformance.ghost")
    ctx.client.push_manifest(ctx.namespace, referrer.digest, referrer)
    _expect_pullable(ctx, ctx.namespace, referrer.digest, referrer)


@conformance_test("push", "manifest-4mib-accepted")
def four_mib_accepted(ctx: Context) -> None:
    """Registries SHOULD accept manifests of at least 4 MiB."""
    manifest = content.padded(content.image(), FOUR_MIB)
    tag = content.random_tag()
    ctx.client.push_manifest(ctx.namespace, tag, manifest)
    _expect_pullable(ctx, ctx.namespace, tag, manifest)


@conformance_test("push", "manifest-too-large", features=["manifest-size-limit"])
def too_large(ctx: Context) -> None:
    """A manifest over the limit is refused with 413 and never becomes visible."""
    manifest = content.padded(content.image(), FOUR_MIB + 64 * 1024)
    ctx.client.push_content(ctx.namespace, manifest)
    tag = content.random_tag()
    resp = ctx.client.put_manifest(ctx.namespace, tag, manifest)
    expect_status(resp, 413)
    gone = ctx.client.get_manifest(ctx.namespace, tag, mt.ALL_MANIFESTS, method="HEAD")
    expect_status(gone, 404)
