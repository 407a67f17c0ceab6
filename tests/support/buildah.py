"""buildah driven as a real client, with private storage so tests never touch the host's.

Like podman (:mod:`tests.support.podman`): vfs storage, no fuse or overlay needed. Images
are built from scratch or from a pulled base by copying files in (``buildah copy``), which
needs no container run, so no runtime and no namespaces.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command import find_tool, run


class Buildah:
    """One buildah "installation" rooted in ``base``; each method runs one command."""

    def __init__(self, base: Path) -> None:
        self.binary = find_tool("buildah")
        self.base = base
        self._counter = 0
        self.global_flags = [
            "--root",
            str(base / "root"),
            "--runroot",
            str(base / "runroot"),
            "--storage-driver",
            "vfs",
        ]

    def __call__(self, *args: str) -> str:
        """Run ``buildah GLOBAL_FLAGS ARGS`` and return stdout."""
        return run([self.binary, *self.global_flags, *args], timeout=180)

    def _next(self, stem: str) -> Path:
        self._counter += 1
        return self.base / f"{stem}-{self._counter}"

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
        digestfile = self._next("digest")
        self("push", "--tls-verify=false", "--digestfile", str(digestfile), image, destination)
        return digestfile.read_text().strip()

    def pull(self, reference: str) -> str:
        """Pull ``HOST/REPO:TAG`` with TLS off; returns the image ID."""
        return self("pull", "--quiet", "--tls-verify=false", reference).strip().splitlines()[-1]

    def image_id(self, image: str) -> str:
        return self("inspect", "--type", "image", "--format", "{{.FromImageID}}", image).strip()

    def image_digest(self, image: str) -> str:
        """The manifest digest buildah recorded for ``image``."""
        return self("inspect", "--type", "image", "--format", "{{.FromImageDigest}}", image).strip()

    def remove_images(self) -> None:
        self("rmi", "--all", "--force")

    def manifest_create(self, name: str) -> None:
        self("manifest", "create", name)

    def manifest_add(self, name: str, image: str, arch: str) -> None:
        self("manifest", "add", "--arch", arch, name, image)

    def manifest_push_all(self, name: str, destination: str) -> str:
        """``manifest push --all`` of a local list; the list's digest."""
        digestfile = self._next("digest")
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
def buildah() -> Iterator[Buildah]:
    """A buildah with private root and runroot for the whole session."""
    with tempfile.TemporaryDirectory(prefix="buildah-") as work:
        yield Buildah(Path(work))
