"""No silent configuration: settings pyregistry accepts in the file but cannot honour
stop start-up here, naming the key, instead of being ignored.

The schema (:mod:`pyregistry.config.schema`) knows every key distribution knows, so that a
distribution ``config.yml`` loads unchanged. Most are honoured. The ones below would
change what the registry does if it honoured them, so asking for them is refused:

* ``log.hooks`` of a type other than ``mail`` (or a mail hook without a ``host:port``
  or a recipient), ``middleware.registry`` and
  ``middleware.repository`` (Go plugins), storage middleware other than ``redirect``,
  ``rewrite`` and ``cloudfront`` (:mod:`storage_drivers.redirects`), ``reporting``
  (Bugsnag, New Relic): unless disabled (a hook or middleware with ``disabled: true``, a
  reporter without its key, as distribution reads them);
* ``http.h2c.enabled``: pyregistry speaks HTTP/1.1 only;
* ``compatibility.schema1.enabled``: schema1 manifests are refused on push;
* ``policy.repository.classes``: no repository classes are enforced.

Keys that have no meaning for pyregistry and change nothing a client sees are accepted as
no-ops, listed in the README: ``http.secret`` (upload state lives in storage, nothing is
signed), ``http.http2`` (HTTP/2 is never offered; clients use HTTP/1.1),
``storage.tag.concurrencylimit``, ``compatibility.schema1.signingkeyfile`` and the Redis
pool and retry tuning keys redis-py has no equivalent for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyregistry.config.errors import ConfigError
from pyregistry.mail_hooks import HookError, mail_handlers
from storage_drivers.redirects import MIDDLEWARE as STORAGE_MIDDLEWARE


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _enabled_entries(entries: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """Entries of a list of hooks or middleware that are not ``disabled: true``."""
    if not isinstance(entries, list):
        return []
    return [
        (i, entry)
        for i, entry in enumerate(entries)
        if isinstance(entry, Mapping) and entry.get("disabled") is not True
    ]


def _refusals(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, reason)`` for every setting asked for that pyregistry cannot honour."""
    found: list[tuple[str, str]] = []
    for i, hook in _enabled_entries(_mapping(doc.get("log")).get("hooks")):
        try:
            mail_handlers([hook], {})
        except HookError as exc:
            found.append((f"log.hooks[{i}]", exc.message))
    middleware = _mapping(doc.get("middleware"))
    for point in ("registry", "repository", "storage"):
        for i, entry in _enabled_entries(middleware.get(point)):
            if point == "storage" and entry.get("name") in STORAGE_MIDDLEWARE:
                continue
            found.append(
                (
                    f"middleware.{point}[{i}]",
                    f"{point} middleware {entry.get('name')!r} is not supported; "
                    "remove it or set disabled: true",
                )
            )
    reporting = _mapping(doc.get("reporting"))
    if _mapping(reporting.get("bugsnag")).get("apikey"):
        found.append(("reporting.bugsnag", "error reporting to Bugsnag is not supported"))
    if _mapping(reporting.get("newrelic")).get("licensekey"):
        found.append(("reporting.newrelic", "reporting to New Relic is not supported"))
    if _mapping(_mapping(doc.get("http")).get("h2c")).get("enabled") is True:
        found.append(("http.h2c.enabled", "h2c is not supported: pyregistry serves HTTP/1.1"))
    schema1 = _mapping(_mapping(doc.get("compatibility")).get("schema1"))
    if schema1.get("enabled") is True:
        found.append(
            ("compatibility.schema1.enabled", "Docker schema1 manifests are not supported")
        )
    if _mapping(_mapping(doc.get("policy")).get("repository")).get("classes"):
        found.append(("policy.repository.classes", "repository classes are not supported"))
    return found


def refuse_unsupported(doc: Mapping[str, Any], source: str) -> None:
    """Raise :class:`ConfigError` for the first setting pyregistry cannot honour (all of
    them named in the message when there are several)."""
    found = _refusals(doc)
    if not found:
        return
    key, reason = found[0]
    others = [k for k, _ in found[1:]]
    also = f" (also not supported: {', '.join(others)})" if others else ""
    raise ConfigError(reason + also, key=key, source=source)
