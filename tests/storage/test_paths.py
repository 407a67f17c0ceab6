"""The on-disk layout is distribution's, and bad input never becomes a path."""

from __future__ import annotations

import pytest

from pyregistry.storage import (
    BlobUploadUnknown,
    Digest,
    DigestInvalid,
    NameInvalid,
    TagInvalid,
    paths,
)

D = Digest("sha256", "ab" + "0" * 62)
V2 = "/docker/registry/v2"


def test_layout_matches_distribution() -> None:
    assert paths.blob_data_path(D) == f"{V2}/blobs/sha256/ab/ab{'0' * 62}/data"
    assert paths.layer_link_path("a/b", D) == f"{V2}/repositories/a/b/_layers/sha256/{D.hex}/link"
    assert (
        paths.manifest_revision_link_path("a", D)
        == f"{V2}/repositories/a/_manifests/revisions/sha256/{D.hex}/link"
    )
    assert (
        paths.tag_current_link_path("a", "v1")
        == f"{V2}/repositories/a/_manifests/tags/v1/current/link"
    )
    assert (
        paths.tag_index_link_path("a", "v1", D)
        == f"{V2}/repositories/a/_manifests/tags/v1/index/sha256/{D.hex}/link"
    )
    assert paths.upload_data_path("a", "u-1") == f"{V2}/repositories/a/_uploads/u-1/data"
    assert paths.upload_started_at_path("a", "u-1") == f"{V2}/repositories/a/_uploads/u-1/startedat"
    sub = Digest("sha512", "c" * 128)
    assert (
        paths.referrer_link_path("a", sub, D)
        == f"{V2}/repositories/a/_manifests/referrers/sha512/{'c' * 128}/sha256/{D.hex}/link"
    )


@pytest.mark.parametrize(
    "name",
    ["", "..", "a/../b", "a/./b", "A", "a//b", "/a", "a/", "a%2fb", "a\\b", "a b", "-a", "a" * 256],
)
def test_bad_names(name: str) -> None:
    with pytest.raises(NameInvalid):
        paths.repository_path(name)


@pytest.mark.parametrize("tag", ["", ".x", "-x", "a/b", "..", "a%2f", "x" * 129, "a b"])
def test_bad_tags(tag: str) -> None:
    with pytest.raises(TagInvalid):
        paths.tag_path("a", tag)


@pytest.mark.parametrize("upload_id", ["", "..", "a/b", "a.b", "---", "x" * 129, "a%2f"])
def test_bad_upload_ids(upload_id: str) -> None:
    with pytest.raises(BlobUploadUnknown):
        paths.upload_data_path("a", upload_id)


@pytest.mark.parametrize(
    "digest",
    [
        Digest("sha256", "../" + "0" * 61),
        Digest("sha256", "A" * 64),
        Digest("sha256", "0" * 63),
        Digest("md5", "0" * 32),
        Digest("sha256/..", "0" * 64),
    ],
)
def test_bad_digests_built_by_hand(digest: Digest) -> None:
    with pytest.raises(DigestInvalid):
        paths.blob_data_path(digest)
    with pytest.raises(DigestInvalid):
        paths.layer_link_path("a", digest)


@pytest.mark.parametrize(
    "text", ["sha256:../../x", "sha256:" + "0" * 63, "sha256", "SHA256:" + "0" * 64, "md5:00"]
)
def test_digest_parse_refuses(text: str) -> None:
    with pytest.raises(DigestInvalid):
        Digest.parse(text)
