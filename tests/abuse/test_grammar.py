"""Issue 11, item 1: every grammar is matched whole. A value with a trailing or embedded
control character, DEL, space or non-ASCII character is refused with the spec's error
and never acts on the value without it (``latest%0A`` is not ``latest``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyregistry.api.ranges import parse_content_range, parse_ranges
from pyregistry.app import create_app
from pyregistry.auth.scopes import ScopeError, parse_scope
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import RegistryError
from pyregistry.storage.names import check_name, check_tag, check_upload_id
from storage_drivers.errors import InvalidPath
from storage_drivers.paths import check_path
from tests.abuse.hostile import no_logged_errors, path_quote, variants
from tests.api.helpers import error_codes, push_blob, push_image
from tests.support.server import filesystem_config, run_server

LAYER = b"grammar layer"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("grammar") / "storage"
    with run_server(create_app(filesystem_config(root))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with no_logged_errors(), httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture
def image(client: httpx.Client, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A repository of this test's own with an image tagged ``latest``: (name, digest)."""
    name = "grammar/" + request.node.name.split("[")[0].replace("_", "-")
    digest, _ = push_image(client, name, "latest", layers=[LAYER])
    return name, digest


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.request.url, response.text)
    if response.request.method != "HEAD":
        assert error_codes(response) == [code], response.text


# --- the grammars themselves -------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "valid"),
    [
        (check_name, "library/app"),
        (check_tag, "latest"),
        (check_upload_id, "0b5c7f52-3c1e-4b7e-9a55-2f0f3c8d9e10"),
        (Digest.parse, "sha256:" + "a" * 64),
    ],
)
def test_storage_grammars_refuse_every_variant(check: object, valid: str) -> None:
    assert callable(check)
    check(valid)
    for bad in variants(valid):
        with pytest.raises(RegistryError):
            check(bad)


def test_driver_paths_refuse_every_variant() -> None:
    check_path("/docker/registry/v2/repositories/app")
    for bad in variants("/docker/registry/v2/repositories/app"):
        with pytest.raises(InvalidPath):
            check_path(bad)


def test_scopes_refuse_every_variant() -> None:
    parse_scope("repository:library/app:pull")
    for bad in variants("library/app"):
        with pytest.raises(ScopeError):
            parse_scope(f"repository:{bad}:pull")
    with pytest.raises(ScopeError):
        parse_scope("repository:library/app:pull\n")


@pytest.mark.parametrize(
    "hostile",
    ["fuzz/app" * 40 + "\n", "a" * 5000 + "!", "a-" * 3000 + "\n", "a__" * 2000 + "_", "a/" * 3000],
)
def test_grammars_take_linear_time(hostile: str) -> None:
    """The fuzzer found a name that made the scope grammar backtrack for minutes."""
    started = time.monotonic()
    with pytest.raises(ScopeError):
        parse_scope(f"repository:{hostile}:pull")
    with pytest.raises(RegistryError):
        check_name(hostile)
    assert time.monotonic() - started < 1.0


def test_ranges_refuse_a_trailing_newline() -> None:
    assert parse_ranges("bytes=0-1", 10) == [(0, 1)]
    assert parse_content_range("0-1") == (0, 1)
    for bad in ("bytes=0-1\n", "bytes=0-\u0661", "bytes=\u0660-1", "bytes=0-1,2-3\n"):
        with pytest.raises(RegistryError):
            parse_ranges(bad, 10)
    for bad in ("0-1\n", "\u0660-1", "0-1/2\n"):
        with pytest.raises(RegistryError):
            parse_content_range(bad)


# --- over HTTP ------------------------------------------------------------------------------


def test_manifest_tags_with_bad_characters(client: httpx.Client, image: tuple[str, str]) -> None:
    name, digest = image
    for bad in variants("latest"):
        path = f"/v2/{name}/manifests/{path_quote(bad)}"
        for method in ("GET", "HEAD", "DELETE"):
            refused(client.request(method, path), 400, "TAG_INVALID")
    latest = client.get(f"/v2/{name}/manifests/latest")
    assert latest.status_code == 200 and latest.headers["docker-content-digest"] == digest


def test_digest_references_with_bad_characters(
    client: httpx.Client, image: tuple[str, str]
) -> None:
    name, digest = image
    layer = f"sha256:{__import__('hashlib').sha256(LAYER).hexdigest()}"
    for bad in variants(digest):
        ref = path_quote(bad)
        refused(client.get(f"/v2/{name}/manifests/{ref}"), 400, "DIGEST_INVALID")
        refused(client.delete(f"/v2/{name}/manifests/{ref}"), 400, "DIGEST_INVALID")
        refused(client.get(f"/v2/{name}/referrers/{ref}"), 400, "DIGEST_INVALID")
    for bad in variants(layer):
        ref = path_quote(bad)
        for method in ("GET", "HEAD", "DELETE"):
            refused(client.request(method, f"/v2/{name}/blobs/{ref}"), 400, "DIGEST_INVALID")
    assert client.head(f"/v2/{name}/blobs/{layer}").status_code == 200
    assert client.head(f"/v2/{name}/manifests/{digest}").status_code == 200


def test_repository_names_with_bad_characters(client: httpx.Client, image: tuple[str, str]) -> None:
    name, _ = image
    for bad in variants(name):
        quoted = path_quote(bad)
        refused(client.get(f"/v2/{quoted}/tags/list"), 400, "NAME_INVALID")
        refused(client.get(f"/v2/{quoted}/manifests/latest"), 400, "NAME_INVALID")
        refused(client.post(f"/v2/{quoted}/blobs/uploads/"), 400, "NAME_INVALID")


def test_upload_ids_with_bad_characters(client: httpx.Client, image: tuple[str, str]) -> None:
    name, _ = image
    started = client.post(f"/v2/{name}/blobs/uploads/")
    assert started.status_code == 202
    upload_id = started.headers["docker-upload-uuid"]
    for bad in variants(upload_id):
        path = f"/v2/{name}/blobs/uploads/{path_quote(bad)}"
        refused(client.get(path), 404, "BLOB_UPLOAD_UNKNOWN")
        refused(client.patch(path, content=b"x"), 404, "BLOB_UPLOAD_UNKNOWN")
        refused(client.delete(path), 404, "BLOB_UPLOAD_UNKNOWN")
    status = client.get(f"/v2/{name}/blobs/uploads/{upload_id}")
    assert status.status_code == 204 and status.headers["range"] == "0-0"
    digest_param = f"sha256:{__import__('hashlib').sha256(b'').hexdigest()}\n"
    done = client.put(f"/v2/{name}/blobs/uploads/{upload_id}", params={"digest": digest_param})
    refused(done, 400, "DIGEST_INVALID")


def test_mount_with_bad_digest_or_source(client: httpx.Client, image: tuple[str, str]) -> None:
    name, _ = image
    layer = f"sha256:{__import__('hashlib').sha256(LAYER).hexdigest()}"
    target = "grammar/mount-target"
    for bad in variants(layer):
        resp = client.post(f"/v2/{target}/blobs/uploads/", params={"mount": bad, "from": name})
        refused(resp, 400, "DIGEST_INVALID")
    for bad in variants(name):
        resp = client.post(f"/v2/{target}/blobs/uploads/", params={"mount": layer, "from": bad})
        assert resp.status_code == 202, resp.text  # no mount: an upload session instead
    assert client.head(f"/v2/{target}/blobs/{layer}").status_code == 404


def test_multi_tag_push_writes_nothing_when_one_tag_is_bad(
    client: httpx.Client, image: tuple[str, str]
) -> None:
    name, _ = image
    push_blob(client, name, b"{}")
    manifest = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,'
        b'"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},'
        b'"layers":[]}'
    )
    headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    for bad in ("t3\n", "t3\x00", "t\u00e93"):
        resp = client.put(
            f"/v2/{name}/manifests/y",
            params=[("tag", "ok"), ("tag", bad)],
            headers=headers,
            content=manifest,
        )
        refused(resp, 400, "TAG_INVALID")
    tags = client.get(f"/v2/{name}/tags/list").json()["tags"]
    assert tags == ["latest"]


@pytest.mark.parametrize("n", ["1\n", " 1", "1_0", "\u0661", "+1", "-1", "1.0", "0x1"])
def test_page_size_must_be_plain_decimal(
    client: httpx.Client, image: tuple[str, str], n: str
) -> None:
    name, _ = image
    refused(client.get(f"/v2/{name}/tags/list", params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")
    refused(client.get("/v2/_catalog", params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")


def test_hostile_last_and_artifact_type_are_harmless(
    client: httpx.Client, image: tuple[str, str]
) -> None:
    name, digest = image
    for bad in variants("latest"):
        assert client.get(f"/v2/{name}/tags/list", params={"last": bad, "n": 1}).status_code == 200
        assert client.get("/v2/_catalog", params={"last": bad}).status_code == 200
        resp = client.get(f"/v2/{name}/referrers/{digest}", params={"artifactType": bad})
        assert resp.status_code == 200 and resp.json()["manifests"] == []


def test_fs_root_is_untouched_by_hostile_names(tmp_path: Path) -> None:
    """Nothing a refused request names is created on disk."""
    root = tmp_path / "storage"
    with (
        run_server(create_app(filesystem_config(root))) as url,
        no_logged_errors(),
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        for bad in variants("app"):
            http.post(f"/v2/{path_quote(bad)}/blobs/uploads/")
            http.put(f"/v2/app/manifests/{path_quote(bad)}", content=b"{}")
    created = [p.name for p in root.rglob("*")] if root.exists() else []
    assert not any(ch in name for name in created for ch in "\n\r\t\x00\x7f \u00e9"), created
