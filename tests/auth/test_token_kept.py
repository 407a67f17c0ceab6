"""A token that passed every check is kept and not checked again on the client's next
requests (``TokenVerifier``), within the window its claims allow and for at most
``RECHECK_SECONDS``; any other text is checked in full, and refusals are never kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyregistry.app import create_app
from pyregistry.auth.claims import LEEWAY_SECONDS
from pyregistry.auth.token_auth import (
    RECHECK_SECONDS,
    VERIFIED_TOKENS,
    InvalidToken,
    TokenVerifier,
)
from pyregistry.auth.trust import TrustStore
from tests.auth.conftest import make_config, token_auth
from tests.auth.pki import ISSUER, SERVICE, Pki, claims, mint, repo_access
from tests.support.server import run_server


class CountingTrust(TrustStore):
    """The real trust store, counting how often a token's signing key is looked up
    (once per full check)."""

    lookups = 0

    def signing_keys(self, header: dict[str, Any]) -> list[Any]:
        self.lookups += 1
        return super().signing_keys(header)


@pytest.fixture
def trust(pki: Pki) -> CountingTrust:
    return CountingTrust(roots=[pki.root])


@pytest.fixture
def verifier(trust: CountingTrust) -> TokenVerifier:
    return TokenVerifier(trust, issuer=ISSUER, service=SERVICE, algorithms=("RS256", "ES256"))


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return ".".join((head, payload, signature[:10] + flipped + signature[11:]))


def test_a_kept_token_is_not_checked_again(
    verifier: TokenVerifier, trust: CountingTrust, pki: Pki
) -> None:
    body = claims([repo_access("team/app", "pull")], sub="carol")
    token = mint(pki.signers["ec"], body)
    now = float(body["iat"])
    first = verifier.verify(token, now=now)
    for step in range(20):
        assert verifier.verify(token, now=now + step) == first
    assert trust.lookups == 1
    assert first.subject == "carol"
    # past the recheck time: checked in full once more, then kept again
    verifier.verify(token, now=now + RECHECK_SECONDS + 1)
    verifier.verify(token, now=now + RECHECK_SECONDS + 2)
    assert trust.lookups == 2


def test_one_changed_byte_is_checked_and_refused(
    verifier: TokenVerifier, trust: CountingTrust, pki: Pki
) -> None:
    token = mint(pki.signers["rsa"], claims([repo_access("team/app", "pull", "push")]))
    verifier.verify(token)
    for _ in range(2):  # refused each time: a refusal is not kept
        with pytest.raises(InvalidToken, match="signature"):
            verifier.verify(_tampered(token))
    assert trust.lookups == 3


def test_a_kept_token_expires_with_its_claims(verifier: TokenVerifier, pki: Pki) -> None:
    body = claims([repo_access("team/app", "pull")], exp_in=10)
    token = mint(pki.signers["ec"], body)
    verifier.verify(token, now=float(body["iat"]))
    expired = float(body["exp"]) + LEEWAY_SECONDS + 1
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token, now=expired)
    early = float(body["nbf"]) - LEEWAY_SECONDS - 1
    with pytest.raises(InvalidToken, match="not valid yet"):
        verifier.verify(token, now=early)


def test_kept_tokens_are_bounded(verifier: TokenVerifier, pki: Pki) -> None:
    signer = pki.signers["ec"]
    tokens = [mint(signer, claims(sub=f"user{n}"), header="kid") for n in range(3)]
    verifier.trust.add_key(signer.key.public_key())
    for token in tokens:
        verifier.verify(token)
    body = claims()
    for n in range(VERIFIED_TOKENS + 5):
        body["jti"] = f"token-{n}"
        verifier.verify(mint(signer, body, header="kid"))
    assert len(verifier._verified) == VERIFIED_TOKENS
    assert tokens[0] not in verifier._verified  # the least recently used went first


@pytest.fixture
def token_registry(bundle: Path) -> Iterator[str]:
    with run_server(create_app(make_config(token_auth(bundle)))) as url:
        yield url


def test_over_a_socket_a_token_serves_many_requests_and_a_forgery_none(
    token_registry: str, pki: Pki
) -> None:
    token = mint(pki.signers["ec"], claims([repo_access("team/app", "pull", "push")]))
    forged = _tampered(token)
    with httpx.Client(base_url=token_registry) as client:
        for _ in range(5):
            response = client.get("/v2/", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            started = client.post(
                "/v2/team/app/blobs/uploads/", headers={"Authorization": f"Bearer {token}"}
            )
            assert started.status_code == 202, started.text
        refused = client.get("/v2/", headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        other = client.get("/v2/team/other/tags/list", headers={"Authorization": f"Bearer {token}"})
        assert other.status_code == 401  # kept, but its scope is still checked
        assert 'error="insufficient_scope"' in other.headers["www-authenticate"]
