"""buildah driven as a real client, set up as podman is (:mod:`tests.support.containers_cli`).

Images are built from scratch or on a pulled base by copying files in (``buildah copy``),
which runs no container: no runtime, no namespaces.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containers_cli import ContainersCli


class Buildah(ContainersCli):
    """One buildah "installation" rooted in ``base``; each method runs one command."""

    def __init__(self, base: Path) -> None:
        super().__init__("buildah", base)

    def from_image(self, image: str) -> str:
        """A working container on ``image`` (``scratch``, or pulled with TLS off)."""
        return self("from", "--quiet", "--tls-verify=false", image).strip().splitlines()[-1]

    def add_file(self, container: str, content: bytes, destination: str) -> None:
        """Copy a new file holding ``content`` into the container: one more layer."""
        source = self._next("file")
        source.write_bytes(content)
        self("copy", container, str(source), destination)

    def config(self, container: str, *flags: str) -> None:
        self("config", *flags, container)

    def commit(self, container: str, name: str, image_format: str = "oci") -> str:
        """Commit the container as image ``name``; returns its image ID."""
        return self("commit", "--quiet", "--format", image_format, container, name).strip()

    def push(self, image: str, destination: str) -> str:
        """Push to ``docker://HOST/REPO:TAG`` with TLS off; the manifest digest written."""
        return self._push(("push",), image, destination)

    def image_digest(self, image: str) -> str:
        """The manifest digest buildah recorded for ``image``."""
        return self("inspect", "--type", "image", "--format", "{{.FromImageDigest}}", image).strip()

    def remove_images(self) -> None:
        self("rmi", "--all", "--force")

    def manifest_add(self, name: str, image: str, arch: str) -> None:
        self("manifest", "add", "--arch", arch, name, image)


@pytest.fixture(scope="session")
def buildah() -> Iterator[Buildah]:
    """A buildah with private root and runroot for the whole session."""
    with tempfile.TemporaryDirectory(prefix="buildah-") as work:
        yield Buildah(Path(work))
