"""``health``: the checks that gate the API with 503 while they fail (distribution's
``health`` section; run by :mod:`pyregistry.debug.health`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pyregistry.config.declare import Section, section, setting
from pyregistry.config.schema import BOOL, DURATION, HEADERS, INT, STR, ListOf


@dataclass
class StorageDriverCheck:
    enabled: bool = setting(BOOL, default=False)
    interval: float = setting(DURATION, default=0.0)
    threshold: int = setting(INT, default=0)


@dataclass
class FileCheck:
    file: str = setting(STR, default="", required=True)
    interval: float = setting(DURATION, default=0.0)
    threshold: int = setting(INT, default=0)


@dataclass
class HTTPCheck:
    uri: str = setting(STR, default="", required=True)
    headers: dict[str, list[str]] = setting(HEADERS, factory=dict)
    #: the status that means healthy (0: 200)
    statuscode: int = setting(INT, default=0)
    interval: float = setting(DURATION, default=0.0)
    threshold: int = setting(INT, default=0)
    timeout: float = setting(DURATION, default=0.0)


@dataclass
class TCPCheck:
    addr: str = setting(STR, default="", required=True)
    interval: float = setting(DURATION, default=0.0)
    threshold: int = setting(INT, default=0)
    timeout: float = setting(DURATION, default=0.0)


@dataclass(eq=False)
class HealthConfig(Section):
    NAME = "health"
    GO_NAMES: ClassVar[dict[str, str]] = {
        "FILECHECKERS": "file",
        "HTTPCHECKERS": "http",
        "TCPCHECKERS": "tcp",
    }

    storagedriver: StorageDriverCheck = setting(
        section(StorageDriverCheck), factory=StorageDriverCheck
    )
    file: list[FileCheck] = setting(ListOf(section(FileCheck)), factory=list)
    http: list[HTTPCheck] = setting(ListOf(section(HTTPCheck)), factory=list)
    tcp: list[TCPCheck] = setting(ListOf(section(TCPCheck)), factory=list)
