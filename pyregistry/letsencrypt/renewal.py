"""Certificates kept valid: one thread of the serving process (the supervisor when there
are several workers) orders each host's certificate when it is missing or expires
within :data:`RENEW_BEFORE` (autocert's default), and looks again every
:data:`CHECK_SECONDS`. A failed order is retried after :data:`RETRY_SECONDS`, doubling up
to :data:`CHECK_SECONDS`; meanwhile the old certificate, if any, is served. Processes
sharing the directory take turns (a lock) and find what another one obtained."""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable

from pyregistry.letsencrypt.issuer import issue
from pyregistry.letsencrypt.settings import LetsEncryptSettings
from pyregistry.letsencrypt.store import CertificateStore

log = logging.getLogger("pyregistry.letsencrypt")

RENEW_BEFORE = datetime.timedelta(days=30)
CHECK_SECONDS = 12 * 3600.0
RETRY_SECONDS = 60.0
#: How often the thread looks whether the server listens yet, before its first order.
READY_POLL_SECONDS = 0.05


class Renewal:
    """The thread (:meth:`start`, :meth:`stop`). ``listening`` says whether the server
    takes connections yet: the CA validates as soon as an order is answered, and a
    connection refused (workers still starting) fails the order."""

    def __init__(self, settings: LetsEncryptSettings, listening: Callable[[], bool]) -> None:
        self._settings = settings
        self._listening = listening
        self._store = CertificateStore(settings.cache_dir)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="letsencrypt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def due(self, host: str) -> bool:
        expires = self._store.expires(host)
        now = datetime.datetime.now(datetime.UTC)
        return expires is None or expires - now < RENEW_BEFORE

    def renew_due(self) -> bool:
        """Order every certificate that is due; True when none failed."""
        ok = True
        for host in self._settings.hosts:
            if self._stopping.is_set() or not self.due(host):
                continue
            try:
                with self._store.locked():
                    if self.due(host):  # else another process got it meanwhile
                        issue(self._settings, self._store, host)
            except Exception as exc:  # noqa: BLE001 - logged (the directory, the CA); retried
                log.error("cannot obtain a certificate for %s: %s", host, exc)
                ok = False
        return ok

    def _run(self) -> None:
        while not self._listening():
            if self._stopping.wait(READY_POLL_SECONDS):
                return
        retry = RETRY_SECONDS
        while not self._stopping.is_set():
            if self.renew_due():
                retry = RETRY_SECONDS
                wait = CHECK_SECONDS
            else:
                wait, retry = retry, min(retry * 2, CHECK_SECONDS)
            self._stopping.wait(wait)
