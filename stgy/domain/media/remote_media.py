"""Attachments of remote posts: stored hot-linked, optionally cached here by a job."""

from __future__ import annotations

import logging
import time

from federation.attachments import Attachment
from federation.fetch import FetchError
from federation.media_fetch import fetch_media
from stgy.domain import domain_blocks
from stgy.domain.errors import Invalid, Unprocessable, UnsupportedMedia
from stgy.domain.media.uploads import put_renditions, render_image
from stgy.jobs import CACHE_REMOTE_MEDIA, remote_media_job_key
from stgy.services import Services
from storage import media as media_sql
from storage import renderings as renderings_sql
from storage.db import Conn
from storage.media import RemoteAttachment

log = logging.getLogger("stgy.media")
CACHE_DELAY_SECONDS = 1.0


async def store_remote(
    conn: Conn,
    services: Services,
    *,
    account_id: int,
    post_id: int,
    found: list[Attachment],
    domain: str | None = None,
) -> list[int]:
    """Rows for a remote post's attachments (URLs checked by the parser: http(s) only);
    none when the author's `domain` is blocked with reject_media (nothing of it is
    stored, cached or proxied)."""
    if not found:
        return []
    if await domain_blocks.rejects_media(services, domain):
        log.info("remote_media post=%d skipped=%d reason=domain_block", post_id, len(found))
        return []
    ids = await media_sql.insert_remote(
        conn,
        account_id=account_id,
        post_id=post_id,
        attachments=[
            RemoteAttachment(
                url=item.url,
                preview_url=None,
                content_type=item.media_type or "",
                description=item.name,
                blurhash=item.blurhash,
                width=item.width,
                height=item.height,
                focus=item.focal_point or (0.0, 0.0),
            )
            for item in found
        ],
    )
    if services.config.media.cache_remote:
        # This transaction commits within moments; the job starts a second later, and a
        # first attempt that still finds no row is retried (see jobs.py).
        start = time.time() + CACHE_DELAY_SECONDS
        for media_id in ids:
            await services.jobs.enqueue(
                CACHE_REMOTE_MEDIA,
                key=remote_media_job_key(media_id),
                scheduled=start,
                media_id=media_id,
            )
    return ids


class NotYetCommitted(Exception):
    """The row of a medium to cache is not visible yet; the job is retried."""


async def cache(services: Services, media_id: int) -> str:
    """The job: copy a remote image here, sniffed and re-encoded; hot-linked if it fails."""
    async with services.pool.acquire() as conn:
        media = await media_sql.get_media(conn, media_id=media_id)
    if media is None:
        raise NotYetCommitted(media_id)
    if media.local or media.cached_at is not None or media.remote_url is None:
        return "skipped"
    try:
        data = await fetch_media(
            services.http,
            media.remote_url,
            allow_private=services.config.address_scope,
            max_bytes=services.config.media.remote_max_bytes,
        )
    except FetchError as exc:
        if exc.status is None or exc.status >= 500 or exc.reason == "timed out":
            raise  # worth another try
        log.info("media_cache media=%d refused=%r", media_id, exc.reason)
        return "refused"
    try:
        made = await render_image(services, data, "attachment", (media.focus_x, media.focus_y))
    except (Invalid, Unprocessable, UnsupportedMedia) as exc:
        log.info("media_cache media=%d refused=%r", media_id, str(exc.detail)[:200])
        return "refused"
    stored = await put_renditions(services.blobs, f"remote/{media_id}", made)
    async with services.pool.acquire() as conn, conn.transaction():
        done = await media_sql.set_cached(conn, media_id=media_id, made=stored)
        if done and media.post_id is not None:
            # The post's renderings still name the hot-linked URL.
            await renderings_sql.renew_post(conn, post_id=media.post_id)
    if not done:
        return "skipped"
    return "cached"
