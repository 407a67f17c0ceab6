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
from pyregistry.auth.throttle import LoginThrottle
from pyregistry.auth.token_auth import TokenAccessController, TokenVerifier
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
            throttle=self._throttle(),
        )
        prefix = api_prefix(self.config)
        authenticator = Authenticator(management.passwords, self._verifier())
        app: ASGIApp = ManagementApi(management, authenticator, prefix)
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

    def _verifier(self) -> TokenVerifier | None:
        controller = self.setup.controller if self.setup is not None else None
        return controller.verifier if isinstance(controller, TokenAccessController) else None

    def _throttle(self) -> LoginThrottle | None:
        """The registry's own login throttle, so lock-outs count every way in."""
        setup = self.setup
        if setup is None:
            return None
        if isinstance(setup.controller, HtpasswdAccessController):
            return setup.controller.throttle
        return setup.token_service.throttle if setup.token_service is not None else None
