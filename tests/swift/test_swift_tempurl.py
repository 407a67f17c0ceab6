"""Redirect URLs: tempurl-middleware signatures checked by the real Swift proxy."""

from __future__ import annotations

import os

import httpx

from tests.support.swift import SwiftDriverFactory
from tests.swift.conftest import RawSwift

MIB = 1 << 20


async def test_temp_url_serves_a_segmented_blob_and_refuses_tampering(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory(secretkey="configured-key", chunksize=MIB)
    data = os.urandom(2 * MIB + 3)
    writer = await driver.writer("/blobs/x/data")
    await writer.write(data)
    await writer.commit()
    url = await driver.redirect_url("/blobs/x/data")
    assert url is not None and "temp_url_sig=" in url and "temp_url_expires=" in url
    head = await raw_swift.head(driver.params.container, "")
    assert head.headers["X-Container-Meta-Temp-Url-Key"] == "configured-key"
    async with httpx.AsyncClient(timeout=60) as client:  # no token: the URL is the credential
        response = await client.get(url)
        assert response.status_code == 200 and response.content == data
        ranged = await client.get(url, headers={"Range": "bytes=10-19"})
        assert ranged.status_code == 206 and ranged.content == data[10:20]
        head_url = await driver.redirect_url("/blobs/x/data", "HEAD")
        assert head_url is not None
        response = await client.head(head_url)
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(data)
        signature = url.split("temp_url_sig=")[1].split("&")[0]
        forged = "0" * len(signature)
        tampered = url.replace(signature, forged)
        assert (await client.get(tampered)).status_code == 401
        other = url.replace("/files/blobs/x/data", "/files/blobs/y/data")
        assert (await client.get(other)).status_code == 401
        longer = url.replace("temp_url_expires=", "temp_url_expires=1")
        assert (await client.get(longer)).status_code == 401
    assert await driver.redirect_url("/blobs/x/data", "PATCH") is None


async def test_without_secretkey_a_key_is_generated_as_distribution_does(
    swift_driver_factory: SwiftDriverFactory, raw_swift: RawSwift
) -> None:
    driver = await swift_driver_factory()
    await driver.put_content("/f", b"content")
    url = await driver.redirect_url("/f")
    assert url is not None
    head = await raw_swift.head(driver.params.container, "")
    assert len(head.headers["X-Container-Meta-Temp-Url-Key"]) == 64
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b"content"
    # a second driver on the same container keeps the existing key
    again = await swift_driver_factory(container=driver.params.container)
    url2 = await again.redirect_url("/f")
    head2 = await raw_swift.head(driver.params.container, "")
    assert (
        head2.headers["X-Container-Meta-Temp-Url-Key"]
        == head.headers["X-Container-Meta-Temp-Url-Key"]
    )
    async with httpx.AsyncClient() as client:
        assert url2 is not None and (await client.get(url2)).content == b"content"
        assert (await client.get(url)).content == b"content"


async def test_accesskey_prefixes_the_signature_as_hp_cloud_expects(
    swift_driver_factory: SwiftDriverFactory,
) -> None:
    driver = await swift_driver_factory(secretkey="k", accesskey="AK")
    await driver.put_content("/f", b"x")
    url = await driver.redirect_url("/f")
    assert url is not None
    signature = url.split("temp_url_sig=")[1].split("&")[0]
    tenant, access, digest = signature.split("%3A")
    assert (tenant, access, len(digest)) == ("", "AK", 64)  # tempauth has no tenant id
