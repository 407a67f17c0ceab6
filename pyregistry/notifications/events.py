"""Turning what the storage side reports (``emit(kind, context=..., repository=...,
**details)``, see :mod:`pyregistry.notifications.listener`) into distribution's event
records: ``id``, ``timestamp``, ``action``, ``target``, ``request``, ``actor``, ``source``.


Empty fields are left out, as Go's ``omitempty`` does, so delete events carry only the
digest (or tag) and the repository. An event is built once, when it happens, and stored
whole: its ``id`` and ``timestamp`` stay the same on every delivery attempt.
"""

from __future__ import annotations

import logging
import socket
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pyregistry import json_input
from pyregistry.config.model import HTTPConfig
from pyregistry.events import (
    BLOB_DELETE,
    BLOB_MOUNT,
    BLOB_PULL,
    BLOB_PUSH,
    MANIFEST_DELETE,
    MANIFEST_PULL,
    MANIFEST_PUSH,
    TAG_DELETE,
    Caller,
    InternalCaller,
)
from pyregistry.storage import Digest
from pyregistry.storage.interfaces import Namespace
from pyregistry.storage.manifest_format import raw_references

#: The envelope's media type, sent as the request's Content-Type.
EVENTS_MEDIA_TYPE = "application/vnd.docker.distribution.events.v2+json"

PUSH, PULL, MOUNT, DELETE = "push", "pull", "mount", "delete"

#: kind -> (action, what the target is)
KINDS: dict[str, tuple[str, str]] = {
    BLOB_PUSH: (PUSH, "blob"),
    BLOB_PULL: (PULL, "blob"),
    BLOB_MOUNT: (MOUNT, "blob"),
    BLOB_DELETE: (DELETE, "blob"),
    MANIFEST_PUSH: (PUSH, "manifest"),
    MANIFEST_PULL: (PULL, "manifest"),
    MANIFEST_DELETE: (DELETE, "manifest"),
    TAG_DELETE: (DELETE, "tag"),
}

#: Descriptor fields copied into ``target.references``.
_DESCRIPTOR_KEYS = ("mediaType", "digest", "size", "urls", "annotations", "platform")

log = logging.getLogger("pyregistry.notifications")


def timestamp(now: datetime | None = None) -> str:
    """RFC 3339 in UTC with microseconds, as receivers of Go's time.Time expect."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def source_addr(http_addr: str) -> str:
    """``hostname:port`` of this instance, as distribution derives it from ``http.addr``."""
    try:
        hostname = socket.gethostname()
    except OSError:
        return http_addr
    _, sep, port = http_addr.rpartition(":")
    return f"{hostname}:{port}" if sep and port.isdigit() else hostname


class EventBuilder:
    """Builds event records for one registry instance."""

    def __init__(
        self,
        http: HTTPConfig,
        *,
        registry: Namespace | None = None,
        include_references: bool = False,
        instance_id: str | None = None,
    ) -> None:
        self.registry = registry
        self.include_references = include_references
        self.source = {
            "addr": source_addr(http.addr),
            "instanceID": instance_id or str(uuid.uuid4()),
        }
        self._prefix = "/" + (http.prefix or "").strip().strip("/")
        self._prefix = "" if self._prefix == "/" else self._prefix
        self._relative = http.relativeurls
        self._root: str | None = None
        if http.host:
            parts = urlsplit(http.host if "//" in http.host else f"//{http.host}")
            self._root = f"{parts.scheme or 'http'}://{parts.netloc}"
        self._scheme = "https" if http.tls.certificate else "http"

    async def build(self, kind: str, details: dict[str, Any]) -> list[dict[str, Any]]:
        """The events for one ``emit`` (none for kinds this module does not know).

        A manifest pushed with several tags (``?tag=a&tag=b``) gives one event per tag.
        """
        if kind not in KINDS:
            return []
        action, what = KINDS[kind]
        context: Caller = details.get("context") or InternalCaller()
        repository = str(details.get("repository") or getattr(context, "repository", "") or "")
        target: dict[str, Any] = {}
        digest = details.get("digest")
        if what == "tag":
            target = {"repository": repository, "tag": str(details.get("tag") or "")}
        elif action == DELETE:
            target = {"digest": str(digest), "repository": repository}
        else:
            target = self._content_target(what, repository, context, details)
            if what == "manifest" and self.include_references:
                references = await self._references(repository, str(digest), details)
                if references:
                    target["references"] = references
        base = {
            "action": action,
            "target": _compact(target),
            "request": self._request(context),
            "actor": {"name": context.actor} if context.actor else {},
            "source": dict(self.source),
        }
        tags = [str(t) for t in details.get("tags") or () if t]
        if kind == MANIFEST_PUSH and len(tags) > 1:
            return [self._stamp(base, {"tag": tag}) for tag in tags]
        return [self._stamp(base, {})]

    def _stamp(self, base: dict[str, Any], extra_target: dict[str, Any]) -> dict[str, Any]:
        event = {"id": str(uuid.uuid4()), "timestamp": timestamp(), **base}
        event["target"] = {**base["target"], **extra_target}
        return event

    def _content_target(
        self, what: str, repository: str, context: Caller, details: dict[str, Any]
    ) -> dict[str, Any]:
        digest = str(details.get("digest") or "")
        size = details.get("size")
        target: dict[str, Any] = {
            "mediaType": details.get("media_type"),
            "digest": digest,
            "size": size,
            "length": size,
            "repository": repository,
            "url": self._url(context, f"{repository}/{what}s/{digest}"),
        }
        if what == "blob" and details.get("from_repository"):
            target["fromRepository"] = str(details["from_repository"])
        if what == "manifest" and details.get("tag"):
            target["tag"] = str(details["tag"])
        return target

    def _url(self, context: Caller, suffix: str) -> str:
        path = f"{self._prefix}/v2/{quote(suffix, safe='/:@')}"
        if self._relative:
            return path
        root = self._root or f"{self._scheme}://{context.host or 'localhost'}"
        return root + path

    @staticmethod
    def _request(context: Caller) -> dict[str, Any]:
        record: dict[str, Any] = {"id": context.request_id}
        if context.remote_addr:
            record["addr"] = context.remote_addr
        if context.host:
            record["host"] = context.host
        record["method"] = context.method
        record["useragent"] = context.user_agent or ""
        return record

    async def _references(
        self, repository: str, digest: str, details: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The descriptors a manifest points at: an index's manifests, an image's config
        and layers. From the push itself when it passed them, else read from storage."""
        passed = details.get("references")
        if isinstance(passed, list):
            return _descriptor_fields(passed)
        content = details.get("content")
        if not isinstance(content, (bytes, str)):
            if self.registry is None:
                return []
            try:
                stored = await self.registry.repository(repository).manifests.get(
                    Digest.parse(digest)
                )
            except Exception as exc:  # noqa: BLE001 - the event still goes out, without them
                log.warning(
                    "cannot read manifest for event references",
                    extra={"repository": repository, "digest": digest, "error": str(exc)},
                )
                return []
            content = stored.content
        return manifest_references(content)


def manifest_references(content: bytes | str) -> list[dict[str, Any]]:
    """``manifests`` of an index, else ``config`` then ``layers`` of an image manifest."""
    try:
        doc = json_input.loads(content)
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    return _descriptor_fields(list(raw_references(doc)))


def _descriptor_fields(found: list[Any]) -> list[dict[str, Any]]:
    return [
        {key: item[key] for key in _DESCRIPTOR_KEYS if key in item}
        for item in found
        if isinstance(item, dict)
    ]


def _compact(target: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields, as distribution's ``omitempty`` JSON tags do."""
    return {key: value for key, value in target.items() if value not in (None, "", [], 0)}
