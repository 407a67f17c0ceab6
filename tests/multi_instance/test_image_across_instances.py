"""An image pushed through A is pulled through B; what A deletes is gone on B at once.

Both instances read descriptors from the same Redis, so a delete on A must clear what B
would otherwise serve from the cache: nothing may stay visible for a cache lifetime.
"""

from __future__ import annotations

from tests.multi_instance.http_client import error_codes, get_manifest, push_blob, push_image
from tests.multi_instance.instances import RegistryPair
from tests.support.images import OCI_MANIFEST, build_image


def test_image_pushed_on_a_is_pulled_on_b(proxied_pair: RegistryPair) -> None:
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/image-pull"
    image = build_image(seed="multi-pull", layers=2, layer_size=64 * 1024)
    digest = push_image(pair.client, a, repo, "v1", image)

    for ref in ("v1", digest):
        response = get_manifest(pair.client, b, repo, ref)
        assert response.status_code == 200, response.text
        assert response.content == image.manifest
        assert response.headers["docker-content-digest"] == digest
        assert response.headers["content-type"] == OCI_MANIFEST
    for blob_digest, data in image.blobs().items():
        blob = pair.client.get(b.url(f"/v2/{repo}/blobs/{blob_digest}"))
        assert blob.status_code == 200
        assert blob.content == data
    tags = pair.client.get(b.url(f"/v2/{repo}/tags/list"))
    assert tags.json() == {"name": repo, "tags": ["v1"]}
    catalog = pair.client.get(b.url("/v2/_catalog"))
    assert repo in catalog.json()["repositories"]

    # The shared cache holds what A wrote: B's answers may come from it.
    redis = pair.redis_client()
    for blob_digest in image.blobs():
        assert redis.sismember(f"repository::{repo}::blobs", blob_digest)
        assert redis.hget(f"blobs::{blob_digest}", "size") is not None


def test_delete_on_a_is_seen_on_b_at_once(proxied_pair: RegistryPair) -> None:
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/image-delete"
    image = build_image(seed="multi-delete", layers=2)
    digest = push_image(pair.client, a, repo, "v1", image)
    layer = image.layer_digests[0]

    # B has served (and so cached) both the manifest and the layer.
    assert get_manifest(pair.client, b, repo, "v1").status_code == 200
    assert pair.client.head(b.url(f"/v2/{repo}/blobs/{layer}")).status_code == 200
    assert pair.client.get(b.url(f"/v2/{repo}/blobs/{layer}")).status_code == 200

    deleted = pair.client.delete(a.url(f"/v2/{repo}/manifests/{digest}"))
    assert deleted.status_code == 202, deleted.text
    deleted = pair.client.delete(a.url(f"/v2/{repo}/blobs/{layer}"))
    assert deleted.status_code == 202, deleted.text

    for ref in (digest, "v1"):
        gone = get_manifest(pair.client, b, repo, ref)
        assert gone.status_code == 404, f"B still serves manifest {ref} after A deleted it"
        assert error_codes(gone) == ["MANIFEST_UNKNOWN"]
    assert pair.client.head(b.url(f"/v2/{repo}/manifests/{digest}")).status_code == 404
    assert pair.client.head(b.url(f"/v2/{repo}/blobs/{layer}")).status_code == 404
    gone = pair.client.get(b.url(f"/v2/{repo}/blobs/{layer}"))
    assert gone.status_code == 404, "B still serves a blob A deleted"
    assert error_codes(gone) == ["BLOB_UNKNOWN"]
    assert not pair.redis_client().sismember(f"repository::{repo}::blobs", layer)
    # A second delete through B finds nothing to delete either.
    again = pair.client.delete(b.url(f"/v2/{repo}/blobs/{layer}"))
    assert again.status_code == 404
    assert error_codes(again) == ["BLOB_UNKNOWN"]
    # The manifest delete untagged v1 (pyregistry lists a repository without tags as []).
    tags = pair.client.get(b.url(f"/v2/{repo}/tags/list"))
    assert tags.status_code == 200, tags.text
    assert tags.json() == {"name": repo, "tags": []}

    # The other layer and the config were not deleted: still served by B.
    kept = pair.client.get(b.url(f"/v2/{repo}/blobs/{image.config_digest}"))
    assert kept.status_code == 200
    assert kept.content == image.config


def test_tag_moved_on_b_is_seen_on_a(proxied_pair: RegistryPair) -> None:
    """Re-tagging through B changes what A resolves the tag to, with no delay."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    repo = "multi/image-retag"
    first = build_image(seed="retag-1", layers=1)
    second = build_image(seed="retag-2", layers=1)
    push_image(pair.client, a, repo, "latest", first)
    assert get_manifest(pair.client, a, repo, "latest").content == first.manifest
    push_image(pair.client, b, repo, "latest", second)
    response = get_manifest(pair.client, a, repo, "latest")
    assert response.content == second.manifest
    assert response.headers["docker-content-digest"] == second.manifest_digest


def test_mount_on_b_of_a_blob_pushed_on_a(proxied_pair: RegistryPair) -> None:
    """Cross-repository mount through B of a blob A just stored in another repository."""
    pair, a, b = proxied_pair, proxied_pair.a, proxied_pair.b
    digest = push_blob(pair.client, a, "multi/mount-source", b"a layer to mount elsewhere")
    mounted = pair.client.post(
        b.url("/v2/multi/mount-target/blobs/uploads/"),
        params={"mount": digest, "from": "multi/mount-source"},
    )
    assert mounted.status_code == 201, mounted.text
    assert mounted.headers["docker-content-digest"] == digest
    got = pair.client.get(a.url(f"/v2/multi/mount-target/blobs/{digest}"))
    assert got.content == b"a layer to mount elsewhere"
