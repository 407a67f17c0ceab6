"""The ``auth`` section of ``config.yml`` (typed by :mod:`pyregistry.config.sections.auth`),
checked and with defaults applied.

distribution's providers and options (``token``, ``htpasswd``, ``silly``) keep their
meaning. pyregistry adds ``auth.token.issue`` (the built-in token service),
``auth.htpasswd.rules`` (per-project roles with Basic auth) and ``loginthrottle`` under
either (lock-outs after repeated password failures); distribution ignores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.auth.jws import ALL_ALGORITHMS
from pyregistry.auth.throttle import ThrottleOptions, parse_throttle
from pyregistry.config.errors import ConfigError
from pyregistry.config.sections.auth import AuthConfig, IssueSettings, TokenSettings

DEFAULT_TOKEN_PATH = "/auth/token"
DEFAULT_EXPIRATION = 300.0
MIN_EXPIRATION = 60.0  # the token spec: never hand out less than 60 s


@dataclass
class IssueOptions:
    """``auth.token.issue``: sign tokens in this process, at ``path``."""

    key: str
    users: str
    path: str = DEFAULT_TOKEN_PATH
    certificate: str | None = None
    rules: str | None = None
    expiration_seconds: float = DEFAULT_EXPIRATION
    #: None: refresh tokens never expire (the spec's default); else their lifetime.
    refresh_expiration_seconds: float | None = None
    #: ``thumbprint`` (RFC 7638, distribution 3) or ``libtrust`` (distribution 2.8).
    kid_format: str = "thumbprint"
    #: ``loginthrottle``: lock-outs after repeated password failures.
    throttle: ThrottleOptions = field(default_factory=ThrottleOptions)


@dataclass
class TokenOptions:
    service: str
    issuer: str
    realm: str | None = None
    rootcertbundle: str | None = None
    jwks: str | None = None
    autoredirect: bool = False
    autoredirectpath: str = DEFAULT_TOKEN_PATH
    signingalgorithms: tuple[str, ...] = ALL_ALGORITHMS
    issue: IssueOptions | None = None


@dataclass
class HtpasswdOptions:
    realm: str
    path: str
    rules: str | None = None
    throttle: ThrottleOptions = field(default_factory=ThrottleOptions)


@dataclass
class SillyOptions:
    realm: str
    service: str


@dataclass
class AuthOptions:
    #: ``token``, ``htpasswd``, ``silly`` or None (no auth).
    provider: str | None
    token: TokenOptions | None = None
    htpasswd: HtpasswdOptions | None = None
    silly: SillyOptions | None = None


def _fail(message: str, key: str, source: str | None) -> ConfigError:
    return ConfigError(message, key=key, source=source)


def _req(value: str | None, key: str, source: str | None) -> str:
    if not value:
        raise _fail("required (a string)", key, source)
    return value


def _algorithms(value: Any, key: str, source: str | None) -> tuple[str, ...]:
    if value is None:
        return ALL_ALGORITHMS
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail("must be a list of signing algorithms", f"{key}.signingalgorithms", source)
    for alg in value:
        if alg not in ALL_ALGORITHMS:
            raise _fail(f"unsupported signing algorithm: {alg}", f"{key}.signingalgorithms", source)
    return tuple(value) or ALL_ALGORITHMS


def _issue(section: IssueSettings | None, source: str | None) -> IssueOptions | None:
    key = "auth.token.issue"
    if section is None:
        return None
    path = section.path or DEFAULT_TOKEN_PATH
    if not path.startswith("/"):
        raise _fail("must start with /", f"{key}.path", source)
    expiration = DEFAULT_EXPIRATION if section.expiration is None else section.expiration
    if expiration < MIN_EXPIRATION:
        raise _fail("must be at least 60s (clients expect that much)", f"{key}.expiration", source)
    kid_format = section.kid or "thumbprint"
    if kid_format not in ("thumbprint", "libtrust"):
        raise _fail("must be thumbprint or libtrust", f"{key}.kid", source)
    return IssueOptions(
        key=_req(section.key, f"{key}.key", source),
        users=_req(section.users, f"{key}.users", source),
        path=path,
        certificate=section.certificate,
        rules=section.rules,
        expiration_seconds=expiration,
        refresh_expiration_seconds=section.refreshexpiration,
        kid_format=kid_format,
        throttle=parse_throttle(section.loginthrottle, f"{key}.loginthrottle", source),
    )


def _token(section: TokenSettings, source: str | None) -> TokenOptions:
    key = "auth.token"
    issue = _issue(section.issue, source)
    options = TokenOptions(
        service=_req(section.service, f"{key}.service", source),
        issuer=_req(section.issuer, f"{key}.issuer", source),
        realm=section.realm,
        rootcertbundle=section.rootcertbundle,
        jwks=section.jwks,
        autoredirect=section.autoredirect,
        autoredirectpath=section.autoredirectpath or DEFAULT_TOKEN_PATH,
        signingalgorithms=_algorithms(section.signingalgorithms, key, source),
        issue=issue,
    )
    if options.realm is None and issue is None and not section.autoredirect:
        raise _fail("required (a string)", f"{key}.realm", source)
    if not options.rootcertbundle and not options.jwks and issue is None:
        raise _fail(
            "token auth requires at least one token signing key (rootcertbundle or jwks)",
            key,
            source,
        )
    return options


def parse_auth(
    auth: AuthConfig | Mapping[str, Any] | None, source: str | None = None
) -> AuthOptions:
    """The typed ``config.auth`` (or the section as written) -> :class:`AuthOptions`, with
    defaults applied; ConfigError if unusable."""
    if not auth:
        return AuthOptions(provider=None)
    if not isinstance(auth, AuthConfig):
        auth = AuthConfig.read(auth, source or "<document>")
    providers = auth.providers
    if not providers:
        return AuthOptions(provider=None)
    if len(providers) > 1:
        raise _fail(f"only one auth provider may be configured, got {providers}", "auth", source)
    provider = providers[0]
    key = f"auth.{provider}"
    if provider == "token" and auth.token is not None:
        return AuthOptions(provider, token=_token(auth.token, source))
    if provider == "htpasswd" and auth.htpasswd is not None:
        htpasswd = auth.htpasswd
        return AuthOptions(
            provider,
            htpasswd=HtpasswdOptions(
                realm=_req(htpasswd.realm, f"{key}.realm", source),
                path=_req(htpasswd.path, f"{key}.path", source),
                rules=htpasswd.rules,
                throttle=parse_throttle(htpasswd.loginthrottle, f"{key}.loginthrottle", source),
            ),
        )
    if provider == "silly" and auth.silly is not None:
        return AuthOptions(
            provider,
            silly=SillyOptions(
                realm=_req(auth.silly.realm, f"{key}.realm", source),
                service=_req(auth.silly.service, f"{key}.service", source),
            ),
        )
    raise _fail(f"unknown auth provider {provider!r} (token, htpasswd, silly)", "auth", source)
