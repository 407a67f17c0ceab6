"""``http.ratelimit``: an optional ceiling on requests per second, overall and per method,
as zot's option of the same name (``rate``, ``methods: [{method, rate}]``).

Over the limit a request is answered 429 ``TOOMANYREQUESTS`` with ``Retry-After`` and the
spec's JSON error body, before any work is done. Each bucket holds one second's worth of
requests, so short bursts pass. The limit is per process: with ``--workers N`` the
registry as a whole admits up to N times the rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from pyregistry.api.errors import TooManyRequests, error_response
from pyregistry.config.errors import ConfigError


class TokenBucket:
    """``rate`` tokens per second, holding at most ``rate``."""

    def __init__(self, rate: int) -> None:
        self.rate = float(rate)
        self.tokens = float(rate)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimitMiddleware:
    """Pure ASGI: HTTP requests spend a token from the overall and the method's bucket."""

    def __init__(self, app: ASGIApp, rate: int | None, methods: Mapping[str, int]) -> None:
        for key, value in [("rate", rate), *((f"methods.{m}", r) for m, r in methods.items())]:
            if value is not None and value <= 0:
                raise ConfigError(
                    "must be a positive number of requests per second", key=f"http.ratelimit.{key}"
                )
        self.app = app
        self.overall = TokenBucket(rate) if rate else None
        self.by_method = {method.upper(): TokenBucket(r) for method, r in methods.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wait = 0.0
            method_bucket = self.by_method.get(scope.get("method", ""))
            for bucket in (self.overall, method_bucket):
                if bucket is not None:
                    wait = max(wait, bucket.take())
            if wait:
                retry = str(max(1, math.ceil(wait)))
                error = TooManyRequests(
                    "too many requests, retry later", headers={"Retry-After": retry}
                )
                head = scope.get("method") == "HEAD"
                await error_response(error, head=head)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def rate_limited(app: ASGIApp, rate: int | None, methods: Mapping[str, int]) -> ASGIApp:
    """``app`` behind the configured limit, or ``app`` itself when none is configured."""
    if not rate and not methods:
        return app
    return RateLimitMiddleware(app, rate, methods)
