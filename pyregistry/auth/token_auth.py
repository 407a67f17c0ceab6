"""``auth.token``: Bearer tokens signed by a trusted token service (distribution 2.8/3.x).

No token: 401 with a challenge naming the realm, service and needed scope. A token that
fails any check: the same plus ``error="invalid_token"``. A valid token that grants too
little: ``error="insufficient_scope"``. Never a 500: whatever the header holds, the
answer is a challenge.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from pyregistry.auth.access import Access, AuthChallenge, AuthResult
from pyregistry.auth.challenge import INSUFFICIENT_SCOPE, INVALID_TOKEN, bearer_challenge
from pyregistry.auth.claims import LEEWAY_SECONDS, InvalidClaims, VerifiedClaims, check_claims
from pyregistry.auth.jws import CompactJWS, MalformedToken
from pyregistry.auth.trust import TrustStore, UntrustedKey

log = logging.getLogger("pyregistry.auth")
#: Tokens whose signature checked out, kept to spare the check on the client's next
#: requests (a push or pull sends dozens with one token).
VERIFIED_TOKENS = 1024
#: How long a kept token is taken without a new check of signature and key (a ``x5c``
#: certificate expiring, say): at most this long past that moment.
RECHECK_SECONDS = 30.0


class InvalidToken(Exception):
    """Any reason a presented token is not accepted (logged, never sent to the client)."""


class TokenVerifier:
    """Checks a raw token: algorithm, signing key, signature, claims.

    A signature check (and a certificate chain's, for ``x5c``) cost 90-130 µs, as much as
    the rest of a small request: a token that passed every check is kept, by its exact
    text, and taken again within its validity window for :data:`RECHECK_SECONDS`. Any
    other text (one changed byte) is checked in full; refusals are not kept."""

    def __init__(
        self, trust: TrustStore, *, issuer: str, service: str, algorithms: tuple[str, ...]
    ) -> None:
        self.trust = trust
        self.issuer = issuer
        self.service = service
        self.algorithms = algorithms
        #: raw token -> (from, until, claims): taken while ``from <= now <= until``
        self._verified: OrderedDict[str, tuple[float, float, VerifiedClaims]] = OrderedDict()

    def verify(self, raw: str, now: float | None = None) -> VerifiedClaims:
        current = time.time() if now is None else now
        kept = self._verified.get(raw)
        if kept is not None:
            start, until, claims = kept
            if start <= current <= until:
                self._verified.move_to_end(raw)
                return claims
            del self._verified[raw]
        claims = self._check(raw, current)
        self._keep(raw, claims, current)
        return claims

    def _check(self, raw: str, now: float) -> VerifiedClaims:
        try:
            jws = CompactJWS(raw, self.algorithms)
            keys = self.trust.signing_keys(jws.header)
            if not any(jws.verify(key) for key in keys):
                raise InvalidToken("signature does not verify with the signing key")
            return check_claims(jws.payload(), issuer=self.issuer, service=self.service, now=now)
        except (MalformedToken, UntrustedKey, InvalidClaims) as exc:
            raise InvalidToken(str(exc)) from exc

    def _keep(self, raw: str, claims: VerifiedClaims, now: float) -> None:
        # the window check_claims has just checked (its numbers), no wider
        start = float(claims.raw.get("nbf", 0)) - LEEWAY_SECONDS
        until = min(float(claims.raw["exp"]) + LEEWAY_SECONDS, now + RECHECK_SECONDS)
        self._verified[raw] = (start, until, claims)
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)


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
