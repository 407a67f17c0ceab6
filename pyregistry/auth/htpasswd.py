"""htpasswd files as distribution reads them: ``user:hash`` lines, ``#`` comments, and
only bcrypt hashes (``$2a$``, ``$2b$``, ``$2y$``); any other kind is refused with a log
line naming the user. The file is re-read when it changes.

bcrypt comes from the ``bcrypt`` package: distribution's htpasswd files are bcrypt and
``cryptography`` has no bcrypt.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import secrets
import threading

import bcrypt

from pyregistry.auth.files import WatchedFile, file_lock, write_atomically

log = logging.getLogger("pyregistry.auth")

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$", "$2x$")
BCRYPT_COST = 10  # Go's bcrypt.DefaultCost, what distribution and `htpasswd -B` use
DEFAULT_USER = "docker"


@functools.cache
def _dummy_hash() -> bytes:
    """Checked against when the user is unknown, so both paths cost one bcrypt round."""
    return bcrypt.hashpw(b"pyregistry-unknown-user", bcrypt.gensalt(BCRYPT_COST))


def parse_htpasswd(data: bytes) -> dict[str, str]:
    """``{user: hash}``; a non-empty, non-comment line without ``:`` is a ValueError."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep:
            raise ValueError(f"htpasswd: invalid entry at line {number}: {raw!r}")
        entries[user] = hashed
    return entries


#: bcrypt reads only this many bytes: a longer password would match any other one with
#: the same first 72 bytes, so longer ones are refused when set and when checked.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    """A ``$2y$``-free bcrypt hash (``$2b$``) that distribution and Apache both accept.
    ValueError for a password over :data:`MAX_PASSWORD_BYTES`."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError(
            f"the password is longer than {MAX_PASSWORD_BYTES} bytes; bcrypt (what htpasswd "
            "files use) ignores everything after that, so choose a shorter one"
        )
    return bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(BCRYPT_COST)).decode()


def _bcrypt_input(password: str) -> bytes:
    # Only called with passwords of at most 72 bytes: the bcrypt package refuses more.
    return password.encode("utf-8")[:MAX_PASSWORD_BYTES]


def _check(password: str, hashed: str) -> bool:
    candidate = hashed.encode()
    if hashed.startswith(("$2y$", "$2x$")):
        candidate = b"$2b$" + candidate[4:]
    try:
        return bcrypt.checkpw(_bcrypt_input(password), candidate)
    except ValueError:
        return False


class Htpasswd:
    """Verifies credentials against an htpasswd file (thread-safe; call from a worker
    thread: a bcrypt check takes tens of milliseconds)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = WatchedFile(path, parse_htpasswd, what="htpasswd file")
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[tuple[str, bytes], tuple[int, str]] = {}
        self._warned: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read the file now (start-up), so a bad file fails loudly."""
        self._file.load()

    def users(self) -> dict[str, str]:
        return dict(self._file.get())

    def _verified_before(self, username: str, token: bytes, hashed: str | None) -> bool:
        """Whether the password ``token`` stands for was checked against ``hashed``, the
        user's entry in the file as it is now."""
        with self._lock:
            hit = self._verified.get((username, token))
        return hit is not None and hashed is not None and hit == (self._file.generation, hashed)

    def _token(self, password: str) -> bytes:
        return hmac.new(self._cache_key, password.encode("utf-8"), hashlib.sha256).digest()

    def verified_already(self, username: str, password: str) -> bool:
        """:meth:`verify` without bcrypt, a read of the file or a thread: True only for
        credentials verified before against the file as it still is (every request of a
        push after the first). False: ask :meth:`verify`, on a worker thread."""
        entries = self._file.current()
        if entries is None:
            return False
        return self._verified_before(username, self._token(password), entries.get(username))

    def verify(self, username: str, password: str) -> bool:
        entries = self._file.get()
        generation = self._file.generation
        hashed = entries.get(username)
        # Repeated requests with the same credentials (every blob of a push) skip bcrypt.
        token = self._token(password)
        if self._verified_before(username, token, hashed):
            return True
        if hashed is None or len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            bcrypt.checkpw(b"x", _dummy_hash())  # the same cost as a real check
            return False
        if not hashed.startswith(BCRYPT_PREFIXES):
            with self._lock:
                first = (generation, username) not in self._warned
                self._warned.add((generation, username))
            if first:
                log.error(
                    "htpasswd %s: the entry for user %r is not a bcrypt hash; only bcrypt "
                    "($2a$/$2b$/$2y$, `htpasswd -B`) is supported, as in distribution",
                    self.path,
                    username,
                )
            return False
        if not _check(password, hashed):
            return False
        with self._lock:
            if len(self._verified) > 10000:
                self._verified.clear()
            self._verified[(username, token)] = (generation, hashed)
        return True


def ensure_htpasswd(path: str) -> str | None:
    """distribution 3's start-up behaviour: a missing file is created with user ``docker``
    and a random password, which is returned (to be logged) - None when the file exists."""
    if os.path.exists(path):
        return None
    with file_lock(path):
        if os.path.exists(path):  # another worker was first
            return None
        password = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        write_atomically(path, f"{DEFAULT_USER}:{hash_password(password)}\n".encode(), 0o600)
        return password


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except FileNotFoundError:
        return []


def set_user(path: str, username: str, password: str) -> bool:
    """Add or replace ``username``; True when it was new. Other lines stay as they are."""
    check_username(username)
    lines = _read_lines(path)
    entry = f"{username}:{hash_password(password)}"
    new = True
    out: list[str] = []
    for line in lines:
        if line.strip().partition(":")[0] == username and not line.strip().startswith("#"):
            if new:
                out.append(entry)
            new = False
            continue
        out.append(line)
    if new:
        out.append(entry)
    write_atomically(path, ("\n".join(out) + "\n").encode())
    return new


def remove_user(path: str, username: str) -> bool:
    """Drop ``username``; True when it was there."""
    lines = _read_lines(path)
    out = [
        line
        for line in lines
        if line.strip().startswith("#") or line.strip().partition(":")[0] != username
    ]
    if len(out) == len(lines):
        return False
    write_atomically(path, ("\n".join(out) + "\n").encode() if out else b"")
    return True


def check_username(username: str) -> None:
    if not username or ":" in username or any(c.isspace() for c in username):
        raise ValueError(f"invalid user name {username!r}: no colon or white space allowed")
    if username.startswith("#"):
        raise ValueError(f"invalid user name {username!r}: may not start with '#'")
