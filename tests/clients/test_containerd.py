"""containerd (Debian's 1.6, driven by ``ctr``) pushing to and pulling from the registry.

containerd's own resolver, pusher and fetcher, not docker's: an image is imported into a
private containerd from an OCI archive, pushed, and pulled into a second, empty one,
through the built-in token service (``ctr --user``: challenge, token, retry). Its pusher
asks to mount blobs it knows came from another repository of the same registry (the
``containerd.io/distribution.source`` labels a pull leaves), so pushing a pulled image
elsewhere is mounts only.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.client.content import Index
from tests.support.auth_registry import AuthRegistry, Project, run_auth_registry
from tests.support.command import CommandError
from tests.support.containerd import Ctr, run_containerd
from tests.support.images import build_multiarch, write_multiarch_layout

PASSWORDS = {"dev": "dev-Secret-1", "guest": "guest-Secret-1"}
PROJECTS = {
    "team": Project(public=False, members={"dev": "developer", "guest": "guest"}),
    "copies": Project(public=False, members={"dev": "developer"}),
}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthRegistry]:
    with run_auth_registry(tmp_path_factory.mktemp("ctd-registry"), PASSWORDS, PROJECTS) as reg:
        yield reg


def _oci_archive(index: Index, work: Path) -> Path:
    """``index`` as an OCI archive (an image layout in a tar), as ``ctr images import``
    takes it: the index tagged ``latest``, each platform image by its architecture."""
    layout = write_multiarch_layout(work / "layout", index, tag="latest")
    archive = work / "image.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    return archive


def _expected_digests(index: Index) -> set[str]:
    digests = {index.digest}
    for image in index.images.values():
        digests |= {image.digest, *image.blobs()}
    return digests


def _manifest(registry: AuthRegistry, repository: str, reference: str) -> httpx.Response:
    token = httpx.get(
        f"{registry.url}/auth/token",
        params={"service": "pyregistry", "scope": f"repository:{repository}:pull"},
        auth=("dev", PASSWORDS["dev"]),
    ).json()["token"]
    return httpx.get(
        f"{registry.url}/v2/{repository}/manifests/{reference}",
        headers={"Authorization": f"Bearer {token}", "Accept": OCI_INDEX},
    )


def _import(ctr: Ctr, index: Index, name: str, work: Path) -> None:
    ctr("images", "import", "--all-platforms", "--base-name", name, str(_oci_archive(index, work)))


def _push(ctr: Ctr, user: str, reference: str) -> str:
    return ctr("images", "push", "--plain-http", "--user", f"{user}:{PASSWORDS[user]}", reference)


def _pull(ctr: Ctr, user: str, reference: str) -> str:
    return ctr(
        "images", "pull", "--plain-http", "--all-platforms", "--user",
        f"{user}:{PASSWORDS[user]}", reference,
    )  # fmt: skip


def test_push_then_pull_into_an_empty_containerd(registry: AuthRegistry, tmp_path: Path) -> None:
    index = build_multiarch(seed="containerd-push", layers=2)
    name = f"{registry.host}/team/app"
    with run_containerd() as ctr:
        _import(ctr, index, name, tmp_path)
        _push(ctr, "dev", f"{name}:latest")

    stored = _manifest(registry, "team/app", "latest")
    assert stored.status_code == 200
    assert stored.content == index.manifest  # the index's bytes, as pushed
    assert stored.headers["Docker-Content-Digest"] == index.digest

    with run_containerd() as ctr:
        _pull(ctr, "guest", f"{name}:latest")
        assert _expected_digests(index) <= ctr.content_digests()
        listed = ctr("images", "ls", "--quiet").split()
        assert f"{name}:latest" in listed


def test_pulled_image_pushed_elsewhere_is_mounted(registry: AuthRegistry, tmp_path: Path) -> None:
    index = build_multiarch(seed="containerd-mount", layers=1)
    source = f"{registry.host}/team/base"
    copy = f"{registry.host}/copies/base"
    with run_containerd() as ctr:
        _import(ctr, index, source, tmp_path)
        _push(ctr, "dev", f"{source}:latest")
    uploads_before = registry.statuses("PUT", "/v2/copies/base/blobs/uploads/")

    with run_containerd() as ctr:
        _pull(ctr, "dev", f"{source}:latest")
        ctr("images", "tag", f"{source}:latest", f"{copy}:v1")
        _push(ctr, "dev", f"{copy}:v1")

    # every blob came across by a mount (201 to the POST), none by an upload
    assert registry.statuses("PUT", "/v2/copies/base/blobs/uploads/") == uploads_before
    mounts = registry.statuses("POST", "/v2/copies/base/blobs/uploads/?mount=")
    blobs = {digest for image in index.images.values() for digest in image.blobs()}
    assert mounts.count(201) == len(blobs)
    assert _manifest(registry, "copies/base", "v1").content == index.manifest


def test_push_refused_to_a_guest(registry: AuthRegistry, tmp_path: Path) -> None:
    index = build_multiarch(seed="containerd-guest", layers=1)
    name = f"{registry.host}/team/guest"
    with run_containerd() as ctr:
        _import(ctr, index, name, tmp_path)
        with pytest.raises(CommandError, match="insufficient_scope"):
            _push(ctr, "guest", f"{name}:latest")
    assert _manifest(registry, "team/guest", "latest").status_code == 404
