"""Building access control from the configuration, once, at start-up.

Everything that can be wrong with the files (a bundle with no certificate, an invalid
JWKS, an unreadable htpasswd) is a :class:`~pyregistry.config.ConfigError` here, not a
failure on the first request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyregistry.auth.access import AccessController
from pyregistry.auth.basic_auth import HtpasswdAccessController, SillyAccessController
from pyregistry.auth.files import WatchedFile
from pyregistry.auth.htpasswd import Htpasswd, ensure_htpasswd
from pyregistry.auth.issuer import TokenSigner
from pyregistry.auth.logins import LoginObservers
from pyregistry.auth.options import AuthOptions, IssueOptions, TokenOptions, parse_auth
from pyregistry.auth.rules import Rules, parse_rules
from pyregistry.auth.throttle import LoginThrottle, ThrottleOptions
from pyregistry.auth.throttle_redis import RedisCounts
from pyregistry.auth.token_auth import TokenAccessController, TokenVerifier
from pyregistry.auth.token_service import TokenService
from pyregistry.auth.trust import TrustStore, load_certificates, load_jwks
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config, RedisConfig
from pyregistry.descriptor_cache.connection import create_client, settings_from_config

log = logging.getLogger("pyregistry.auth")


@dataclass
class AuthSetup:
    controller: AccessController
    token_service: TokenService | None = None
    token_path: str | None = None
    #: The users and rules files (None: not configured), for the management API.
    users: Htpasswd | None = None
    rules: WatchedFile[Rules] | None = None
    #: Told of every password check (``pyregistry.auth.logins``).
    logins: LoginObservers = field(default_factory=LoginObservers)


def _read(path: str, key: str, source: str | None) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror or exc}"
        raise ConfigError(message, key=key, source=source) from exc


def load_users(path: str, key: str, source: str | None) -> Htpasswd:
    """The htpasswd file (created with a random ``docker`` password if missing, as
    distribution 3 does)."""
    try:
        password = ensure_htpasswd(path)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc}", key=key, source=source) from exc
    if password is not None:
        log.warning(
            "htpasswd %s was missing: created it with user %r, password %s",
            path,
            "docker",
            password,
        )
    users = Htpasswd(path)
    try:
        users.load()
    except (OSError, ValueError) as exc:
        raise ConfigError(str(exc), key=key, source=source) from exc
    return users


def load_rules(path: str, key: str, source: str | None) -> WatchedFile[Rules]:
    """The rules file; a missing one means "no projects yet" until it appears."""
    rules = WatchedFile(path, parse_rules, what="rules file", missing=Rules)
    try:
        rules.load()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}", key=key, source=source) from exc
    return rules


def _signer(token: TokenOptions, issue: IssueOptions, source: str | None) -> TokenSigner:
    try:
        return TokenSigner(
            key_path=issue.key,
            cert_path=issue.certificate,
            issuer=token.issuer,
            service=token.service,
            expiration_seconds=issue.expiration_seconds,
            refresh_expiration_seconds=issue.refresh_expiration_seconds,
            kid_format=issue.kid_format,
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(str(exc), key="auth.token.issue", source=source) from exc


def _trust(token: TokenOptions, signer: TokenSigner | None, source: str | None) -> TrustStore:
    trust = TrustStore()
    if token.rootcertbundle:
        key = "auth.token.rootcertbundle"
        try:
            certs = load_certificates(_read(token.rootcertbundle, key, source))
        except ValueError as exc:
            raise ConfigError(f"unparseable certificate: {exc}", key=key, source=source) from exc
        for cert in certs:
            trust.add_root(cert)
    if token.jwks:
        key = "auth.token.jwks"
        try:
            keys = load_jwks(_read(token.jwks, key, source))
        except ValueError as exc:
            raise ConfigError(f"failed to parse jwks: {exc}", key=key, source=source) from exc
        trust = TrustStore(trust.roots, keys)
    if signer is not None:
        if signer.certificates:
            trust.add_root(signer.certificates[-1])
        trust.add_key(signer.public_key)
    if not trust:
        raise ConfigError(
            "token auth requires at least one token signing key", key="auth.token", source=source
        )
    return trust


def _token_setup(token: TokenOptions, source: str | None, redis: RedisConfig | None) -> AuthSetup:
    issue = token.issue
    signer = _signer(token, issue, source) if issue is not None else None
    verifier = TokenVerifier(
        _trust(token, signer, source),
        issuer=token.issuer,
        service=token.service,
        algorithms=token.signingalgorithms,
    )
    if signer is not None and signer.alg not in token.signingalgorithms:
        raise ConfigError(
            f"the issuing key signs {signer.alg}, which signingalgorithms does not accept",
            key="auth.token.signingalgorithms",
            source=source,
        )
    controller = TokenAccessController(
        verifier,
        realm=token.realm,
        service=token.service,
        autoredirect=token.autoredirect,
        autoredirect_path=token.autoredirectpath,
        local_token_path=issue.path if issue is not None else None,
    )
    if issue is None or signer is None:
        return AuthSetup(controller)
    users = load_users(issue.users, "auth.token.issue.users", source)
    rules = load_rules(issue.rules, "auth.token.issue.rules", source) if issue.rules else None
    logins = LoginObservers()
    throttle = login_throttle(issue.throttle, redis)
    service = TokenService(signer, users, rules, throttle, logins)
    path = issue.path.rstrip("/") or "/"
    return AuthSetup(controller, service, path, users=users, rules=rules, logins=logins)


def login_throttle(options: ThrottleOptions, redis: RedisConfig | None) -> LoginThrottle:
    """The login throttle, sharing its counts through Redis when one is configured."""
    if redis is None or not redis.addrs or not options.enabled:
        return LoginThrottle(options)
    client = create_client(settings_from_config(redis))
    return LoginThrottle(options, RedisCounts(client))


def build_setup(config: Config) -> AuthSetup | None:
    """The access controller (and token service) ``config.auth`` describes; None when the
    registry is open (no ``auth`` section, or ``auth: none``)."""
    options: AuthOptions = parse_auth(config.auth, config.source)
    source = config.source
    if options.token is not None:
        return _token_setup(options.token, source, config.redis)
    if options.htpasswd is not None:
        users = load_users(options.htpasswd.path, "auth.htpasswd.path", source)
        rules_path = options.htpasswd.rules
        rules = load_rules(rules_path, "auth.htpasswd.rules", source) if rules_path else None
        throttle = login_throttle(options.htpasswd.throttle, config.redis)
        logins = LoginObservers()
        realm = options.htpasswd.realm
        controller = HtpasswdAccessController(users, realm, rules, throttle, logins)
        return AuthSetup(controller, users=users, rules=rules, logins=logins)
    if options.silly is not None:
        log.warning("auth.silly accepts any Authorization header: never use it in production")
        return AuthSetup(SillyAccessController(options.silly.realm, options.silly.service))
    return None
