"""containerd pulling through pyregistry as a mirror configured in ``hosts.toml``: through
a ``mirrors`` prefix (``override_path``, as docs/mirror.md shows) and through a registry
with distribution's ``proxy`` section (containerd's default ``/v2`` path). Every blob
containerd fetched must be in the mirror's storage: it came through the mirror, not from
the ``server`` the hosts file falls back to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from pyregistry.storage import Digest, paths
from tests.proxy.conftest import MirrorFactory
from tests.support.containerd import Ctr, run_containerd, write_hosts

pytestmark = pytest.mark.slow  # a private containerd of its own

REGISTRY = "upstream.test"  # the name images are pulled by; hosts.toml maps it


@pytest.fixture(scope="module")
def ctr() -> Iterator[Ctr]:
    with run_containerd() as client:
        yield client


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmbeddedRegistry]:
    with pyregistry.serve() as registry:
        yield registry


def _cached(root: Path, digests: set[str]) -> set[str]:
    """The digests whose data the mirror at ``root`` holds."""
    return {
        d for d in digests if (root / paths.blob_data_path(Digest.parse(d)).lstrip("/")).exists()
    }


@pytest.mark.parametrize("through", ["prefix", "proxy"])
def test_containerd_pulls_through_hosts_toml(
    through: str,
    ctr: Ctr,
    upstream: EmbeddedRegistry,
    start_mirror: MirrorFactory,
    tmp_path: Path,
) -> None:
    image = build_image(seed=f"containerd-{through}", layers=2, layer_size=30_000)
    with RegistryClient(upstream.url) as up:
        up.push("team/app", image, "v1")
    root = tmp_path / "mirror"
    hosts = tmp_path / "certs.d"
    if through == "prefix":
        mirror = start_mirror(root, mirrors=[{"prefix": "up", "url": upstream.url}])
        write_hosts(hosts, REGISTRY, upstream.url, f"{mirror}/v2/up", override_path="true")
    else:
        mirror = start_mirror(root, proxy={"remoteurl": upstream.url})
        write_hosts(hosts, REGISTRY, upstream.url, mirror)
    ctr.fetch(f"{REGISTRY}/team/app:v1", hosts)
    wanted = {image.digest, *image.blobs()}
    assert wanted <= ctr.content_digests()
    assert _cached(root, wanted) == wanted
