"""Log formats: logrus-like text, JSON and logstash lines; the access log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pyregistry.access_log import AccessLogMiddleware
from pyregistry.config import LogConfig
from pyregistry.logs import ACCESS_LOGGER, setup_logging
from tests.support.registry_process import server_errors_in


@pytest.fixture
def streams() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    err, out = io.StringIO(), io.StringIO()
    yield err, out
    setup_logging(LogConfig())  # leave logging as the next test expects it
    logging.getLogger().handlers[:] = [
        h for h in logging.getLogger().handlers if not getattr(h, "_pyregistry", False)
    ]


def test_json_lines_carry_time_level_msg_and_fields(
    streams: tuple[io.StringIO, io.StringIO],
) -> None:
    err, out = streams
    setup_logging(
        LogConfig(level="debug", formatter="json", fields={"service": "registry", "n": 3}),
        stream=err,
        access_stream=out,
    )
    logging.getLogger("pyregistry.test").info("hello %s", "world", extra={"repo": "alpine"})
    logging.getLogger("uvicorn.error").warning("from uvicorn")
    logging.getLogger("pyregistry.test").debug("details")
    lines = [json.loads(line) for line in err.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == ["hello world", "from uvicorn", "details"]
    assert [line["level"] for line in lines] == ["info", "warning", "debug"]
    assert all(line["service"] == "registry" and line["n"] == 3 for line in lines)
    assert lines[0]["repo"] == "alpine"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", lines[0]["time"])


def test_default_streams_are_the_ones_current_when_a_line_is_written(
    streams: tuple[io.StringIO, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An embedding (or pytest) swaps sys.stderr and closes the old one: later lines still
    print, on the new stream, instead of failing with "I/O operation on closed file"."""
    first_err, first_out = streams
    monkeypatch.setattr("sys.stderr", first_err)
    monkeypatch.setattr("sys.stdout", first_out)
    setup_logging(LogConfig(formatter="json"))
    logging.getLogger("pyregistry.test").warning("one")
    first_err.close()
    first_out.close()
    err, out = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr("sys.stdout", out)
    logging.getLogger("pyregistry.test").warning("two")
    logging.getLogger(ACCESS_LOGGER).info("access line")
    assert [json.loads(line)["msg"] for line in err.getvalue().splitlines()] == ["two"]
    assert "access line" in out.getvalue()


def test_level_filters(streams: tuple[io.StringIO, io.StringIO]) -> None:
    err, out = streams
    setup_logging(LogConfig(level="warn", formatter="json"), stream=err, access_stream=out)
    logging.getLogger("pyregistry.test").info("hidden")
    logging.getLogger("pyregistry.test").error("shown")
    assert [json.loads(line)["msg"] for line in err.getvalue().splitlines()] == ["shown"]


def test_text_lines_look_like_logrus(streams: tuple[io.StringIO, io.StringIO]) -> None:
    err, out = streams
    setup_logging(
        LogConfig(formatter="text", fields={"service": "registry"}, reportcaller=True),
        stream=err,
        access_stream=out,
    )
    logging.getLogger("pyregistry.test").info("listening on [::]:5000")
    line = err.getvalue().strip()
    assert re.match(
        r'^time="[^"]+" level=info msg="listening on \[::\]:5000" service=registry ', line
    )
    assert "func=test_logs.test_text_lines_look_like_logrus" in line
    assert "file=" in line


def test_logstash_lines(streams: tuple[io.StringIO, io.StringIO]) -> None:
    err, out = streams
    setup_logging(LogConfig(formatter="logstash", fields={"a": "b"}), stream=err, access_stream=out)
    logging.getLogger("pyregistry.test").error("bad")
    line = json.loads(err.getvalue())
    assert (line["@version"], line["level"], line["message"], line["a"]) == (
        "1",
        "error",
        "bad",
        "b",
    )
    assert "@timestamp" in line


async def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello", status_code=201)


async def request_through_access_log() -> None:
    app = AccessLogMiddleware(Starlette(routes=[Route("/v2/{rest:path}", hello)]))
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        await client.get("/v2/x/tags/list?n=1", headers={"user-agent": "docker/24", "referer": "r"})
    await asyncio.sleep(0)  # text lines are written when the loop's iteration ends


async def test_access_log_json(streams: tuple[io.StringIO, io.StringIO]) -> None:
    err, out = streams
    setup_logging(
        LogConfig(formatter="json", fields={"service": "registry"}), stream=err, access_stream=out
    )
    await request_through_access_log()
    line = json.loads(out.getvalue())
    assert line["msg"] == "response completed" and line["service"] == "registry"
    assert line["http.request.method"] == "GET"
    assert line["http.request.uri"] == "/v2/x/tags/list?n=1"
    assert line["http.request.useragent"] == "docker/24"
    assert line["http.request.remoteaddr"] == "10.1.2.3:4567"
    assert (line["http.response.status"], line["http.response.written"]) == (201, 5)
    assert re.fullmatch(r"[\d.]+(s|ms|µs|ns)", line["http.response.duration"])
    assert err.getvalue() == ""


async def test_access_log_text_is_combined_log_format(
    streams: tuple[io.StringIO, io.StringIO],
) -> None:
    err, out = streams
    setup_logging(LogConfig(formatter="text"), stream=err, access_stream=out)
    await request_through_access_log()
    assert re.fullmatch(
        r"10\.1\.2\.3 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /v2/x/tags/list\?n=1 HTTP/1\.1" 201 5 "r" "docker/24" [\d.]+(s|ms|µs|ns)\n',
        out.getvalue(),
    )


async def test_access_log_can_be_disabled(streams: tuple[io.StringIO, io.StringIO]) -> None:
    err, out = streams
    setup_logging(
        LogConfig(formatter="json", accesslog_disabled=True), stream=err, access_stream=out
    )
    await request_through_access_log()
    assert out.getvalue() == ""
    assert logging.getLogger(ACCESS_LOGGER).disabled


def test_the_process_guard_finds_500s_and_tracebacks_in_either_log_format() -> None:
    """What tests/support/registry_process.py fails a test on when a server process stops."""
    text_ok = '127.0.0.1 - - [01/Jan/2025:00:00:00 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "x" 1ms'
    text_500 = text_ok.replace('" 200 2', '" 500 40')
    text_503 = text_ok.replace('" 200 2', '" 503 40')
    json_500 = json.dumps({"msg": "response completed", "http.response.status": 500})
    json_404 = json.dumps({"msg": "response completed", "http.response.status": 404})
    access = "\n".join([text_ok, text_500, text_503, json_500, json_404])
    assert server_errors_in(access, "level=info msg=fine") == [text_500, json_500]
    found = server_errors_in("", 'level=error error="Traceback (most recent call last):\\n..."')
    assert len(found) == 1 and "traceback" in found[0]
