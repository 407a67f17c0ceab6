"""skopeo (containers/image) driven as a real client of a plain-HTTP registry on loopback.

skopeo talks to registries exactly like podman and buildah do, without needing local image
storage, so it is the cheapest way to push OCI layouts, indexes and v2s2 manifests.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.command import find_tool, run, run_bytes

Creds = str | None  # "USER:PASSWORD"; None sends whatever skopeo finds in its auth files
NO_CREDS = ""  # explicit anonymous access: ``--no-creds`` (ignores every auth file)


def _creds_args(flag: str, no_creds_flag: str, creds: Creds) -> list[str]:
    """``--FLAG USER:PASSWORD``, ``--NO-CREDS`` for :data:`NO_CREDS`, nothing for None."""
    if creds is None:
        return []
    if creds == NO_CREDS:
        return [no_creds_flag]
    return [flag, creds]


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
        src_creds: Creds = None,
        dest_creds: Creds = None,
    ) -> str:
        """``skopeo copy`` with TLS off on both sides; returns the destination manifest digest.

        ``manifest_format`` is e.g. ``"v2s2"`` or ``"oci"``; ``all_images`` copies every
        image of an index and the index itself. ``src_creds``/``dest_creds`` are
        ``USER:PASSWORD`` (or :data:`NO_CREDS` for an explicitly anonymous side).
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
        argv += _creds_args("--src-creds", "--src-no-creds", src_creds)
        argv += _creds_args("--dest-creds", "--dest-no-creds", dest_creds)
        run([*argv, source, destination])
        return digestfile.read_text().strip()

    def inspect_raw(self, reference: str, *, creds: Creds = None) -> bytes:
        """The manifest or index bytes exactly as the registry serves them."""
        argv = [self.binary, "inspect", "--raw", "--tls-verify=false"]
        return run_bytes([*argv, *_creds_args("--creds", "--no-creds", creds), reference])

    def list_tags(self, repository: str, *, creds: Creds = None) -> list[str]:
        """``skopeo list-tags`` of ``docker://HOST/REPO``."""
        argv = [self.binary, "list-tags", "--tls-verify=false"]
        text = run([*argv, *_creds_args("--creds", "--no-creds", creds), repository])
        tags = json.loads(text)["Tags"]
        return sorted(str(tag) for tag in tags)

    def sync_repository(self, repository: str, destination: Path) -> dict[str, str]:
        """``skopeo sync --all`` of every tag of ``docker://HOST/REPO`` into directories
        under ``destination``: each image and index whole, every blob checked against
        its digest. Returns the manifest digest skopeo stored for each tag."""
        argv = [self.binary, "sync", "--src", "docker", "--dest", "dir", "--all"]
        argv += ["--src-tls-verify=false", "--src-no-creds", "--preserve-digests"]
        run([*argv, repository, str(destination)])
        name = repository.rsplit("/", 1)[-1]
        digests = {}
        for image in destination.rglob(f"{name}:*"):
            manifest = (image / "manifest.json").read_bytes()
            digests[image.name.split(":", 1)[1]] = "sha256:" + hashlib.sha256(manifest).hexdigest()
        return digests

    def pull_checked(self, base_url: str, reference: str, blobs: dict[str, bytes], to: Path) -> str:
        """``skopeo copy`` of ``reference`` (``repo:tag`` on the registry at ``base_url``)
        into the directory ``to``, each of ``blobs`` (digest -> bytes) checked there; the
        manifest's digest."""
        host = base_url.removeprefix("http://")
        digest = self.copy(f"docker://{host}/{reference}", f"dir:{to}")
        for blob, data in blobs.items():
            assert (to / blob.split(":", 1)[1]).read_bytes() == data, blob
        return digest

    def delete(self, reference: str, *, creds: Creds = None) -> None:
        """``skopeo delete``: deletes the manifest a tag points to (by digest)."""
        argv = [self.binary, "delete", "--tls-verify=false"]
        run([*argv, *_creds_args("--creds", "--no-creds", creds), reference])


@pytest.fixture(scope="session")
def skopeo() -> Iterator[Skopeo]:
    """One skopeo wrapper for the session, with a private directory for digest files."""
    with tempfile.TemporaryDirectory(prefix="skopeo-") as work:
        yield Skopeo(Path(work))
