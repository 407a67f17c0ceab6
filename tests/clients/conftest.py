"""Test images for the real-client tests, as OCI layouts on disk, one set per test module.

Each module gets content of its own (seeded by the module's name), so modules sharing a
registry never see each other's blobs and a cross-repository mount is never a no-op.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.images import (
    Image,
    MultiArchImage,
    build_image,
    build_multiarch,
    write_multiarch_layout,
    write_oci_layout,
)


def _module(request: pytest.FixtureRequest) -> str:
    """``podman`` for ``tests.clients.test_podman``."""
    return str(request.module.__name__).rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture(scope="module")
def single(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Image]:
    """A busybox image tagged ``v1`` in an OCI layout."""
    name = _module(request)
    image = build_image(seed=f"{name}-single", with_busybox=True)
    # podman turns oci: paths into image names, so the path must be lower-case.
    layout = tmp_path_factory.mktemp(f"{name}-single".lower())
    return write_oci_layout(layout, image, tag="v1"), image


@pytest.fixture(scope="module")
def multi(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, MultiArchImage]:
    """A multi-arch image (an OCI index) tagged ``v1`` in an OCI layout."""
    name = _module(request)
    image = build_multiarch(seed=f"{name}-multi")
    layout = tmp_path_factory.mktemp(f"{name}-multi".lower())
    return write_multiarch_layout(layout, image, tag="v1"), image
