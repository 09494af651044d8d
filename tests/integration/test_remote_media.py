"""Attachments of remote posts: hot-linked by default, cached through a job when asked,
purged by `stgy media purge-remote`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from saq import Worker

from stgy.app import create_app
from stgy.config import Config
from stgy.jobs import remote_media_job_key
from stgy.services import Services
from storage import follows as follows_sql
from tasks.context import JobContext
from tasks.worker import make_worker
from tests.conftest import RUN_ID, config_env, make_user, wait_for
from tests.integration.media_support import GPS_IFD, drain, opened, photo
from tests.integration.test_cli import stgy
from tests.integration.test_inbox import activity_of, make_remote, note_of, post_activity

FILES: dict[str, tuple[str, bytes]] = {
    "/photo.jpg": ("image/jpeg", photo(500, 400)),
    "/fake.jpg": ("image/jpeg", b"<html>not an image</html>"),
}


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        found = FILES.get(self.path)
        if found is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", found[0])
        self.send_header("Content-Length", str(len(found[1])))
        self.end_headers()
        self.wfile.write(found[1])

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def file_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def attachment(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Document", "mediaType": "image/jpeg", "url": url, **extra}


async def remote_post_media(services: Services, note_id: str) -> list[Any]:
    async with services.pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT m.* FROM media m JOIN posts p ON p.id = m.post_id WHERE p.ap_id = $1"
                " ORDER BY m.position",
                note_id,
            )
        )


async def followed_remote(client: Any, services: Services) -> Any:
    user = await make_user(client)
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await follows_sql.insert_follow(
            conn, follower_id=int(user.id), followee_id=remote.account_id, state="accepted"
        )
    return user, remote


async def shown_media_urls(client: Any, user: Any, ap_id: str) -> list[str]:
    """The URLs of a post's attachments as the user's home timeline shows them."""
    response = await client.get("/api/timelines/home", headers=user.auth)
    assert response.status_code == 200
    posts = (await response.get_json())["posts"]
    return [m["url"] for m in next(p for p in posts if p["ap_id"] == ap_id)["media"]]


async def test_remote_attachments_are_hot_linked_with_urls_checked(
    client: Any, config: Config, services: Services
) -> None:
    user, remote = await followed_remote(client, services)
    good = remote.url("media/cat.jpg")
    note = note_of(
        remote,
        "pictures",
        attachment=[
            attachment("javascript:alert(1)"),
            attachment("file:///etc/passwd"),
            attachment(
                good,
                name="a cat",
                blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                width=640,
                height=480,
                focalPoint=[0.5, -0.5],
            ),
            {"type": "Document", "url": {"type": "Link", "href": remote.url("v.mp4")}},
            {"type": "PropertyValue", "name": "not an attachment", "value": "x"},
        ],
    )
    create = activity_of(remote, "Create", note)
    assert await post_activity(client, config, remote, create) == 202
    await drain(services)
    rows = await remote_post_media(services, note["id"])
    assert [r["remote_url"] for r in rows] == [good, remote.url("v.mp4")]
    cat = rows[0]
    assert cat["local"] is False and cat["state"] == "ready" and cat["url"] == good
    assert cat["description"] == "a cat" and (cat["width"], cat["height"]) == (640, 480)
    assert cat["cached_at"] is None and cat["blob_keys"] == []
    response = await client.get("/api/timelines/home", headers=user.auth)
    posts = (await response.get_json())["posts"]
    shown = next(p for p in posts if p["ap_id"] == note["id"])
    assert shown["media"][0]["url"] == good and shown["media"][0]["remote_url"] == good
    assert shown["media"][0]["focus"] == {"x": 0.5, "y": -0.5}
    assert shown["media"][1]["type"] == "unknown"


@pytest.fixture
def caching_config(config: Config) -> Config:
    caching = config.replace("media", cache_remote=True)
    caching = caching.replace("federation", allow_private_addresses=True)
    return caching.replace("redis", queue_prefix=f"stgy-test-{RUN_ID}-remote")


@pytest.fixture
async def caching_app(caching_config: Config) -> AsyncIterator[Quart]:
    application = create_app(caching_config)
    async with application.test_app():
        yield application


@pytest.fixture
async def caching_services(caching_config: Config) -> AsyncIterator[Services]:
    started = await Services.start(caching_config)
    yield started
    await started.close()


async def test_cached_remote_media_are_re_encoded_and_purged(
    caching_app: Quart,
    caching_config: Config,
    caching_services: Services,
    file_server: str,
    database_url: str,
    tmp_root: Path,
) -> None:
    client = caching_app.test_client()
    user, remote = await followed_remote(client, caching_services)
    note = note_of(
        remote,
        "cached",
        attachment=[
            attachment(f"{file_server}/photo.jpg", name="photo"),
            attachment(f"{file_server}/fake.jpg"),
            attachment(f"{file_server}/missing.jpg"),
        ],
    )
    create = activity_of(remote, "Create", note)
    assert await post_activity(client, caching_config, remote, create) == 202
    # A running worker, as in production: the cache jobs start a second after the post.
    worker: Worker[JobContext] = make_worker(caching_services)
    running = asyncio.create_task(worker.start())

    async def settled() -> bool:
        rows = await remote_post_media(caching_services, note["id"])
        if len(rows) != 3:
            return False
        jobs = [await caching_services.jobs.saq.job(remote_media_job_key(r["id"])) for r in rows]
        return all(job is not None and job.status.value == "complete" for job in jobs)

    try:
        await wait_for(settled, timeout=30)
    finally:
        await worker.stop()
        running.cancel()
    photo_row, fake_row, missing_row = await remote_post_media(caching_services, note["id"])
    assert photo_row["cached_at"] is not None
    root = caching_config.path(caching_config.storage.path)
    assert (
        photo_row["url"]
        == f"{caching_config.instance.base_url}/media/remote/{photo_row['id']}/original.jpg"
    )
    cached = opened((root / f"remote/{photo_row['id']}/original.jpg").read_bytes())
    assert cached.size == (400, 500) and GPS_IFD not in cached.getexif()
    assert photo_row["blurhash"] and photo_row["width"] == 400
    # Not an image, or not there: still hot-linked.
    for row in (fake_row, missing_row):
        assert row["cached_at"] is None and row["url"] == row["remote_url"]

    async with caching_services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE media SET cached_at = now() - interval '10 days' WHERE id = $1",
            photo_row["id"],
        )
    # The app shows the cached copy (its process keeps that rendering in memory)...
    assert await shown_media_urls(client, user, note["id"]) == [
        photo_row["url"],
        fake_row["url"],
        missing_row["url"],
    ]
    env = config_env(database_url, tmp_root)
    assert stgy("media", "purge-remote", "--older-than", "x", env=env).returncode == 2
    done = stgy("media", "purge-remote", "--older-than", "7", env=env)
    assert done.returncode == 0, done.stderr
    assert "1 cached files purged" in done.stdout
    (purged,) = [
        r
        for r in await remote_post_media(caching_services, note["id"])
        if r["id"] == photo_row["id"]
    ]
    assert purged["cached_at"] is None and purged["url"] == f"{file_server}/photo.jpg"
    assert not (root / f"remote/{photo_row['id']}/original.jpg").exists()
    # ...and once another process purged it, the remote URL again: no file named is gone.
    shown = await shown_media_urls(client, user, note["id"])
    assert shown[0] == f"{file_server}/photo.jpg"
