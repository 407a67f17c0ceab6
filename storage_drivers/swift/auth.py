"""Getting a Swift token and storage URL: tempauth/v1, Keystone v2.0 and Keystone v3.

Each version is one request and one response parser, written from the APIs' own
documentation, so adding a version never touches the driver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from storage_drivers.errors import StorageDriverError
from storage_drivers.swift.parameters import SwiftParameters


class SwiftAuthError(StorageDriverError):
    """The credentials were refused or the auth service could not be used."""

    def __init__(self, message: str) -> None:
        super().__init__(f"swift authentication failed: {message}", driver="swift")


@dataclass(frozen=True, slots=True)
class AuthResult:
    """What every later request needs: the token and the account's storage URL."""

    token: str
    storage_url: str
    expires_at: float | None = None  # time.time() seconds, when the service says
    tenant_id: str = ""
    issued_at: float = field(default_factory=time.time)

    def expiring(self, margin: float) -> bool:
        """Within ``margin`` seconds (at most a quarter of its lifetime) of expiry."""
        if self.expires_at is None:
            return False
        margin = min(margin, (self.expires_at - self.issued_at) / 4)
        return self.expires_at - time.time() < margin


async def authenticate(client: httpx.AsyncClient, params: SwiftParameters) -> AuthResult:
    """Ask the auth service named by ``params`` for a token."""
    version = params.auth_version
    try:
        if version == 1:
            return await _v1(client, params)
        if version == 2:
            return await _v2(client, params)
        return await _v3(client, params)
    except httpx.HTTPError as exc:
        raise SwiftAuthError(f"cannot reach {params.authurl}: {exc!r}") from exc


def _refused(url: str, response: httpx.Response) -> SwiftAuthError:
    text = response.text.strip().replace("\n", " ")[:200]
    return SwiftAuthError(f"{url} answered HTTP {response.status_code} {text}".rstrip())


async def _v1(client: httpx.AsyncClient, params: SwiftParameters) -> AuthResult:
    """tempauth/swauth: credentials in headers, token and URL in response headers."""
    headers = {"X-Auth-User": params.username, "X-Auth-Key": params.password}
    response = await client.get(params.authurl, headers=headers)
    if not response.is_success:
        raise _refused(params.authurl, response)
    token = response.headers.get("X-Auth-Token", "")
    url = response.headers.get("X-Storage-Url", "")
    if not token or not url:
        raise SwiftAuthError(f"{params.authurl} sent no X-Auth-Token or X-Storage-Url")
    if params.endpointtype == "internal":
        # the v1 convention (Rackspace ServiceNet): the internal host is "snet-<host>"
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(netloc="snet-" + parts.netloc))
    expires = response.headers.get("X-Auth-Token-Expires")
    expires_at = time.time() + float(expires) if expires and _is_number(expires) else None
    return AuthResult(token, url.rstrip("/"), expires_at)


async def _v2(client: httpx.AsyncClient, params: SwiftParameters) -> AuthResult:
    """Keystone v2.0: POST /tokens with passwordCredentials, URL from the catalog."""
    url = _endpoint(params.authurl, "tokens")
    auth: dict[str, Any] = {
        "passwordCredentials": {"username": params.username, "password": params.password}
    }
    if params.tenantid:
        auth["tenantId"] = params.tenantid
    elif params.tenant:
        auth["tenantName"] = params.tenant
    response = await client.post(url, json={"auth": auth})
    if not response.is_success:
        raise _refused(url, response)
    access = response.json().get("access", {})
    token = access.get("token", {})
    key = {"public": "publicURL", "internal": "internalURL", "admin": "adminURL"}
    storage_url = ""
    for service in access.get("serviceCatalog", []):
        if service.get("type") != "object-store":
            continue
        for endpoint in service.get("endpoints", []):
            if params.region and endpoint.get("region") != params.region:
                continue
            storage_url = endpoint.get(key[params.endpointtype], "")
            if storage_url:
                break
        if storage_url:
            break
    if not token.get("id") or not storage_url:
        raise SwiftAuthError(f"{url}: no token or no object-store endpoint in the catalog")
    tenant_id = str((token.get("tenant") or {}).get("id", ""))
    return AuthResult(token["id"], storage_url.rstrip("/"), _iso(token.get("expires")), tenant_id)


def _v3_body(params: SwiftParameters) -> dict[str, Any]:
    user: dict[str, Any] = {"name": params.username, "password": params.password}
    user_domain = _domain(params.domain, params.domainid)
    if user_domain:
        user["domain"] = user_domain
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if params.trustid:
        auth["scope"] = {"OS-TRUST:trust": {"id": params.trustid}}
    elif params.tenantid:
        auth["scope"] = {"project": {"id": params.tenantid}}
    elif params.tenant:
        project_domain = _domain(params.tenantdomain, params.tenantdomainid) or user_domain
        project: dict[str, Any] = {"name": params.tenant}
        if project_domain:
            project["domain"] = project_domain
        auth["scope"] = {"project": project}
    return {"auth": auth}


async def _v3(client: httpx.AsyncClient, params: SwiftParameters) -> AuthResult:
    """Keystone v3: POST /auth/tokens, token in X-Subject-Token, URL from the catalog."""
    url = _endpoint(params.authurl, "auth/tokens")
    response = await client.post(url, json=_v3_body(params))
    if not response.is_success:
        raise _refused(url, response)
    token = response.json().get("token", {})
    storage_url = ""
    for service in token.get("catalog", []):
        if service.get("type") != "object-store":
            continue
        for endpoint in service.get("endpoints", []):
            region = params.region
            if region and region not in (endpoint.get("region"), endpoint.get("region_id")):
                continue
            if endpoint.get("interface") == params.endpointtype and endpoint.get("url"):
                storage_url = endpoint["url"]
                break
        if storage_url:
            break
    subject = response.headers.get("X-Subject-Token", "")
    if not subject or not storage_url:
        raise SwiftAuthError(f"{url}: no X-Subject-Token or no object-store endpoint")
    tenant_id = str((token.get("project") or {}).get("id", ""))
    return AuthResult(subject, storage_url.rstrip("/"), _iso(token.get("expires_at")), tenant_id)


def _endpoint(authurl: str, suffix: str) -> str:
    """``authurl`` may be the service root (``.../v3``) or already end in the suffix."""
    url = authurl.rstrip("/")
    for tail in (suffix, suffix.split("/")[0]):
        if url.endswith("/" + tail):
            return url if tail == suffix else url + "/" + suffix.split("/", 1)[1]
    return url + "/" + suffix


def _domain(name: str, ident: str) -> dict[str, str] | None:
    if ident:
        return {"id": ident}
    if name:
        return {"name": name}
    return None


def _iso(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
