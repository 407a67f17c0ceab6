"""Which upstreams this registry mirrors, read from the config: distribution's ``proxy``
section (one upstream for every repository; a checked mapping) and pyregistry's typed
``mirrors`` section (:mod:`pyregistry.config.sections.mirrors`: several upstreams, each
under its own repository-name prefix, beside normal repositories).

``proxy.ttl`` keeps distribution's meaning (how long cached content is kept unpulled;
168h by default); tags are re-checked upstream on every pull there, as distribution does.
In ``mirrors``, ``ttl`` is how long a cached tag is trusted before it is re-checked (0: on
every pull) and ``expire`` is the unpulled-content lifetime, which
:mod:`pyregistry.proxy.expiry` acts on.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config
from pyregistry.config.sections.mirrors import MirrorEntry

#: distribution's default ``proxy.ttl``: cached content unpulled this long may go.
DEFAULT_EXPIRE_SECONDS = 168 * 3600.0


@dataclass(frozen=True)
class UpstreamSettings:
    """One mirrored upstream and the repositories it answers for."""

    #: Local repository names under ``prefix/`` belong to this upstream ("" = all of them).
    prefix: str
    url: str
    username: str | None = None
    password: str | None = None
    #: A Docker credential helper program giving the login instead (``exec.command``).
    helper: str | None = None
    #: Seconds what the helper gives is kept (None: for good; 0: asked every time).
    helper_lifetime: float | None = None
    ca_file: str | None = None
    insecure: bool = False
    #: Seconds a cached tag is served before the upstream is asked again (0: every pull).
    tag_ttl: float = 0.0
    #: Seconds unpulled cached content is kept (0: forever); see proxy.expiry.
    expire: float = DEFAULT_EXPIRE_SECONDS
    #: ``fnmatch`` patterns of upstream repository names that may be mirrored (empty: all).
    allow: tuple[str, ...] = field(default=())
    #: Pushes land locally and shadow the upstream; pulls try local content first.
    local_first: bool = False
    #: A one-component name gets ``library/`` upstream (Docker Hub's official images).
    library: bool = False
    #: Prepended to every name upstream (``proxy.remotenamespace``: ``a/b`` is
    #: ``namespace/a/b`` there).
    namespace: str = ""
    #: Seconds an upstream request may take (connect is capped at 10s).
    timeout: float = 60.0

    @property
    def label(self) -> str:
        """The name metrics and logs use for this upstream."""
        return self.prefix or self.url

    @property
    def expires(self) -> bool:
        """Whether unpulled cached content of this upstream is removed (never for a
        local-first upstream, whose repositories also hold pushed content)."""
        return self.expire > 0 and not self.local_first

    def covers(self, name: str) -> bool:
        """Whether the local repository ``name`` belongs to this upstream."""
        return not self.prefix or name.startswith(self.prefix + "/")

    def remote_name(self, name: str) -> str:
        """The upstream's name for local repository ``name`` (which this covers)."""
        remote = name[len(self.prefix) + 1 :] if self.prefix else name
        if self.library and "/" not in remote:
            remote = "library/" + remote
        return f"{self.namespace}/{remote}" if self.namespace else remote

    def allows(self, remote: str) -> bool:
        return not self.allow or any(fnmatch.fnmatchcase(remote, p) for p in self.allow)


def _seconds(value: Any, default: float, key: str, source: str) -> float:
    if value is None or value == "":
        return default
    try:
        return max(parse_duration(value), 0.0)
    except ValueError as exc:
        raise ConfigError(str(exc), key=key, source=source) from None


def _lifetime(value: Any, key: str, source: str) -> float | None:
    """A helper's ``lifetime``: None when unset (kept for good), else seconds."""
    if value is None or value == "":
        return None
    return _seconds(value, 0.0, key, source)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _from_proxy(section: Mapping[str, Any], source: str) -> UpstreamSettings | None:
    url = _text(section.get("remoteurl"))
    if url is None:
        if any(v is not None for v in section.values()):
            raise ConfigError(
                "required when proxy is configured", key="proxy.remoteurl", source=source
            )
        return None
    found = section.get("exec")
    helper: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    return UpstreamSettings(
        prefix="",
        url=url,
        username=_text(section.get("username")),
        password=_text(section.get("password")),
        helper=_text(helper.get("command")),
        helper_lifetime=_lifetime(helper.get("lifetime"), "proxy.exec.lifetime", source),
        namespace=(_text(section.get("remotenamespace")) or "").strip("/"),
        expire=_seconds(section.get("ttl"), DEFAULT_EXPIRE_SECONDS, "proxy.ttl", source),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else max(value, 0.0)


def _from_mirror(i: int, entry: MirrorEntry, source: str) -> UpstreamSettings:
    at = f"mirrors[{i}]"
    prefix = entry.prefix.strip("/")
    if not prefix:
        raise ConfigError("required: the repository-name prefix", key=f"{at}.prefix", source=source)
    if not entry.url:
        raise ConfigError("required: the upstream's URL", key=f"{at}.url", source=source)
    return UpstreamSettings(
        prefix=prefix,
        url=entry.url,
        username=entry.username or None,
        password=entry.password or None,
        helper=entry.exec.command or None,
        helper_lifetime=entry.exec.lifetime,
        ca_file=entry.ca or None,
        insecure=entry.insecure,
        tag_ttl=_or(entry.ttl, 0.0),
        expire=_or(entry.expire, DEFAULT_EXPIRE_SECONDS),
        allow=tuple(entry.allow),
        local_first=entry.localfirst,
        library=entry.library,
        timeout=_or(entry.timeout, 60.0) or 60.0,
    )


def upstreams_from_config(config: Config) -> list[UpstreamSettings]:
    """Every configured upstream, longest prefix first (so ``a/b`` wins over ``a``)."""
    single = _from_proxy(config.proxy, config.source)
    found = [_from_mirror(i, entry, config.source) for i, entry in enumerate(config.mirrors)]
    prefixes = [u.prefix for u in found]
    for prefix in prefixes:
        if prefixes.count(prefix) > 1:
            raise ConfigError(
                f"prefix {prefix!r} is mirrored twice", key="mirrors", source=config.source
            )
    if single is not None:
        if found:
            raise ConfigError(
                "proxy mirrors every repository; use mirrors (with prefixes) or proxy, not both",
                key="mirrors",
                source=config.source,
            )
        found.append(single)
    return sorted(found, key=lambda u: len(u.prefix), reverse=True)


def upstream_for(upstreams: Sequence[UpstreamSettings], name: str) -> UpstreamSettings | None:
    """The upstream a local repository name belongs to (None: a normal repository)."""
    for upstream in upstreams:
        if upstream.covers(name):
            return upstream
    return None
