"""The ``auth`` section of ``config.yml``, typed and checked.

distribution's providers and options (``token``, ``htpasswd``, ``silly``) keep their
meaning. pyregistry adds ``auth.token.issue`` (the built-in token service),
``auth.htpasswd.rules`` (per-project roles with Basic auth) and ``loginthrottle`` under
either (lock-outs after repeated password failures); distribution ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyregistry.auth.jws import ALL_ALGORITHMS
from pyregistry.auth.throttle import ThrottleOptions, parse_throttle
from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError

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


def _opt(section: dict[str, Any], name: str, key: str, source: str | None) -> str | None:
    value = section.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _fail("must be a string", f"{key}.{name}", source)
    return str(value)


def _req(section: dict[str, Any], name: str, key: str, source: str | None) -> str:
    value = _opt(section, name, key, source)
    if value is None:
        raise _fail("required (a string)", f"{key}.{name}", source)
    return value


def _bool(section: dict[str, Any], name: str, key: str, source: str | None) -> bool:
    value = section.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise _fail("must be true or false", f"{key}.{name}", source)
    return value


def _duration(
    section: dict[str, Any], name: str, key: str, source: str | None, default: float | None
) -> float | None:
    value = section.get(name)
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _fail(str(exc), f"{key}.{name}", source) from exc


def _algorithms(section: dict[str, Any], key: str, source: str | None) -> tuple[str, ...]:
    value = section.get("signingalgorithms")
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


def _issue(section: Any, source: str | None) -> IssueOptions | None:
    key = "auth.token.issue"
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _fail("must be a mapping", key, source)
    path = _opt(section, "path", key, source) or DEFAULT_TOKEN_PATH
    if not path.startswith("/"):
        raise _fail("must start with /", f"{key}.path", source)
    expiration = _duration(section, "expiration", key, source, DEFAULT_EXPIRATION)
    assert expiration is not None
    if expiration < MIN_EXPIRATION:
        raise _fail("must be at least 60s (clients expect that much)", f"{key}.expiration", source)
    kid_format = _opt(section, "kid", key, source) or "thumbprint"
    if kid_format not in ("thumbprint", "libtrust"):
        raise _fail("must be thumbprint or libtrust", f"{key}.kid", source)
    return IssueOptions(
        key=_req(section, "key", key, source),
        users=_req(section, "users", key, source),
        path=path,
        certificate=_opt(section, "certificate", key, source),
        rules=_opt(section, "rules", key, source),
        expiration_seconds=expiration,
        refresh_expiration_seconds=_duration(section, "refreshexpiration", key, source, None),
        kid_format=kid_format,
        throttle=parse_throttle(section.get("loginthrottle"), f"{key}.loginthrottle", source),
    )


def _token(section: dict[str, Any], source: str | None) -> TokenOptions:
    key = "auth.token"
    issue = _issue(section.get("issue"), source)
    autoredirect = _bool(section, "autoredirect", key, source)
    options = TokenOptions(
        service=_req(section, "service", key, source),
        issuer=_req(section, "issuer", key, source),
        realm=_opt(section, "realm", key, source),
        rootcertbundle=_opt(section, "rootcertbundle", key, source),
        jwks=_opt(section, "jwks", key, source),
        autoredirect=autoredirect,
        autoredirectpath=_opt(section, "autoredirectpath", key, source) or DEFAULT_TOKEN_PATH,
        signingalgorithms=_algorithms(section, key, source),
        issue=issue,
    )
    if options.realm is None and issue is None and not autoredirect:
        raise _fail("required (a string)", f"{key}.realm", source)
    if not options.rootcertbundle and not options.jwks and issue is None:
        raise _fail(
            "token auth requires at least one token signing key (rootcertbundle or jwks)",
            key,
            source,
        )
    return options


def parse_auth(auth: dict[str, Any] | None, source: str | None = None) -> AuthOptions:
    """``config.auth`` (the raw mapping) -> :class:`AuthOptions`; ConfigError if unusable."""
    if not auth:
        return AuthOptions(provider=None)
    providers = [name for name in auth if name != "none"]
    if not providers:
        return AuthOptions(provider=None)
    if len(providers) > 1:
        raise _fail(f"only one auth provider may be configured, got {providers}", "auth", source)
    provider = providers[0]
    section = auth[provider] or {}
    key = f"auth.{provider}"
    if not isinstance(section, dict):
        raise _fail("must be a mapping of options", key, source)
    if provider == "token":
        return AuthOptions(provider, token=_token(section, source))
    if provider == "htpasswd":
        return AuthOptions(
            provider,
            htpasswd=HtpasswdOptions(
                realm=_req(section, "realm", key, source),
                path=_req(section, "path", key, source),
                rules=_opt(section, "rules", key, source),
                throttle=parse_throttle(
                    section.get("loginthrottle"), f"{key}.loginthrottle", source
                ),
            ),
        )
    if provider == "silly":
        return AuthOptions(
            provider,
            silly=SillyOptions(
                realm=_req(section, "realm", key, source),
                service=_req(section, "service", key, source),
            ),
        )
    raise _fail(f"unknown auth provider {provider!r} (token, htpasswd, silly)", "auth", source)
