"""podman driven as a real client, with private storage so tests never touch the host's.

Flags follow what works on these machines: vfs storage (no fuse/overlay needed), cgroupfs
and no events backend (no systemd). Containers are never run: push and pull don't need it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containers_cli import ContainersCli


class Podman(ContainersCli):
    """One podman "installation" rooted in ``base``; each method runs one podman command."""

    def __init__(self, base: Path) -> None:
        super().__init__(
            "podman",
            base,
            "--tmpdir",
            str(base / "tmp"),
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
        )

    def pull(self, reference: str) -> str:
        """Pull (``oci:DIR:TAG`` or ``HOST/REPO:TAG``) with TLS off; returns the image ID.

        ``oci:`` paths must be lower-case: podman derives an image name from them.
        """
        return super().pull(reference)

    def tag(self, image: str, target: str) -> None:
        self("tag", image, target)

    def push(self, image: str, destination: str | None = None) -> str:
        """Push with TLS off; returns the manifest digest podman wrote."""
        return self._push(("push",), image, *([destination] if destination else []))

    def image_digest(self, image: str) -> str:
        """The manifest digest podman recorded for ``image`` (what it pulled or pushed)."""
        return self("image", "inspect", "--format", "{{.Digest}}", image).strip()

    def image_id(self, image: str) -> str:
        return self("image", "inspect", "--format", "{{.Id}}", image).strip()

    def remove_image(self, *images: str) -> None:
        self("rmi", "--force", *images)

    def manifest_add(self, name: str, image: str) -> None:
        self("manifest", "add", name, image)


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """A podman with private root/runroot/tmpdir for the whole session."""
    with tempfile.TemporaryDirectory(prefix="podman-") as work:
        yield Podman(Path(work))
