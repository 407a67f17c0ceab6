"""An example of the pytest plugin in use, as a project's own test module would use it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry import EmbeddedRegistry
from tests.support.images import build_image, sha256_digest, write_oci_layout

LAYOUT = Path(__file__).parent / "_layout_for_marker"


@pytest.fixture(scope="module", autouse=True)
def layout_on_disk() -> Iterator[None]:
    """The layout the marker below names, at a path relative to this file (as a project
    would keep test images beside its tests), removed after the module."""
    write_oci_layout(LAYOUT, build_image(seed="embedding-marker", layers=1), tag="v1")
    yield
    shutil.rmtree(LAYOUT, ignore_errors=True)


def test_registry_fixture_is_empty_and_reachable(registry: EmbeddedRegistry) -> None:
    assert registry.catalog() == []
    response = httpx.get(f"{registry.url}/v2/", trust_env=False)
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"


def test_push_and_read_back(registry: EmbeddedRegistry) -> None:
    digest = registry.push_random_image("example/app", "v1", layers=3, size=2048)
    content, media_type, served_digest = registry.get_manifest("example/app", "v1")
    assert served_digest == digest == sha256_digest(content)
    assert len(registry.get_manifest("example/app", digest).json()["layers"]) == 3
    assert registry.tags("example/app") == ["v1"]


def test_each_test_gets_a_fresh_registry(registry: EmbeddedRegistry) -> None:
    # test_push_and_read_back pushed example/app into its own registry, not this one
    assert registry.catalog() == []


@pytest.mark.registry_preload("_layout_for_marker", "example/preloaded")
def test_marker_preloads_an_oci_layout(registry: EmbeddedRegistry) -> None:
    image = build_image(seed="embedding-marker", layers=1)
    assert registry.get_manifest("example/preloaded", "v1").digest == image.manifest_digest


def test_session_registry_is_shared(registry_session: EmbeddedRegistry) -> None:
    registry_session.push_random_image("example/session", "shared")
    assert "shared" in registry_session.tags("example/session")
