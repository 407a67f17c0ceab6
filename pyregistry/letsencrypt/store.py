"""The ``cachefile`` directory, in the layout of Go's ``autocert.DirCache`` (what
distribution writes there): the ACME account's key in ``acme_account+key``, and per host
a file named after it holding the certificate's private key then its chain, in PEM. A
directory distribution filled is used as it is, and the other way round.

pyregistry adds ``<host>+tls-alpn-01``, the certificate answering a challenge in progress:
the handshake of the CA's validation may reach any worker process, so the challenge is
shared through the directory like the certificates are.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ACCOUNT_KEY = "acme_account+key"
CHALLENGE_SUFFIX = "+tls-alpn-01"
LOCK_FILE = ".pyregistry-lock"


class CertificateStore:
    """One ``cachefile`` directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def certificate_path(self, host: str) -> Path:
        return self.directory / host

    def challenge_path(self, host: str) -> Path:
        return self.directory / f"{host}{CHALLENGE_SUFFIX}"

    def expires(self, host: str) -> datetime.datetime | None:
        """When the host's certificate ends; None when there is none or it cannot be read."""
        try:
            chain = x509.load_pem_x509_certificates(self.certificate_path(host).read_bytes())
        except (OSError, ValueError):
            return None
        return chain[0].not_valid_after_utc

    def save_certificate(self, host: str, key: ec.EllipticCurvePrivateKey, chain: bytes) -> None:
        """The key and its chain (PEM) as the host's certificate, replacing any older one
        at once (a handshake reads the old file or the new one, never half of one)."""
        self._write(host, _key_pem(key) + chain)

    def save_challenge(self, host: str, key: ec.EllipticCurvePrivateKey, cert: bytes) -> None:
        self._write(f"{host}{CHALLENGE_SUFFIX}", _key_pem(key) + cert)

    def drop_challenge(self, host: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.challenge_path(host).unlink()

    def account_key(self) -> ec.EllipticCurvePrivateKey:
        """The ACME account's key, made (P-256, as autocert makes it) on first use."""
        path = self.directory / ACCOUNT_KEY
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            key = ec.generate_private_key(ec.SECP256R1())
            self._write(ACCOUNT_KEY, _key_pem(key))
            return key
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path}: the ACME account key is not an ECDSA key")
        return key

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the directory for an order (processes sharing it take turns)."""
        self._ensure_directory()
        with open(self.directory / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _write(self, name: str, data: bytes) -> None:
        self._ensure_directory()
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
        try:
            with os.fdopen(handle, "wb") as out:  # mkstemp: mode 0600, as autocert writes
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.directory / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """autocert's encoding of an ECDSA key: ``EC PRIVATE KEY`` (SEC 1)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
