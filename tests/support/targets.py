"""The registries real-client tests run against: pyregistry and distribution 2.8.

distribution is the reference: a scenario that fails on both is a broken test, one that
fails only on pyregistry is a pyregistry bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.distribution import run_distribution


@dataclass(frozen=True)
class TargetRegistry:
    """A registry under test, as clients address it."""

    kind: str  # "pyregistry" or "distribution"
    host: str  # "127.0.0.1:PORT"
    url: str  # "http://127.0.0.1:PORT"

    def ref(self, repository: str, tag_or_digest: str = "latest") -> str:
        """A ``docker://`` reference for skopeo and podman manifest push."""
        separator = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"docker://{self.host}/{repository}{separator}{tag_or_digest}"

    def name(self, repository: str, tag: str = "latest") -> str:
        """A plain image name for docker and podman."""
        return f"{self.host}/{repository}:{tag}"


@pytest.fixture(scope="module", params=["pyregistry", "distribution"])
def target_registry(request: pytest.FixtureRequest) -> Iterator[TargetRegistry]:
    """One registry of each kind per test module; tests use distinct repository names."""
    if request.param == "distribution":
        with run_distribution() as registry:
            yield TargetRegistry("distribution", registry.host, registry.url)
        return
    from tests.support.pyregistry_target import run_pyregistry

    with run_pyregistry() as (host, url):
        yield TargetRegistry("pyregistry", host, url)
