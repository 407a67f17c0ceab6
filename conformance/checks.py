"""Assertions on registry answers, worded so a failure line says what the spec wanted."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import httpx

from conformance.content import Blob, digest_of

# The spec's error code grammar: uppercase letters and underscores.
_CODE_RE = re.compile(r"^[A-Z_]+$")


class CheckFailed(AssertionError):
    """A registry answer that contradicts the spec; its message is the report reason."""


def expect(condition: object, message: str) -> None:
    """Fail the current test with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def describe(resp: httpx.Response) -> str:
    """Short request/answer summary for failure messages."""
    body = ""
    if resp.request.method != "HEAD":
        try:
            text = resp.content[:200].decode("utf-8", "replace")
        except httpx.ResponseNotRead:
            text = ""
        body = f" body={text!r}" if text else ""
    return f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}{body}"


def expect_status(resp: httpx.Response, *allowed: int) -> None:
    """The answer's status must be one of ``allowed``."""
    expect(
        resp.status_code in allowed,
        f"expected {'/'.join(map(str, allowed))}: {describe(resp)}",
    )


def header(resp: httpx.Response, name: str) -> str:
    """A header that must be present; returns its (joined) value."""
    value = resp.headers.get(name)
    expect(value is not None and value != "", f"missing {name} header: {describe(resp)}")
    return value or ""


def expect_header(resp: httpx.Response, name: str, wanted: str) -> None:
    """A header that must be present with exactly ``wanted``."""
    got = header(resp, name)
    expect(got == wanted, f"{name} is {got!r}, expected {wanted!r}: {describe(resp)}")


def media_type_of(resp: httpx.Response) -> str:
    """Content-Type without parameters (clients ignore them, per the spec)."""
    return header(resp, "Content-Type").split(";")[0].strip()


def error_codes(resp: httpx.Response) -> list[str]:
    """Codes from an OCI error body; fails if a JSON body breaks the error format."""
    try:
        doc = json.loads(resp.content)
    except ValueError:
        return []
    expect(isinstance(doc, dict), f"error body is not a JSON object: {describe(resp)}")
    errors = doc.get("errors")
    expect(isinstance(errors, list), f"error body has no 'errors' list: {describe(resp)}")
    codes: list[str] = []
    for item in errors:
        expect(isinstance(item, dict), f"error entry is not an object: {describe(resp)}")
        code = item.get("code")
        expect(
            isinstance(code, str) and _CODE_RE.match(code) is not None,
            f"error code {code!r} is not uppercase letters and underscores: {describe(resp)}",
        )
        codes.append(code)
    return codes


def expect_error(resp: httpx.Response, status: int | tuple[int, ...], *codes: str) -> None:
    """A 4xx answer with an OCI error body holding one of ``codes``."""
    statuses = status if isinstance(status, tuple) else (status,)
    expect_status(resp, *statuses)
    found = error_codes(resp)
    expect(found, f"expected a JSON error body with code {'/'.join(codes)}: {describe(resp)}")
    expect(
        any(c in codes for c in found),
        f"error codes {found}, expected {'/'.join(codes)}: {describe(resp)}",
    )


def json_body(resp: httpx.Response) -> Any:
    """The answer's body parsed as JSON."""
    try:
        return json.loads(resp.content)
    except ValueError:
        raise CheckFailed(f"body is not JSON: {describe(resp)}") from None


def expect_range(resp: httpx.Response, end: int) -> None:
    """The upload progress header ``Range: 0-<end>`` (no ``bytes=`` unit, per the spec)."""
    got = header(resp, "Range")
    expect(
        got == f"0-{end}",
        f"Range is {got!r}, expected '0-{end}': {describe(resp)}",
    )


def expect_content_digest(resp: httpx.Response, blob: Blob) -> None:
    """Docker-Content-Digest must name the blob's content.

    The spec lets the registry answer with its own algorithm (the digest "MAY differ" when
    the hashing algorithms differ), so a digest in another known algorithm must still be the
    hash of the same bytes.
    """
    got = header(resp, "Docker-Content-Digest")
    algorithm = got.split(":", 1)[0]
    if algorithm == blob.algorithm:
        expect(got == blob.digest, f"Docker-Content-Digest {got!r}, expected {blob.digest!r}")
        return
    expect(
        algorithm in hashlib.algorithms_available and got == digest_of(blob.data, algorithm),
        f"Docker-Content-Digest {got!r} is not a digest of the uploaded bytes ({blob.digest})",
    )
