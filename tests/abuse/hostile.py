"""Shared pieces of the grammar, body and fuzz tests: hostile values, a watcher for logged
errors, a token-auth registry and a raw HTTP/1.1 exchange.

The servers come from :mod:`tests.support.server`, which already fails a test on any 5xx
or escaping exception; :class:`ErrorLog` adds what a client cannot see: an error or
traceback logged by pyregistry or uvicorn.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pyregistry.auth.htpasswd import set_user
from pyregistry.config.model import Config, StorageConfig, typed_section

#: Appended to, or put inside, a valid value: control characters, DEL, space, non-ASCII.
BAD_CHARACTERS = ("\n", "\r", "\t", "\x00", "\x7f", " ", "\u00e9", "\u0100", "\U0001f600")
#: The same as raw bytes the way a hostile client sends them (not UTF-8: ``%ff``).
RAW_BAD = ("%0A", "%0D", "%09", "%00", "%7F", "%20", "%C4%80", "%ff", "%0a")

TOKEN_USER, TOKEN_PASSWORD = "alice", "alice-pw"


def path_quote(text: str) -> str:
    """Percent-encode everything but ``/`` and ``:``, so the server decodes it back."""
    return quote(text, safe="/:")


def variants(valid: str) -> Iterator[str]:
    """``valid`` with each bad character at its end, and inside it."""
    middle = len(valid) // 2
    for bad in BAD_CHARACTERS:
        yield valid + bad
        yield valid[:middle] + bad + valid[middle:]


class ErrorLog(logging.Handler):
    """Records ERROR (and worse) lines of pyregistry and uvicorn while active."""

    LOGGERS = ("pyregistry", "uvicorn.error", "uvicorn")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [
            record.getMessage() + (" (with a traceback)" if record.exc_info else "")
            for record in self.records
        ]


@contextmanager
def no_logged_errors() -> Iterator[ErrorLog]:
    """Fails the block if pyregistry or uvicorn logged an error or a traceback in it."""
    recorder = ErrorLog()
    loggers = [logging.getLogger(name) for name in ErrorLog.LOGGERS]
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)
    assert not recorder.records, f"errors logged by the server: {recorder.messages}"


def token_config(directory: Path) -> Config:
    """In-memory storage behind ``auth.token`` with the built-in token service (no realm:
    challenges point at this server) and one user."""
    users = directory / "htpasswd"
    set_user(str(users), TOKEN_USER, TOKEN_PASSWORD)
    issue = {
        "key": str(directory / "token.key"),
        "certificate": str(directory / "token.crt"),
        "users": str(users),
    }
    auth: dict[str, Any] = {
        "token": {"service": "pyregistry", "issuer": "pyregistry-issuer", "issue": issue}
    }
    return Config(
        storage=StorageConfig(driver="inmemory", delete_enabled=True),
        auth=typed_section("auth", auth),
    )


def raw_exchange(
    base_url: str, head: bytes, body: bytes = b"", *, then: bytes = b"", timeout: float = 30.0
) -> tuple[bytes, bytes]:
    """Send ``head`` and all of ``body`` before reading a byte (as a careless client does)
    and read the answer; then, on the same connection, send ``then`` (another request, if
    given) and read its answer. Returns both raw answers (the second empty when the server
    closed the connection instead)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80)) as sock:
        sock.settimeout(timeout)
        sock.sendall(head + body)
        first, rest = _read_answer(sock, b"")
        if not then:
            return first, b""
        try:
            sock.sendall(then)
            second, _ = _read_answer(sock, rest)
        except OSError:  # the server had closed (or reset) the connection
            second = b""
        return first, second


def _read_answer(sock: socket.socket, pending: bytes) -> tuple[bytes, bytes]:
    """One whole answer (by Content-Length) and what came after it."""
    answer = pending
    while (end := _end_of_answer(answer)) is None:
        chunk = sock.recv(65536)
        if not chunk:
            return answer, b""
        answer += chunk
    return answer[:end], answer[end:]


def _end_of_answer(answer: bytes) -> int | None:
    head, sep, rest = answer.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if len(rest) < length:
        return None
    return len(head) + len(sep) + length
