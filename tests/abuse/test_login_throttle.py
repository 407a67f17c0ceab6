"""Password guessing over real sockets: repeated failures on htpasswd Basic auth and on the
token service lock the (user, address) out briefly with 429 ``TOOMANYREQUESTS``; a real
user is not locked out by guesses at another name; bcrypt's 72-byte limit cannot be used
to log in with a longer password."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pyregistry.auth.htpasswd import set_user
from tests.abuse.registry_runner import Registry
from tests.support.redis import RedisServer
from tests.support.registry_process import REPO_ROOT

THROTTLE = {"attempts": 3, "lockout": "2s", "maxlockout": "3s"}
LONG = "L" * 72


def _htpasswd(directory: Path) -> Path:
    path = directory / "htpasswd"
    set_user(str(path), "alice", "right-password")
    set_user(str(path), "bob", "bobs-password")
    set_user(str(path), "long", LONG)
    return path


def _locked(response: httpx.Response, maximum: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= maximum
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content)["errors"][0]["code"] == "TOOMANYREQUESTS"


@pytest.fixture
def basic_registry(tmp_path: Path) -> Registry:
    auth = {
        "htpasswd": {
            "realm": "test",
            "path": str(_htpasswd(tmp_path)),
            "loginthrottle": THROTTLE,
        }
    }
    return Registry(tmp_path, auth=auth)


def test_basic_auth_failures_lock_out_briefly(basic_registry: Registry) -> None:
    with basic_registry as registry, httpx.Client(base_url=registry.url) as client:
        for user in ("nobody", "alice"):  # an unknown user is treated the same
            for _ in range(3):
                assert client.get("/v2/", auth=(user, "wrong")).status_code == 401
            _locked(client.get("/v2/", auth=(user, "wrong")), 2)
        # locked: even the right password waits (nothing is checked while locked)
        _locked(client.get("/v2/", auth=("alice", "right-password")), 2)
        # another user from the same address is not locked out by guesses at alice
        assert client.get("/v2/", auth=("bob", "bobs-password")).status_code == 200
        time.sleep(2.1)
        assert client.get("/v2/", auth=("alice", "right-password")).status_code == 200
        # the success cleared the count: the next failures start from scratch
        assert client.get("/v2/", auth=("alice", "wrong")).status_code == 401
        # however many failures, a lock-out never exceeds maxlockout
        for _ in range(12):
            response = client.get("/v2/", auth=("mallory", "wrong"))
            assert response.status_code in (401, 429)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) <= 3
            time.sleep(0.05)
    assert "locked for" in registry.stderr
    assert not registry.server_errors()


def test_a_password_verified_before_still_waits_out_a_lock_out(basic_registry: Registry) -> None:
    """Credentials answered from the verified cache (no bcrypt) are still refused while
    locked: a guesser who hits the right password then learns nothing."""
    with basic_registry as registry, httpx.Client(base_url=registry.url) as client:
        for _ in range(3):  # alice's own requests: verified, then kept
            assert client.get("/v2/", auth=("alice", "right-password")).status_code == 200
        for _ in range(3):
            assert client.get("/v2/", auth=("alice", "wrong")).status_code == 401
        _locked(client.get("/v2/", auth=("alice", "wrong")), 2)
        _locked(client.get("/v2/", auth=("alice", "right-password")), 2)
        time.sleep(2.1)
        assert client.get("/v2/", auth=("alice", "right-password")).status_code == 200
    assert not registry.server_errors()


def test_password_past_72_bytes_does_not_log_in(basic_registry: Registry) -> None:
    with basic_registry as registry, httpx.Client(base_url=registry.url) as client:
        assert client.get("/v2/", auth=("long", LONG)).status_code == 200
        assert client.get("/v2/", auth=("long", LONG + "anything")).status_code == 401


def test_user_add_refuses_passwords_past_72_bytes(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    command = [sys.executable, "-m", "pyregistry", "user", "add", "carol"]
    proc = subprocess.run(
        [*command, "--htpasswd", str(path), "--password-stdin"],
        input="x" * 73 + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "longer than 72 bytes" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not path.exists() or "carol" not in path.read_text()


def test_token_service_failures_lock_out_briefly(tmp_path: Path) -> None:
    issue = {
        "key": str(tmp_path / "token.key"),
        "users": str(_htpasswd(tmp_path)),
        "loginthrottle": THROTTLE,
    }
    auth = {"token": {"service": "registry", "issuer": "pyregistry", "issue": issue}}
    with Registry(tmp_path, auth=auth) as registry, httpx.Client(base_url=registry.url) as client:
        params = {"service": "registry", "scope": "repository:app:pull"}
        for _ in range(3):
            denied = client.get("/auth/token", params=params, auth=("alice", "wrong"))
            assert denied.status_code == 401
        _locked(client.get("/auth/token", params=params, auth=("alice", "wrong")), 2)
        form = {"grant_type": "password", "username": "alice", "password": "right-password"}
        _locked(client.post("/auth/token", data={**form, "service": "registry"}), 2)
        assert client.get("/auth/token", params=params, auth=("bob", "bobs-password")).is_success
        time.sleep(2.1)
        assert client.post("/auth/token", data={**form, "service": "registry"}).is_success
        too_long = {**form, "username": "long", "password": LONG + "x", "service": "registry"}
        assert client.post("/auth/token", data=too_long).status_code == 400
    assert not registry.server_errors()


def test_with_redis_two_workers_share_the_counts(tmp_path: Path, redis_server: RedisServer) -> None:
    """Each attempt on a new connection, so they spread over both workers: the lock-out
    still starts after ``attempts`` failures and holds in every worker. While Redis is down
    the counts fall back to each process: still throttled, never a 500."""
    auth = {"htpasswd": {"realm": "t", "path": str(_htpasswd(tmp_path)), "loginthrottle": THROTTLE}}
    registry = Registry(tmp_path, workers=2, auth=auth, redis={"addr": redis_server.addr})
    with registry:
        url = f"{registry.url}/v2/"
        statuses = [httpx.get(url, auth=("alice", "wrong")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        for _ in range(6):  # whichever worker answers
            _locked(httpx.get(url, auth=("alice", "right-password")), 2)
        assert redis_server.client().keys("pyregistry:login:*")
        time.sleep(2.1)
        assert httpx.get(url, auth=("alice", "right-password")).status_code == 200
        assert not redis_server.client().keys("pyregistry:login:*")  # the success cleared all
        assert statuses == [httpx.get(url, auth=("alice", "wrong")).status_code for _ in range(4)]
        redis_server.stop()
        try:
            time.sleep(2.1)
            down = [httpx.get(url, auth=("bob", "wrong")).status_code for _ in range(12)]
            assert set(down) <= {401, 429} and 429 in down, down
        finally:
            redis_server.start()
    assert "counting in-process" in registry.stderr
    assert not registry.server_errors()
