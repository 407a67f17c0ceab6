"""``auth.token``: Bearer tokens signed by a trusted token service (distribution 2.8/3.x).

No token: 401 with a challenge naming the realm, service and needed scope. A token that
fails any check: the same plus ``error="invalid_token"``. A valid token that grants too
little: ``error="insufficient_scope"``. Never a 500: whatever the header holds, the
answer is a challenge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from pyregistry.auth.access import Access, AuthChallenge, AuthResult
from pyregistry.auth.challenge import INSUFFICIENT_SCOPE, INVALID_TOKEN, bearer_challenge
from pyregistry.auth.claims import InvalidClaims, VerifiedClaims, check_claims
from pyregistry.auth.jws import CompactJWS, MalformedToken
from pyregistry.auth.trust import TrustStore, UntrustedKey

log = logging.getLogger("pyregistry.auth")


class InvalidToken(Exception):
    """Any reason a presented token is not accepted (logged, never sent to the client)."""


class TokenVerifier:
    """Checks a raw token: algorithm, signing key, signature, claims."""

    def __init__(
        self, trust: TrustStore, *, issuer: str, service: str, algorithms: tuple[str, ...]
    ) -> None:
        self.trust = trust
        self.issuer = issuer
        self.service = service
        self.algorithms = algorithms

    def verify(self, raw: str, now: float | None = None) -> VerifiedClaims:
        try:
            jws = CompactJWS(raw, self.algorithms)
            keys = self.trust.signing_keys(jws.header)
            if not any(jws.verify(key) for key in keys):
                raise InvalidToken("signature does not verify with the signing key")
            return check_claims(jws.payload(), issuer=self.issuer, service=self.service, now=now)
        except (MalformedToken, UntrustedKey, InvalidClaims) as exc:
            raise InvalidToken(str(exc)) from exc


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class TokenAccessController:
    """Validates tokens; the realm is fixed, or (``autoredirect``) this host's token path,
    or (built-in issuer and no realm) the token service of this very server."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        realm: str | None,
        service: str,
        autoredirect: bool = False,
        autoredirect_path: str = "/auth/token",
        local_token_path: str | None = None,
    ) -> None:
        self.verifier = verifier
        self.realm = realm
        self.service = service
        self.autoredirect = autoredirect
        self.autoredirect_path = autoredirect_path
        self.local_token_path = local_token_path

    def realm_for(self, request: HTTPConnection) -> str:
        host = request.headers.get("host", "")
        if self.autoredirect:
            # distribution: https unless X-Forwarded-Proto says otherwise.
            scheme = request.headers.get("x-forwarded-proto") or "https"
            return f"{scheme}://{host}{self.autoredirect_path}"
        if self.realm:
            return self.realm
        scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
        return f"{scheme}://{host}{self.local_token_path or self.autoredirect_path}"

    def _challenge(
        self, request: HTTPConnection, required: Sequence[Access], error: str | None, msg: str
    ) -> AuthChallenge:
        header = bearer_challenge(self.realm_for(request), self.service, required, error)
        return AuthChallenge(msg, challenge=header, required=required)

    async def authorize(self, request: HTTPConnection, required: Sequence[Access]) -> AuthResult:
        raw = bearer_token(request)
        if raw is None:
            raise self._challenge(request, required, None, "authentication required")
        try:
            claims = self.verifier.verify(raw)
        except InvalidToken as exc:
            log.info(
                "token refused for %s %s: %s", request.scope.get("method"), request.url.path, exc
            )
            raise self._challenge(
                request, required, INVALID_TOKEN, "authentication required"
            ) from None
        for access in required:
            if not claims.access.allows(access.type, access.name, access.action):
                log.info(
                    "token of %r lacks %s:%s:%s",
                    claims.subject,
                    access.type,
                    access.name,
                    access.action,
                )
                raise self._challenge(
                    request, required, INSUFFICIENT_SCOPE, "authentication required"
                )
        return AuthResult(
            actor=claims.subject or None,
            method="token",
            grants=claims.access,
            claims=claims.raw,
        )
