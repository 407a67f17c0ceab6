"""docker against the registry: load, tag, push (with a cross-repository mount), pull."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.docker import Docker
from tests.support.images import (
    Image,
    MultiArchImage,
    build_image,
    sha256_digest,
    write_docker_archive,
)
from tests.support.skopeo import Skopeo
from tests.support.targets import TargetRegistry

pytestmark = pytest.mark.slow  # real clients: a few seconds each

LOADED = "pyregistry-test/docker-single:v1"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Image]:
    image = build_image(seed="docker-single", with_busybox=True)
    path = tmp_path_factory.mktemp("docker") / "image.tar"
    return write_docker_archive(path, image, repo_tags=[LOADED]), image


def test_load_push_mount_pull(
    docker: Docker,
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    archive: tuple[Path, Image],
) -> None:
    path, image = archive
    assert LOADED in docker.load(path)
    assert docker.inspect(LOADED)["Id"] == image.config_digest

    first = target_registry.name("docker/first", "v1")
    second = target_registry.name("docker/second", "v1")
    docker.tag(LOADED, first)
    pushed = docker.push(first)
    assert pushed.mounted_from() == []
    docker.tag(LOADED, second)
    mounted = docker.push(second)
    # Every layer of the second push is mounted from the first repository, not uploaded.
    assert mounted.mounted_from() == ["docker/first"] * len(image.layers)
    assert mounted.digest == pushed.digest

    served = skopeo.inspect_raw(f"docker://{second}")
    assert sha256_digest(served) == pushed.digest
    assert json.loads(served)["config"]["digest"] == image.config_digest

    docker.remove_images(LOADED, first, second)
    assert docker.pull(second) == pushed.digest
    pulled = docker.inspect(second)
    assert pulled["Id"] == image.config_digest
    assert f"{target_registry.host}/docker/second@{pushed.digest}" in pulled["RepoDigests"]
    docker.remove_images(second)


def test_pull_multiarch_index_pushed_by_skopeo(
    docker: Docker,
    skopeo: Skopeo,
    target_registry: TargetRegistry,
    multi: tuple[Path, MultiArchImage],
) -> None:
    layout, image = multi
    reference = target_registry.ref("docker/multi", "v1")
    assert skopeo.copy(f"oci:{layout}:v1", reference, all_images=True) == image.index_digest

    name = target_registry.name("docker/multi", "v1")
    assert docker.pull(name) == image.index_digest
    pulled = docker.inspect(name)
    assert pulled["Id"] == image.images["amd64"].config_digest
    assert pulled["Architecture"] == "amd64"
    docker.remove_images(name)
