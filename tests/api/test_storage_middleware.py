"""distribution's storage middleware (``middleware.storage``): ``redirect``, ``rewrite`` and
``cloudfront`` turn a blob ``GET`` into a 307 to where the bytes are served from.

Over real sockets: the registry (filesystem or SeaweedFS storage), a web server serving
the filesystem root, and a stand-in for CloudFront that checks a URL's canned-policy
signature with the key pair's public key before serving the object from the bucket;
skopeo pulls through the redirect.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pyregistry.app import create_app
from pyregistry.client import RegistryClient
from pyregistry.client.content import build_image
from pyregistry.config import ConfigError
from pyregistry.embedding.options import config_from_mapping
from tests.support.s3 import S3Server
from tests.support.server import run_server
from tests.support.skopeo import Skopeo


@contextlib.contextmanager
def serving(handler: Any) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 in a thread; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def registry(storage: dict[str, Any], *middleware: dict[str, Any], **extra: Any) -> Any:
    document = {"storage": storage, "middleware": {"storage": list(middleware)}, **extra}
    return run_server(create_app(config_from_mapping(document)))


def blob_path(digest: str) -> str:
    algorithm, hex_digest = digest.split(":")
    return f"/docker/registry/v2/blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}/data"


def test_redirect_sends_blob_pulls_to_a_web_server_of_the_root(
    tmp_path: Path, skopeo: Skopeo
) -> None:
    root = tmp_path / "files" / "registry"
    image = build_image(seed="redirect-mw", layers=2, layer_size=30_000)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "files"))
    with serving(handler) as files:
        storage = {"filesystem": {"rootdirectory": str(root)}}
        base_url = {"name": "redirect", "options": {"baseurl": f"{files}/registry/"}}
        with registry(storage, base_url) as url:
            with RegistryClient(url) as client:
                client.push("team/app", image, "v1")
            layer = image.layer_digests[0]
            response = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
            assert response.status_code == 307
            assert response.headers["location"] == f"{files}/registry{blob_path(layer)}"
            followed = httpx.get(f"{url}/v2/team/app/blobs/{layer}", follow_redirects=True)
            assert followed.content == image.blobs()[layer]
            # a real client follows it for every blob
            copy = tmp_path / "copy"
            pulled = skopeo.pull_checked(url, "team/app:v1", image.blobs(), copy)
            assert pulled == image.digest


def test_redirects_disabled_win_over_the_middleware(tmp_path: Path) -> None:
    storage = {
        "filesystem": {"rootdirectory": str(tmp_path / "root")},
        "redirect": {"disable": True},
    }
    image = build_image(seed="redirect-off", layers=1, layer_size=1_000)
    with registry(storage, {"name": "redirect", "options": {"baseurl": "http://cdn.test"}}) as url:
        with RegistryClient(url) as client:
            client.push("team/app", image, "v1")
        layer = image.layer_digests[0]
        response = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
        assert response.status_code == 200 and response.content == image.blobs()[layer]


def test_rewrite_changes_what_the_entries_before_made(tmp_path: Path) -> None:
    root = tmp_path / "root"
    image = build_image(seed="rewrite-mw", layers=1, layer_size=5_000)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    with serving(handler) as files:
        storage = {"filesystem": {"rootdirectory": str(root)}}
        chain = (
            {"name": "redirect", "options": {"baseurl": "https://internal.invalid/cut/here"}},
            {"name": "disabled-one", "disabled": True},
            {
                "name": "rewrite",
                "options": {
                    "scheme": "http",
                    "host": files.removeprefix("http://"),
                    "trimpathprefix": "/cut/here",
                },
            },
        )
        with registry(storage, *chain) as url:
            with RegistryClient(url) as client:
                client.push("team/app", image, "v1")
            layer = image.layer_digests[0]
            response = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
            assert response.status_code == 307
            assert response.headers["location"] == files + blob_path(layer)
            followed = httpx.get(f"{url}/v2/team/app/blobs/{layer}", follow_redirects=True)
            assert followed.content == image.blobs()[layer]


def _aws_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


class FakeCloudFront(BaseHTTPRequestHandler):
    """Serves ``/<key>`` from the bucket when the URL carries a valid canned-policy
    signature of :attr:`public_key` that has not expired; 403 otherwise."""

    public_key: rsa.RSAPublicKey
    key_pair_id: str
    s3: S3Server
    seen: list[str]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        resource = f"http://{self.headers['Host']}{parts.path}"
        expires = int(query.get("Expires", "0"))
        policy = json.dumps(
            {
                "Statement": [
                    {
                        "Resource": resource,
                        "Condition": {"DateLessThan": {"AWS:EpochTime": expires}},
                    }
                ]
            },
            separators=(",", ":"),
        ).encode()
        try:
            self.public_key.verify(
                _aws_b64decode(query.get("Signature", "")),
                policy,
                padding.PKCS1v15(),
                hashes.SHA1(),
            )
            valid = query.get("Key-Pair-Id") == self.key_pair_id and expires > time.time()
        except Exception:  # noqa: BLE001 - any failure is a refusal
            valid = False
        self.seen.append(parts.path)
        if not valid:
            self.send_error(403)
            return
        key = parts.path.lstrip("/")
        body = self.s3.client().get_object(Bucket=self.s3.bucket, Key=key)["Body"].read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[Path, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "cloudfront.pem"
    path.write_bytes(  # the PKCS #1 PEM AWS hands out
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path, key


def test_cloudfront_signs_urls_of_the_objects_in_the_bucket(
    seaweedfs_server: S3Server, key_pair: tuple[Path, rsa.RSAPrivateKey]
) -> None:
    pem, key = key_pair
    seen: list[str] = []
    handler = type(
        "Handler",
        (FakeCloudFront,),
        {
            "public_key": key.public_key(),
            "key_pair_id": "K2JCJMDEHXQW5F",
            "s3": seaweedfs_server,
            "seen": seen,
        },
    )
    image = build_image(seed="cloudfront-mw", layers=1, layer_size=20_000)
    root = f"/cf-{time.monotonic_ns()}"
    storage = {"s3": seaweedfs_server.driver_parameters(root)}
    with serving(handler) as cdn:
        options = {
            "baseurl": cdn,
            "privatekey": str(pem),
            "keypairid": "K2JCJMDEHXQW5F",
            "duration": "5m",
        }
        with registry(storage, {"name": "cloudfront", "options": options}) as url:
            with RegistryClient(url) as client:
                client.push("team/app", image, "v1")
            layer = image.layer_digests[0]
            response = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
            assert response.status_code == 307
            location = response.headers["location"]
            assert location.startswith(f"{cdn}{root}{blob_path(layer)}?Expires=")
            expires = int(parse_qs(urlsplit(location).query)["Expires"][0])
            assert 240 < expires - time.time() <= 300
            followed = httpx.get(location)
            assert followed.status_code == 200 and followed.content == image.blobs()[layer]
            # a URL signed for another object is refused by CloudFront
            other = location.replace(layer.split(":")[1], "0" * 64, 1)
            assert httpx.get(other).status_code == 403
    assert seen[0] == f"{root}{blob_path(layer)}"


def test_cloudfront_leaves_a_driver_without_object_keys_alone(
    tmp_path: Path, key_pair: tuple[Path, rsa.RSAPrivateKey]
) -> None:
    options = {"baseurl": "cdn.test", "privatekey": str(key_pair[0]), "keypairid": "K1"}
    storage = {"filesystem": {"rootdirectory": str(tmp_path / "root")}}
    image = build_image(seed="cloudfront-fs", layers=1, layer_size=1_000)
    with registry(storage, {"name": "cloudfront", "options": options}) as url:
        with RegistryClient(url) as client:
            client.push("team/app", image, "v1")
        layer = image.layer_digests[0]
        response = httpx.get(f"{url}/v2/team/app/blobs/{layer}")
        assert response.status_code == 200 and response.content == image.blobs()[layer]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"name": "redirect"}, "no baseurl"),
        ({"name": "redirect", "options": {"baseurl": "cdn.test"}}, "no scheme"),
        ({"name": "rewrite", "options": {"host": 5}}, "host must be a string"),
        ({"name": "cloudfront", "options": {"baseurl": "x"}}, "no privatekey"),
        (
            {
                "name": "cloudfront",
                "options": {"baseurl": "x", "privatekey": "/no/such.pem", "keypairid": "K"},
            },
            "cannot read privatekey",
        ),
    ],
)
def test_bad_options_stop_start_up_naming_the_entry(entry: dict[str, Any], words: str) -> None:
    document = {"storage": {"inmemory": {}}, "middleware": {"storage": [entry]}}
    with pytest.raises(ConfigError) as refused:
        create_app(config_from_mapping(document))
    assert refused.value.key == "middleware.storage[0]"
    assert words in refused.value.message


def test_ip_filtering_is_refused(key_pair: tuple[Path, rsa.RSAPrivateKey]) -> None:
    options = {
        "baseurl": "cdn.test",
        "privatekey": str(key_pair[0]),
        "keypairid": "K1",
        "ipfilteredby": "awsregion",
        "awsregion": "us-east-1",
    }
    document = {
        "storage": {"inmemory": {}},
        "middleware": {"storage": [{"name": "cloudfront", "options": options}]},
    }
    with pytest.raises(ConfigError) as refused:
        create_app(config_from_mapping(document))
    assert "ipfilteredby" in refused.value.message
