"""``ui`` (pyregistry's own): the web UI (``pyregistry.ui``), off unless enabled.

``ui.enabled`` turns it on, ``ui.prefix`` is the path it answers under (``/ui``; ``/``
is allowed: the API keeps ``/v2``). ``ui.secret`` signs the session cookie; without it,
distribution's ``http.secret`` does, then a key derived from the token service's signing
key (``auth.token.issue.key``); without any, each process draws a random one (sessions
then end with a restart and do not cross workers: a warning says so).
``ui.sessiontimeout`` ends a session idle that long; ``ui.securecookie`` marks the cookie
``Secure`` (default: when ``http.tls`` or an ``https://`` ``http.host`` is configured).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import Section, setting
from pyregistry.config.schema import BOOL, DURATION, STR

DEFAULT_SESSION_TIMEOUT = 12 * 3600.0


@dataclass(eq=False)
class UIConfig(Section):
    NAME = "ui"

    enabled: bool = setting(BOOL, default=False)
    prefix: str = setting(STR, default="/ui")
    #: signs the session cookie (None: ``http.secret``, the token signing key, or random)
    secret: str | None = setting(STR)
    sessiontimeout_seconds: float = setting(
        DURATION, "sessiontimeout", default=DEFAULT_SESSION_TIMEOUT
    )
    #: the cookie's ``Secure`` flag (None: on when TLS or an https ``http.host`` is set)
    securecookie: bool | None = setting(BOOL)
