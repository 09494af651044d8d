"""Cleaning up media: unattached uploads after a day, lost jobs, cached remote files."""

from __future__ import annotations

import logging

from stgy.jobs import PROCESS_MEDIA, media_job_key
from stgy.services import Services
from storage import media as media_sql

log = logging.getLogger("stgy.media")

UNATTACHED_SECONDS = 24 * 3600
STALE_PROCESSING_SECONDS = 300


async def sweep(services: Services, *, batch: int = 100) -> int:
    """Cron: re-enqueue uploads whose job was lost; remove unattached media (rows and blobs)
    older than a day. Returns how many were removed."""
    async with services.pool.acquire() as conn:
        stale = await media_sql.stale_processing(
            conn, older_than_seconds=float(STALE_PROCESSING_SECONDS), limit=batch
        )
    for media_id in stale:
        await services.jobs.enqueue(PROCESS_MEDIA, key=media_job_key(media_id), media_id=media_id)
    removed = 0
    while True:
        async with services.pool.acquire() as conn, conn.transaction():
            # Locked while the blobs go, so nobody attaches one meanwhile.
            found = await media_sql.lock_unattached(
                conn, older_than_seconds=float(UNATTACHED_SECONDS), limit=batch
            )
            if not found:
                break
            keys = [key for m in found for key in m.blob_keys]
            keys += [m.upload_key for m in found if m.upload_key]
            await services.blobs.delete(keys)
            await media_sql.delete_media(conn, media_ids=[m.id for m in found])
        removed += len(found)
        if len(found) < batch:
            break
    if removed or stale:
        log.info("media_sweep removed=%d re_enqueued=%d", removed, len(stale))
    return removed


async def purge_remote(services: Services, *, older_than_days: float, batch: int = 100) -> int:
    """Remove the files of remote media cached more than that many days ago; the media go
    back to hot-linking the remote URLs. Returns how many were purged."""
    purged = 0
    while True:
        async with services.pool.acquire() as conn, conn.transaction():
            found = await media_sql.lock_cached_before(
                conn, older_than_seconds=older_than_days * 86400, limit=batch
            )
            if not found:
                break
            await services.blobs.delete([key for m in found for key in m.blob_keys])
            await media_sql.uncache(conn, media_ids=[m.id for m in found])
        purged += len(found)
        if len(found) < batch:
            break
    log.info("media_purge_remote purged=%d older_than_days=%s", purged, older_than_days)
    return purged
