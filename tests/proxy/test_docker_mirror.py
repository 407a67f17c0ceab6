"""dockerd with ``registry-mirrors`` pointing at a pyregistry with distribution's
``proxy`` section: ``docker pull busybox`` goes to the mirror as ``library/busybox``,
which fetches it from an upstream serving Docker Hub's ``library/`` layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.proxy.conftest import MirrorFactory
from tests.support.distribution import DistributionRegistry
from tests.support.docker import run_dockerd
from tests.support.images import build_image, write_oci_layout
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow  # a private dockerd of its own: a few seconds


def test_docker_pull_through_registry_mirrors(
    distribution_registry: DistributionRegistry,
    start_mirror: MirrorFactory,
    skopeo: Skopeo,
    tmp_path: Path,
) -> None:
    image = build_image(seed="docker-mirror", with_busybox=True)
    layout = write_oci_layout(tmp_path / "layout", image, tag="latest")
    pushed = skopeo.copy(
        f"oci:{layout}:latest",
        f"docker://{distribution_registry.host}/library/busybox:latest",
        manifest_format="v2s2",
    )
    mirror = start_mirror(proxy={"remoteurl": distribution_registry.url})
    with run_dockerd({"registry-mirrors": [mirror]}) as docker:
        assert docker.pull("busybox:latest") == pushed
        assert docker.inspect("busybox:latest")["Id"] == image.config_digest
    log = distribution_registry.log_text()
    assert "/v2/library/busybox/manifests/latest" in log
