"""oras-py (the ORAS project's Python client) against the registry: files pushed as an
artifact (monolithic and chunked uploads) and pulled back, tags listed and deleted, an
artifact attached to another by ``subject`` and found through the referrers API, and the
push and pull behind basic auth and behind the token flow of the built-in token service.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import oras.client
import oras.oci
import pytest

import pyregistry
from pyregistry.embedding import EmbeddedRegistry
from tests.support.auth_registry import SERVICE, Project, run_auth_registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def registry() -> Iterator[EmbeddedRegistry]:
    with pyregistry.serve(storage="filesystem") as served:
        yield served


def _files(directory: Path, sizes: dict[str, int]) -> list[str]:
    """Files of random content in ``directory``; oras-py wants paths relative to the
    working directory, so the test runs there."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (directory / name).write_bytes(os.urandom(size))
    return list(sizes)


def _same_files(names: list[str], pulled: list[str], source: Path) -> None:
    assert sorted(Path(p).name for p in pulled) == sorted(names)
    for path in pulled:
        expected = hashlib.sha256((source / Path(path).name).read_bytes()).hexdigest()
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == expected, path


def test_push_pull_tags_and_delete(
    registry: EmbeddedRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host = registry.host
    names = _files(tmp_path, {"notes.txt": 120, "model.bin": 300_000})
    client = oras.client.OrasClient(hostname=host, insecure=True)
    pushed = client.push(
        files=names,
        target=f"{host}/oras/files:v1",
        manifest_annotations={"org.example.kind": "bundle"},
    )
    assert pushed.status_code == 201
    client.push(files=names[:1], target=f"{host}/oras/files:v2")
    assert sorted(client.get_tags(f"{host}/oras/files")) == ["v1", "v2"]

    _same_files(names, client.pull(target=f"{host}/oras/files:v1", outdir="out"), tmp_path)
    manifest = client.get_manifest(f"{host}/oras/files:v1")
    assert manifest["annotations"]["org.example.kind"] == "bundle"

    assert client.delete_tag(f"{host}/oras/files", "v2")
    assert client.get_tags(f"{host}/oras/files") == ["v1"]


def test_chunked_push(
    registry: EmbeddedRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host = registry.host
    names = _files(tmp_path, {"big.bin": 1_000_003})
    client = oras.client.OrasClient(hostname=host, insecure=True)
    pushed = client.push(
        files=names, target=f"{host}/oras/chunked:v1", do_chunked=True, chunk_size=64 * 1024
    )
    assert pushed.status_code == 201
    _same_files(names, client.pull(target=f"{host}/oras/chunked:v1", outdir="out"), tmp_path)


def test_attached_artifact_is_a_referrer(
    registry: EmbeddedRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host = registry.host
    client = oras.client.OrasClient(hostname=host, insecure=True)
    client.push(files=_files(tmp_path, {"app.bin": 5000}), target=f"{host}/oras/app:v1")
    subject_manifest = httpx.get(
        f"{registry.url}/v2/oras/app/manifests/v1", headers={"Accept": OCI_MANIFEST}
    )
    subject_digest = subject_manifest.headers["Docker-Content-Digest"]
    subject = oras.oci.Subject(OCI_MANIFEST, subject_digest, len(subject_manifest.content))

    signature = _files(tmp_path, {"app.sig": 64})
    client.push(files=signature, target=f"{host}/oras/app:sig", subject=subject)

    referrers = httpx.get(f"{registry.url}/v2/oras/app/referrers/{subject_digest}").json()
    signature_digest = httpx.head(
        f"{registry.url}/v2/oras/app/manifests/sig", headers={"Accept": OCI_MANIFEST}
    ).headers["Docker-Content-Digest"]
    assert [entry["digest"] for entry in referrers["manifests"]] == [signature_digest]


def test_push_and_pull_behind_basic_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    auth = {"htpasswd": {"realm": "pyregistry"}}
    with pyregistry.serve(auth=auth, credentials=("ada", "S3cret-ada")) as reg:
        host = reg.host
        names = _files(tmp_path, {"secret.txt": 99})
        assert httpx.post(f"{reg.url}/v2/oras/private/blobs/uploads/").status_code == 401
        # oras-py's basic backend: its default (token) one takes a Basic realm for a URL
        client = oras.client.OrasClient(hostname=host, insecure=True, auth_backend="basic")
        client.auth.set_basic_auth("ada", "S3cret-ada")
        assert client.push(files=names, target=f"{host}/oras/private:v1").status_code == 201
        _same_files(names, client.pull(target=f"{host}/oras/private:v1", outdir="out"), tmp_path)


def test_token_flow_of_the_built_in_token_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oras-py keeps the first token it gets for every later request (a pull-scoped one,
    from its first HEAD, for a whole push): it pushes with a pull-and-push token asked of
    the token service beforehand, and pulls through the challenge and token flow."""
    passwords = {"dev": "dev-Secret-1"}
    projects = {"library": Project(public=False, members={"dev": "developer"})}
    (tmp_path / "registry").mkdir()
    with run_auth_registry(tmp_path / "registry", passwords, projects) as reg:
        work = tmp_path / "work"
        names = _files(work, {"layer.bin": 40_000})
        monkeypatch.chdir(work)
        host = reg.host
        token = httpx.get(
            f"{reg.url}/auth/token",
            params={"service": SERVICE, "scope": "repository:library/oras:pull,push"},
            auth=("dev", passwords["dev"]),
        ).json()["token"]
        pusher = oras.client.OrasClient(hostname=host, insecure=True)
        pusher.auth.set_token_auth(token)
        assert pusher.push(files=names, target=f"{host}/library/oras:v1").status_code == 201

        puller = oras.client.OrasClient(hostname=host, insecure=True)
        puller.auth.set_basic_auth("dev", passwords["dev"])
        _same_files(names, puller.pull(target=f"{host}/library/oras:v1", outdir="out"), work)
        assert 200 in reg.statuses("GET", "/auth/token")
