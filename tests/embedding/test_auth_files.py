"""``serve(auth=..., credentials=(user, password))`` works without files of the caller's:
the registry makes a temporary users file holding that user (and a signing key), removes
them when it stops, and leaves nothing in the working directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import pyregistry
from pyregistry.auth.htpasswd import parse_htpasswd, set_user

TOKEN = {"token": {"service": "tests", "issuer": "tests", "issue": {}}}


@pytest.fixture
def in_empty_directory(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "work"
    work.mkdir()
    before = Path.cwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(before)


def test_token_auth_with_only_credentials(in_empty_directory: Path) -> None:
    with pyregistry.serve(auth=TOKEN, credentials=("alice", "secret")) as reg:
        users = Path(reg.config.auth["token"]["issue"]["users"])
        assert list(parse_htpasswd(users.read_bytes())) == ["alice"]
        digest = reg.push_random_image("team/app", "v1")
        assert reg.get_manifest("team/app", "v1").digest == digest
        assert httpx.get(f"{reg.url}/v2/", trust_env=False).status_code == 401
    assert not users.parent.exists()
    assert list(in_empty_directory.iterdir()) == []


def test_htpasswd_auth_with_only_credentials() -> None:
    with pyregistry.serve(auth={"htpasswd": {}}, credentials=("bob", "pw")) as reg:
        reg.push_random_image("team/app", "v1")
        assert httpx.get(f"{reg.url}/v2/", auth=("bob", "pw"), trust_env=False).status_code == 200
        assert httpx.get(f"{reg.url}/v2/", auth=("bob", "no"), trust_env=False).status_code == 401


def test_without_credentials_nobody_logs_in() -> None:
    with (
        pyregistry.serve(auth=TOKEN) as reg,
        pytest.raises(pyregistry.RegistryResponseError, match="401"),
    ):
        reg.push_random_image("team/app", "v1")


def test_named_users_file_is_created_with_the_user_or_used_as_it_is(tmp_path: Path) -> None:
    missing = tmp_path / "new-htpasswd"
    auth = {"htpasswd": {"realm": "r", "path": str(missing)}}
    with pyregistry.serve(auth=auth, credentials=("carol", "pw")) as reg:
        reg.push_random_image("team/app", "v1")
    assert list(parse_htpasswd(missing.read_bytes())) == ["carol"]

    existing = tmp_path / "htpasswd"
    set_user(str(existing), "dave", "pw")
    auth = {"htpasswd": {"realm": "r", "path": str(existing)}}
    with (
        pyregistry.serve(auth=auth, credentials=("erin", "pw")) as reg,
        pytest.raises(pyregistry.RegistryResponseError, match="401"),
    ):
        reg.push_random_image("team/app", "v1")
    assert list(parse_htpasswd(existing.read_bytes())) == ["dave"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["htpasswd", "new-htpasswd"]
