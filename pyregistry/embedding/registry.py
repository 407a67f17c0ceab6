"""A real registry inside the current process: the app ``pyregistry serve`` runs for a
config, in a :class:`BackgroundServer` on ``127.0.0.1:<free port>``, with the content
helpers talking to it over HTTP.

Temporary directories made for it (storage root, notification queue) belong to it: they
are removed on ``stop()``, or when a registry that was never started is collected.
"""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any

from pyregistry.client import RegistryClient
from pyregistry.config import Config
from pyregistry.embedding.helpers import RegistryHelpers
from pyregistry.embedding.options import remove_temp_dirs
from pyregistry.embedding.server import LOOPBACK, BackgroundServer


def build_app(config: Config) -> Any:
    """The ASGI app ``pyregistry serve`` runs for ``config`` (access log, metrics, health
    gate around the API, auth and notifications as configured), with its own health
    checks so that registries in one process stay independent."""
    from pyregistry.assembly import assemble
    from pyregistry.debug.health import HealthChecks

    return assemble(config, HealthChecks())


class EmbeddedRegistry(RegistryHelpers):
    """A registry serving while started (``with`` or ``start()``/``stop()``). ``url`` is
    ``http://127.0.0.1:<port>``; ``host``, ``127.0.0.1:<port>``, starts image references."""

    def __init__(
        self,
        config: Config,
        *,
        credentials: tuple[str, str] | None = None,
        temp_dirs: list[str] | None = None,
        log_level: str = "error",
    ) -> None:
        super().__init__(None)
        self.config = config
        self.credentials = credentials
        self.log_level = log_level
        self.app: Any = None
        self._server: BackgroundServer | None = None
        self._temp_dirs = list(temp_dirs or [])
        self._cleanup = weakref.finalize(self, remove_temp_dirs, self._temp_dirs)

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def port(self) -> int:
        if self._server is None or not self._server.running:
            raise RuntimeError("the registry is not running: use it inside its `with` block")
        return self._server.port

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: what image references start with (``{host}/repo:tag``)."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://{self.host}"

    def reference(self, repository: str, tag_or_digest: str = "latest") -> str:
        """``127.0.0.1:<port>/repository:tag`` (or ``@digest``), as docker and skopeo take."""
        separator = "@" if ":" in tag_or_digest else ":"
        return f"{self.host}/{repository}{separator}{tag_or_digest}"

    def start(self) -> EmbeddedRegistry:
        """Serve; returns once the server accepts connections. A bad config raises here
        (:class:`pyregistry.config.ConfigError` unchanged), leaving nothing behind."""
        if self._server is not None:
            raise RuntimeError("an embedded registry can be started once")
        try:
            self.app = build_app(self.config)
            self._server = BackgroundServer(
                self.app, log_level=self.log_level, name="pyregistry-embedded"
            )
            self._server.start()
        except BaseException:
            self._cleanup()
            raise
        self._client = RegistryClient(self.url, credentials=self.credentials)
        return self

    def stop(self) -> None:
        """Stop serving, close the helpers' client and remove the registry's temporary
        directories. Safe to call twice."""
        try:
            if self._client is not None:
                self._client.close()
            if self._server is not None:
                self._server.stop()
        finally:
            self._cleanup()

    def __enter__(self) -> EmbeddedRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "not running"
        return f"<EmbeddedRegistry {self.config.storage.driver} {where}>"
