"""The ``middleware.storage`` entries, by name, built from their options."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from storage_drivers.base import StorageDriver


class RedirectMiddleware(Protocol):
    """Turns the redirect URL of a driver path into another (None: no redirect)."""

    def redirect_url(self, driver: StorageDriver, path: str, url: str | None) -> str | None:
        """``url``: what the driver and the entries before made of ``path``."""


class MiddlewareError(ValueError):
    """An entry that cannot be built; ``index`` is its place in the list."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


#: Reads a duration as the config spells it, in seconds (ValueError if it cannot).
Seconds = Callable[[Any], float]


def _redirect(options: Mapping[str, Any], seconds: Seconds) -> RedirectMiddleware:
    from storage_drivers.redirects.base_url import BaseUrlRedirect

    return BaseUrlRedirect.from_options(options)


def _rewrite(options: Mapping[str, Any], seconds: Seconds) -> RedirectMiddleware:
    from storage_drivers.redirects.rewrite import Rewrite

    return Rewrite.from_options(options)


def _cloudfront(options: Mapping[str, Any], seconds: Seconds) -> RedirectMiddleware:
    from storage_drivers.redirects.cloudfront import CloudFrontRedirect

    return CloudFrontRedirect.from_options(options, seconds)


#: The storage middleware pyregistry has, by the name distribution gives it.
MIDDLEWARE: dict[str, Callable[[Mapping[str, Any], Seconds], RedirectMiddleware]] = {
    "redirect": _redirect,
    "rewrite": _rewrite,
    "cloudfront": _cloudfront,
}


def build_redirects(entries: Sequence[Any], seconds: Seconds) -> tuple[RedirectMiddleware, ...]:
    """The middleware of ``middleware.storage`` in order, leaving out ``disabled`` ones;
    MiddlewareError for an unknown name or bad options. ``seconds`` reads durations (the
    config's spelling is the registry's business, not the drivers')."""
    built = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or entry.get("disabled") is True:
            continue
        name = str(entry.get("name") or "")
        factory = MIDDLEWARE.get(name)
        if factory is None:
            known = ", ".join(MIDDLEWARE)
            raise MiddlewareError(index, f"unknown storage middleware {name!r} (known: {known})")
        options = entry.get("options") or {}
        if not isinstance(options, Mapping):
            raise MiddlewareError(index, "options must be a mapping")
        try:
            built.append(factory(options, seconds))
        except ValueError as exc:
            raise MiddlewareError(index, f"{name}: {exc}") from None
    return tuple(built)
