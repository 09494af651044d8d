"""The S3 backend against a real S3-compatible server on loopback (moto's server mode)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from quart import Quart

from stgy.app import create_app
from stgy.config import Config
from stgy.devservices import free_port
from stgy.domain.media import media_cleanup
from stgy.services import Services
from storage.blobs import S3BlobStore
from tests.conftest import RUN_ID, make_user
from tests.integration.media_support import GPS_IFD, drain, opened, photo, upload

BUCKET = "stgy-media"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}
KEYS = {"s3_access_key": "test-access", "s3_secret_key": "test-secret", "s3_region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-access",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    # What docs/media.md asks of a bucket: anyone may read objects.
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    client.close()
    yield endpoint
    server.stop()


@pytest.fixture
def s3_config(config: Config, s3_endpoint: str) -> Config:
    on_s3 = config.replace(
        "storage", backend="s3", s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint, **KEYS
    )
    # A queue of its own: a worker on S3 must not take jobs of uploads on local disk.
    return on_s3.replace("redis", queue_prefix=f"stgy-test-{RUN_ID}-s3")


@pytest.fixture
async def s3_services(s3_config: Config) -> AsyncIterator[Services]:
    started = await Services.start(s3_config)
    yield started
    await started.close()


@pytest.fixture
async def s3_app(s3_config: Config) -> AsyncIterator[Quart]:
    application = create_app(s3_config)
    async with application.test_app():
        yield application


def objects(endpoint: str) -> set[str]:
    client: Any = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-access",
        aws_secret_access_key="test-secret",
    )
    try:
        listing = client.list_objects_v2(Bucket=BUCKET)
        return {item["Key"] for item in listing.get("Contents", [])}
    finally:
        client.close()


async def test_blob_store_round_trip(s3_services: Services, s3_endpoint: str) -> None:
    blobs = s3_services.blobs
    assert isinstance(blobs, S3BlobStore)
    await blobs.put("tests/a.png", b"\x89PNG data", "image/png")
    assert await blobs.get("tests/a.png") == b"\x89PNG data"
    assert await blobs.get("tests/missing.png") is None
    assert blobs.url("tests/a.png") == f"{s3_endpoint}/{BUCKET}/tests/a.png"
    async with httpx.AsyncClient() as http:
        response = await http.get(blobs.url("tests/a.png"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert "immutable" in response.headers["cache-control"]
    await blobs.delete(["tests/a.png", "tests/never-there.png"])
    assert "tests/a.png" not in objects(s3_endpoint)


async def test_upload_job_post_and_cleanup_on_s3(
    s3_app: Quart, s3_services: Services, s3_endpoint: str
) -> None:
    client = s3_app.test_client()
    user = await make_user(client)
    status, small = await upload(client, user, photo(300, 200), description="inline")
    assert status == 201 and small["url"].startswith(f"{s3_endpoint}/{BUCKET}/media/")
    status, big = await upload(client, user, photo(1300, 900))
    assert status == 202
    assert any(key.startswith(f"incoming/{big['id']}-") for key in objects(s3_endpoint))
    await drain(s3_services)
    response = await client.get(f"/api/media/{big['id']}", headers=user.auth)
    ready = await response.get_json()
    assert ready["state"] == "ready"
    keys = objects(s3_endpoint)
    assert not any(key.startswith(f"incoming/{big['id']}-") for key in keys)
    assert {f"media/{big['id']}/{name}.jpg" for name in ("original", "large", "small")} <= keys
    async with httpx.AsyncClient() as http:
        fetched = await http.get(ready["url"])
    assert fetched.headers["content-type"] == "image/jpeg"
    image = opened(fetched.content)
    assert image.size == (900, 1300) and GPS_IFD not in image.getexif()

    response = await client.post(
        "/api/posts", json={"text": "on s3", "media_ids": [big["id"]]}, headers=user.auth
    )
    assert response.status_code == 201
    post = await response.get_json()
    assert post["media"][0]["url"] == ready["url"]
    response = await client.get(
        f"/users/{user.handle}/posts/{post['id']}", headers={"Accept": "application/activity+json"}
    )
    assert (await response.get_json())["attachment"][0]["url"] == ready["url"]

    async with s3_services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE media SET created_at = now() - interval '2 days' WHERE id = $1",
            int(small["id"]),
        )
    assert await media_cleanup.sweep(s3_services) >= 1
    keys = objects(s3_endpoint)
    assert not any(key.startswith(f"media/{small['id']}/") for key in keys)
    assert f"media/{big['id']}/original.jpg" in keys
