"""Preloading images into a registry through its HTTP API, from an OCI image layout (a
directory, or a tar of one: ``oci-archive``, ``docker save`` of docker 25+) or a
``docker save`` archive (``manifest.json`` + config + layer tars).

Content goes through the API so the registry holds exactly what a client would have
pushed. OCI layouts keep their manifests byte for byte (digests are preserved, nested
indexes included); docker archives become Docker schema 2 manifests whose layers are the
archive's tars as they are (``diff.tar``, or ``diff.tar.gzip`` when a layer is gzip-ed).
Blobs are streamed from disk, never held whole in memory.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from pyregistry.client import BlobSource, RegistryClient
from pyregistry.client.content import canonical_json
from pyregistry.client.media import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_MANIFEST,
    sha256_digest,
)
from pyregistry.client.sources import hash_stream

REF_NAME = "org.opencontainers.image.ref.name"
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class PreloadError(ValueError):
    """The source is not a usable OCI layout or docker archive."""


@dataclass(frozen=True)
class PushedManifest:
    """One manifest a preload put in the registry, and the tag it got (None: by digest)."""

    repository: str
    tag: str | None
    digest: str
    media_type: str

    @property
    def reference(self) -> str:
        """``repository:tag``, or ``repository@digest`` when untagged."""
        return f"{self.repository}:{self.tag}" if self.tag else f"{self.repository}@{self.digest}"


class _Files(Protocol):
    """Named files of a layout or archive: a directory or a tar."""

    def exists(self, name: str) -> bool: ...
    def read(self, name: str) -> bytes: ...
    def size(self, name: str) -> int: ...
    def open(self, name: str) -> IO[bytes]: ...


class _DirectoryFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")


class _TarFiles:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {
            os.path.normpath(member.name).lstrip("/"): member
            for member in tar.getmembers()
            if member.isfile()
        }

    def _member(self, name: str) -> tarfile.TarInfo:
        member = self.members.get(os.path.normpath(name).lstrip("/"))
        if member is None:
            raise PreloadError(f"{name} is missing from the archive")
        return member

    def exists(self, name: str) -> bool:
        return os.path.normpath(name).lstrip("/") in self.members

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def size(self, name: str) -> int:
        return self._member(name).size

    def open(self, name: str) -> IO[bytes]:
        handle = self.tar.extractfile(self._member(name))
        if handle is None:
            raise PreloadError(f"{name} is not a regular file in the archive")
        return handle


def tag_of(ref_name: str | None) -> str | None:
    """A tag from an ``org.opencontainers.image.ref.name`` (``v1`` or ``host/repo:v1``)."""
    if not ref_name or "@" in ref_name:
        return None
    if _TAG.fullmatch(ref_name):
        return ref_name
    last = ref_name.rsplit("/", 1)[-1]
    if ":" in last and _TAG.fullmatch(last.rsplit(":", 1)[1]):
        return last.rsplit(":", 1)[1]
    return None


def _split_repo_tag(repo_tag: str) -> tuple[str, str]:
    """``host:5000/team/app:v1`` -> (``team/app``, ``v1``): the registry host is dropped."""
    name, _, tag = repo_tag.rpartition(":")
    if not name or "/" in tag:
        name, tag = repo_tag, "latest"
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    return name, tag


def _read_json(files: _Files, name: str) -> Any:
    try:
        return json.loads(files.read(name))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PreloadError(f"{name} is not valid JSON: {exc}") from None


class _LayoutPusher:
    """Pushes what an OCI layout's ``index.json`` lists, children before parents."""

    def __init__(self, client: RegistryClient, files: _Files, repository: str) -> None:
        self.client = client
        self.files = files
        self.repository = repository
        self.pushed: set[str] = set()

    @staticmethod
    def blob_path(digest: str) -> str:
        algorithm, _, encoded = digest.partition(":")
        return f"blobs/{algorithm}/{encoded}"

    def blob(self, digest: str) -> BlobSource:
        path = self.blob_path(digest)
        if not self.files.exists(path):
            raise PreloadError(f"blob {digest} is missing from the layout ({path})")
        return BlobSource.from_opener(digest, self.files.size(path), lambda: self.files.open(path))

    def push_tree(self, desc: dict[str, Any], tag: str | None) -> PushedManifest:
        digest = str(desc["digest"])
        content = self.files.read(self.blob_path(digest))
        document = json.loads(content)
        media_type = str(desc.get("mediaType") or document.get("mediaType") or OCI_MANIFEST)
        if media_type in INDEX_TYPES:
            for child in document.get("manifests") or []:
                if child["digest"] not in self.pushed:
                    self.push_tree(child, None)
        else:
            config = document.get("config")
            for blob in ([config] if config else []) + list(document.get("layers") or []):
                if blob.get("urls") and not self.files.exists(self.blob_path(blob["digest"])):
                    continue  # a foreign layer, fetched by clients from its URLs
                self.client.push_blob(self.repository, self.blob(str(blob["digest"])))
        pushed = self.client.push_manifest(self.repository, tag or digest, content, media_type)
        self.pushed.add(digest)
        return PushedManifest(self.repository, tag, pushed, media_type)


def push_oci_layout(
    client: RegistryClient, files: _Files, repository: str, tag: str | None = None
) -> list[PushedManifest]:
    """Push every manifest ``index.json`` lists, tagged by its ``ref.name``; ``tag``
    overrides that for a layout of exactly one manifest."""
    index = _read_json(files, "index.json")
    entries = list(index.get("manifests") or []) if isinstance(index, dict) else []
    if not entries:
        raise PreloadError("index.json lists no manifests")
    if tag is not None and len(entries) != 1:
        raise PreloadError(f"tag= needs a layout of one manifest; this one has {len(entries)}")
    pusher = _LayoutPusher(client, files, repository)
    results = []
    for entry in entries:
        name = tag or tag_of((entry.get("annotations") or {}).get(REF_NAME))
        results.append(pusher.push_tree(entry, name))
    return results


def push_docker_archive(
    client: RegistryClient, files: _Files, repository: str | None = None, tag: str | None = None
) -> list[PushedManifest]:
    """Push each image of ``manifest.json`` as a Docker schema 2 manifest, under its
    ``RepoTags`` (into ``repository`` when given, else the tags' own repositories)."""
    entries = _read_json(files, "manifest.json")
    if not isinstance(entries, list) or not entries:
        raise PreloadError("manifest.json lists no images")
    if tag is not None and len(entries) != 1:
        raise PreloadError(f"tag= needs an archive of one image; this one has {len(entries)}")
    results: list[PushedManifest] = []
    for entry in entries:
        refs: list[tuple[str, str | None]] = [
            _split_repo_tag(str(ref)) for ref in entry.get("RepoTags") or []
        ]
        if repository is not None:
            refs = [(repository, tag or ref_tag) for _, ref_tag in refs] or [(repository, tag)]
        elif not refs:
            raise PreloadError("an image of the archive has no RepoTags: pass repository=")
        for target_repo, target_tag in dict.fromkeys(refs):
            results.append(_push_docker_image(client, files, entry, target_repo, target_tag))
    return results


def _opener(files: _Files, name: str) -> Callable[[], IO[bytes]]:
    return lambda: files.open(name)


def _push_docker_image(
    client: RegistryClient,
    files: _Files,
    entry: dict[str, Any],
    repository: str,
    tag: str | None,
) -> PushedManifest:
    config = files.read(str(entry["Config"]))
    layers = []
    for path in entry.get("Layers") or []:
        with files.open(path) as handle:
            magic = handle.read(4)
        if magic.startswith(_ZSTD_MAGIC):
            raise PreloadError(f"{path}: zstd layers cannot be described by a docker manifest")
        with files.open(path) as handle:
            digest, size = hash_stream(handle)
        client.push_blob(repository, BlobSource.from_opener(digest, size, _opener(files, path)))
        media_type = DOCKER_LAYER_GZIP if magic.startswith(_GZIP_MAGIC) else DOCKER_LAYER
        layers.append({"mediaType": media_type, "size": size, "digest": digest})
    config_digest = client.push_blob(repository, config)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest},
            "layers": layers,
        }
    )
    reference = tag or sha256_digest(manifest)
    digest = client.push_manifest(repository, reference, manifest, DOCKER_MANIFEST)
    return PushedManifest(repository, tag, digest, DOCKER_MANIFEST)


def preload(
    client: RegistryClient,
    source: str | os.PathLike[str],
    repository: str | None = None,
    *,
    tag: str | None = None,
) -> list[PushedManifest]:
    """Push an OCI layout directory, an OCI archive or a docker archive (told apart by
    their contents; an archive with both ``index.json`` and ``manifest.json`` is read as
    an OCI layout). OCI layouts need ``repository``."""
    path = Path(source)
    if path.is_dir():
        return _push_files(client, _DirectoryFiles(path), repository, tag, str(path))
    if not path.is_file():
        raise PreloadError(f"{path}: no such file or directory")
    try:
        tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by the `with tar` below
    except tarfile.TarError as exc:
        raise PreloadError(f"{path}: not a directory or a tar archive ({exc})") from None
    with tar:
        return _push_files(client, _TarFiles(tar), repository, tag, str(path))


def _push_files(
    client: RegistryClient, files: _Files, repository: str | None, tag: str | None, where: str
) -> list[PushedManifest]:
    if files.exists("index.json"):
        if repository is None:
            raise PreloadError(f"{where}: an OCI layout needs repository=")
        return push_oci_layout(client, files, repository, tag)
    if files.exists("manifest.json"):
        return push_docker_archive(client, files, repository, tag)
    raise PreloadError(f"{where}: neither an OCI layout (index.json) nor a docker archive")
