"""Where the ``swift`` driver keeps things inside its container.

distribution's layout, so an existing registry container is served as is:

* ``<prefix>/files<path>``: the content of driver path ``<path>``. Large content is a
  Dynamic Large Object: an empty manifest object whose ``X-Object-Manifest`` header
  names the segments.
* ``<prefix>/segments/<3 hex>/<37 hex>/<16-digit number>``: the segments of one
  writer session; the directory name is the SHA-1 of the path plus 32 random bytes,
  so a new session never touches the segments of committed content.

And one addition of ours, invisible to distribution:

* ``<prefix>/writers<path>``: a small JSON object naming the segments directory of the
  uncommitted writer for ``<path>``, so ``writer(path, append=True)`` in another
  process finds the data written so far without anything appearing at the path.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import quote, unquote

from storage_drivers.paths import PATH_PATTERN


class Layout:
    """Maps driver paths to Swift object names for one ``prefix``."""

    def __init__(self, prefix: str, container: str) -> None:
        self.prefix = prefix
        self.container = container
        self.files_root = self._name("/files")
        self.segments_root = self._name("/segments") + "/"

    def _name(self, tail: str) -> str:
        # distribution trims slashes off both ends of prefix + tail, and so do we
        return (self.prefix + tail).strip("/")

    def file(self, path: str) -> str:
        """The object holding driver path ``path`` (for ``/``: the files root)."""
        return self._name("/files" + ("" if path == "/" else path))

    def children_prefix(self, path: str) -> str:
        """The listing prefix of everything below ``path``."""
        return self.file(path) + "/" if self.file(path) else ""

    def path_of(self, name: str) -> str | None:
        """The driver path of object (or subdir) ``name``, None if it is not one."""
        root = self.files_root + "/" if self.files_root else ""
        if not name.startswith(root):
            return None
        path = "/" + name[len(root) :].rstrip("/")
        return path if PATH_PATTERN.fullmatch(path) else None

    def writer_state(self, path: str) -> str:
        """The object naming the segments of the uncommitted writer for ``path``."""
        return self._name("/writers" + ("" if path == "/" else path))

    def path_of_writer_state(self, name: str) -> str:
        return "/" + name[len(self._name("/writers")) :].strip("/")

    def new_segments(self, path: str) -> str:
        """A fresh segments directory for one writer session of ``path``."""
        digest = hashlib.sha1(path.encode() + secrets.token_bytes(32)).hexdigest()
        return self._name(f"/segments/{digest[:3]}/{digest[3:]}")

    @staticmethod
    def segment(segments: str, number: int) -> str:
        """Segment ``number`` (from 1) of a session; zero-padded so DLO order is numeric."""
        return f"{segments}/{number:016d}"

    def owns(self, container: str, segments: str) -> bool:
        """Whether a manifest's segments are ours to delete along with it."""
        if container != self.container or not segments.startswith(self.segments_root):
            return False
        # one session's directory (<3 hex>/<37 hex>), never the whole segments area
        return len([p for p in segments[len(self.segments_root) :].split("/") if p]) >= 2

    def manifest_header(self, segments: str) -> str:
        """The ``X-Object-Manifest`` value for a segments directory (DLO unquotes it)."""
        return f"{quote(self.container, safe='')}/{quote(segments, safe='/')}/"

    @staticmethod
    def parse_manifest(value: str) -> tuple[str, str]:
        """``(container, segments prefix)`` of an ``X-Object-Manifest`` value."""
        container, _, prefix = unquote(value).partition("/")
        return container, prefix


def encode_state(path: str, segments: str) -> bytes:
    return json.dumps({"path": path, "segments": segments}).encode()


def decode_state(content: bytes) -> str:
    """The segments directory recorded in a writer state object."""
    try:
        segments = json.loads(content)["segments"]
    except (ValueError, KeyError, TypeError):
        return ""
    return segments if isinstance(segments, str) else ""
