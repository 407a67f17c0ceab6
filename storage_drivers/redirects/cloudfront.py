"""``cloudfront``: blobs fetched from Amazon CloudFront in front of the S3 bucket, through
URLs signed with a canned policy that expires after ``duration`` (distribution's
middleware, 20 minutes by default): ``baseurl`` plus the object's key, signed with
the CloudFront key pair ``keypairid``'s private key (``privatekey``, a PEM file).

As in distribution, only a driver that names its objects' keys (``bucket_key``: S3) is
signed for; with another driver the URL so far stands. distribution's ``ipfilteredby``
(clients inside AWS sent to S3 directly) needs the client's address, which a redirect
URL here is made without: only ``none`` is taken. The signing is botocore's
(``CloudFrontSigner``), with the key's RSA-SHA1 signature from cryptography.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from storage_drivers.base import StorageDriver

#: distribution's default lifetime of a signed URL.
DEFAULT_DURATION = datetime.timedelta(minutes=20)


def _text(options: Mapping[str, Any], key: str) -> str:
    value = options.get(key)
    if value is None:
        raise ValueError(f"no {key} provided")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


class CloudFrontRedirect:
    def __init__(
        self, base_url: str, key: rsa.RSAPrivateKey, key_pair_id: str, duration: datetime.timedelta
    ) -> None:
        self.base_url = base_url
        self.duration = duration
        self._signer = CloudFrontSigner(key_pair_id, self._sign_with(key))

    @staticmethod
    def _sign_with(key: rsa.RSAPrivateKey) -> Any:
        def sign(message: bytes) -> bytes:
            # RSA-SHA1 with PKCS #1 v1.5: what CloudFront verifies
            return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

        return sign

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], seconds: Callable[[Any], float]
    ) -> CloudFrontRedirect:
        """``seconds`` reads a duration as the config spells it (ValueError if it cannot)."""
        base = _text(options, "baseurl")
        if "://" not in base:
            base = "https://" + base
        if not base.endswith("/"):
            base += "/"
        key_path = _text(options, "privatekey")
        key_pair_id = _text(options, "keypairid")
        try:
            with open(key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), password=None)
        except OSError as exc:
            raise ValueError(f"cannot read privatekey {key_path}: {exc.strerror}") from None
        except (ValueError, TypeError) as exc:
            raise ValueError(f"privatekey {key_path} is no PEM private key: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"privatekey {key_path} is not an RSA key")
        filtered = str(options.get("ipfilteredby") or "none").strip().lower()
        if filtered != "none":
            raise ValueError(
                f"ipfilteredby {filtered!r} is not supported (only none): every client is "
                "sent to CloudFront"
            )
        duration = options.get("duration")
        lifetime = (
            DEFAULT_DURATION if duration is None else datetime.timedelta(seconds=seconds(duration))
        )
        return cls(base, key, key_pair_id, lifetime)

    def redirect_url(self, driver: StorageDriver, path: str, url: str | None) -> str | None:
        bucket_key = getattr(driver, "bucket_key", None)
        if bucket_key is None:
            return url
        expires = datetime.datetime.now(datetime.UTC) + self.duration
        signed: str = self._signer.generate_presigned_url(
            self.base_url + bucket_key(path), date_less_than=expires
        )
        return signed
