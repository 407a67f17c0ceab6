"""Per-project roles end to end: the real registry API authorizing after routing, the
built-in token service, and clients doing the token dance."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from pyregistry.app import create_app
from tests.auth.conftest import USERS, IssuerFiles, TestClient, issuer_config
from tests.auth.dance import authed, parse_challenge

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def client(issuer_files: IssuerFiles) -> Iterator[TestClient]:
    config = issuer_config(issuer_files)
    app = create_app(config)
    with TestClient(app) as test_client:
        yield test_client


def creds(user: str | None) -> tuple[str, str] | None:
    return (user, USERS[user]) if user else None


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(client: TestClient, user: str, repo: str, tag: str) -> tuple[int, str]:
    """Push one config blob, one layer and a manifest; the manifest PUT's status and the
    manifest digest (stops at the first refusal)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "repo": repo}).encode()
    layer = f"layer of {repo}".encode()
    for blob in (config, layer):
        start = authed(client, "POST", f"/v2/{repo}/blobs/uploads/", creds(user))
        if start.status_code != 202:
            return start.status_code, ""
        location = start.headers["location"]
        location += ("&" if "?" in location else "?") + f"digest={digest(blob)}"
        done = authed(client, "PUT", location, creds(user), content=blob)
        assert done.status_code == 201, done.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    put = authed(
        client,
        "PUT",
        f"/v2/{repo}/manifests/{tag}",
        creds(user),
        content=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    return put.status_code, digest(manifest)


def pull(client: TestClient, user: str | None, repo: str, ref: str) -> int:
    return authed(
        client, "GET", f"/v2/{repo}/manifests/{ref}", creds(user), headers={"Accept": OCI_MANIFEST}
    ).status_code


def test_guest_can_pull_but_not_push(client: TestClient) -> None:
    assert push_image(client, "alice", "team/app", "v1")[0] == 201
    assert pull(client, "bob", "team/app", "v1") == 200
    status, _ = push_image(client, "bob", "team/app", "v2")
    assert status == 401
    refused = authed(client, "POST", "/v2/team/app/blobs/uploads/", creds("bob"))
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


def test_developer_can_push_but_not_delete(client: TestClient) -> None:
    status, manifest_digest = push_image(client, "alice", "team/app", "v1")
    assert status == 201
    refused = authed(client, "DELETE", f"/v2/team/app/manifests/{manifest_digest}", creds("alice"))
    assert refused.status_code == 401
    scheme, params = parse_challenge(refused.headers["www-authenticate"])
    assert params["scope"] == "repository:team/app:delete"
    assert params["error"] == "insufficient_scope"
    deleted = authed(client, "DELETE", f"/v2/team/app/manifests/{manifest_digest}", creds("carol"))
    assert deleted.status_code == 202


def test_cancelling_an_upload_needs_delete(client: TestClient) -> None:
    """As in distribution, DELETE on an upload session needs ``delete``: a developer
    (pull, push) cannot cancel, a maintainer can; the request context says the same."""
    start = authed(client, "POST", "/v2/team/app/blobs/uploads/", creds("alice"))
    assert start.status_code == 202
    location = start.headers["location"]
    refused = authed(client, "DELETE", location, creds("alice"))
    assert refused.status_code == 401
    _, params = parse_challenge(refused.headers["www-authenticate"])
    assert params["scope"] == "repository:team/app:delete"
    assert params["error"] == "insufficient_scope"
    assert authed(client, "DELETE", location, creds("carol")).status_code == 204
    assert authed(client, "GET", location, creds("carol")).status_code == 404


def test_anonymous_pulls_public_but_not_private(client: TestClient) -> None:
    assert push_image(client, "alice", "public/img", "latest")[0] == 201
    assert push_image(client, "alice", "team/secret", "latest")[0] == 201
    assert pull(client, None, "public/img", "latest") == 200
    refused = authed(client, "GET", "/v2/team/secret/manifests/latest", None)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert push_image(client, "eve", "public/img", "other")[0] == 401


def test_catalog_for_system_admins_only(client: TestClient) -> None:
    assert push_image(client, "root", "team/app", "v1")[0] == 201
    listing = authed(client, "GET", "/v2/_catalog", creds("root"))
    assert listing.status_code == 200
    assert "team/app" in listing.json()["repositories"]
    assert authed(client, "GET", "/v2/_catalog", creds("alice")).status_code == 401


def test_login_checks_the_password(client: TestClient) -> None:
    """What ``docker login`` does: /v2/, then the realm with Basic credentials."""
    challenge = client.get("/v2/")
    assert challenge.status_code == 401
    _, params = parse_challenge(challenge.headers["www-authenticate"])
    assert "scope" not in params
    good = client.get(params["realm"], params={"service": params["service"]}, auth=creds("eve"))
    assert good.status_code == 200
    bad = client.get(params["realm"], params={"service": params["service"]}, auth=("eve", "x"))
    assert bad.status_code == 401
    token = good.json()["token"]
    assert client.get("/v2/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_mount_without_from_is_not_done_for_token_callers(client: TestClient) -> None:
    """A blob in a repository alice cannot read must not be mounted into hers: a token
    names repositories, so a mount from the global store is never allowed with one."""
    assert push_image(client, "root", "other/hidden", "v1")[0] == 201
    layer_digest = digest(b"layer of other/hidden")
    mounted = authed(
        client, "POST", f"/v2/team/app/blobs/uploads/?mount={layer_digest}", creds("alice")
    )
    assert mounted.status_code == 202  # an upload session, not a mount
    leaked = authed(client, "HEAD", f"/v2/team/app/blobs/{layer_digest}", creds("alice"))
    assert leaked.status_code == 404


def test_cross_repository_mount_needs_pull_on_source(client: TestClient) -> None:
    """Without pull on ``from`` the mount is not done: a fresh upload session (202), as
    the spec allows, and the blob stays invisible in the target."""
    assert push_image(client, "root", "other/hidden", "v1")[0] == 201
    layer_digest = digest(b"layer of other/hidden")
    path = f"/v2/team/app/blobs/uploads/?mount={layer_digest}&from=other/hidden"
    not_mounted = authed(client, "POST", path, creds("alice"))
    assert not_mounted.status_code == 202
    assert "location" in not_mounted.headers
    leaked = authed(client, "HEAD", f"/v2/team/app/blobs/{layer_digest}", creds("alice"))
    assert leaked.status_code == 404
    assert push_image(client, "root", "public/base", "v1")[0] == 201
    public_layer = digest(b"layer of public/base")
    path = f"/v2/team/app/blobs/uploads/?mount={public_layer}&from=public/base"
    assert authed(client, "POST", path, creds("alice")).status_code == 201
