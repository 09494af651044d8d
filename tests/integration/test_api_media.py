"""Uploads through the API: inline and job processing, served files, bad input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.datastructures import FileStorage
from quart.typing import TestClientProtocol as Client

from stgy.app import create_app
from stgy.config import Config
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.media_support import (
    GPS_IFD,
    animated_gif,
    drain,
    huge_png,
    media_rows,
    opened,
    photo,
    upload,
)


def stored_files(config: Config) -> set[Path]:
    root = config.path(config.storage.path)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def fetch(client: Client, url: str, **headers: str) -> Any:
    path = url.removeprefix("http://localhost:8000")
    return await client.get(path, headers=headers)


async def test_small_upload_is_ready_at_once_without_metadata(
    client: Client, config: Config
) -> None:
    user = await make_user(client)
    status, body = await upload(
        client, user, photo(400, 300), description="a red wall", focus="0.5,-0.25"
    )
    assert status == 201, body
    assert body["state"] == "ready" and body["type"] == "image" and body["purpose"] == "attachment"
    # EXIF orientation 6 is applied: the 400x300 photo stands upright.
    assert (body["width"], body["height"]) == (300, 400)
    assert body["description"] == "a red wall" and body["focus"] == {"x": 0.5, "y": -0.25}
    assert body["content_type"] == "image/jpeg" and len(body["blurhash"]) >= 6
    base = f"{config.instance.base_url}/media/media/{body['id']}/"
    assert body["url"] == base + "original.jpg"
    assert body["large_url"] == base + "large.jpg" and body["preview_url"] == base + "small.jpg"

    response = await fetch(client, body["url"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    served = opened(await response.get_data())
    exif = served.getexif()
    assert GPS_IFD not in exif and 0x010F not in exif and 0x0112 not in exif
    assert served.size == (300, 400)
    etag = response.headers["ETag"]
    again = await fetch(client, body["url"], **{"If-None-Match": etag})
    assert again.status_code == 304 and await again.get_data() == b""
    small = await fetch(client, body["preview_url"])
    assert max(opened(await small.get_data()).size) <= config.media.small_size

    response = await client.get(f"/api/media/{body['id']}", headers=user.auth)
    assert response.status_code == 200 and (await response.get_json())["id"] == body["id"]


async def test_owner_only_and_alt_text_edits(client: Client) -> None:
    owner, other = await make_user(client), await make_user(client)
    _, body = await upload(client, owner, photo())
    path = f"/api/media/{body['id']}"
    assert (await client.get(path, headers=other.auth)).status_code == 404
    assert (await client.get(path)).status_code == 401
    response = await client.patch(path, json={"description": "new alt"}, headers=other.auth)
    assert response.status_code == 404
    response = await client.patch(
        path, json={"description": "new alt", "focus": "0,1"}, headers=owner.auth
    )
    assert response.status_code == 200
    edited = await response.get_json()
    assert edited["description"] == "new alt" and edited["focus"] == {"x": 0.0, "y": 1.0}
    for bad in ({"focus": "2,0"}, {"description": "x" * 1501}, {"alt": "x"}, {"focus": "a,b"}):
        response = await client.patch(path, json=bad, headers=owner.auth)
        assert response.status_code == 400, bad
    assert (await client.get("/api/media/12x", headers=owner.auth)).status_code == 404


async def test_large_upload_is_processed_by_the_job(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    status, body = await upload(client, user, photo(1300, 900), filename="big.jpg")
    assert status == 202, body
    assert body["state"] == "processing" and body["url"] is None and body["blurhash"] is None
    incoming = config.path(config.storage.path) / "incoming"
    assert any(p.name.startswith(f"{body['id']}-") for p in incoming.iterdir())
    await drain(services)
    response = await client.get(f"/api/media/{body['id']}", headers=user.auth)
    ready = await response.get_json()
    assert ready["state"] == "ready" and (ready["width"], ready["height"]) == (900, 1300)
    assert not any(p.name.startswith(f"{body['id']}-") for p in incoming.iterdir())
    large = opened(await (await fetch(client, ready["large_url"])).get_data())
    assert max(large.size) == config.media.large_size
    original = opened(await (await fetch(client, ready["url"])).get_data())
    assert original.size == (900, 1300) and GPS_IFD not in original.getexif()


async def test_formats_animation_and_avatar_crop(client: Client) -> None:
    user = await make_user(client)
    status, body = await upload(
        client, user, animated_gif(), filename="a.gif", content_type="image/gif"
    )
    assert status == 201 and body["animated"] is True and body["content_type"] == "image/gif"
    assert opened(await (await fetch(client, body["url"])).get_data()).n_frames == 4
    assert body["preview_url"].endswith(".jpg")
    for fmt, content_type in (("PNG", "image/png"), ("WEBP", "image/webp"), ("AVIF", "image/avif")):
        status, body = await upload(
            client, user, photo(64, 48, fmt=fmt, exif=False), filename="x", content_type=None
        )
        assert status == 201, (fmt, body)
        assert body["content_type"] == content_type
    status, body = await upload(client, user, photo(400, 300), purpose="avatar")
    assert status == 201 and body["purpose"] == "avatar"
    assert body["width"] == body["height"] == 300


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "status", "reason"),
    [
        (b"just some text, honestly", "cat.png", "image/png", 415, "not an image"),
        (b"PK\x03\x04" + b"\x00" * 200, "cat.jpg", "image/jpeg", 415, "not an image"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "x.svg",
            "image/svg+xml",
            415,
            "SVG",
        ),
        (photo(300, 200)[:900], "cut.jpg", "image/jpeg", 422, "truncated"),
        (huge_png(10_000, 10_000), "bomb.png", "image/png", 400, "pixels"),
        (huge_png(8_000, 7_000), "big.png", "image/png", 400, "limits.media_pixels"),
        (photo(60, 40, fmt="PNG"), "x.png", "image/jpeg", 415, "declared image/jpeg"),
        (photo(60, 40), "x.jpg", "text/plain", 415, "text/plain"),
        (b"", "empty.jpg", "image/jpeg", 400, "required"),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    client: Client,
    config: Config,
    services: Services,
    data: bytes,
    filename: str,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    user = await make_user(client)
    before = stored_files(config)
    got, body = await upload(client, user, data, filename=filename, content_type=content_type)
    assert got == status, body
    assert set(body) == {"error", "detail"} and reason in str(body["detail"])
    assert await media_rows(services, user.id) == 0
    assert stored_files(config) == before


async def test_bad_form_fields(client: Client, services: Services) -> None:
    user = await make_user(client)
    for form, field in (
        ({"focus": "1,2"}, "focus"),
        ({"purpose": "banner"}, "purpose"),
        ({"description": "x" * 1501}, "description"),
        ({"alt": "x"}, "alt"),
    ):
        status, body = await upload(client, user, photo(), **form)
        assert status == 400 and body["detail"]["field"] == field, body
    response = await client.post("/api/media", json={"file": "x"}, headers=user.auth)
    assert response.status_code == 415
    response = await client.post("/api/media", form={"description": "x"}, headers=user.auth)
    assert response.status_code == 415  # urlencoded, not multipart
    response = await client.post(
        "/api/media", files={}, form={"description": "x"}, headers=user.auth
    )
    assert response.status_code == 400
    assert (await response.get_json())["detail"]["field"] == "file"
    part = FileStorage(io.BytesIO(photo()), filename="x.jpg", content_type="image/jpeg")
    response = await client.post("/api/media", files={"file": part})
    assert response.status_code == 401
    assert await media_rows(services, user.id) == 0


@pytest.fixture
async def small_limit_app(config: Config) -> Any:
    application: Quart = create_app(config.replace("limits", media_bytes=4096))
    async with application.test_app():
        yield application


async def test_oversize_upload_is_413(small_limit_app: Quart, services: Services) -> None:
    client = small_limit_app.test_client()
    user = await make_user(client)
    status, body = await upload(client, user, photo(400, 300) + b"\x00" * 5000)
    assert status == 413 and "limits.media_bytes" in str(body["detail"])
    status, body = await upload(client, user, b"\xff" * 200_000)
    assert status == 413
    assert await media_rows(services, user.id) == 0
    # Other routes keep the smaller body limit.
    response = await client.post(
        "/api/posts",
        data=b"x" * 1_100_000,
        headers={**user.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_media_files_refuse_traversal_and_incoming(client: Client, config: Config) -> None:
    root = config.path(config.storage.path)
    root.mkdir(parents=True, exist_ok=True)
    (root.parent / "secret.txt").write_text("secret")
    (root / "incoming").mkdir(exist_ok=True)
    (root / "incoming" / "1-abc").write_bytes(b"raw upload")
    for path in (
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/incoming/1-abc",
        "/media/.hidden",
        "/media/media/none/original.jpg",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert b"secret" not in await response.get_data()
