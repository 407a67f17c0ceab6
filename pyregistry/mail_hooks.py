"""``log.hooks`` of type ``mail``: log lines of chosen levels mailed, as distribution's
logrus hooks do (``levels``, ``options.smtp.addr``/``username``/``password``/``insecure``,
``options.from``, ``options.to``).

The mail carries the subject ``[<level>] <smtp host>: <message>`` and the message with the
configured ``log.fields`` as its body. Sending is never on the path of whatever logged:
records go through a queue to a thread that talks SMTP (STARTTLS when the server offers
it, certificate unchecked with ``insecure``; a login when a username is given). A mail
that cannot be sent is reported on stderr in one line, never logged (that could mail
again), and the thread goes on; what is queued at exit is still sent.
"""

from __future__ import annotations

import atexit
import copy
import logging
import queue
import smtplib
import ssl
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from pyregistry.log_levels import LEVEL_NAMES, LOGRUS_LEVELS

#: Seconds an SMTP exchange may take.
SMTP_TIMEOUT = 30.0


class HookError(ValueError):
    """A hook that cannot be set up; ``index`` is its place in ``log.hooks``."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


@dataclass(frozen=True)
class Mailer:
    """Where and how mails go."""

    host: str
    port: int
    username: str
    password: str
    insecure: bool
    sender: str
    recipients: tuple[str, ...]

    def send(self, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = " ".join(subject.splitlines())  # one header line, no injection
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                context = ssl.create_default_context()
                if self.insecure:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class MailHandler(logging.Handler):
    """Mails each record whose level is one of ``levels`` (exactly, as logrus hooks)."""

    def __init__(self, mailer: Mailer, levels: frozenset[int], fields: Mapping[str, Any]):
        super().__init__()
        self.mailer = mailer
        self.levels = levels
        self.fields = dict(fields)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno in self.levels and super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        name = LEVEL_NAMES.get(record.levelno, record.levelname.lower())
        lines = [message, ""] + [f"{key}: {value}" for key, value in self.fields.items()]
        if record.exc_text:
            lines += ["", record.exc_text]
        try:
            self.mailer.send(f"[{name}] {self.mailer.host}: {message}", "\n".join(lines))
        except (OSError, smtplib.SMTPException) as exc:
            print(f"log hook: mail to {self.mailer.host} failed: {exc}", file=sys.stderr)


def _mailer(index: int, options: Mapping[str, Any]) -> Mailer:
    smtp = options.get("smtp") or {}
    addr = str(smtp.get("addr") or "")
    host, colon, port = addr.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise HookError(index, f"options.smtp.addr {addr!r} is not host:port")
    recipients = tuple(str(to) for to in options.get("to") or [])
    if not recipients:
        raise HookError(index, "options.to names nobody")
    return Mailer(
        host=host.strip("[]"),
        port=int(port),
        username=str(smtp.get("username") or ""),
        password=str(smtp.get("password") or ""),
        insecure=bool(smtp.get("insecure")),
        sender=str(options.get("from") or ""),
        recipients=recipients,
    )


def mail_handlers(
    hooks: Sequence[Mapping[str, Any]], fields: Mapping[str, Any]
) -> list[MailHandler]:
    """A handler per enabled hook of ``log.hooks``; HookError for one that is not a mail
    hook or lacks what a mail needs."""
    handlers = []
    for index, hook in enumerate(hooks):
        if hook.get("disabled") is True:
            continue
        kind = str(hook.get("type") or "")
        if kind != "mail":
            raise HookError(index, f"hook type {kind!r} is not supported (only mail)")
        levels = set()
        for name in hook.get("levels") or []:
            level = LOGRUS_LEVELS.get(str(name).lower())
            if level is None:
                raise HookError(
                    index, f"unknown level {name!r} (one of {', '.join(LOGRUS_LEVELS)})"
                )
            levels.add(level)
        mailer = _mailer(index, hook.get("options") or {})
        handlers.append(MailHandler(mailer, frozenset(levels), fields))
    return handlers


class _Queueing(QueueHandler):
    """Queues records of the hooks' levels with their message and traceback apart (the
    stock one folds the traceback into the message, which becomes the subject)."""

    def __init__(self, target: queue.SimpleQueue[logging.LogRecord], levels: frozenset[int]):
        super().__init__(target)
        self.levels = levels

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno in self.levels and super().filter(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        prepared = copy.copy(record)
        prepared.msg, prepared.args = record.getMessage(), None
        if record.exc_info and not record.exc_text:
            prepared.exc_text = logging.Formatter().formatException(record.exc_info)
        prepared.exc_info = None
        return prepared


class MailHooks:
    """The hooks on the root logger, fed through a queue to one sending thread."""

    def __init__(self, handlers: list[MailHandler]) -> None:
        target: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        levels = frozenset().union(*(handler.levels for handler in handlers))
        self.handler = _Queueing(target, levels)
        self._listener = QueueListener(target, *handlers, respect_handler_level=True)
        self._running = False

    def start(self) -> None:
        self._listener.start()
        self._running = True
        logging.getLogger().addHandler(self.handler)

    def stop(self) -> None:
        """Detach, and send what is queued (once: a second stop would wait forever)."""
        logging.getLogger().removeHandler(self.handler)
        if self._running:
            self._running = False
            self._listener.stop()


_installed: MailHooks | None = None


def install_mail_hooks(hooks: Sequence[Mapping[str, Any]], fields: Mapping[str, Any]) -> None:
    """Replace the process's mail hooks with those of ``hooks`` (none: none)."""
    global _installed
    if _installed is not None:
        _installed.stop()
        _installed = None
    handlers = mail_handlers(hooks, fields)
    if handlers:
        _installed = MailHooks(handlers)
        _installed.start()
        atexit.register(_installed.stop)
