"""Referrers: indexed by subject on push, filtered by artifactType, cleaned on delete."""

from __future__ import annotations

from pyregistry.storage import Registry, Repository, paths
from storage_drivers.inmemory import InMemoryDriver
from tests.storage.helpers import (
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    dumps,
    push_image,
    sha256,
    upload,
)


async def _artifact(
    repo: Repository, subject: dict, artifact_type: str | None, payload: bytes, **extra: object
) -> tuple[bytes, object]:
    await upload(repo, b"{}")
    await upload(repo, payload)
    doc: dict = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(
            OCI_EMPTY if artifact_type else "application/vnd.example.config", b"{}"
        ),
        "layers": [descriptor("application/octet-stream", payload)],
        "subject": subject,
        **extra,
    }
    if artifact_type:
        doc["artifactType"] = artifact_type
    content = dumps(doc)
    result = await repo.manifests.put(content, OCI_MANIFEST)
    return content, result


async def test_referrers(repo: Repository, driver: InMemoryDriver) -> None:
    image, pushed = await push_image(repo, "base", tag="v1")
    subject = descriptor(OCI_MANIFEST, image)
    sig, sig_result = await _artifact(
        repo, subject, "application/vnd.example.sig", b"sig", annotations={"k": "v"}
    )
    sbom, _ = await _artifact(repo, subject, "application/spdx+json", b"sbom")
    legacy, _ = await _artifact(repo, subject, None, b"legacy")
    assert sig_result.subject == pushed.digest  # type: ignore[attr-defined]
    link = paths.referrer_link_path(repo.name, pushed.digest, sha256(sig))
    assert await driver.get_content(link) == str(sha256(sig)).encode()

    found = await repo.referrers(pushed.digest)
    by_digest = {d["digest"]: d for d in found}
    assert set(by_digest) == {str(sha256(x)) for x in (sig, sbom, legacy)}
    assert by_digest[str(sha256(sig))] == {
        "mediaType": OCI_MANIFEST,
        "digest": str(sha256(sig)),
        "size": len(sig),
        "artifactType": "application/vnd.example.sig",
        "annotations": {"k": "v"},
    }
    assert "annotations" not in by_digest[str(sha256(sbom))]
    assert by_digest[str(sha256(legacy))]["artifactType"] == "application/vnd.example.config"

    only = await repo.referrers(pushed.digest, "application/spdx+json")
    assert [d["digest"] for d in only] == [str(sha256(sbom))]
    assert await repo.referrers(pushed.digest, "application/none") == []


async def test_subject_need_not_exist_and_index_referrer(repo: Repository) -> None:
    ghost = sha256(b"not pushed")
    index = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": "application/vnd.example.bundle",
            "manifests": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": str(ghost), "size": 10},
        }
    )
    result = await repo.manifests.put(index, OCI_INDEX)
    assert result.subject == ghost
    assert await repo.referrers(ghost) == [
        {
            "mediaType": OCI_INDEX,
            "digest": str(result.digest),
            "size": len(index),
            "artifactType": "application/vnd.example.bundle",
        }
    ]


async def test_deleted_referrer_disappears(repo: Repository, driver: InMemoryDriver) -> None:
    image, pushed = await push_image(repo, "base")
    subject = descriptor(OCI_MANIFEST, image)
    sig, _ = await _artifact(repo, subject, "application/vnd.example.sig", b"sig")
    await repo.manifests.delete(sha256(sig))
    assert await repo.referrers(pushed.digest) == []
    assert not [p for p in driver._files if "/referrers/" in p]


async def test_stale_entry_is_skipped(repo: Repository, driver: InMemoryDriver) -> None:
    image, pushed = await push_image(repo, "base")
    sig, _ = await _artifact(repo, descriptor(OCI_MANIFEST, image), "a/b", b"sig")
    # a revision link removed behind our back (e.g. by distribution's own delete)
    await driver.delete(paths.manifest_revision_link_path(repo.name, sha256(sig)))
    assert await repo.referrers(pushed.digest) == []


async def test_referrers_are_per_repository(registry: Registry) -> None:
    a, b = registry.repository("a"), registry.repository("b")
    image, pushed = await push_image(a, "base")
    await _artifact(a, descriptor(OCI_MANIFEST, image), "a/b", b"sig")
    assert len(await a.referrers(pushed.digest)) == 1
    assert await b.referrers(pushed.digest) == []
