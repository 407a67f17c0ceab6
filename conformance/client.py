"""HTTP access to the registry under test, and push helpers tests build on.

The helpers use only the most basic flows (POST then monolithic PUT, manifest PUT by
reference) so that a test of some other endpoint fails for that endpoint's reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

from conformance.checks import describe, expect, expect_status, header
from conformance.content import Blob, Manifest

Headers = Mapping[str, str] | list[tuple[str, str]]
Params = Mapping[str, str] | list[tuple[str, str]]
_Pairs = list[tuple[str, str | int | float | bool | None]]


class RegistryClient:
    """A thin synchronous wrapper around :class:`httpx.Client` bound to one registry."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verbose: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = httpx.BasicAuth(user, password or "") if user is not None else None
        hooks: dict[str, list[Any]] = {}
        if verbose:
            hooks = {"request": [self._log_request], "response": [self._log_response]}
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            auth=auth,
            timeout=timeout,
            follow_redirects=True,
            event_hooks=hooks,
        )

    @staticmethod
    def _log_request(request: httpx.Request) -> None:
        print(f"  > {request.method} {request.url}", file=sys.stderr)

    @staticmethod
    def _log_response(response: httpx.Response) -> None:
        print(f"  < {response.status_code} {response.request.url.path}", file=sys.stderr)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Headers | None = None,
        content: bytes | Iterable[bytes] | None = None,
        params: Params | None = None,
    ) -> httpx.Response:
        """One request; ``url`` is a path below the base URL or an absolute URL.

        ``params`` are added to any query ``url`` already has: upload Locations may carry
        state the registry needs back (httpx would otherwise replace that query).
        """
        target = httpx.URL(url)
        if params:
            pairs: _Pairs = list(params.items() if isinstance(params, Mapping) else params)
            current: _Pairs = list(target.params.multi_items())
            merged = httpx.QueryParams(current + pairs)
            target = target.copy_with(params=merged)
        return self.http.request(method, target, headers=headers, content=content)

    def location(self, resp: httpx.Response) -> str:
        """The answer's Location, made absolute (the spec allows relative ones)."""
        return urljoin(str(resp.request.url), header(resp, "Location"))

    # -- push helpers ---------------------------------------------------------------------

    def start_upload(self, repo: str) -> httpx.Response:
        """POST an upload session; must be 202 with a Location."""
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", headers={"Content-Length": "0"})
        expect_status(resp, 202)
        header(resp, "Location")
        return resp

    def push_blob(self, repo: str, blob: Blob) -> httpx.Response:
        """POST then monolithic PUT; returns the 201."""
        started = self.start_upload(repo)
        resp = self.request(
            "PUT",
            self.location(started),
            params={"digest": blob.digest},
            headers={"Content-Type": "application/octet-stream"},
            content=blob.data,
        )
        expect_status(resp, 201)
        return resp

    def push_content(self, repo: str, manifest: Manifest) -> None:
        """Push what ``manifest`` references (its blobs, its child manifests), not itself."""
        for blob in manifest.blobs:
            self.push_blob(repo, blob)
        for child in manifest.children:
            self.push_manifest(repo, child.digest, child)

    def push_manifest(
        self, repo: str, reference: str, manifest: Manifest, *, push_blobs: bool = True
    ) -> httpx.Response:
        """PUT a manifest (its blobs and child manifests first); returns the 201."""
        if push_blobs:
            self.push_content(repo, manifest)
        resp = self.put_manifest(repo, reference, manifest)
        expect_status(resp, 201)
        return resp

    def push_tagged(self, repo: str, manifest: Manifest, tags: Iterable[str]) -> None:
        """Push ``manifest`` once (with its blobs) and then under every further tag."""
        first, *rest = list(tags)
        self.push_manifest(repo, first, manifest)
        for tag in rest:
            self.push_manifest(repo, tag, manifest, push_blobs=False)

    def put_manifest(
        self,
        repo: str,
        reference: str,
        manifest: Manifest,
        params: list[tuple[str, str]] | None = None,
    ) -> httpx.Response:
        """A bare manifest PUT, unchecked."""
        return self.request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            headers={"Content-Type": manifest.media_type},
            content=manifest.body,
            params=params,
        )

    def get_manifest(
        self, repo: str, reference: str, accept: Iterable[str], method: str = "GET"
    ) -> httpx.Response:
        """GET/HEAD a manifest, one Accept line per media type."""
        headers = [("Accept", a) for a in accept]
        return self.request(method, f"/v2/{repo}/manifests/{reference}", headers=headers)

    def expect_blob(self, repo: str, blob: Blob) -> None:
        """The blob must be readable with exactly its bytes."""
        resp = self.request("GET", f"/v2/{repo}/blobs/{blob.digest}")
        expect_status(resp, 200)
        expect(resp.content == blob.data, f"blob bytes differ: {describe(resp)}")
