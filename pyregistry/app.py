"""The registry as an ASGI application: ``create_app(config)`` -> Starlette.

Extension points for later features (all optional, all explicit):

* ``middleware`` - extra Starlette ``Middleware`` wrapped inside the error trap, so any
  ``RegistryError`` they raise is answered in the spec's JSON format;
* ``access_hooks`` - ``async hook(request, context)`` run after routing, before each
  handler, on the access the router computed (``context.access``); they may set
  ``context.actor`` or raise ``Unauthorized``/``Denied``. Configured ``auth`` is the
  first of them, and its token service a route of the app;
* ``event_sink`` - receives ``emit(kind, context=..., repository=..., **details)`` after
  every successful blob/manifest push, pull, mount and delete. Events come from the
  storage side: the API gets the registry wrapped by
  :class:`~pyregistry.notifications.listener.NotifyingNamespace` (with this sink and the
  webhook notifier), and ``context`` is the request's, passed as the current caller.

While the app runs (its lifespan), the scheduler (``app.state.scheduler``,
``pyregistry.tasks``) runs background jobs, each on one instance of those sharing the
storage: ``storage.maintenance.uploadpurging`` removes abandoned upload sessions
(``app.state.upload_purger``; None when off), ``storage.maintenance.gc`` collects
garbage online (``app.state.collector``; None when off), ``storage.maintenance.retention``
applies retention policies (``app.state.retention``), a mirror expires content nobody
pulled (``pyregistry.proxy.expiry``), and every ``pyregistry.jobs`` entry point
(``register(scheduler, config)``) may add its own. ``replication`` policies
(``app.state.replication``, :mod:`pyregistry.replication`) add an event sink and jobs.

With ``management.enabled``, the management API (``pyregistry.management_api``) is
mounted under its prefix, its audit log is one of the event sinks, and its service layer
is ``app.state.management`` (None when off), for the web UI; ``ui.enabled`` builds the
service layer and audit log too (the UI is mounted on it by ``pyregistry.ui``), without
the API's route.

``app.state.api`` (:class:`pyregistry.api.state.ApiState`) is mutable, so a feature set
up after the app can still append a hook or wrap ``registry`` once more.
``app.state.registry`` is the unwrapped core (tooling, health checks). With ``proxy`` or
``mirrors`` configured, the core is wrapped by :class:`pyregistry.proxy.MirrorNamespace`
first, and the notifications wrapper goes around that (proxied pulls are pulls).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from pyregistry.api.context import AccessHook
from pyregistry.api.dispatch import ApiDispatcher, NotFoundEndpoint
from pyregistry.api.headers import ResponseHeadersMiddleware
from pyregistry.api.middleware import ErrorTrapMiddleware
from pyregistry.api.prefix_route import PrefixRoute
from pyregistry.api.state import DEFAULT_CATALOG_MAX_ENTRIES, ApiState
from pyregistry.api.urls import UrlBuilder, normalize_prefix
from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError
from pyregistry.config.model import Config
from pyregistry.config.validation import validation_policy
from pyregistry.descriptor_cache import build_blob_descriptor_cache
from pyregistry.events import EventSink, FanOutEventSink
from pyregistry.front import RegistryApp
from pyregistry.gc.online import OnlineCollector
from pyregistry.index import build_index, register_index_jobs
from pyregistry.maintenance import UploadPurger
from pyregistry.optional_features import (
    build_notifier,
    build_replication,
    mirror_namespace,
    notifying_namespace,
)
from pyregistry.retention.job import RetentionJob
from pyregistry.storage import Registry
from pyregistry.storage.interfaces import Namespace
from pyregistry.tasks.leases import lease_factory
from pyregistry.tasks.plugins import register_plugin_jobs
from pyregistry.tasks.scheduler import Scheduler
from pyregistry.tasks.upload_leases import UploadLeases
from storage_drivers import StorageDriverError, create_driver
from storage_drivers.redirects import MiddlewareError, RedirectMiddleware, build_redirects

if TYPE_CHECKING:
    from pyregistry.auth.setup import AuthSetup
    from pyregistry.management import Management
    from pyregistry.management_api import ManagementFeature


def build_registry(config: Config) -> Registry:
    """The storage stack the config describes, with the manifest policy of its
    ``validation`` section (checked by every manifest put, whoever makes it)."""
    try:
        driver = create_driver(config.storage.driver, config.storage.parameters)
    except StorageDriverError as exc:
        raise DriverConfigError(config, exc) from None
    return Registry(
        driver,
        delete_enabled=config.storage.delete_enabled,
        redirect=not config.storage.redirect_disable,
        redirects=storage_middleware(config),
        readonly=config.storage.readonly,
        blob_descriptor_cache=build_blob_descriptor_cache(config),
        policy=validation_policy(config.validation, config.source),
        upload_locks=UploadLeases(lease_factory(config, driver)),
        index=build_index(config),
    )


class DriverConfigError(ConfigError, StorageDriverError):
    """A storage driver that cannot be made from its parameters (or its name): a
    configuration error (``serve`` exits 2 naming ``storage.<driver>``) that is still the
    :class:`StorageDriverError` the embedding has always raised for it."""

    def __init__(self, config: Config, exc: StorageDriverError) -> None:
        key = f"storage.{config.storage.driver}"
        ConfigError.__init__(self, str(exc), key=key, source=config.source)
        self.driver = exc.driver
        self.path = exc.path


def storage_middleware(config: Config) -> tuple[RedirectMiddleware, ...]:
    """``middleware.storage`` built: what a blob's redirect URL becomes."""
    entries = config.middleware.get("storage") or []
    try:
        return build_redirects(entries, parse_duration)
    except MiddlewareError as exc:
        key = f"middleware.storage[{exc.index}]"
        raise ConfigError(exc.message, key=key, source=config.source) from None


def _catalog_max_entries(config: Config) -> int:
    """``catalog.maxentries`` when positive, else the default."""
    value = config.catalog.maxentries
    return value if value is not None and value > 0 else DEFAULT_CATALOG_MAX_ENTRIES


def _auth(config: Config) -> tuple[AuthSetup | None, list[Route], list[AccessHook]]:
    """Access control when ``auth`` is configured (imported only then: it is heavy): its
    setup, the token route and the hook that authorizes each request after routing."""
    if not config.auth:
        return None, [], []
    from pyregistry.auth import build_setup, setup_routes

    setup = build_setup(config)
    return (setup, *setup_routes(setup))


def _management(
    config: Config, registry: Registry, setup: AuthSetup | None
) -> ManagementFeature | None:
    """The management API feature when ``management.enabled`` (imported only then); the
    web UI (``ui.enabled``) needs its service layer and audit log even without the API."""
    if not (config.management.enabled or config.ui.enabled):
        return None
    from pyregistry.management_api import ManagementFeature

    return ManagementFeature(config, registry, setup)


def create_app(
    config: Config,
    *,
    registry: Registry | None = None,
    middleware: Sequence[Middleware] = (),
    access_hooks: Sequence[AccessHook] = (),
    event_sink: EventSink | None = None,
) -> Starlette:
    """Build the registry API. A registry built here is closed on shutdown; one passed in
    belongs to the caller."""
    owns_registry = registry is None
    if registry is None:
        registry = build_registry(config)
    notifier = build_notifier(config, registry)
    setup, auth_routes, auth_hooks = _auth(config)
    management = _management(config, registry, setup)
    audit_sink = management.sink if management is not None else None
    replication = build_replication(config, registry)
    replication_sink = replication.sink if replication is not None else None
    sinks: list[EventSink] = [
        s for s in (event_sink, notifier, audit_sink, replication_sink) if s is not None
    ]
    namespace: Namespace = registry
    mirrors = mirror_namespace(registry, config)
    if mirrors is not None:
        namespace = mirrors  # proxied pulls are pulls: events wrap the mirror
    if sinks:
        sink = sinks[0] if len(sinks) == 1 else FanOutEventSink(sinks)
        namespace = notifying_namespace(namespace, sink)
    service: Management | None = None
    management_routes: list[BaseRoute] = []
    if management is not None:
        service, management_route = management.build(namespace)
        if config.management.enabled:
            management_routes.append(management_route)
    if replication is not None:
        replication.attach(namespace)  # pulled content is validated and announced
    state = ApiState(
        config=config,
        registry=namespace,
        urls=UrlBuilder(config.http),
        access_hooks=[*auth_hooks, *access_hooks],
        catalog_max_entries=_catalog_max_entries(config),
    )
    prefix = normalize_prefix(config.http.prefix)

    purger = UploadPurger.from_config(registry, config.storage)
    job_leases = lease_factory(config, registry.driver)
    scheduler = Scheduler(job_leases)
    if purger is not None:
        purger.register(scheduler)
    collector = OnlineCollector.from_config(registry, config)
    if collector is not None:
        collector.register(scheduler)
    retention = RetentionJob.from_config(registry, config)
    if retention is not None:
        retention.register(scheduler)
    if replication is not None:
        replication.register(scheduler)
    if mirrors is not None:
        mirrors.register_jobs(scheduler)  # pull times, expiry of unpulled content
    register_index_jobs(scheduler, registry.index, config)
    register_plugin_jobs(scheduler, config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if notifier is not None:
            await notifier.start()
        await scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            await job_leases.close()
            if replication is not None:
                await replication.aclose()
            if notifier is not None:
                await notifier.stop()
            if owns_registry:
                await state.registry.close()
            elif mirrors is not None:
                await mirrors.close_upstreams()

    dispatcher = ApiDispatcher(state)
    app = RegistryApp(
        api=dispatcher,
        api_path=prefix + "/v2",
        routes=[
            PrefixRoute(prefix + "/v2", dispatcher),
            *auth_routes,
            *management_routes,
            PrefixRoute("/", NotFoundEndpoint(), param="path"),
        ],
        middleware=[
            Middleware(ResponseHeadersMiddleware, headers=config.http.headers),
            Middleware(ErrorTrapMiddleware),
            *middleware,
        ],
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.config = config
    app.state.api = state
    app.state.upload_purger = purger
    app.state.collector = collector
    app.state.retention = retention
    #: The webhook notifier (None without endpoints), one of the wrapper's sinks.
    app.state.notifier = notifier
    app.state.scheduler = scheduler
    #: The management service layer (``pyregistry.management``; None unless enabled).
    app.state.management = service
    #: Replication (None without policies): ``run``, ``status``, its event sink.
    app.state.replication = replication
    return app
