"""The ``storage.s3`` parameters, coerced and checked like distribution's S3 driver.

Values may arrive as YAML scalars or as strings from ``REGISTRY_STORAGE_S3_*``
environment overrides ("true", "10485760"), so every option is coerced here once and the
driver only ever sees typed values.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage_drivers.errors import StorageDriverError

MIN_CHUNK_SIZE = 5 * 1024 * 1024
MAX_CHUNK_SIZE = 5 * 1024 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 2 * MIN_CHUNK_SIZE
DEFAULT_COPY_CHUNK_SIZE = 32 * 1024 * 1024
DEFAULT_COPY_MAX_CONCURRENCY = 100
DEFAULT_COPY_THRESHOLD = 32 * 1024 * 1024

#: "Don't send a storage class", for S3 look-alikes that reject the header.
NO_STORAGE_CLASS = "NONE"
STORAGE_CLASSES = (
    NO_STORAGE_CLASS,
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "OUTPOSTS",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
)
OBJECT_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
_TRUE = {"1", "t", "true", "yes", "y", "on"}
_FALSE = {"0", "f", "false", "no", "n", "off", ""}


def _error(message: str) -> StorageDriverError:
    return StorageDriverError(f"s3 storage driver: {message}", driver="s3")


def _string(params: Mapping[str, Any], name: str, default: str = "") -> str:
    value = params.get(name)
    return default if value is None else str(value)


def _bool(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _error(f"the {name} parameter should be a boolean, got {value!r}")


def _int(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        number = default
    elif isinstance(value, bool):
        raise _error(f"the {name} parameter must be an integer, got {value!r}")
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _error(f"the {name} parameter must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise _error(f"the {name} parameter must be between {low} and {high}, got {number}")
    return number


@dataclass(frozen=True, slots=True)
class S3Options:
    """Every option distribution's S3 driver knows, typed."""

    bucket: str
    region: str
    regionendpoint: str = ""
    forcepathstyle: bool = False
    accesskey: str = ""
    secretkey: str = ""
    sessiontoken: str = ""
    encrypt: bool = False
    keyid: str = ""
    secure: bool = True
    skipverify: bool = False
    v4auth: bool = True
    chunksize: int = DEFAULT_CHUNK_SIZE
    multipartcopychunksize: int = DEFAULT_COPY_CHUNK_SIZE
    multipartcopymaxconcurrency: int = DEFAULT_COPY_MAX_CONCURRENCY
    multipartcopythresholdsize: int = DEFAULT_COPY_THRESHOLD
    rootdirectory: str = ""
    storageclass: str = "STANDARD"
    objectacl: str = "private"
    useragent: str = ""
    usedualstack: bool = False
    accelerate: bool = False
    usefipsendpoint: bool = False

    @property
    def endpoint_url(self) -> str | None:
        """``regionendpoint`` with a scheme (``secure`` picks it when none is given)."""
        endpoint = self.regionendpoint.strip()
        if not endpoint:
            return None
        if "://" not in endpoint:
            endpoint = ("https://" if self.secure else "http://") + endpoint
        return endpoint

    def verify(self) -> bool | str:
        """What the endpoint's certificate is checked against: nothing (``skipverify``),
        else the CAs that ``AWS_CA_BUNDLE``, ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` name,
        else the system's trust store, as distribution (Go) checks it; certifi's bundle
        (botocore's own choice) only where the system has none. botocore alone ignores
        the system and, given ``verify=True``, ``AWS_CA_BUNDLE`` too: an S3 server with
        a private CA then worked with distribution but not here."""
        if self.skipverify:
            return False
        for variable in ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
            named = os.environ.get(variable, "").strip()
            if named:
                return named
        system = ssl.get_default_verify_paths().cafile
        return system if system and os.path.isfile(system) else True

    def object_args(self) -> dict[str, str]:
        """Headers every object-creating request carries (PUT, copy, multipart create)."""
        args = {"ContentType": "application/octet-stream", "ACL": self.objectacl}
        if self.storageclass != NO_STORAGE_CLASS:
            args["StorageClass"] = self.storageclass
        if self.encrypt:
            if self.keyid:
                args["ServerSideEncryption"] = "aws:kms"
                args["SSEKMSKeyId"] = self.keyid
            else:
                args["ServerSideEncryption"] = "AES256"
        return args


def parse_options(params: Mapping[str, Any]) -> S3Options:
    """Build :class:`S3Options` from a ``storage.s3`` mapping; unknown keys are ignored."""
    regionendpoint = _string(params, "regionendpoint").strip()
    region = _string(params, "region").strip()
    if not region:
        if not regionendpoint:
            raise _error("no region parameter provided")
        region = "us-east-1"
    bucket = _string(params, "bucket").strip()
    if not bucket:
        raise _error("no bucket parameter provided")
    v4auth = _bool(params, "v4auth", True)
    if not v4auth and (not regionendpoint or "amazonaws.com" in regionendpoint):
        raise _error("on Amazon S3 this storage driver can only be used with v4auth")
    storageclass = _string(params, "storageclass", "STANDARD").strip().upper()
    if storageclass not in STORAGE_CLASSES:
        raise _error(f"the storageclass parameter must be one of {list(STORAGE_CLASSES)}")
    objectacl = _string(params, "objectacl", "private").strip()
    if objectacl not in OBJECT_ACLS:
        raise _error(f"invalid value for objectacl parameter: {objectacl!r}")
    return S3Options(
        bucket=bucket,
        region=region,
        regionendpoint=regionendpoint,
        forcepathstyle=_bool(params, "forcepathstyle", False),
        accesskey=_string(params, "accesskey"),
        secretkey=_string(params, "secretkey"),
        sessiontoken=_string(params, "sessiontoken"),
        encrypt=_bool(params, "encrypt", False),
        keyid=_string(params, "keyid").strip(),
        secure=_bool(params, "secure", True),
        skipverify=_bool(params, "skipverify", False),
        v4auth=v4auth,
        chunksize=_int(params, "chunksize", DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
        multipartcopychunksize=_int(
            params,
            "multipartcopychunksize",
            DEFAULT_COPY_CHUNK_SIZE,
            MIN_CHUNK_SIZE,
            MAX_CHUNK_SIZE,
        ),
        multipartcopymaxconcurrency=_int(
            params, "multipartcopymaxconcurrency", DEFAULT_COPY_MAX_CONCURRENCY, 1, 10_000
        ),
        multipartcopythresholdsize=_int(
            params, "multipartcopythresholdsize", DEFAULT_COPY_THRESHOLD, 0, MAX_CHUNK_SIZE
        ),
        rootdirectory=_string(params, "rootdirectory").strip("/"),
        storageclass=storageclass,
        objectacl=objectacl,
        useragent=_string(params, "useragent"),
        usedualstack=_bool(params, "usedualstack", False),
        accelerate=_bool(params, "accelerate", False),
        usefipsendpoint=_bool(params, "usefipsendpoint", False),
    )
