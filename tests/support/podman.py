"""podman driven as a real client, with private storage so tests never touch the host's.

Flags follow what works on these machines: vfs storage (no fuse/overlay needed), cgroupfs
and no events backend (no systemd). Containers are never run: push and pull don't need it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command import find_tool, run


class Podman:
    """One podman "installation" rooted in ``base``; each method runs one podman command."""

    def __init__(self, base: Path) -> None:
        self.binary = find_tool("podman")
        self.base = base
        self._counter = 0
        self.global_flags = [
            "--root",
            str(base / "root"),
            "--runroot",
            str(base / "runroot"),
            "--tmpdir",
            str(base / "tmp"),
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
        ]

    def __call__(self, *args: str) -> str:
        """Run ``podman GLOBAL_FLAGS ARGS`` and return stdout."""
        return run([self.binary, *self.global_flags, *args], timeout=180)

    def _digestfile(self) -> Path:
        self._counter += 1
        return self.base / f"digest-{self._counter}"

    def pull(self, reference: str) -> str:
        """Pull (``oci:DIR:TAG`` or ``HOST/REPO:TAG``) with TLS off; returns the image ID.

        ``oci:`` paths must be lower-case: podman derives an image name from them.
        """
        return self("pull", "--quiet", "--tls-verify=false", reference).strip().splitlines()[-1]

    def tag(self, image: str, target: str) -> None:
        self("tag", image, target)

    def push(self, image: str, destination: str | None = None) -> str:
        """Push with TLS off; returns the manifest digest podman wrote."""
        digestfile = self._digestfile()
        argv = ["push", "--tls-verify=false", "--digestfile", str(digestfile), image]
        if destination is not None:
            argv.append(destination)
        self(*argv)
        return digestfile.read_text().strip()

    def image_digest(self, image: str) -> str:
        """The manifest digest podman recorded for ``image`` (what it pulled or pushed)."""
        return self("image", "inspect", "--format", "{{.Digest}}", image).strip()

    def image_id(self, image: str) -> str:
        return self("image", "inspect", "--format", "{{.Id}}", image).strip()

    def remove_image(self, *images: str) -> None:
        self("rmi", "--force", *images)

    def manifest_create(self, name: str) -> None:
        self("manifest", "create", name)

    def manifest_add(self, name: str, image: str) -> None:
        self("manifest", "add", name, image)

    def manifest_push_all(self, name: str, destination: str) -> str:
        """``manifest push --all`` of a local list to ``docker://HOST/REPO:TAG``; its digest."""
        digestfile = self._digestfile()
        self(
            "manifest",
            "push",
            "--all",
            "--tls-verify=false",
            "--digestfile",
            str(digestfile),
            name,
            destination,
        )
        return digestfile.read_text().strip()


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """A podman with private root/runroot/tmpdir for the whole session."""
    with tempfile.TemporaryDirectory(prefix="podman-") as work:
        yield Podman(Path(work))
