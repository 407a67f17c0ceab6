"""``log``: level, format, fixed fields, the access log (and mail hooks, refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyregistry.config.declare import setting
from pyregistry.config.schema import ANY, BOOL, LEVEL, STR, STRLIST, ListOf, MapOf, Scalar, Struct
from pyregistry.config.schema import struct as s

_HOOK = Struct(
    {
        "disabled": BOOL,
        "type": STR,
        "levels": STRLIST,
        "options": s(
            smtp=s(addr=STR, username=STR, password=STR, insecure=BOOL),
            **{"from": STR},
            to=STRLIST,
        ),
    },
    env_names={"MAILOPTIONS": "options"},
)


@dataclass
class LogConfig:
    #: Also read from the top-level ``loglevel`` (distribution's old spelling).
    level: str = setting(LEVEL, default="info")
    formatter: str = setting(Scalar("choice", ("text", "json", "logstash")), default="text")
    fields: dict[str, Any] = setting(MapOf(ANY), factory=dict)
    accesslog_disabled: bool = setting(BOOL, "accesslog.disabled", default=False)
    reportcaller: bool = setting(BOOL, default=False)
    #: ``log.hooks`` as written (mail hooks; refused unless disabled).
    hooks: list[dict[str, Any]] = setting(ListOf(_HOOK), factory=list)
