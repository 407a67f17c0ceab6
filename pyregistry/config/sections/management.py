"""``management``: the JSON management API (pyregistry's own; ``docs/management-api.md``).

Off unless ``enabled``. ``prefix`` is where it answers (under ``http.prefix``). ``cors``
lets browser clients on other origins call it: ``allowedorigins`` lists them (``*``:
any; empty: no CORS headers at all); preflight ``OPTIONS`` requests are answered without
credentials, as browsers send none.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import Section, section, setting
from pyregistry.config.schema import BOOL, DURATION, STR, STRLIST

DEFAULT_PREFIX = "/api/v1"


@dataclass
class CorsSettings:
    allowedorigins: list[str] = setting(STRLIST, factory=list)
    allowedmethods: list[str] = setting(
        STRLIST, factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    allowedheaders: list[str] = setting(STRLIST, factory=lambda: ["Authorization", "Content-Type"])
    #: whether browsers may send cookies / Authorization with cross-origin requests
    allowcredentials: bool = setting(BOOL, default=False)
    #: how long a browser may cache a preflight answer
    maxage: float = setting(DURATION, default=600.0)


@dataclass(eq=False)
class ManagementConfig(Section):
    NAME = "management"

    enabled: bool = setting(BOOL, default=False)
    prefix: str = setting(STR, default=DEFAULT_PREFIX)
    cors: CorsSettings = setting(section(CorsSettings), factory=CorsSettings)
