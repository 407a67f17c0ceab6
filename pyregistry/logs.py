"""Logging as distribution does it: logrus-style lines on stderr (``text``, ``json`` or
``logstash``) carrying ``log.fields`` on every line, an access log on stdout, and lines of
chosen levels mailed (``log.hooks``: :mod:`pyregistry.mail_hooks`).

uvicorn's own loggers (``uvicorn``, ``uvicorn.error``) go through the same handler, so a
deployment parsing JSON sees nothing else. The access log comes from
:mod:`pyregistry.access_log` (uvicorn's is turned off): in ``text`` mode it is Apache's
Combined Log Format plus the duration, as distribution prints it; in ``json``/``logstash``
mode one object per line with distribution's ``http.request.*``/``http.response.*`` keys.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import LogConfig
from pyregistry.log_levels import LEVEL_NAMES
from pyregistry.mail_hooks import HookError, install_mail_hooks

ACCESS_LOGGER = "pyregistry.access"
LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
}
#: Chatty libraries (httpx logs every health-check request at info) only say warnings.
_QUIET = ("asyncio", "botocore", "boto3", "s3transfer", "urllib3", "httpx", "httpcore")


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created).astimezone().isoformat()


class _Formatter(logging.Formatter):
    """Shared part: the static ``fields`` plus whatever ``extra=`` a call passed."""

    def __init__(self, fields: Mapping[str, Any], reportcaller: bool = False) -> None:
        super().__init__()
        self.fields = dict(fields)
        self.reportcaller = reportcaller

    def entries(self, record: logging.LogRecord) -> dict[str, Any]:
        out = dict(self.fields)
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if self.reportcaller:
            out["func"] = f"{record.module}.{record.funcName}"
            out["file"] = f"{record.pathname}:{record.lineno}"
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return out


class JSONFormatter(_Formatter):
    """One JSON object per line: ``time``, ``level``, ``msg`` and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _timestamp(record), "level": LEVEL_NAMES.get(record.levelno, "info")}
        line["msg"] = record.getMessage()
        line.update(self.entries(record))
        return json.dumps(line, default=str)


class LogstashFormatter(_Formatter):
    """logrus's logstash layout: ``@timestamp``, ``@version``, ``level``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "@timestamp": _timestamp(record),
            "@version": "1",
            "level": LEVEL_NAMES.get(record.levelno, "info"),
            "message": record.getMessage(),
        }
        line.update(self.entries(record))
        return json.dumps(line, default=str)


class TextFormatter(_Formatter):
    """logrus's text layout: ``time="..." level=info msg="..." key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"time={_quote(_timestamp(record))}",
            f"level={LEVEL_NAMES.get(record.levelno, 'info')}",
            f"msg={_quote(record.getMessage())}",
        ]
        parts += [f"{key}={_quote(value)}" for key, value in self.entries(record).items()]
        return " ".join(parts)


class CombinedFormatter(logging.Formatter):
    """The access log's text form: the message already is the Combined Log Format line."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and all(c.isalnum() or c in "-._/@^+" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class StandardStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` (or ``sys.stdout``) is when a record is emitted, not
    when logging was set up: an embedding or a test harness swaps and closes those streams,
    and a handler holding the old one fails on every later line."""

    def __init__(self, name: str) -> None:
        logging.Handler.__init__(self)
        self._stream_name = name

    @property
    def stream(self) -> TextIO:
        return getattr(sys, self._stream_name)  # type: ignore[no-any-return]


def make_formatter(config: LogConfig) -> logging.Formatter:
    kinds = {"json": JSONFormatter, "logstash": LogstashFormatter}
    return kinds.get(config.formatter, TextFormatter)(config.fields, config.reportcaller)


def setup_logging(
    config: LogConfig, *, stream: TextIO | None = None, access_stream: TextIO | None = None
) -> None:
    """Route every logger (uvicorn's too) to ``stream`` (stderr) in the configured format,
    and the access log to ``access_stream`` (stdout). Safe to call again."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_pyregistry", False)]:
        root.removeHandler(old)
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream else StandardStreamHandler("stderr")
    )
    handler.setFormatter(make_formatter(config))
    handler._pyregistry = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    level = LEVELS.get(config.level, logging.INFO)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))

    access = logging.getLogger(ACCESS_LOGGER)
    access.handlers.clear()
    access.propagate = False
    access.disabled = config.accesslog_disabled
    access.setLevel(logging.INFO)
    access_handler: logging.Handler = (
        logging.StreamHandler(access_stream) if access_stream else StandardStreamHandler("stdout")
    )
    text = config.formatter not in ("json", "logstash")
    access_handler.setFormatter(CombinedFormatter() if text else make_formatter(config))
    access.addHandler(access_handler)
    try:
        install_mail_hooks(config.hooks, config.fields)
    except HookError as exc:
        raise ConfigError(exc.message, key=f"log.hooks[{exc.index}]") from None
