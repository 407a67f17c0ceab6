"""skopeo (containers/image) driven as a real client of a plain-HTTP registry on loopback.

skopeo talks to registries exactly like podman and buildah do, without needing local image
storage, so it is the cheapest way to push OCI layouts, indexes and v2s2 manifests.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command import find_tool, run, run_bytes


class Skopeo:
    """Thin wrapper: every method runs one skopeo command and raises ``CommandError``."""

    def __init__(self, work_dir: Path) -> None:
        self.binary = find_tool("skopeo")
        self.work_dir = work_dir
        self._counter = 0

    def _digestfile(self) -> Path:
        self._counter += 1
        return self.work_dir / f"digest-{self._counter}"

    def copy(
        self,
        source: str,
        destination: str,
        *,
        all_images: bool = False,
        manifest_format: str | None = None,
    ) -> str:
        """``skopeo copy`` with TLS off on both sides; returns the destination manifest digest.

        ``manifest_format`` is e.g. ``"v2s2"`` or ``"oci"``; ``all_images`` copies every
        image of an index and the index itself.
        """
        digestfile = self._digestfile()
        argv = [
            self.binary,
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--digestfile",
            str(digestfile),
        ]
        if all_images:
            argv.append("--all")
        if manifest_format is not None:
            argv += ["--format", manifest_format]
        run([*argv, source, destination])
        return digestfile.read_text().strip()

    def inspect_raw(self, reference: str) -> bytes:
        """The manifest or index bytes exactly as the registry serves them."""
        return run_bytes([self.binary, "inspect", "--raw", "--tls-verify=false", reference])

    def list_tags(self, repository: str) -> list[str]:
        """``skopeo list-tags`` of ``docker://HOST/REPO``."""
        text = run([self.binary, "list-tags", "--tls-verify=false", repository])
        tags = json.loads(text)["Tags"]
        return sorted(str(tag) for tag in tags)

    def delete(self, reference: str) -> None:
        """``skopeo delete``: deletes the manifest a tag points to (by digest)."""
        run([self.binary, "delete", "--tls-verify=false", reference])


@pytest.fixture(scope="session")
def skopeo() -> Iterator[Skopeo]:
    """One skopeo wrapper for the session, with a private directory for digest files."""
    with tempfile.TemporaryDirectory(prefix="skopeo-") as work:
        yield Skopeo(Path(work))
