"""The management API as a feature of ``create_app``: its audit log joins the event
sinks before the registry is wrapped for notifications, the service layer is built over
the wrapped registry (so its deletes are heard too), and the API is mounted under
``http.prefix`` + ``management.prefix``, behind CORS when origins are configured.

``app.state.management`` is the service layer, for other front ends (the web UI).
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from pyregistry.api.prefix_route import PrefixRoute
from pyregistry.api.urls import normalize_prefix
from pyregistry.auth.basic_auth import HtpasswdAccessController
from pyregistry.auth.setup import AuthSetup
from pyregistry.auth.token_auth import TokenAccessController
from pyregistry.config.model import Config
from pyregistry.management import AuditLog, AuditSink, Management, build_management
from pyregistry.management_api.asgi import ManagementApi
from pyregistry.management_api.authn import Authenticator
from pyregistry.storage.interfaces import Namespace
from pyregistry.storage.registry import Registry


def api_prefix(config: Config) -> str:
    own = "/" + config.management.prefix.strip("/")
    return normalize_prefix(config.http.prefix) + own


class ManagementFeature:
    def __init__(self, config: Config, registry: Registry, setup: AuthSetup | None) -> None:
        self.config = config
        self.registry = registry
        self.setup = setup
        self.audit = AuditLog(registry.driver)
        #: Pushes and deletes into the audit log (one of the notifications' sinks).
        self.sink = AuditSink(self.audit)
        if setup is not None:
            setup.logins.add(self.audit.record_login)

    def build(self, namespace: Namespace) -> tuple[Management, BaseRoute]:
        """The service layer over ``namespace`` (the wrapped registry) and its route."""
        setup = self.setup
        management = build_management(
            self.registry,
            namespace,
            users=setup.users if setup else None,
            rules=setup.rules if setup else None,
            auth_configured=setup is not None,
            audit=self.audit,
        )
        prefix = api_prefix(self.config)
        app: ASGIApp = ManagementApi(management, self._authenticator(), prefix)
        cors = self.config.management.cors
        if cors.allowedorigins:
            app = CORSMiddleware(
                app,
                allow_origins=cors.allowedorigins,
                allow_methods=cors.allowedmethods,
                allow_headers=cors.allowedheaders,
                allow_credentials=cors.allowcredentials,
                max_age=int(cors.maxage),
            )
        return management, PrefixRoute(prefix, app)

    def _authenticator(self) -> Authenticator:
        setup = self.setup
        if setup is None:
            return Authenticator()
        controller = setup.controller
        verifier = controller.verifier if isinstance(controller, TokenAccessController) else None
        throttle = None
        if isinstance(controller, HtpasswdAccessController):
            throttle = controller.throttle
        elif setup.token_service is not None:
            throttle = setup.token_service.throttle
        return Authenticator(setup.users, verifier, throttle, setup.logins)
