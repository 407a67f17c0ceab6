"""The registry client: one instance per upstream registry, shared by every repository
and task that talks to it (one connection pool, one token cache).

::

    async with AsyncRegistryClient("https://registry.example", credentials=("u", "p")) as c:
        manifest = await c.get_manifest("team/app", "v1")
        async for chunk in c.stream_blob("team/app", manifest.json()["layers"][0]["digest"]):
            ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from pyregistry.client.blobs import BlobOperations
from pyregistry.client.content import Built
from pyregistry.client.credential_helper import CredentialHelper
from pyregistry.client.errors import RegistryResponseError
from pyregistry.client.listing import ListingOperations
from pyregistry.client.manifests import ManifestOperations
from pyregistry.client.transport import Transport


class AsyncRegistryClient(BlobOperations, ManifestOperations, ListingOperations):
    """Blobs, manifests and lists of the registry at ``base_url``.

    ``credentials`` (user, password) answer Basic challenges and log in to the token
    service of Bearer ones; without them tokens are asked for anonymously. A
    ``credential_helper`` gives them instead, per host that asks. ``token`` is a
    pre-set bearer token. ``ca_file`` adds a CA to trust; ``insecure`` turns TLS
    verification off. ``clock`` (monotonic seconds) times token expiry.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: tuple[str, str] | None = None,
        credential_helper: CredentialHelper | None = None,
        token: str | None = None,
        ca_file: str | None = None,
        insecure: bool = False,
        timeout: float = 60.0,
        max_connections: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = Transport(
            base_url,
            credentials=credentials,
            credential_helper=credential_helper,
            token=token,
            ca_file=ca_file,
            insecure=insecure,
            timeout=timeout,
            max_connections=max_connections,
            clock=clock,
        )

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def tokens_fetched(self) -> int:
        """How many tokens this client got from token services so far."""
        return self.transport.auth.tokens_fetched

    async def ping(self) -> int:
        """``GET /v2/``'s status after answering a challenge: 200, or 401 when the
        credentials do not fit."""
        try:
            response = await self.transport.request(
                "GET", "/v2/", action="ping", expected=(200,), scope=""
            )
        except RegistryResponseError as exc:
            return exc.status_code
        return response.status_code

    async def push(self, repository: str, content: Built, tag: str | None = None) -> str:
        """Push built content: child manifests and blobs first, then the manifest by
        ``tag`` (None: by digest); the manifest's digest."""
        for child in content.children():
            await self.push(repository, child)
        for data in content.blobs().values():
            await self.push_blob(repository, data)
        return await self.push_manifest(
            repository, tag or content.digest, content.manifest, content.media_type
        )

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncRegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncRegistryClient {self.base_url}>"
