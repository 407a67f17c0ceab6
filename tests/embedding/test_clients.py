"""Real clients pushing into an embedded registry, with and without token auth."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import pyregistry
from pyregistry import EmbeddedRegistry
from pyregistry.auth.htpasswd import set_user
from pyregistry.client.auth import parse_challenge
from tests.support.command import CommandError, find_tool, run
from tests.support.images import (
    build_image,
    build_multiarch,
    write_multiarch_layout,
    write_oci_layout,
)
from tests.support.skopeo import Skopeo


def test_skopeo_pushes_into_an_embedded_registry(
    registry: EmbeddedRegistry, skopeo: Skopeo, tmp_path: Path
) -> None:
    image = build_image(seed="embedded-skopeo", layers=2)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    digest = skopeo.copy(f"oci:{layout}:v1", f"docker://{registry.reference('sk/app', 'v1')}")
    assert digest == image.manifest_digest
    assert registry.get_manifest("sk/app", "v1").content == image.manifest
    multi = build_multiarch(seed="embedded-skopeo-multi")
    multi_layout = write_multiarch_layout(tmp_path / "multi", multi, tag="v1")
    skopeo.copy(
        f"oci:{multi_layout}:v1",
        f"docker://{registry.reference('sk/multi', 'v1')}",
        all_images=True,
    )
    assert registry.get_manifest("sk/multi", "v1").digest == multi.index_digest
    assert registry.catalog() == ["sk/app", "sk/multi"]


@pytest.fixture(scope="module")
def token_auth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``auth.token`` with the built-in token service: a signing key and one user."""
    root = tmp_path_factory.mktemp("token-auth")
    key = ec.generate_private_key(ec.SECP256R1())
    (root / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    set_user(str(root / "htpasswd"), "alice", "wonderland")
    return {
        "token": {
            "service": "embedded-tests",
            "issuer": "embedded-issuer",
            "issue": {"key": root / "key.pem", "users": root / "htpasswd"},
        }
    }


def test_token_auth(
    registry_factory: object, token_auth: dict[str, object], tmp_path: Path
) -> None:
    assert callable(registry_factory)
    reg: EmbeddedRegistry = registry_factory(auth=token_auth, credentials=("alice", "wonderland"))

    anonymous = httpx.get(f"{reg.url}/v2/", trust_env=False)
    assert anonymous.status_code == 401
    scheme, params = parse_challenge(anonymous.headers["www-authenticate"])
    assert scheme == "bearer"
    assert params["realm"] == f"{reg.url}/auth/token"
    assert params["service"] == "embedded-tests"

    # the helpers answer the challenge with the credentials they were given
    digest = reg.push_random_image("team/app", "v1")
    assert reg.get_manifest("team/app", "v1").digest == digest

    # a token from the built-in service opens the API to a plain client
    token = httpx.get(
        params["realm"],
        params={"service": "embedded-tests", "scope": "repository:team/app:pull"},
        auth=("alice", "wonderland"),
        trust_env=False,
    ).json()["token"]
    pulled = httpx.get(
        f"{reg.url}/v2/team/app/manifests/{digest}",
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )
    assert pulled.status_code == 200
    refused = httpx.get(
        f"{reg.url}/v2/team/app/manifests/{digest}",
        headers={"Authorization": "Bearer not-a-token"},
        trust_env=False,
    )
    assert refused.status_code == 401

    # skopeo logs in through the token service, too; wrong credentials are refused
    image = build_image(seed="embedded-auth-skopeo", layers=1)
    layout = write_oci_layout(tmp_path / "layout", image, tag="v1")
    skopeo = find_tool("skopeo")
    copy = [skopeo, "copy", "--dest-tls-verify=false"]
    target = f"docker://{reg.reference('team/skopeo', 'v1')}"
    with pytest.raises(CommandError):
        run([*copy, "--dest-creds", "alice:wrong", f"oci:{layout}:v1", target])
    run([*copy, "--dest-creds", "alice:wonderland", f"oci:{layout}:v1", target])
    assert reg.get_manifest("team/skopeo", "v1").content == image.manifest

    # a registry whose helpers have no credentials gets the registry's refusal
    with pyregistry.serve(auth=token_auth) as locked:
        with pytest.raises(pyregistry.RegistryResponseError, match="401"):
            locked.push_random_image("team/app", "v1")
        assert json.loads(httpx.get(f"{locked.url}/v2/", trust_env=False).text)["errors"]
