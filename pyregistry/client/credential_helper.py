"""Credentials from a Docker credential helper, asked for the way distribution's
``proxy.exec`` asks: so that a mirror's upstream login can come from a secret store
(``docker-credential-pass``, ``docker-credential-ecr-login``...) instead of the config file.

The helper protocol (docker-credential-helpers): the program runs with the argument
``get`` and the server's host (``host[:port]``) on its standard input, and answers
``{"ServerURL": ..., "Username": ..., "Secret": ...}`` on its standard output, or exits
with a failure ("credentials not found in native keychain"). The host asked for is the
one that wants the credentials: the registry for a Basic challenge, the token service's
realm for the Bearer flow.

What a helper answers is kept per host for ``lifetime`` seconds, with distribution's
meaning: None (unset) keeps it as long as the process runs, 0 keeps it never (the helper
runs for every request that needs credentials). A helper that fails, hangs past
``timeout``, or answers something else leaves the request anonymous, as in distribution;
the failure is logged (never the secret) and nothing is kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("pyregistry.client")

#: Seconds a helper may take before it is killed and the request goes on anonymously.
HELPER_TIMEOUT = 30.0
#: How much of a failing helper's output goes into the log.
_LOGGED_OUTPUT = 300


class HelperError(Exception):
    """The helper did not give credentials (the message says why, without secrets)."""


@dataclass(frozen=True)
class _Kept:
    login: tuple[str, str]
    #: Monotonic time after which the helper is asked again (None: never).
    until: float | None


class CredentialHelper:
    """Logins from the credential helper program ``command`` (run without a shell)."""

    def __init__(
        self,
        command: str,
        lifetime: float | None = None,
        *,
        timeout: float = HELPER_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.command = command
        self.lifetime = lifetime
        self.timeout = timeout
        self.clock = clock
        #: How many times the helper ran, e.g. to see that what it answers is kept.
        self.runs = 0
        self._kept: dict[str, _Kept] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def credentials(self, host: str) -> tuple[str, str] | None:
        """(username, secret) for ``host``; None when the helper gives none."""
        async with self._locks.setdefault(host, asyncio.Lock()):  # one run per host at once
            kept = self._kept.get(host)
            if kept is not None and (kept.until is None or self.clock() < kept.until):
                return kept.login
            try:
                login = await self.ask(host)
            except HelperError as exc:
                log.error("credential helper %s for %s: %s", self.command, host, exc)
                return None
            # a lifetime of 0 keeps it stale: the next request asks again
            until = None if self.lifetime is None else self.clock() + self.lifetime
            self._kept[host] = _Kept(login, until)
            return login

    async def ask(self, host: str) -> tuple[str, str]:
        """Run the helper once for ``host``; HelperError when it gives no credentials."""
        self.runs += 1
        try:
            process = await asyncio.create_subprocess_exec(
                self.command,
                "get",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise HelperError(f"cannot run it: {exc}") from None
        try:
            async with asyncio.timeout(self.timeout):
                out, err = await process.communicate(host.encode())
        except TimeoutError:
            process.kill()
            await process.wait()
            raise HelperError(f"no answer within {self.timeout:g}s") from None
        if process.returncode != 0:
            said = (out or err).decode(errors="replace").strip()[:_LOGGED_OUTPUT]
            raise HelperError(f"exit status {process.returncode}: {said}")
        return _login(out)


def _login(output: bytes) -> tuple[str, str]:
    """(Username, Secret) of a helper's answer."""
    try:
        answer = json.loads(output)
    except ValueError:
        raise HelperError("its answer is not JSON") from None
    if not isinstance(answer, dict):
        raise HelperError("its answer is not a JSON object")
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise HelperError("its answer lacks a Username or Secret string")
    return username, secret
