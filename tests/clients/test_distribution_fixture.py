"""The distribution 2.8 fixture itself: it answers, uses the given root, and stops."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.distribution import DistributionFactory, DistributionRegistry


def test_distribution_answers_v2(distribution_registry: DistributionRegistry) -> None:
    with urllib.request.urlopen(f"{distribution_registry.url}/v2/") as response:
        assert response.status == 200
        assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_factory_uses_given_root_and_stops(
    distribution_registry_factory: DistributionFactory, tmp_path: Path
) -> None:
    registry = distribution_registry_factory(root=tmp_path / "root")
    assert registry.root == tmp_path / "root"
    assert registry.host.startswith("127.0.0.1:")
    with urllib.request.urlopen(f"{registry.url}/v2/_catalog") as response:
        assert json.load(response) == {"repositories": []}
    other = distribution_registry_factory()
    assert other.host != registry.host


def test_factory_options_are_merged_into_the_config(
    distribution_registry_factory: DistributionFactory,
) -> None:
    registry = distribution_registry_factory(options={"storage": {"delete": {"enabled": False}}})
    config = registry.config_path.read_text()
    assert "enabled: false" in config
    assert str(registry.root) in config  # the generated defaults survive the merge
    request = urllib.request.Request(
        f"{registry.url}/v2/some/repo/manifests/sha256:{'0' * 64}", method="DELETE"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 405
    assert json.load(caught.value)["errors"][0]["code"] == "UNSUPPORTED"
