"""Images pushed through the storage layer (no HTTP), and the rules/users files the
management tests share: ``root`` (system admin), ``alice`` (admin of ``team``),
``mia`` (maintainer of ``team``), ``gus`` (guest of ``team``), ``dev`` (developer of
``team``), ``eve`` (no role); ``library`` is public, ``team`` private.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pyregistry.auth.htpasswd import hash_password
from pyregistry.client.content import Built, build_artifact, build_image, build_multiarch
from pyregistry.storage.digest import Digest
from pyregistry.storage.interfaces import Namespace

PASSWORD = "secret-pass"
USERS = ("root", "alice", "mia", "gus", "dev", "eve")
RULES = """\
admins: [root]
projects:
  library:
    public: true
    members: {}
  team:
    public: false
    members: {alice: admin, mia: maintainer, gus: guest, dev: developer}
"""


@functools.cache
def _htpasswd() -> str:
    """The users file's text, hashed once per test process (bcrypt is slow on purpose)."""
    return "".join(f"{user}:{hash_password(PASSWORD)}\n" for user in USERS)


def write_auth_files(directory: Path) -> tuple[Path, Path]:
    """(htpasswd, rules) with every test user, password ``PASSWORD``."""
    users = directory / "htpasswd"
    users.write_text(_htpasswd())
    rules = directory / "rules.yaml"
    rules.write_text(RULES)
    return users, rules


async def push(namespace: Namespace, name: str, built: Built, tags: list[str]) -> str:
    """``built`` (with its children and blobs) into ``name`` under ``tags``."""
    repository = namespace.repository(name)
    for child in built.children():
        await push(namespace, name, child, [])
    for data in built.blobs().values():
        await repository.blobs.put(data)
    result = await repository.manifests.put(built.manifest, built.media_type, tags=tags)
    return str(result.digest)


async def push_image(namespace: Namespace, name: str, tag: str, seed: str = "x") -> str:
    return await push(namespace, name, build_image(seed=f"{name}:{tag}:{seed}"), [tag])


async def push_multiarch(namespace: Namespace, name: str, tag: str) -> str:
    return await push(namespace, name, build_multiarch(seed=f"{name}:{tag}"), [tag])


async def push_signature(namespace: Namespace, name: str, subject: str) -> str:
    """A signature-like artifact whose subject is ``subject``."""
    stored = await namespace.repository(name).manifests.get(Digest.parse(subject))
    artifact = build_artifact(
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        [b"signature"],
        subject={
            "mediaType": stored.media_type,
            "digest": subject,
            "size": len(stored.content),
        },
    )
    return await push(namespace, name, artifact, [])


def stored_bytes(*pushed: Built) -> int:
    """What a repository holding exactly ``pushed`` (and their children) stores: each
    manifest's own bytes and every blob they reference, each digest once."""
    sizes: dict[str, int] = {}

    def count(built: Built) -> None:
        sizes[built.digest] = len(built.manifest)
        sizes.update({digest: len(data) for digest, data in built.blobs().items()})
        for child in built.children():
            count(child)

    for built in pushed:
        count(built)
    return sum(sizes.values())
