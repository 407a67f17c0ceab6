"""The content helpers: random images, indexes and artifacts, and reading them back."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from pyregistry import EmbeddedRegistry
from pyregistry.client.media import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256_digest
from tests.support.skopeo import Skopeo


def test_random_image_is_a_real_image(registry: EmbeddedRegistry) -> None:
    digest = registry.push_random_image("content/app", "v1", layers=3, size=5000)
    manifest = registry.get_manifest("content/app", "v1")
    content, media_type, served = manifest  # unpacks as (bytes, media type, digest)
    assert (media_type, served, sha256_digest(content)) == (OCI_MANIFEST, digest, digest)
    document = manifest.json()
    assert document["config"]["mediaType"] == OCI_CONFIG
    config = json.loads(registry.get_blob("content/app", document["config"]["digest"]))
    assert len(document["layers"]) == len(config["rootfs"]["diff_ids"]) == 3
    for layer, diff_id in zip(document["layers"], config["rootfs"]["diff_ids"], strict=True):
        assert layer["mediaType"] == OCI_LAYER_GZIP
        tar_bytes = gzip.decompress(registry.get_blob("content/app", layer["digest"]))
        assert sha256_digest(tar_bytes) == diff_id
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            (member,) = tar.getmembers()
            assert member.size == 5000


def test_seed_makes_content_reproducible(registry: EmbeddedRegistry) -> None:
    first = registry.push_random_image("content/seeded", "a", seed=42)
    again = registry.push_random_image("content/seeded", "b", seed=42)
    other = registry.push_random_image("content/seeded", "c", seed=43)
    fresh = registry.push_random_image("content/seeded", "d")
    assert first == again
    assert len({first, other, fresh}) == 3


def test_untagged_image(registry: EmbeddedRegistry) -> None:
    digest = registry.push_random_image("content/untagged", None)
    assert registry.tags("content/untagged") == []
    assert registry.get_manifest("content/untagged", digest).digest == digest


def test_artifact_with_subject_is_a_referrer(registry: EmbeddedRegistry) -> None:
    subject = registry.push_random_image("content/signed", "v1")
    sbom = registry.push_artifact(
        "content/signed",
        "application/vnd.example.sbom+json",
        [b'{"packages": []}'],
        subject="v1",
        blob_media_type="application/json",
        annotations={"org.example.kind": "sbom"},
    )
    document = registry.get_manifest("content/signed", sbom).json()
    assert document["artifactType"] == "application/vnd.example.sbom+json"
    assert document["subject"]["digest"] == subject
    assert registry.get_blob("content/signed", document["layers"][0]["digest"]) == (
        b'{"packages": []}'
    )
    referrers = registry.referrers("content/signed", subject)["manifests"]
    assert [(r["digest"], r["artifactType"]) for r in referrers] == [
        (sbom, "application/vnd.example.sbom+json")
    ]


def test_artifact_without_blobs_or_subject(registry: EmbeddedRegistry) -> None:
    digest = registry.push_artifact("content/bare", "application/x-empty", tag="bare")
    assert registry.get_manifest("content/bare", "bare").digest == digest


def test_random_index(registry: EmbeddedRegistry) -> None:
    digest = registry.push_random_index(
        "content/multi", "v1", architectures=("amd64", "arm64", "s390x")
    )
    index = registry.get_manifest("content/multi", digest).json()
    platforms = [m["platform"]["architecture"] for m in index["manifests"]]
    assert platforms == ["amd64", "arm64", "s390x"]
    for entry in index["manifests"]:
        config_digest = registry.get_manifest("content/multi", entry["digest"]).json()["config"]
        config = json.loads(registry.get_blob("content/multi", config_digest["digest"]))
        assert config["architecture"] == entry["platform"]["architecture"]


def test_skopeo_copies_a_random_image(
    registry: EmbeddedRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    digest = registry.push_random_image("content/skopeo", "v1", layers=2, size=4096)
    out = tmp_path / "out"
    skopeo.copy(f"docker://{registry.reference('content/skopeo', 'v1')}", f"dir:{out}")
    assert sha256_digest((out / "manifest.json").read_bytes()) == digest
