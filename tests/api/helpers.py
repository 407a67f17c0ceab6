"""Building blocks for API tests: digests, pushes and manifests through the HTTP API."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def error_codes(response: httpx.Response) -> list[str]:
    """The OCI error codes in a response body (fails the test if it is not the spec's shape)."""
    body = response.json()
    assert isinstance(body.get("errors"), list), body
    return [e["code"] for e in body["errors"]]


def push_blob(client: httpx.Client, name: str, data: bytes, algorithm: str = "sha256") -> str:
    """POST then PUT the whole blob; returns its digest."""
    digest = digest_of(data, algorithm)
    start = client.post(f"/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    done = client.put(
        start.headers["location"],
        params={"digest": digest},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


def push_blob_at(base_url: str, name: str, data: bytes) -> str:
    """:func:`push_blob` to the registry at ``base_url``, on a connection of its own."""
    with httpx.Client(base_url=base_url) as client:
        return push_blob(client, name, data)


def image_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    media_type: str = OCI_MANIFEST,
    subject: dict[str, Any] | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
    config_media_type: str | None = None,
    extra_layers: list[dict[str, Any]] | None = None,
) -> bytes:
    docker = media_type == DOCKER_MANIFEST
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": config_media_type or (DOCKER_CONFIG if docker else OCI_CONFIG),
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": DOCKER_LAYER if docker else OCI_LAYER,
                "digest": digest_of(layer),
                "size": len(layer),
            }
            for layer in layers
        ]
        + list(extra_layers or []),
    }
    if subject is not None:
        doc["subject"] = subject
    if artifact_type is not None:
        doc["artifactType"] = artifact_type
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc).encode()


def prepare_image(client: httpx.Client, name: str, layer: bytes, config: bytes = b"{}") -> bytes:
    """Push an image's config and its one layer; the manifest naming them (not pushed)."""
    push_blob(client, name, config)
    push_blob(client, name, layer)
    return image_manifest(config, [layer])


def push_image(
    client: httpx.Client,
    name: str,
    reference: str,
    *,
    layers: list[bytes] | None = None,
    config: bytes = b'{"architecture":"amd64","os":"linux"}',
    **manifest_options: Any,
) -> tuple[str, bytes]:
    """Push config, layers and an image manifest; returns (manifest digest, manifest bytes)."""
    layers = [b"layer-" + reference.encode()] if layers is None else layers
    push_blob(client, name, config)
    for layer in layers:
        push_blob(client, name, layer)
    manifest = image_manifest(config, layers, **manifest_options)
    media_type = manifest_options.get("media_type", OCI_MANIFEST)
    response = client.put(
        f"/v2/{name}/manifests/{reference}",
        content=manifest,
        headers={"Content-Type": media_type},
    )
    assert response.status_code == 201, response.text
    return response.headers["docker-content-digest"], manifest


def byteranges(response: httpx.Response) -> list[tuple[str, bytes]]:
    """The parts of a ``multipart/byteranges`` answer as (Content-Range, bytes), read
    strictly: the framing must be exact, and the body's length the announced one."""
    kind, _, boundary = response.headers["content-type"].partition("; boundary=")
    assert kind == "multipart/byteranges" and boundary, response.headers
    assert response.headers["content-length"] == str(len(response.content))
    body = response.content
    delimiter = f"--{boundary}".encode()
    assert body.startswith(delimiter + b"\r\n"), body[:200]
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n"), body[-200:]
    inner = body[len(delimiter) + 2 : -len(delimiter) - 6]
    parts = []
    for chunk in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        assert fields["Content-Type"] == "application/octet-stream", fields
        parts.append((fields["Content-Range"], data))
    return parts
