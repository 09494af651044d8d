"""Helpers for the media tests: images made with Pillow, uploads through the API."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from quart.datastructures import FileStorage
from quart.typing import TestClientProtocol as Client
from saq import Worker

from stgy.services import Services
from tasks.context import JobContext
from tasks.worker import make_worker
from tests.conftest import User

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(width: int = 400, height: int = 300, *, fmt: str = "JPEG", exif: bool = True) -> bytes:
    """Stripes, so renditions have something to show; EXIF with a GPS position and an
    orientation of 6 (shown rotated 90 degrees clockwise)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(0, width, 40):
        image.paste((0, 0, 255), (x, 0, x + 8, height))
    options: dict[str, Any] = {}
    if exif:
        tags = Image.Exif()
        tags[ORIENTATION] = 6
        tags[0x010F] = "CameraMaker"
        tags[GPS_IFD] = {1: "N", 2: (35.0, 40.0, 12.5), 3: "E", 4: (139.0, 45.0, 0.0)}
        options["exif"] = tags.tobytes()
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def animated_gif(frames: int = 4, size: tuple[int, int] = (120, 80)) -> bytes:
    images = [Image.new("RGB", size, (i * 60, 200 - i * 40, 30)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=90, loop=0)
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """Few bytes, many pixels: a one-bit PNG compresses to almost nothing."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def upload(
    client: Client,
    user: User,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str | None = "image/jpeg",
    **form: str,
) -> tuple[int, Any]:
    part = FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)
    response = await client.post(
        "/api/media", files={"file": part}, form=form or None, headers=user.auth
    )
    return response.status_code, await response.get_json()


async def uploaded(client: Client, user: User, data: bytes | None = None, **form: str) -> str:
    """An upload that is ready at once (small enough to be processed inline)."""
    status, body = await upload(client, user, data or photo(), **form)
    assert status == 201, body
    assert body["state"] == "ready"
    return str(body["id"])


async def drain(services: Services) -> None:
    """Run a worker on the services' queue until it is empty."""
    worker: Worker[JobContext] = make_worker(services, burst=True, dequeue_timeout=0.5)
    await worker.start()


async def media_rows(services: Services, account_id: str) -> int:
    async with services.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM media WHERE account_id = $1", int(account_id)
        )
    return count
