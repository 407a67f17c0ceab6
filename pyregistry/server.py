"""Run the registry under uvicorn, with the debug server beside it.

One worker (the default): the API server and the debug server run in one event loop and
share the health checks. SIGTERM or SIGINT stops accepting connections and lets in-flight
requests finish for ``http.draintimeout`` (30s when unset), then exits 0; a second SIGINT
cuts them short.

Several workers (one per usable core by default, as distribution uses every core;
``--workers N`` / ``PYREGISTRY_WORKERS`` override): uvicorn's supervisor forks N
processes sharing the listening socket; each builds its own app through
:func:`worker_app` from the same config file and environment. The debug server runs in
the supervisor (in a thread) with its own health checks, and ``/metrics`` adds up every
worker through prometheus_client's multiprocess mode. The workers' in-memory blob
descriptor caches share a generation file, so a delete in one is seen by all at once.

HTTP is parsed by httptools and the loop is uvloop when installed (``uvicorn[standard]``),
else h11 and asyncio's loop (:mod:`pyregistry.http_stack`).

Every app is wrapped, outermost first, in: access log, metrics (when Prometheus is on),
the request-rate limit (``http.ratelimit``), the response headers (``http.headers``), the
health gate (503 while a check fails), then the API. Connections are served by the guarded
protocols of :mod:`pyregistry.connections` (header and idle timeouts, the connection cap);
``PYREGISTRY_HTTP`` and ``PYREGISTRY_LOOP`` pick the HTTP parser and the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors.multiprocess import Multiprocess

from pyregistry import http_stack
from pyregistry.allocator import tune_allocator
from pyregistry.assembly import (
    APP_FACTORY,
    ChecksLifespan,
    assemble,
    driver_getter,
    register_redis_check,
)
from pyregistry.config import Config, ConfigError, load_config
from pyregistry.config.model import TLSConfig
from pyregistry.connections import (
    ConnectionLimits,
    event_loop_factory,
    install_accept_log_limit,
    limits_from_config,
    protocol_path,
)
from pyregistry.debug.app import create_debug_app
from pyregistry.debug.health import HealthChecks, default_checks
from pyregistry.debug.health import register_configured_checks as register_checks
from pyregistry.descriptor_cache.generation import GENERATION_FILE_ENV, create_generation_file
from pyregistry.letsencrypt import configured as letsencrypt_configured
from pyregistry.letsencrypt import server_context as letsencrypt_context
from pyregistry.letsencrypt import start_renewal
from pyregistry.logs import setup_logging
from pyregistry.preflight import check_in_child
from pyregistry.shared_pipe import remove_lock_file
from pyregistry.sockets import Listener, bind, harden, parse_addr, tls_options
from pyregistry.workers import default_workers
from storage_drivers.factory import available_drivers

WORKERS_ENV = "PYREGISTRY_WORKERS"
#: The HTTP parser (h11, httptools, auto) and event loop (asyncio, uvloop, auto).
HTTP_IMPL_ENV = "PYREGISTRY_HTTP"
LOOP_ENV = "PYREGISTRY_LOOP"
DEFAULT_DRAIN_SECONDS = 30.0
#: How the supervisor tells worker processes what to build.
_WORKER_CONFIG_ENV = "PYREGISTRY_WORKER_CONFIG"
_WORKER_FACTORY_ENV = "PYREGISTRY_WORKER_APP_FACTORY"
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger("pyregistry.server")


class _UvicornConfig(uvicorn.Config):
    """uvicorn's Config plus ``minimumtls``/``ciphersuites``, applied wherever it loads,
    and the connection limits the guarded protocols read (both survive the pickling that
    hands the config to worker processes)."""

    def __init__(
        self,
        app: Any,
        *,
        tls: TLSConfig | None = None,
        limits: ConnectionLimits | None = None,
        **kwargs: Any,
    ) -> None:
        self.registry_tls = tls
        self.registry_limits = limits
        super().__init__(app, **kwargs)

    def load(self) -> None:
        super().load()
        if self.registry_tls is None:
            return
        acme_context = letsencrypt_context(self.registry_tls)
        if acme_context is not None:
            self.ssl = acme_context
        elif self.ssl is not None:
            harden(self.ssl, self.registry_tls)


class _Server(uvicorn.Server):
    """A uvicorn server leaving signals to :func:`serve`, which stops both servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def worker_app() -> ASGIApp:
    """uvicorn app factory for worker processes: reload the config the supervisor used."""
    tune_allocator()
    config = load_config(os.environ.get(_WORKER_CONFIG_ENV) or None)
    setup_logging(config.log)
    install_accept_log_limit()
    return assemble(config, default_checks, os.environ.get(_WORKER_FACTORY_ENV) or APP_FACTORY)


def _uvicorn_options(config: Config, *, lifespan: str = "on") -> dict[str, Any]:
    drain = config.http.draintimeout_seconds or DEFAULT_DRAIN_SECONDS
    limits = limits_from_config(config.http)
    return {
        "limits": limits,
        "http": protocol_path(os.environ.get(HTTP_IMPL_ENV) or "auto"),
        "loop": os.environ.get(LOOP_ENV) or "auto",
        "timeout_keep_alive": limits.idle_timeout,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "ws": "none",
        "lifespan": lifespan,
        "timeout_graceful_shutdown": drain,
    }


def resolve_workers(value: int | str | None, environ: dict[str, str] | None = None) -> int:
    """``--workers`` if given, else ``$PYREGISTRY_WORKERS``, else one per usable core."""
    env = os.environ if environ is None else environ
    raw = value if value is not None else env.get(WORKERS_ENV) or default_workers()
    try:
        workers = int(raw)
    except ValueError:
        raise ConfigError(f"workers must be a positive integer, got {raw!r}") from None
    if workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {raw!r}")
    return workers


def serve(config: Config, *, workers: int | None = None, app_factory: str = APP_FACTORY) -> int:
    """Serve until SIGTERM/SIGINT; the process exit status. Raises :class:`ConfigError`
    for addresses or TLS settings that cannot work."""
    if config.storage.driver not in available_drivers():
        raise ConfigError(
            f"unknown storage driver {config.storage.driver!r}; "
            f"available: {', '.join(available_drivers())}",
            key=f"storage.{config.storage.driver}",
        )
    tls = tls_options(config.http.tls)
    letsencrypt = letsencrypt_configured(config.http.tls)
    listener = parse_addr(config.http.addr, config.http.net)
    debug = (
        parse_addr(config.http.debug.addr, "tcp", "http.debug.addr")
        if config.http.debug.addr
        else None
    )
    setup_logging(config.log)
    install_accept_log_limit()
    tune_allocator()
    for warning in config.warnings:
        log.warning(warning)
    workers = default_workers() if workers is None else workers
    for note in _unsupported(config):
        log.warning(note)
    try:  # every configuration error is reported before "listening on"
        app = _build_app(config, workers, app_factory)
    except ConfigError:
        raise
    except Exception:
        log.exception("cannot create the registry app")
        return 1
    try:
        sock = bind(listener)
    except OSError as exc:
        log.error(f"cannot listen on {listener.describe()}: {exc}")
        return 1
    debug_sock = None
    try:
        debug_sock = bind(debug) if debug else None
    except OSError as exc:
        log.error(f"cannot listen on {debug.describe() if debug else ''}: {exc}")
        sock.close()
        return 1
    scheme = "https" if tls or letsencrypt is not None else "http"
    log.info(f"listening on {listener.describe(sock)}", extra={"scheme": scheme})
    log.info(f"{workers} worker process{'es' if workers > 1 else ''}, {http_stack.describe()}")
    if debug_sock is not None and debug is not None:
        log.info(f"debug server listening on {debug.describe(debug_sock)}")
    renewal = start_renewal(letsencrypt, sock) if letsencrypt is not None else None
    try:
        if workers > 1:
            return _serve_workers(config, sock, debug_sock, workers, app_factory, tls)
        loop_factory = event_loop_factory(os.environ.get(LOOP_ENV) or "auto")
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(_serve_single(config, app, sock, debug_sock, tls))
    except SystemExit as exc:  # uvicorn exits this way when the app fails to start
        log.error("the registry failed to start")
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        if renewal is not None:
            renewal.stop()
        sock.close()
        if debug_sock is not None:
            debug_sock.close()
        bundle = tls.get("ssl_ca_certs")
        if bundle and bundle not in config.http.tls.clientcas:  # our temporary CA bundle
            with contextlib.suppress(OSError):
                os.unlink(bundle)
        if listener.net == "unix":
            with contextlib.suppress(OSError):
                os.unlink(listener.path)


def _build_app(config: Config, workers: int, app_factory: str) -> ASGIApp | None:
    """One worker: the app that will serve. Several: None, once a forked child has built
    one the way each worker will (:mod:`pyregistry.preflight`)."""
    if workers == 1:
        return assemble(config, default_checks, app_factory)
    check_in_child(config, lambda checked: assemble(checked, HealthChecks(), app_factory))
    return None


def _unsupported(config: Config) -> list[str]:
    notes = []
    if config.http.h2c_enabled:
        notes.append("http.h2c is not supported: serving HTTP/1.1 only")
    if config.log.hooks:
        notes.append("log.hooks (mail hooks) are not supported and are ignored")
    return notes


async def _serve_single(
    config: Config,
    app: ASGIApp | None,
    sock: socket.socket,
    debug_sock: socket.socket | None,
    tls: dict[str, Any],
) -> int:
    assert app is not None, "one worker serves the app serve() built"
    main = _Server(_UvicornConfig(app, tls=config.http.tls, **_uvicorn_options(config), **tls))
    debug = None
    if debug_sock is not None:
        debug_app = create_debug_app(default_checks, config.http.debug)
        debug = _Server(_UvicornConfig(debug_app, **_uvicorn_options(config, lifespan="off")))

    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info(f"received {sig.name}: draining connections, then stopping")
        if main.should_exit and sig == signal.SIGINT:
            main.force_exit = True
        main.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    debug_task = None
    try:
        if debug is not None and debug_sock is not None:
            debug_task = asyncio.create_task(debug.serve(sockets=[debug_sock]))
        await main.serve(sockets=[sock])
    finally:
        if debug is not None and debug_task is not None:
            debug.should_exit = True
            await debug_task
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("registry stopped")
    return 0 if main.started else 1


def _serve_workers(
    config: Config,
    sock: socket.socket,
    debug_sock: socket.socket | None,
    workers: int,
    app_factory: str,
    tls: dict[str, Any],
) -> int:
    os.environ[_WORKER_CONFIG_ENV] = config.path or ""
    os.environ[_WORKER_FACTORY_ENV] = app_factory
    metrics_dir = None
    if config.http.debug.prometheus_enabled and not os.environ.get(_MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="pyregistry-metrics-")
        os.environ[_MULTIPROC_ENV] = metrics_dir
    generation_file = create_generation_file()
    os.environ[GENERATION_FILE_ENV] = generation_file
    options = _uvicorn_options(config)
    uconfig = _UvicornConfig(
        "pyregistry.server:worker_app",
        factory=True,
        workers=workers,
        tls=config.http.tls,
        **options,
        **tls,
    )
    debug_thread = _start_debug_thread(config, debug_sock) if debug_sock is not None else None
    try:
        Multiprocess(uconfig, sockets=[sock]).run()
    finally:
        if debug_thread is not None:
            server, thread = debug_thread
            server.should_exit = True
            thread.join(timeout=10)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(generation_file)
        remove_lock_file(sys.stdout)  # the access log's, if the workers shared a pipe
    log.info("registry stopped")
    return 0


def _start_debug_thread(config: Config, sock: socket.socket) -> tuple[_Server, threading.Thread]:
    """The supervisor's debug server, with its own health checks, in its own loop."""
    checks = HealthChecks()
    driver = driver_getter(None, config)
    register_checks(checks, config.health, config.storage.driver, driver)
    if config.replication.policies:  # imported only then: the supervisor stays small
        from pyregistry.replication import publish_vars

        publish_vars(config, driver)  # read from storage: the workers replicate
    register_redis_check(checks, config)
    app = ChecksLifespan(create_debug_app(checks, config.http.debug), checks)
    server = _Server(_UvicornConfig(app, **_uvicorn_options(config)))
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="debug-server", daemon=True
    )
    thread.start()
    return server, thread


__all__ = [
    "APP_FACTORY",
    "ChecksLifespan",
    "Listener",
    "assemble",
    "resolve_workers",
    "serve",
    "worker_app",
]
