"""The client side of the token flow, as docker and podman do it: request, read the
401 challenge, fetch a token from the realm with the challenge's service and scope (Basic
credentials if any), retry with ``Authorization: Bearer``."""

from __future__ import annotations

import re
from typing import Any

import httpx

_PARAM = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` -> ``("bearer", {"realm": …, "service": …})``."""
    scheme, _, rest = header.partition(" ")
    params = {k: re.sub(r"\\(.)", r"\1", v) for k, v in _PARAM.findall(rest)}
    return scheme.lower(), params


def fetch_token(
    client: httpx.Client,
    challenge: dict[str, str],
    credentials: tuple[str, str] | None,
    *,
    extra_scopes: tuple[str, ...] = (),
    offline: bool = False,
) -> httpx.Response:
    params: list[tuple[str, Any]] = [("service", challenge["service"])]
    for scope in [*challenge.get("scope", "").split(), *extra_scopes]:
        params.append(("scope", scope))
    if credentials:
        params.append(("account", credentials[0]))
    if offline:
        params.append(("offline_token", "true"))
    return client.get(challenge["realm"], params=params, auth=credentials)


def token_for(
    client: httpx.Client, challenge: dict[str, str], credentials: tuple[str, str] | None
) -> str:
    response = fetch_token(client, challenge, credentials)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token"] == body["access_token"]
    return str(body["token"])


def authed(
    client: httpx.Client,
    method: str,
    url: str,
    credentials: tuple[str, str] | None,
    **kwargs: Any,
) -> httpx.Response:
    """One request the way a registry client makes it, through the token dance."""
    first = client.request(method, url, **kwargs)
    if first.status_code != 401:
        return first
    scheme, challenge = parse_challenge(first.headers["www-authenticate"])
    assert scheme == "bearer", first.headers["www-authenticate"]
    token = token_for(client, challenge, credentials)
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Authorization"] = f"Bearer {token}"
    return client.request(method, url, headers=headers, **kwargs)
