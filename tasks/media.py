"""Media jobs: process an upload, cache a remote attachment, and the cleanup cron."""

from __future__ import annotations

from stgy.domain.media import media_cleanup, remote_media, uploads
from tasks.context import JobContext


async def process_media(ctx: JobContext, *, media_id: int) -> str:
    return await uploads.process(ctx["services"], media_id)


async def cache_remote_media(ctx: JobContext, *, media_id: int) -> str:
    return await remote_media.cache(ctx["services"], media_id)


async def sweep_media(ctx: JobContext) -> int:
    return await media_cleanup.sweep(ctx["services"])
