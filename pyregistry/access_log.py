"""The access log: one line per HTTP request once its response is sent.

In ``text`` mode a line is Apache's Combined Log Format plus the duration, as distribution
prints it; in ``json``/``logstash`` mode it is a record with distribution's
``http.request.*``/``http.response.*`` keys, formatted by the configured formatter.

Lines bound for plain streams (stdout, a file) are gathered while the event loop's
current iteration runs and written together at its end, a few lines per ``write``: a
record and a ``write`` of its own per request cost a quarter of a small request's CPU
(a ``json`` line, formatted at the end too, two thirds).
A write of several lines never passes :data:`ATOMIC_WRITE` bytes, so it lands whole on a
pipe; and workers sharing one pipe write their batches under a lock
(:mod:`pyregistry.shared_pipe`), so a longer line cannot be split by another's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyregistry.config.duration import format_duration
from pyregistry.logs import ACCESS_LOGGER, CombinedFormatter, StandardStreamHandler
from pyregistry.shared_pipe import lock_for

#: Bytes one ``write`` to a pipe is guaranteed to deliver whole (POSIX ``PIPE_BUF``).
ATOMIC_WRITE = 4096
#: Handlers whose only work is writing the formatted line to their stream.
_PLAIN_STREAMS = (logging.StreamHandler, StandardStreamHandler)


class AccessLogMiddleware:
    """Pure ASGI: one access-log line per HTTP request once its response is sent.

    Counts response bytes as they stream (nothing is buffered)."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._clock = _SecondClock()
        self._lines = _LineBatch(self.logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.logger.disabled:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = {"status": 0, "bytes": 0, "done": False}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self._log(scope, state["status"] or 500, state["bytes"], time.perf_counter() - start)

    def _log(self, scope: Scope, status: int, size: int, seconds: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        host_header = agent = referer = ""
        for name, value in scope["headers"]:  # only the three it prints
            name = name.lower()
            if name == b"user-agent":
                agent = value.decode("latin-1")
            elif name == b"host":
                host_header = value.decode("latin-1")
            elif name == b"referer":
                referer = value.decode("latin-1")
        client = scope.get("client")
        uri = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            uri += "?" + scope["query_string"].decode("latin-1")
        if not self._text_handlers():
            remote = f"{client[0]}:{client[1]}" if client else "-"
            fields = {
                "http.request.method": scope["method"],
                "http.request.uri": uri,
                "http.request.host": host_header,
                "http.request.useragent": agent,
                "http.request.remoteaddr": remote,
                "http.response.status": status,
                "http.response.written": size,
                "http.response.duration": format_duration(seconds),
            }
            # The fields say everything: no caller lookup (a stack walk) for the record.
            record = self.logger.makeRecord(
                self.logger.name,
                logging.INFO,
                __file__,
                0,
                "response completed",
                (),
                None,
                func="_log",
                extra=fields,
            )
            self._lines.add(record)
            return
        host = client[0] if client else "-"
        line = (
            f'{host} - - [{self._clock.now()}] "{scope["method"]} {uri} '
            f'HTTP/{scope.get("http_version", "1.1")}" {status} {size} {json.dumps(referer)} '
            f"{json.dumps(agent)} {format_duration(seconds)}"
        )
        self._lines.add(line)

    def _text_handlers(self) -> bool:
        """Whether every handler prints the Combined Log Format line as it is."""
        for handler in self.logger.handlers:
            if not isinstance(handler.formatter, CombinedFormatter):
                return False
        return True


class _LineBatch:
    """Access-log entries waiting for the end of the event loop's iteration: text lines
    as they are printed, or records for the handlers' formatter (``json``, ``logstash``).

    Only where every handler is a plain stream handler: any other (a mail hook, a test's
    collector) gets each entry as a record of its own, at once."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._entries: list[str | logging.LogRecord] = []

    def add(self, entry: str | logging.LogRecord) -> None:
        if self._streams() is None:
            self._emit(entry)
            return
        self._entries.append(entry)
        if len(self._entries) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (a direct call): nothing to wait for
                self.flush()

    def flush(self) -> None:
        entries, self._entries = self._entries, []
        streams = self._streams()
        if streams is None:
            for entry in entries:
                self._emit(entry)
            return
        for handler in streams:
            handler.acquire()
            try:
                texts = [e if isinstance(e, str) else handler.format(e) for e in entries]
                stream = handler.stream
                with lock_for(stream):
                    for text in _writes(texts):
                        stream.write(text)
                        handler.flush()
            except Exception:  # noqa: BLE001 - a logging failure must not fail requests
                handler.handleError(self._record(entries[0]))
            finally:
                handler.release()

    def _streams(self) -> list[logging.StreamHandler] | None:  # type: ignore[type-arg]
        """The handlers, if each writes plain text to a stream and filters nothing."""
        handlers = self._logger.handlers
        for handler in handlers:
            if (
                type(handler) not in _PLAIN_STREAMS
                or handler.filters
                or handler.level > logging.INFO
            ):
                return None
        return list(handlers) if handlers else None  # type: ignore[arg-type]

    def _emit(self, entry: str | logging.LogRecord) -> None:
        self._logger.handle(self._record(entry))

    def _record(self, entry: str | logging.LogRecord) -> logging.LogRecord:
        if isinstance(entry, logging.LogRecord):
            return entry
        # The line says everything: no caller lookup (a stack walk) for the record.
        return self._logger.makeRecord(
            self._logger.name, logging.INFO, __file__, 0, entry, (), None
        )


def _writes(lines: list[str]) -> list[str]:
    """``lines`` joined into writes of at most :data:`ATOMIC_WRITE` bytes, whole lines each
    (a line longer than that is a write of its own)."""
    writes: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode()) + 1
        if current and size + length > ATOMIC_WRITE:
            writes.append("".join(current))
            current, size = [], 0
        current.append(line + "\n")
        size += length
    if current:
        writes.append("".join(current))
    return writes


class _SecondClock:
    """The Combined Log Format's local time, formatted once per second (not per line)."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            when = datetime.fromtimestamp(second).astimezone()
            self._second, self._text = second, when.strftime("%d/%b/%Y:%H:%M:%S %z")
        return self._text
