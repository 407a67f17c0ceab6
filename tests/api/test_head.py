"""HEAD wherever GET is: the same status and headers (Content-Length, Content-Type,
Docker-Content-Digest...) as the GET, and no body."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.helpers import image_manifest, push_blob, push_image

NAME = "head/repo"
#: Headers whose value may legitimately differ between two identical requests.
VOLATILE = {"date", "location", "docker-upload-uuid"}


def test_head_answers_like_get_everywhere(client: TestClient) -> None:
    digest, _ = push_image(client, NAME, "v1")
    blob = push_blob(client, NAME, b"some layer bytes")
    subject = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest}
    push_blob(client, NAME, b"{}")
    referrer = image_manifest(b"{}", [], subject={**subject, "size": 1}, artifact_type="a/b")
    client.put(
        f"/v2/{NAME}/manifests/sig",
        content=referrer,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    upload = client.post(f"/v2/{NAME}/blobs/uploads/").headers["location"]
    paths = [
        "/v2/",
        "/v2/_catalog",
        f"/v2/{NAME}/tags/list",
        f"/v2/{NAME}/tags/list?n=1",
        f"/v2/{NAME}/manifests/v1",
        f"/v2/{NAME}/manifests/{digest}",
        f"/v2/{NAME}/blobs/{blob}",
        f"/v2/{NAME}/referrers/{digest}",
        f"/v2/{NAME}/referrers/{digest}?artifactType=a/b",
        upload,
        f"/v2/{NAME}/manifests/missing",
        f"/v2/{NAME}/blobs/{blob[:-4]}beef",
        "/v2/no/such/repo/tags/list",
    ]
    for path in paths:
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        expected = {k: v for k, v in got.headers.items() if k not in VOLATILE}
        assert {k: v for k, v in head.headers.items() if k not in VOLATILE} == expected, path
        if got.status_code == 200:
            assert int(head.headers["content-length"]) == len(got.content), path
            assert head.headers["content-type"], path
