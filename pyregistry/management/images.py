"""One image (a manifest) in detail, and deleting tags and manifests.

Reads go to the core registry (no pull events for a person browsing); deletes go through
the registry the API uses (``writer``: wrapped by the notifications listener), run
``acting_as`` the principal, so webhooks and the audit log hear them exactly as they hear
a ``DELETE`` on ``/v2/``. The storage layer refuses deletes when
``storage.delete.enabled`` is off, as distribution does.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.events import acting_as
from pyregistry.management.authority import Authority
from pyregistry.management.errors import Invalid, ManagementError, NotFound, Unsupported
from pyregistry.management.facts import FactsCache, descriptor
from pyregistry.management.principal import Principal
from pyregistry.management.views import Descriptor, ManifestDetail
from pyregistry.storage import errors as storage_errors
from pyregistry.storage.digest import Digest
from pyregistry.storage.errors import RegistryError
from pyregistry.storage.interfaces import Namespace


@dataclass(frozen=True)
class ActingCaller:
    """The :class:`~pyregistry.events.Caller` of a write made for a principal."""

    principal: Principal
    method: str = "DELETE"

    @property
    def request_id(self) -> str:
        return self.principal.request_id

    @property
    def actor(self) -> str | None:
        return self.principal.user

    @property
    def remote_addr(self) -> str | None:
        return self.principal.address

    @property
    def host(self) -> str | None:
        return None

    @property
    def user_agent(self) -> str | None:
        return self.principal.user_agent


def translate(exc: RegistryError, what: str) -> ManagementError:
    """The storage layer's refusal as the service layer's."""
    if isinstance(exc, storage_errors.ManifestUnknown | storage_errors.NameUnknown):
        return NotFound(f"{what} not found")
    if isinstance(exc, storage_errors.Unsupported):
        return Unsupported(f"{what}: deletes are disabled (storage.delete.enabled)")
    if isinstance(
        exc, storage_errors.NameInvalid | storage_errors.TagInvalid | storage_errors.DigestInvalid
    ):
        return Invalid(str(exc))
    return ManagementError(f"{what}: {exc}")


def parse_digest(reference: str) -> Digest:
    try:
        return Digest.parse(reference)
    except ValueError as exc:
        raise Invalid(f"not a digest: {reference!r}") from exc


class Images:
    def __init__(
        self, reader: Namespace, writer: Namespace, authority: Authority, facts: FactsCache
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.authority = authority
        self.facts = facts

    async def resolve(self, name: str, reference: str) -> Digest:
        """A tag or a digest -> the digest."""
        if ":" in reference and not reference.startswith(":"):
            return parse_digest(reference)
        try:
            return await self.reader.repository(name).tags.get(reference)
        except RegistryError as exc:
            if isinstance(exc, storage_errors.TagInvalid | storage_errors.NameInvalid):
                raise Invalid(str(exc)) from exc
            raise NotFound(f"tag {name}:{reference} not found") from exc

    async def manifest(self, who: Principal, name: str, reference: str) -> ManifestDetail:
        """Layers, config, history, labels, annotations, platforms and referrers."""
        self.authority.require_pull(who, name)
        digest = await self.resolve(name, reference)
        repository = self.reader.repository(name)
        try:
            # The facts are cached per digest, across repositories: check this one has it.
            if not await repository.manifests.exists(digest):
                raise NotFound(f"manifest {name}@{digest} not found")
            facts = await self.facts.get(repository, str(digest))
            tags = await repository.tags.lookup(digest)
            referrers = await repository.referrers(digest)
        except RegistryError as exc:
            raise translate(exc, f"manifest {name}@{digest}") from exc
        found: list[Descriptor] = [d for d in map(descriptor, referrers) if d is not None]
        return ManifestDetail(
            repository=name,
            digest=str(digest),
            media_type=facts.media_type,
            size=facts.size,
            total_size=facts.total_size,
            tags=sorted(tags),
            config=facts.config,
            layers=facts.layers,
            manifests=facts.manifests,
            platforms=facts.platforms,
            history=facts.history,
            labels=facts.labels,
            annotations=facts.annotations,
            referrers=found,
            subject=facts.subject,
            artifact_type=facts.artifact_type,
            created=facts.created,
        )

    async def delete_tag(self, who: Principal, name: str, tag: str) -> None:
        """Remove one tag (the manifest stays, reachable by digest and other tags)."""
        self.authority.require_delete(who, name)
        with acting_as(ActingCaller(who)):
            try:
                await self.writer.repository(name).tags.untag(tag)
            except storage_errors.TagInvalid as exc:
                raise Invalid(str(exc)) from exc
            except RegistryError as exc:
                if isinstance(exc, storage_errors.Unsupported):
                    raise translate(exc, f"tag {name}:{tag}") from exc
                raise NotFound(f"tag {name}:{tag} not found") from exc

    async def delete_manifest(self, who: Principal, name: str, reference: str) -> str:
        """Remove a manifest and every tag on it; the digest deleted."""
        self.authority.require_delete(who, name)
        digest = await self.resolve(name, reference)
        with acting_as(ActingCaller(who)):
            try:
                await self.writer.repository(name).manifests.delete(digest)
            except RegistryError as exc:
                raise translate(exc, f"manifest {name}@{digest}") from exc
        return str(digest)
