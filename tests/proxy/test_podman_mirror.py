"""podman with a ``[[registry.mirror]]`` in ``registries.conf`` that names a prefix of a
pyregistry ``mirrors`` entry: the pull goes through the mirror, which caches it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.proxy.conftest import MirrorFactory
from tests.support.command import run, stop_process
from tests.support.distribution import DistributionRegistry
from tests.support.images import build_image, write_oci_layout
from tests.support.podman import Podman
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow  # a real podman pull


def test_podman_pulls_through_a_prefix_mirror(
    distribution_registry: DistributionRegistry,
    start_mirror: MirrorFactory,
    skopeo: Skopeo,
    podman: Podman,
    tmp_path: Path,
) -> None:
    image = build_image(seed="podman-mirror", with_busybox=True)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    upstream = distribution_registry.host
    skopeo.copy(f"oci:{layout}:v1", f"docker://{upstream}/team/app:v1")
    mirror = start_mirror(mirrors=[{"prefix": "up", "url": distribution_registry.url}])
    mirror_host = mirror.removeprefix("http://")
    conf = tmp_path / "registries.conf"
    conf.write_text(
        f'[[registry]]\nprefix = "{upstream}"\nlocation = "{upstream}"\ninsecure = true\n\n'
        f'[[registry.mirror]]\nlocation = "{mirror_host}/up"\ninsecure = true\n'
    )
    argv = [podman.binary, *podman.global_flags, "pull", "--quiet", f"{upstream}/team/app:v1"]
    image_id = run(argv, env={"CONTAINERS_REGISTRIES_CONF": str(conf)}, timeout=180)
    assert image.config_digest.removeprefix("sha256:") in image_id
    assert "up/team/app" in httpx.get(f"{mirror}/v2/_catalog").json()["repositories"]
    stop_process(distribution_registry.process)
    # Cached: the mirror answers without the upstream. Only the blobs unique to this image:
    # podman skips a busybox layer its own store already holds from other tests.
    for blob in (image.config_digest, image.layer_digests[-1]):
        assert httpx.head(f"{mirror}/v2/up/team/app/blobs/{blob}").status_code == 200
