"""Plain HTTP pushes and pulls against one instance, the way a registry client does them.

Every helper asserts the status the distribution API promises, so a test reads as the
sequence of requests a client would send to whichever instance a load balancer picks.
"""

from __future__ import annotations

import httpx

from tests.multi_instance.instances import Instance
from tests.support.images import OCI_MANIFEST, Image, sha256_digest

MANIFEST_ACCEPT = ", ".join(
    [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def start_upload(client: httpx.Client, instance: Instance, repo: str) -> str:
    """POST a new upload session on ``instance``; its absolute ``Location``."""
    response = client.post(instance.url(f"/v2/{repo}/blobs/uploads/"))
    assert response.status_code == 202, response.text
    assert response.headers["range"] == "0-0"
    return str(httpx.URL(instance.base).join(response.headers["location"]))


def patch_chunk(
    client: httpx.Client, instance: Instance, location: str, offset: int, chunk: bytes
) -> str:
    """PATCH ``chunk`` at ``offset`` with ``Content-Range`` on ``instance``, whatever host
    ``location`` names; checks the ``Range`` answered and returns the next ``Location``."""
    response = client.patch(
        instance.url(location),
        content=chunk,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
        },
    )
    assert response.status_code == 202, f"{instance.name}: {response.text}"
    assert response.headers["range"] == f"0-{offset + len(chunk) - 1}"
    return str(httpx.URL(instance.base).join(response.headers["location"]))


def complete_upload(
    client: httpx.Client,
    instance: Instance,
    location: str,
    digest: str,
    last: bytes = b"",
    offset: int | None = None,
) -> httpx.Response:
    """PUT ``?digest=`` on ``instance`` (with an optional last chunk at ``offset``)."""
    headers = {"Content-Type": "application/octet-stream"}
    if last and offset is not None:
        headers["Content-Range"] = f"{offset}-{offset + len(last) - 1}"
    url = httpx.URL(instance.url(location))
    return client.put(url.copy_merge_params({"digest": digest}), content=last, headers=headers)


def push_blob(client: httpx.Client, instance: Instance, repo: str, data: bytes) -> str:
    """POST + PUT with the whole blob (what skopeo does, minus the PATCH)."""
    digest = sha256_digest(data)
    location = start_upload(client, instance, repo)
    done = complete_upload(client, instance, location, digest, data)
    assert done.status_code == 201, done.text
    assert done.headers["docker-content-digest"] == digest
    return digest


def push_image(client: httpx.Client, instance: Instance, repo: str, tag: str, image: Image) -> str:
    """Blobs first, then the manifest by tag; the manifest digest the registry answered."""
    for data in image.blobs().values():
        push_blob(client, instance, repo, data)
    response = client.put(
        instance.url(f"/v2/{repo}/manifests/{tag}"),
        content=image.manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201, response.text
    assert response.headers["docker-content-digest"] == image.manifest_digest
    return image.manifest_digest


def get_manifest(client: httpx.Client, instance: Instance, repo: str, ref: str) -> httpx.Response:
    return client.get(
        instance.url(f"/v2/{repo}/manifests/{ref}"), headers={"Accept": MANIFEST_ACCEPT}
    )


def error_codes(response: httpx.Response) -> list[str]:
    """The OCI error codes of an error response body."""
    return [str(error["code"]) for error in response.json()["errors"]]
