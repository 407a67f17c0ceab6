"""The direct S3 client's pieces that need no server: SigV4 against AWS's published
example, response timestamps, and which configurations it takes over from boto3."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from storage_drivers._s3_direct import DirectS3, Signer, direct_client, parse_timestamp
from storage_drivers._s3_options import parse_options
from storage_drivers.s3 import S3Driver

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _creds(token: str | None = None) -> Any:
    return SimpleNamespace(access_key=ACCESS, secret_key=SECRET, token=token)


def test_signature_matches_the_aws_get_object_example() -> None:
    """docs.aws.amazon.com, sig-v4-header-based-auth: 'Example: GET Object'."""
    signer = Signer("us-east-1", _creds, unsigned=False)
    headers = {"Range": "bytes=0-9"}
    moment = datetime(2013, 5, 24, tzinfo=UTC)
    signer.sign("GET", "examplebucket.s3.amazonaws.com", "/test.txt", "", headers, b"", moment)
    assert headers["x-amz-content-sha256"] == EMPTY
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={ACCESS}/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_unsigned_payload_and_session_token_are_signed_headers() -> None:
    signer = Signer("eu-west-1", lambda: _creds("TOKEN"), unsigned=True)
    headers = {"Content-Type": "application/octet-stream", "x-amz-meta-base": "0"}
    signer.sign("PUT", "h", "/b/k", "", headers, b"body")
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert headers["x-amz-security-token"] == "TOKEN"
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed == (
        "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-base;x-amz-security-token"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 01 May 2024 10:00:00 GMT", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.000Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("1714557600", datetime(2024, 5, 1, 10, tzinfo=UTC)),  # epoch: botocore's parser
    ],
)
def test_response_timestamps(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected and parsed.tzinfo is not None


def _session() -> Any:
    credentials = SimpleNamespace(get_frozen_credentials=lambda: _creds())
    return SimpleNamespace(get_credentials=lambda: credentials)


@pytest.mark.parametrize(
    ("params", "direct"),
    [
        ({"region": "us-east-1"}, True),
        ({"regionendpoint": "http://127.0.0.1:9000", "forcepathstyle": True}, True),
        ({"regionendpoint": "http://127.0.0.1:9000"}, False),  # botocore's addressing
        ({"region": "us-east-1", "v4auth": "false", "regionendpoint": "h:1"}, False),
        ({"region": "us-east-1", "accelerate": True}, False),
        ({"region": "us-east-1", "usedualstack": True}, False),
        ({"region": "us-east-1", "usefipsendpoint": True}, False),
        ({"region": "cn-north-1"}, False),
    ],
)
def test_configurations_the_direct_client_takes(params: dict[str, Any], direct: bool) -> None:
    options = parse_options({"bucket": "b", **params})
    client = direct_client(options, _session())
    assert isinstance(client, DirectS3) if direct else client is None


def test_no_credentials_leaves_everything_to_boto3() -> None:
    options = parse_options({"bucket": "b", "region": "us-east-1"})
    assert direct_client(options, SimpleNamespace(get_credentials=lambda: None)) is None


def test_driver_uses_it_for_plain_http_path_style() -> None:
    driver = S3Driver(
        bucket="b",
        regionendpoint="http://127.0.0.1:1",
        forcepathstyle=True,
        accesskey="a",
        secretkey="s",
        region="us-east-1",
    )
    driver._backend._make_client()
    assert isinstance(driver._backend._direct, DirectS3)
    driver._backend.close()
