"""What podman and buildah share as clients: both are containers/image tools, run here
with a private root and runroot (never the host's storage) and vfs storage (no fuse or
overlay needed); pushes record their manifest digest in a file, pulls print an image ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.command import find_tool, run


class ContainersCli:
    """One "installation" of ``tool`` rooted in ``base``; each call runs one command."""

    def __init__(self, tool: str, base: Path, *extra_flags: str) -> None:
        self.binary = find_tool(tool)
        self.base = base
        self._counter = 0
        self.global_flags = [
            "--root",
            str(base / "root"),
            "--runroot",
            str(base / "runroot"),
            "--storage-driver",
            "vfs",
            *extra_flags,
        ]

    def __call__(self, *args: str) -> str:
        """Run ``TOOL GLOBAL_FLAGS ARGS`` and return stdout."""
        return run([self.binary, *self.global_flags, *args], timeout=180)

    def _next(self, stem: str) -> Path:
        self._counter += 1
        return self.base / f"{stem}-{self._counter}"

    def pull(self, reference: str) -> str:
        """Pull with TLS off; returns the image ID."""
        return self("pull", "--quiet", "--tls-verify=false", reference).strip().splitlines()[-1]

    def _push(self, verb: Sequence[str], *operands: str) -> str:
        """``verb`` (``push``, ``manifest push --all``) of ``operands`` with TLS off; the
        manifest digest it wrote."""
        digestfile = self._next("digest")
        self(*verb, "--tls-verify=false", "--digestfile", str(digestfile), *operands)
        return digestfile.read_text().strip()

    def manifest_create(self, name: str) -> None:
        self("manifest", "create", name)

    def manifest_push_all(self, name: str, destination: str) -> str:
        """``manifest push --all`` of a local list to ``docker://HOST/REPO:TAG``; its digest."""
        return self._push(("manifest", "push", "--all"), name, destination)
