"""A small synchronous registry client over httpx: what the embedding's helpers push and
read with, going through the HTTP API exactly as any client would.

It answers ``Basic`` and ``Bearer`` challenges itself (the token dance of the distribution
token spec), so the helpers work against a registry with auth turned on when given
credentials. Environment proxies are ignored: the registry is on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, NamedTuple
from urllib.parse import urljoin

import httpx

from pyregistry.embedding.content import MANIFEST_TYPES, OCTET_STREAM, sha256_digest

CHUNK_SIZE = 1024 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_REPOSITORY_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags|referrers)/")


class RegistryResponseError(RuntimeError):
    """The registry answered something the helper did not expect; carries the response."""

    def __init__(self, action: str, response: httpx.Response) -> None:
        self.response = response
        super().__init__(
            f"{action}: {response.status_code} {response.reason_phrase}: {response.text[:2000]}"
        )


class Manifest(NamedTuple):
    """A manifest as served: its bytes, ``Content-Type`` and ``Docker-Content-Digest``."""

    content: bytes
    media_type: str
    digest: str

    def json(self) -> Any:
        """The manifest parsed."""
        return json.loads(self.content)


@dataclass(frozen=True)
class BlobSource:
    """A blob to push that is read on demand (from a file or an archive member)."""

    digest: str
    size: int
    open: Callable[[], IO[bytes]]


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` -> ``("bearer", {"realm": …, "service": …})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        match.group(1).lower(): (
            re.sub(r"\\(.)", r"\1", match.group(2))
            if match.group(2) is not None
            else match.group(3)
        )
        for match in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def basic_header(username: str, password: str) -> str:
    """The ``Authorization`` value for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class ChallengeAuth(httpx.Auth):
    """Answer a registry's 401: Basic with the credentials, or Bearer by fetching a token
    from the challenge's realm. Tokens are kept per repository (and one for the rest)."""

    requires_response_body = True

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self._tokens: dict[str, str] = {}
        self._basic = False

    @staticmethod
    def _key(request: httpx.Request) -> str:
        match = _REPOSITORY_PATH.match(request.url.path)
        return match.group(1) if match else ""

    def _authorize(self, request: httpx.Request) -> None:
        token = self._tokens.get(self._key(request))
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        elif self._basic and self.credentials is not None:
            request.headers["Authorization"] = basic_header(*self.credentials)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "")
        scheme, params = parse_challenge(challenge)
        if scheme == "basic" and self.credentials is not None:
            self._basic = True
        elif scheme == "bearer" and params.get("realm"):
            token_request = self._token_request(params)
            token_response = yield token_request
            if token_response.status_code != 200:
                return
            body = token_response.json()
            token = body.get("token") or body.get("access_token")
            if not isinstance(token, str):
                return
            self._tokens[self._key(request)] = token
        else:
            return
        self._authorize(request)
        yield request

    def _token_request(self, params: Mapping[str, str]) -> httpx.Request:
        query = {key: params[key] for key in ("service", "scope") if params.get(key)}
        request = httpx.Request("GET", params["realm"], params=query)
        if self.credentials is not None:
            request.headers["Authorization"] = basic_header(*self.credentials)
        return request


def _file_chunks(source: BlobSource) -> Iterator[bytes]:
    with source.open() as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def hash_stream(handle: IO[bytes]) -> tuple[str, int]:
    """Digest and size of what ``handle`` yields, read in constant memory."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK_SIZE):
        hasher.update(chunk)
        size += len(chunk)
    return "sha256:" + hasher.hexdigest(), size


class RegistryClient:
    """Push and read blobs and manifests of one registry. Thread-safe (httpx's pool)."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: tuple[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            auth=ChallengeAuth(credentials),
            timeout=timeout,
            trust_env=False,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _check(response: httpx.Response, action: str, *expected: int) -> httpx.Response:
        if response.status_code not in expected:
            response.read()
            raise RegistryResponseError(action, response)
        return response

    def ping(self) -> int:
        """``GET /v2/``'s status: 200, or 401 when auth is on and no credentials fit."""
        return self.http.get("/v2/").status_code

    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.http.head(f"/v2/{repository}/blobs/{digest}")
        return response.status_code == 200

    def push_blob(self, repository: str, data: bytes | BlobSource) -> str:
        """Upload ``data`` (POST, then PUT ``?digest=`` with the body) unless the repository
        already has it; the blob's digest."""
        digest = sha256_digest(data) if isinstance(data, bytes) else data.digest
        if self.blob_exists(repository, digest):
            return digest
        started = self._check(
            self.http.post(f"/v2/{repository}/blobs/uploads/"), f"start upload of {digest}", 202
        )
        location = urljoin(self.base_url + "/", started.headers["location"])
        body: bytes | Iterator[bytes]
        headers = {"Content-Type": OCTET_STREAM}
        if isinstance(data, bytes):
            body = data
        else:
            body = _file_chunks(data)
            headers["Content-Length"] = str(data.size)
        response = self.http.put(location, params={"digest": digest}, content=body, headers=headers)
        self._check(response, f"complete upload of {digest}", 201)
        return digest

    def push_manifest(
        self, repository: str, reference: str, content: bytes, media_type: str
    ) -> str:
        """PUT a manifest by tag or digest; the digest the registry answers with."""
        response = self.http.put(
            f"/v2/{repository}/manifests/{reference}",
            content=content,
            headers={"Content-Type": media_type},
        )
        self._check(response, f"push manifest {repository}:{reference}", 201)
        return response.headers.get("docker-content-digest") or sha256_digest(content)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """GET a manifest by tag or digest, accepting every manifest type."""
        response = self.http.get(
            f"/v2/{repository}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        self._check(response, f"get manifest {repository}:{reference}", 200)
        return Manifest(
            response.content,
            response.headers.get("content-type", ""),
            response.headers.get("docker-content-digest") or sha256_digest(response.content),
        )

    def manifest_descriptor(self, repository: str, reference: str) -> dict[str, Any]:
        """The descriptor (mediaType, digest, size) of a stored manifest, e.g. a subject."""
        manifest = self.get_manifest(repository, reference)
        return {
            "mediaType": manifest.media_type,
            "digest": manifest.digest,
            "size": len(manifest.content),
        }

    def get_blob(self, repository: str, digest: str) -> bytes:
        response = self.http.get(f"/v2/{repository}/blobs/{digest}", follow_redirects=True)
        return self._check(response, f"get blob {digest}", 200).content

    def delete_manifest(self, repository: str, digest: str) -> None:
        response = self.http.delete(f"/v2/{repository}/manifests/{digest}")
        self._check(response, f"delete manifest {repository}@{digest}", 202)

    def tags(self, repository: str) -> list[str]:
        """Every tag of ``repository`` (following ``Link`` pages)."""
        tags: list[str] = []
        url: str | None = f"/v2/{repository}/tags/list"
        while url is not None:
            response = self._check(self.http.get(url), f"list tags of {repository}", 200)
            tags += response.json().get("tags") or []
            url = _next_page(response)
        return tags

    def catalog(self) -> list[str]:
        """Every repository name (following ``Link`` pages)."""
        names: list[str] = []
        url: str | None = "/v2/_catalog"
        while url is not None:
            response = self._check(self.http.get(url), "list repositories", 200)
            names += response.json().get("repositories") or []
            url = _next_page(response)
        return names

    def referrers(self, repository: str, digest: str) -> dict[str, Any]:
        """The referrers index of ``digest`` (OCI 1.1 referrers API)."""
        response = self.http.get(f"/v2/{repository}/referrers/{digest}")
        result: dict[str, Any] = self._check(response, f"referrers of {digest}", 200).json()
        return result


def _next_page(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None
