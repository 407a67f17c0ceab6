"""Running a notifier for the lifetime of an ASGI app.

:class:`NotifierLifespan` starts delivery once the app has started and stops it first on
shutdown (before the app closes its storage). :func:`with_notifications` adds a notifier to
a registry app built without one, and leaves an app that already has one alone, so calling
it twice (or on an app whose factory wires notifications itself) never queues an event
twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyregistry.api.context import FanOutEventSink, NullEventSink
from pyregistry.config.model import Config

if TYPE_CHECKING:
    from pyregistry.notifications.notifier import Notifier

ASGIApp = Any


class NotifierLifespan:
    """Pure ASGI wrapper: ``notifier.start()`` after startup, ``stop()`` on shutdown."""

    def __init__(self, app: ASGIApp, notifier: Notifier) -> None:
        self.app = app
        self.notifier = notifier
        self.state = getattr(app, "state", None)  # so wrappers can still find the registry

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def on_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.notifier.stop()
            return message

        async def on_send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.notifier.start()
            await send(message)

        await self.app(scope, on_receive, on_send)


def find_notifier(app: ASGIApp) -> Notifier | None:
    """The notifier already feeding on ``app``'s events, if any."""
    from pyregistry.notifications.notifier import Notifier

    current: Any = app
    while current is not None:
        if isinstance(current, NotifierLifespan):
            return current.notifier
        api = getattr(getattr(current, "state", None), "api", None)
        sink = getattr(api, "events", None)
        sinks = sink.sinks if isinstance(sink, FanOutEventSink) else [sink]
        for candidate in sinks:
            if isinstance(candidate, Notifier):
                return candidate
        current = getattr(current, "app", None)
    return None


def with_notifications(app: ASGIApp, config: Config) -> ASGIApp:
    """``app`` with the notifier ``config`` asks for (``app`` itself if none is asked for
    or one is already there). ``app`` must be a registry app (``create_app``)."""
    from pyregistry.notifications import build_notifier

    if find_notifier(app) is not None:
        return app
    state = app.state.api
    notifier = build_notifier(config, state.registry)
    if notifier is None:
        return app
    current = state.events
    state.events = (
        notifier if isinstance(current, NullEventSink) else FanOutEventSink([current, notifier])
    )
    return NotifierLifespan(app, notifier)
