"""buildah with a ``[[registry.mirror]]`` in ``registries.conf`` that names a prefix of a
pyregistry ``mirrors`` entry (the README's setting): the pull goes through the mirror,
and a second pull is served by it with the upstream stopped."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.proxy.conftest import MirrorFactory
from tests.support.buildah import Buildah
from tests.support.command import run, stop_process
from tests.support.distribution import DistributionRegistry
from tests.support.images import build_image, write_oci_layout
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow  # a real buildah pull


def test_buildah_pulls_through_a_prefix_mirror(
    distribution_registry: DistributionRegistry,
    start_mirror: MirrorFactory,
    skopeo: Skopeo,
    buildah: Buildah,
    tmp_path: Path,
) -> None:
    image = build_image(seed="buildah-mirror")
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    upstream = distribution_registry.host
    skopeo.copy(f"oci:{layout}:v1", f"docker://{upstream}/team/app:v1")
    mirror = start_mirror(mirrors=[{"prefix": "up", "url": distribution_registry.url}])
    conf = tmp_path / "registries.conf"
    conf.write_text(
        f'[[registry]]\nprefix = "{upstream}"\nlocation = "{upstream}"\ninsecure = true\n\n'
        f'[[registry.mirror]]\nlocation = "{mirror.removeprefix("http://")}/up"\n'
        "insecure = true\n"
    )
    env = {"CONTAINERS_REGISTRIES_CONF": str(conf)}
    argv = [buildah.binary, *buildah.global_flags, "pull", "--quiet", f"{upstream}/team/app:v1"]

    assert image.config_digest.removeprefix("sha256:") in run(argv, env=env, timeout=180)
    assert "up/team/app" in httpx.get(f"{mirror}/v2/_catalog").json()["repositories"]
    stop_process(distribution_registry.process)
    for blob in (image.config_digest, *image.layer_digests):
        assert httpx.head(f"{mirror}/v2/up/team/app/blobs/{blob}").status_code == 200
    buildah.remove_images()
    assert image.config_digest.removeprefix("sha256:") in run(argv, env=env, timeout=180)
