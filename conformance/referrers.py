"""Content discovery, referrers side: end-12a/12b listing and the OCI-Subject push header."""

from __future__ import annotations

from typing import Any

import httpx

from conformance import content
from conformance import mediatypes as mt
from conformance.checks import (
    describe,
    expect,
    expect_header,
    expect_status,
    json_body,
    media_type_of,
)
from conformance.content import Manifest
from conformance.runner import Context, conformance_test

SBOM = "application/vnd.conformance.sbom.v1"
SIGNATURE = "application/vnd.conformance.signature.v1"
CUSTOM_CONFIG = "application/vnd.conformance.config.v1+json"


def _referrers(
    ctx: Context, repo: str, digest: str, artifact_type: str | None = None
) -> tuple[list[dict[str, Any]], httpx.Response]:
    """GET the referrers list; checks it is a well-formed OCI index."""
    params = {"artifactType": artifact_type} if artifact_type else None
    resp = ctx.client.request("GET", f"/v2/{repo}/referrers/{digest}", params=params)
    expect_status(resp, 200)
    expect(media_type_of(resp) == mt.OCI_INDEX, f"Content-Type is not an index: {describe(resp)}")
    doc = json_body(resp)
    expect(isinstance(doc, dict), f"referrers body is not an object: {describe(resp)}")
    expect(doc.get("schemaVersion") == 2, f"schemaVersion is not 2: {describe(resp)}")
    expect(doc.get("mediaType") == mt.OCI_INDEX, f"mediaType is not an index: {describe(resp)}")
    manifests = doc.get("manifests")
    expect(isinstance(manifests, list), f"'manifests' is not a list: {describe(resp)}")
    return list(manifests), resp


def _expected_descriptor(manifest: Manifest) -> dict[str, Any]:
    """What the spec says the listing holds for ``manifest``."""
    doc = manifest.doc
    want = manifest.descriptor()
    if doc.get("artifactType"):
        want["artifactType"] = doc["artifactType"]
    elif manifest.media_type == mt.OCI_MANIFEST:
        want["artifactType"] = doc["config"]["mediaType"]
    if doc.get("annotations"):
        want["annotations"] = doc["annotations"]
    return want


def _expect_listing(found: list[dict[str, Any]], expected: list[Manifest]) -> None:
    by_digest = {d.get("digest"): d for d in found if isinstance(d, dict)}
    expect(
        len(found) == len(expected) and set(by_digest) == {m.digest for m in expected},
        f"referrers {sorted(map(str, by_digest))}, expected {sorted(m.digest for m in expected)}",
    )
    for manifest in expected:
        got = by_digest[manifest.digest]
        want = _expected_descriptor(manifest)
        for key in ("mediaType", "size", "artifactType", "annotations"):
            expect(
                got.get(key) == want.get(key),
                f"descriptor of {manifest.digest}: {key}={got.get(key)!r}, "
                f"expected {want.get(key)!r}",
            )


def _subject(ctx: Context, repo: str) -> Manifest:
    subject = content.image()
    ctx.client.push_manifest(repo, content.random_tag(), subject)
    return subject


@conformance_test("discovery", "referrers-list", features=["referrers"])
def referrers_list(ctx: Context) -> None:
    """Every manifest whose subject is the digest, described per the spec's rules."""
    repo = ctx.repo("refs")
    subject = _subject(ctx, repo)
    referrers = [
        content.artifact(subject, SBOM, annotations={"org.example.format": "json"}),
        content.artifact(subject, SIGNATURE),
        content.artifact(subject, None, config_media_type=CUSTOM_CONFIG),
        content.index([content.image()], subject=subject),
    ]
    for ref in referrers:
        ctx.client.push_manifest(repo, ref.digest, ref)
    unrelated = content.artifact(_subject(ctx, repo), SBOM)
    ctx.client.push_manifest(repo, unrelated.digest, unrelated)
    found, _ = _referrers(ctx, repo, subject.digest)
    _expect_listing(found, referrers)


@conformance_test("discovery", "referrers-filter", features=["referrers", "referrers-filter"])
def referrers_filter(ctx: Context) -> None:
    """?artifactType= narrows the list and OCI-Filters-Applied says the filter was used."""
    repo = ctx.repo("refsf")
    subject = _subject(ctx, repo)
    sbom = content.artifact(subject, SBOM)
    sig = content.artifact(subject, SIGNATURE)
    for ref in (sbom, sig):
        ctx.client.push_manifest(repo, ref.digest, ref)
    found, resp = _referrers(ctx, repo, subject.digest, SBOM)
    expect_header(resp, "OCI-Filters-Applied", "artifactType")
    _expect_listing(found, [sbom])
    found, _ = _referrers(ctx, repo, subject.digest, "application/vnd.conformance.none")
    _expect_listing(found, [])


@conformance_test("discovery", "referrers-empty", features=["referrers"])
def referrers_empty(ctx: Context) -> None:
    """A subject nobody refers to: 200 and an index with no manifests (never 404)."""
    repo = ctx.repo("refse")
    subject = _subject(ctx, repo)
    found, _ = _referrers(ctx, repo, subject.digest)
    _expect_listing(found, [])


@conformance_test("discovery", "referrers-unknown-subject", features=["referrers"])
def referrers_unknown_subject(ctx: Context) -> None:
    """A digest the repository does not hold at all: still 200 and an empty index."""
    repo = ctx.repo("refsu")
    _subject(ctx, repo)
    found, _ = _referrers(ctx, repo, content.random_digest())
    _expect_listing(found, [])


@conformance_test("discovery", "referrers-subject-pushed-later", features=["referrers"])
def referrers_subject_later(ctx: Context) -> None:
    """A referrer pushed before its subject is listed once the subject exists, and before."""
    repo = ctx.repo("refsl")
    subject = content.image()
    ref = content.artifact(subject, SBOM)
    ctx.client.push_manifest(repo, ref.digest, ref)
    found, _ = _referrers(ctx, repo, subject.digest)
    _expect_listing(found, [ref])
    ctx.client.push_manifest(repo, content.random_tag(), subject)
    found, _ = _referrers(ctx, repo, subject.digest)
    _expect_listing(found, [ref])


@conformance_test("discovery", "referrers-invalid-digest", features=["referrers"])
def referrers_invalid_digest(ctx: Context) -> None:
    """A malformed digest is a bad request (400)."""
    repo = ctx.repo("refsi")
    _subject(ctx, repo)
    resp = ctx.client.request("GET", f"/v2/{repo}/referrers/sha256:not-a-digest")
    expect_status(resp, 400)


@conformance_test("discovery", "referrers-after-delete", features=["referrers", "delete"])
def referrers_after_delete(ctx: Context) -> None:
    """Deleting a referrer removes it from its subject's list."""
    repo = ctx.repo("refsd")
    subject = _subject(ctx, repo)
    keep, drop = content.artifact(subject, SBOM), content.artifact(subject, SIGNATURE)
    for ref in (keep, drop):
        ctx.client.push_manifest(repo, ref.digest, ref)
    resp = ctx.client.request("DELETE", f"/v2/{repo}/manifests/{drop.digest}")
    expect_status(resp, 202)
    found, _ = _referrers(ctx, repo, subject.digest)
    _expect_listing(found, [keep])


@conformance_test("push", "manifest-oci-subject-header", features=["oci-subject"])
def oci_subject_header(ctx: Context) -> None:
    """Pushing a manifest (or index) with a subject answers OCI-Subject: <subject digest>."""
    repo = ctx.repo("subj")
    subject = _subject(ctx, repo)
    for ref in (content.artifact(subject, SBOM), content.index([content.image()], subject=subject)):
        resp = ctx.client.push_manifest(repo, ref.digest, ref)
        expect_header(resp, "OCI-Subject", subject.digest)
