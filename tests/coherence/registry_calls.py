"""The few registry calls the coherence tests make, on one given connection (one worker).

``http.client`` keeps the connection it is given, so every call in a sequence goes to the
worker holding it; httpx would pick any pooled connection.
"""

from __future__ import annotations

import hashlib
import http.client
import json


def digest_of(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def call(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on ``connection``: status, lower-cased headers, body."""
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    content = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, content


def push_blob(connection: http.client.HTTPConnection, repo: str, content: bytes) -> str:
    """Monolithic upload (POST with ``?digest=``); the blob's digest."""
    digest = digest_of(content)
    status, _, body = call(
        connection,
        "POST",
        f"/v2/{repo}/blobs/uploads/?digest={digest}",
        content,
        {"content-type": "application/octet-stream"},
    )
    assert status == 201, (status, body)
    return digest


def image_manifest(config: str, config_size: int, layer: str, layer_size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": config_size,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer,
                    "size": layer_size,
                }
            ],
        }
    ).encode()


def push_image(
    connection: http.client.HTTPConnection, repo: str, reference: str, marker: bytes
) -> str:
    """A config, a layer and a manifest put under ``reference``; the manifest's digest."""
    config = b'{"marker": "' + marker + b'"}'
    layer = b"layer " + marker
    config_digest = push_blob(connection, repo, config)
    layer_digest = push_blob(connection, repo, layer)
    manifest = image_manifest(config_digest, len(config), layer_digest, len(layer))
    status, _, body = call(
        connection,
        "PUT",
        f"/v2/{repo}/manifests/{reference}",
        manifest,
        {"content-type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert status == 201, (status, body)
    return digest_of(manifest)


def tags_of(connection: http.client.HTTPConnection, repo: str) -> list[str]:
    status, _, body = call(connection, "GET", f"/v2/{repo}/tags/list")
    if status == 404:
        return []
    assert status == 200, (status, body)
    tags: list[str] = json.loads(body)["tags"] or []
    return tags
