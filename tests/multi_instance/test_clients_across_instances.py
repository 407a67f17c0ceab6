"""skopeo and docker pushing to one instance and pulling from the other, alternating."""

from __future__ import annotations

import contextlib
from pathlib import Path

from tests.multi_instance.http_client import get_manifest
from tests.multi_instance.instances import RegistryPair
from tests.support.command import CommandError
from tests.support.docker import Docker
from tests.support.images import (
    build_image,
    read_layout_blob,
    read_layout_manifest,
    write_docker_archive,
    write_oci_layout,
)
from tests.support.skopeo import Skopeo


def test_skopeo_alternating_instances(
    proxied_pair: RegistryPair, skopeo: Skopeo, tmp_path: Path
) -> None:
    """Push to A, pull from B, delete on B, list on A."""
    a, b = proxied_pair.a, proxied_pair.b
    repo = "multi/skopeo"
    first = build_image(seed="skopeo-multi-1", layers=2, layer_size=128 * 1024)
    second = build_image(seed="skopeo-multi-2", layers=1)
    write_oci_layout(tmp_path / "one", first, tag="v1")
    write_oci_layout(tmp_path / "two", second, tag="v2")

    pushed = skopeo.copy(f"oci:{tmp_path / 'one'}:v1", f"docker://{a.host}/{repo}:v1")
    assert pushed == first.manifest_digest
    skopeo.copy(f"oci:{tmp_path / 'two'}:v2", f"docker://{b.host}/{repo}:v2")

    pulled = tmp_path / "pulled"
    skopeo.copy(f"docker://{b.host}/{repo}:v1", f"oci:{pulled}:v1")
    assert read_layout_manifest(pulled, "v1") == first.manifest
    for digest, data in first.blobs().items():
        assert read_layout_blob(pulled, digest) == data
    assert skopeo.list_tags(f"docker://{a.host}/{repo}") == ["v1", "v2"]

    skopeo.delete(f"docker://{b.host}/{repo}:v1")
    assert skopeo.list_tags(f"docker://{a.host}/{repo}") == ["v2"]
    assert get_manifest(proxied_pair.client, a, repo, first.manifest_digest).status_code == 404
    assert skopeo.inspect_raw(f"docker://{a.host}/{repo}:v2") == second.manifest


def test_docker_push_to_a_pull_from_b_push_to_b(
    proxied_pair: RegistryPair, docker: Docker, tmp_path: Path
) -> None:
    """docker load + push to A; a fresh pull from B; push of the pulled image to B."""
    a, b = proxied_pair.a, proxied_pair.b
    image = build_image(seed="docker-multi", layers=2, layer_size=32 * 1024)
    local = "pyregistry-multi/docker:v1"
    write_docker_archive(tmp_path / "image.tar", image, repo_tags=[local])
    docker.load(tmp_path / "image.tar")
    on_a, on_b, copy_on_b = (
        f"{a.host}/multi/docker:v1",
        f"{b.host}/multi/docker:v1",
        f"{b.host}/multi/docker-copy:v1",
    )
    try:
        docker.tag(local, on_a)
        pushed = docker.push(on_a)
        docker.remove_images(local, on_a)

        assert docker.pull(on_b) == pushed.digest
        assert docker.inspect(on_b)["Id"] == image.config_digest

        docker.tag(on_b, copy_on_b)
        copied = docker.push(copy_on_b)
        assert copied.digest == pushed.digest
        # The layers were already in the shared storage: B mounted them from multi/docker.
        assert copied.mounted_from(), copied.output
        response = get_manifest(proxied_pair.client, a, "multi/docker-copy", "v1")
        assert response.status_code == 200
        assert response.headers["docker-content-digest"] == pushed.digest
    finally:
        with contextlib.suppress(CommandError):  # cleanup must not hide the real failure
            docker.remove_images(local, on_a, on_b, copy_on_b)
