"""``auth``: one provider (``token``, ``htpasswd``, ``silly``) and its parameters, typed;
:mod:`pyregistry.auth.options` makes the checks a type cannot (required options, file
paths, signing algorithms) and applies the defaults.

pyregistry's own keys: ``auth.token.issue`` (the built-in token service),
``auth.htpasswd.rules`` and ``loginthrottle`` under either. A provider pyregistry does not
know keeps free-form parameters, so that its error names the provider, not a key.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.declare import Section, build, section, setting, shape_of
from pyregistry.config.schema import ANY, BOOL, DURATION, INT, STR, Node, OneOf, check


@dataclass
class ThrottleSettings:
    """``loginthrottle``: lock-outs after repeated password failures."""

    disabled: bool = setting(BOOL, default=False)
    attempts: int = setting(INT, default=5)
    lockout: float = setting(DURATION, default=1.0)
    maxlockout: float = setting(DURATION, default=60.0)


@dataclass
class IssueSettings:
    """``auth.token.issue``: sign tokens in this process."""

    key: str | None = setting(STR)
    users: str | None = setting(STR)
    path: str | None = setting(STR)
    certificate: str | None = setting(STR)
    rules: str | None = setting(STR)
    expiration: float | None = setting(DURATION)
    refreshexpiration: float | None = setting(DURATION)
    #: ``thumbprint`` or ``libtrust``
    kid: str | None = setting(STR)
    loginthrottle: ThrottleSettings = setting(section(ThrottleSettings), factory=ThrottleSettings)


@dataclass
class TokenSettings:
    realm: str | None = setting(STR)
    service: str | None = setting(STR)
    issuer: str | None = setting(STR)
    rootcertbundle: str | None = setting(STR)
    jwks: str | None = setting(STR)
    autoredirect: bool = setting(BOOL, default=False)
    autoredirectpath: str | None = setting(STR)
    #: a list, or one string of names separated by commas or spaces
    signingalgorithms: Any = setting(ANY)
    issue: IssueSettings | None = setting(section(IssueSettings))


@dataclass
class HtpasswdSettings:
    realm: str | None = setting(STR)
    path: str | None = setting(STR)
    rules: str | None = setting(STR)
    loginthrottle: ThrottleSettings = setting(section(ThrottleSettings), factory=ThrottleSettings)


@dataclass
class SillySettings:
    realm: str | None = setting(STR)
    service: str | None = setting(STR)


PROVIDERS: dict[str, type] = {
    "token": TokenSettings,
    "htpasswd": HtpasswdSettings,
    "silly": SillySettings,
}
SHAPE = OneOf("auth provider", known={name: shape_of(cls) for name, cls in PROVIDERS.items()})


@dataclass(eq=False)
class AuthConfig(Section):
    NAME = "auth"

    #: The providers written (``none`` left out); more than one is an error of its own.
    providers: list[str] = field(default_factory=list)
    token: TokenSettings | None = None
    htpasswd: HtpasswdSettings | None = None
    silly: SillySettings | None = None

    @classmethod
    def read(cls, written: Mapping[str, Any], source: str = "<document>") -> AuthConfig:
        """Each known provider's parameters checked and typed; how many providers there
        are is left to :func:`pyregistry.auth.options.parse_auth` (the loader's shape
        already refuses several in a file)."""
        config = cls(providers=[str(name) for name in written if name != "none"])
        for name, settings in PROVIDERS.items():
            if name in written:
                node: Node = shape_of(settings)
                params = check(node, copy.deepcopy(written[name]), f"auth.{name}", source)
                setattr(config, name, build(settings, params or {}))
        config._written = dict(written)
        return config
