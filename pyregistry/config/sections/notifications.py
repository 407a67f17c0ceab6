"""``notifications``: webhook endpoints as written; :mod:`pyregistry.notifications.config`
applies distribution's defaults and the checks that need more than a type (URLs, actions,
unique names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pyregistry.config.declare import Section, section, setting
from pyregistry.config.schema import BOOL, COUNT, DURATION, HEADERS, STR, STRLIST, ListOf


@dataclass
class EndpointSettings:
    name: str = setting(STR, default="", required=True)
    url: str = setting(STR, default="", required=True)
    disabled: bool = setting(BOOL, default=False)
    headers: dict[str, list[str]] = setting(HEADERS, factory=dict)
    #: seconds; 0 (unset) means distribution's default
    timeout: float = setting(DURATION, default=0.0)
    threshold: int = setting(COUNT, default=0)
    backoff: float = setting(DURATION, default=0.0)
    ignoredmediatypes: list[str] = setting(STRLIST, factory=list)
    ignore_mediatypes: list[str] = setting(STRLIST, "ignore.mediatypes", factory=list)
    ignore_actions: list[str] = setting(STRLIST, "ignore.actions", factory=list)


@dataclass(eq=False)
class NotificationsSection(Section):
    NAME = "notifications"

    GO_NAMES: ClassVar[dict[str, str]] = {"EVENTCONFIG": "events"}

    includereferences: bool = setting(BOOL, "events.includereferences", default=False)
    #: pyregistry: where the durable delivery queue lives (None: beside the data)
    queue_directory: str | None = setting(STR, "queue.directory")
    endpoints: list[EndpointSettings] = setting(
        ListOf(section(EndpointSettings), "a list of endpoints"), factory=list
    )
