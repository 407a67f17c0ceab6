"""Seeded generation of hostile registry requests, for ``test_fuzz.py``.

Every choice comes from one ``random.Random(seed)``, so a seed names one sequence of
requests: names, references (tags and digests), upload ids, query parameters, ``Range``
and ``Content-Range`` headers, lengths, bodies and methods, each either valid, taken from
what the run pushed, or mutated (control characters, non-ASCII, wrong lengths, wrong
algorithms, deep JSON...). Framing stays valid: broken HTTP framing is the server's
concern, not the registry's.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND")
BAD_CHARS = ("\n", "\r", "\t", "\x00", "\x7f", " ", "%", "\u00e9", "\u0100", "\U0001f600", "\\")
NAMES = ("fuzz/app", "fuzz/other", "library/base")


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


@dataclass
class Known:
    """What the run has pushed or opened, so requests can name real things."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: list[str] = field(default_factory=list)
    uploads: list[tuple[str, str]] = field(default_factory=list)  # (name, id)


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    path: str  # already percent-encoded
    params: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        shown = self.body[:80] + (b"..." if len(self.body) > 80 else b"")
        return (
            f"{self.method} {self.path} params={self.params!r} headers={self.headers!r} "
            f"body[{len(self.body)}]={shown!r}"
        )


class RequestGenerator:
    def __init__(self, seed: int, known: Known) -> None:
        self.rng = random.Random(seed)
        self.known = known

    # -- mutation -------------------------------------------------------------------------

    def mutate(self, text: str) -> str:
        rng = self.rng
        kind = rng.randrange(9)
        if kind == 0:
            return text + rng.choice(BAD_CHARS)
        if kind == 1 and text:
            at = rng.randrange(len(text))
            return text[:at] + rng.choice(BAD_CHARS) + text[at:]
        if kind == 2:
            return text.upper()
        if kind == 3:
            return text * rng.randint(2, 40)
        if kind == 4:
            return text[: rng.randrange(len(text) + 1)]
        if kind == 5:
            return rng.choice(("..", ".", "../" + text, text + "/..", "//" + text, text + "/"))
        if kind == 6:
            return "".join(rng.choice("abc-_.:/%09AZ\u00e9") for _ in range(rng.randint(0, 20)))
        if kind == 7:
            return text.replace(":", rng.choice((":", "::", "", "%3A")))
        return text

    def maybe(self, text: str, valid_odds: float = 0.6) -> str:
        return text if self.rng.random() < valid_odds else self.mutate(text)

    # -- values ---------------------------------------------------------------------------

    def name(self) -> str:
        return self.maybe(self.rng.choice(NAMES))

    def digest(self) -> str:
        rng = self.rng
        pool = list(self.known.blobs) + self.known.manifests
        if pool and rng.random() < 0.6:
            base = rng.choice(pool)
        else:
            base = digest_of(rng.randbytes(8), rng.choice(("sha256", "sha512")))
        if rng.random() < 0.15:
            base = (
                rng.choice(("sha1:", "md5:", "sha256+b64:", "SHA256:", "sha256:"))
                + (base.split(":", 1)[1][: rng.randint(0, 130)])
            )
        return self.maybe(base)

    def reference(self) -> str:
        if self.rng.random() < 0.5:
            return self.digest()
        return self.maybe(self.rng.choice(("latest", "v1", "1.0", "_x", "a" * 128, "a" * 129)))

    def upload_id(self) -> tuple[str, str]:
        if self.known.uploads and self.rng.random() < 0.7:
            name, upload_id = self.rng.choice(self.known.uploads)
            return name, self.maybe(upload_id)
        return self.name(), self.mutate("0b5c7f52-3c1e-4b7e-9a55-2f0f3c8d9e10")

    def number(self) -> str:
        rng = self.rng
        return rng.choice(
            (
                str(rng.randint(0, 10)),
                str(rng.randint(-5, 2**70)),
                "",
                " 1",
                "1\n",
                "\u0661",
                "1e3",
                "0x10",
                "-0",
                "9" * 40,
            )
        )

    def byte_range(self) -> str:
        rng = self.rng
        a, b = self.number(), self.number()
        return rng.choice(
            (
                f"bytes={a}-{b}",
                f"bytes={a}-",
                f"bytes=-{b}",
                f"{a}-{b}",
                f"bytes {a}-{b}/{self.number()}",
                f"bytes={a}-{b},{b}-{a}",
                "bytes=",
                "items=0-1",
                f"{a}-{b}/*",
            )
        )

    def manifest(self) -> bytes:
        rng = self.rng
        blobs = list(self.known.blobs)
        config = rng.choice(blobs) if blobs and rng.random() < 0.7 else self.digest()
        doc: dict[str, Any] = {
            "schemaVersion": rng.choice((2, 2, 2, 1, "2", None)),
            "mediaType": rng.choice((OCI_MANIFEST, OCI_INDEX, "text/plain", 7, None)),
            "config": {"mediaType": OCI_CONFIG, "digest": config, "size": rng.randint(-1, 99)},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": self.digest(),
                    "size": rng.choice((0, 1, 2**63, -1, "1", None)),
                }
                for _ in range(rng.randint(0, 3))
            ],
        }
        if rng.random() < 0.3:
            doc["manifests"] = [{"mediaType": OCI_MANIFEST, "digest": self.digest(), "size": 1}]
        if rng.random() < 0.2:
            doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": self.digest(), "size": 1}
        if rng.random() < 0.2:
            doc["annotations"] = {self.mutate("k"): rng.choice(("v", 1, None, ["x"], {"a": 1}))}
        if rng.random() < 0.2:
            doc["layers"][:0] = [{"urls": [self.mutate("http://x/y")], "digest": self.digest()}]
        body = json.dumps(doc).encode()
        kind = rng.randrange(10)
        if kind == 0:
            depth = rng.choice((10, 65, 1000, 5000))
            return b"[" * depth + b"]" * depth
        if kind == 1:
            return body[: rng.randrange(len(body))]
        if kind == 2:
            return body.replace(b'"', b"'", rng.randint(1, 5))
        if kind == 3:
            return b'{"schemaVersion": 2, "x": NaN, "y": 1e999999, "z": "\\ud800"}'
        return body

    def body(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(5)
        if kind == 0:
            return b""
        if kind == 1 and self.known.blobs:
            return rng.choice(list(self.known.blobs.values()))
        if kind == 2:
            return self.manifest()
        return rng.randbytes(rng.choice((1, 7, 512, 4096, 70000)))

    def headers(self) -> dict[str, str]:
        rng = self.rng
        headers: dict[str, str] = {}
        if rng.random() < 0.3:
            headers["Range"] = self.byte_range()
        if rng.random() < 0.3:
            headers["Content-Range"] = self.byte_range()
        if rng.random() < 0.4:
            headers["Content-Type"] = rng.choice(
                (OCI_MANIFEST, OCI_INDEX, "application/octet-stream", "text/plain; x=1", "")
            )
        if rng.random() < 0.1:
            headers["If-None-Match"] = self.digest().replace("\n", "")
        if rng.random() < 0.1:
            headers["Accept"] = rng.choice((OCI_MANIFEST, "*/*", "x/y;q=abc"))
        return {k: _header_safe(v) for k, v in headers.items()}

    def query(self) -> tuple[tuple[str, str], ...]:
        rng = self.rng
        params: list[tuple[str, str]] = []
        for key in ("n", "last", "digest", "mount", "from", "tag", "artifactType"):
            if rng.random() < 0.15:
                value = {
                    "n": self.number,
                    "last": self.reference,
                    "digest": self.digest,
                    "mount": self.digest,
                    "from": self.name,
                    "tag": self.reference,
                    "artifactType": lambda: self.mutate("application/x"),
                }[key]()
                params.append((key, value))
        if rng.random() < 0.05:
            params.append(("digest-algorithm", self.maybe("sha256")))
        if rng.random() < 0.1:
            params.append(("tag", self.reference()))
        return tuple(params)

    # -- requests -------------------------------------------------------------------------

    def request(self) -> FuzzRequest:
        rng = self.rng
        endpoint = rng.randrange(10)
        name = self.name()
        if endpoint == 0:
            tail = rng.choice(("", "_catalog", "_catalog/", "x"))
            path = f"/v2/{tail}"
        elif endpoint == 1:
            path = f"/v2/{_q(name)}/tags/list"
        elif endpoint in (2, 3):
            path = f"/v2/{_q(name)}/manifests/{_q(self.reference())}"
        elif endpoint == 4:
            path = f"/v2/{_q(name)}/blobs/{_q(self.digest())}"
        elif endpoint == 5:
            path = f"/v2/{_q(name)}/blobs/uploads/"
        elif endpoint in (6, 7):
            upload_name, upload_id = self.upload_id()
            path = f"/v2/{_q(upload_name)}/blobs/uploads/{_q(upload_id)}"
        elif endpoint == 8:
            path = f"/v2/{_q(name)}/referrers/{_q(self.digest())}"
        else:
            # never "//...": a client would read that as a host
            path = "/" + _q(self.mutate("v2/" + name + "/manifests/latest")).lstrip("/")
        method = rng.choice(METHODS)
        body = self.body() if method in ("PUT", "POST", "PATCH") or rng.random() < 0.05 else b""
        return FuzzRequest(method, path, self.query(), self.headers(), body)


def _q(text: str) -> str:
    return quote(text, safe="/:")


def _header_safe(value: str) -> str:
    """What an HTTP client can send at all: no CR, LF or NUL, no whitespace at either end,
    Latin-1 only."""
    cleaned = "".join(ch for ch in value if ch not in "\r\n\x00").strip(" \t")
    return cleaned.encode("latin-1", "replace").decode("latin-1")
