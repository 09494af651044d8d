"""Media uploads: checked, then processed inline or by a job; alt text and focus; attaching
them to posts and profiles (those nobody attached go in `media_cleanup`)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from stgy.domain.errors import (
    Invalid,
    NotFound,
    TooLarge,
    Unprocessable,
    UnsupportedMedia,
)
from stgy.domain.jobs import outbox
from stgy.domain.text import check_storable
from stgy.jobs import PROCESS_MEDIA, media_job_key
from stgy.services import Services
from storage import media as media_sql
from storage.blobs import BlobStore, incoming_key
from storage.db import Conn
from storage.media import Media, Renditions
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.media")

PURPOSES = ("attachment", "avatar", "header")
MAX_DESCRIPTION = 1500
MAX_ATTACHMENTS = 4
_ID = re.compile(r"[0-9]{1,19}")
_NUMBER = re.compile(r"^\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$")
# How a refused image is answered.
_REJECTIONS: dict[str, type[Exception]] = {
    "not_an_image": UnsupportedMedia,
    "too_many_pixels": Invalid,
    "corrupt": Unprocessable,
}


@dataclass(frozen=True)
class Upload:
    data: bytes
    declared_type: str | None  # the file part's Content-Type
    description: str = ""
    focus: str | None = None  # "x,y", each in -1..1
    purpose: str = "attachment"


if TYPE_CHECKING:
    from stgy.domain.media.images import ImageRejected, Probe, Rendered, Sizes


def _images() -> ModuleType:
    """Pillow and its format plugins (about 70 modules) load with the first image, not
    with the process: an idle server or worker never needs them."""
    return importlib.import_module("stgy.domain.media.images")


def parse_focus(raw: str | None) -> tuple[float, float] | None:
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
        raise Invalid("focus", "two numbers x,y, each from -1 to 1 (e.g. 0.2,-0.5)")
    x, y = float(parts[0]), float(parts[1])
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise Invalid("focus", "x and y must each be from -1 to 1")
    return x, y


def check_description(description: str) -> None:
    check_storable("description", description)
    if len(description) > MAX_DESCRIPTION:
        raise Invalid("description", f"at most {MAX_DESCRIPTION} characters")


def _sizes(services: Services) -> Sizes:
    media = services.config.media
    sizes: Sizes = _images().Sizes(
        media.large_size, media.small_size, media.avatar_size, media.jpeg_quality
    )
    return sizes


def _refuse(exc: ImageRejected) -> Exception:
    kind = _REJECTIONS[exc.kind]
    if kind is Invalid:
        return Invalid("file", exc.reason)
    return kind({"field": "file", "reason": exc.reason})


def _check_declared(declared: str | None, found: Probe) -> None:
    """A declared image type must be what the bytes are; octet-stream or none is fine."""
    if declared is None:
        return
    images = _images()
    declared = images.TYPE_ALIASES.get(declared.lower(), declared.lower())
    if declared in ("", "application/octet-stream"):
        return
    if declared not in images.CONTENT_TYPES:
        raise UnsupportedMedia(
            {"field": "file", "reason": f"{declared} is not an accepted image type"}
        )
    if declared != found.content_type:
        raise UnsupportedMedia(
            {
                "field": "file",
                "reason": f"declared {declared} but the bytes are {found.content_type}",
            }
        )


async def put_renditions(blobs: BlobStore, prefix: str, made: Rendered) -> Renditions:
    """Store the three renditions under `prefix`; on failure remove what was stored."""
    files = {
        "original": made.original,
        "large": made.large,
        "small": made.small,
    }
    keys = {name: f"{prefix}/{name}.{enc.extension}" for name, enc in files.items()}
    stored: list[str] = []
    try:
        for name, enc in files.items():
            await blobs.put(keys[name], enc.data, enc.content_type)
            stored.append(keys[name])
    except BaseException:
        await blobs.delete(stored)
        raise
    return Renditions(
        content_type=made.original.content_type,
        width=made.original.width,
        height=made.original.height,
        blurhash=made.blurhash,
        animated=made.animated,
        url=blobs.url(keys["original"]),
        large_url=blobs.url(keys["large"]),
        small_url=blobs.url(keys["small"]),
        blob_keys=list(keys.values()),
        bytes=sum(len(enc.data) for enc in files.values()),
    )


async def upload(services: Services, account_id: int, upload: Upload) -> Media:
    """Check an upload; small ones are processed at once (ready), others by a job."""
    limits = services.config.limits
    if upload.purpose not in PURPOSES:
        raise Invalid("purpose", "one of " + ", ".join(PURPOSES))
    check_description(upload.description)
    focus = parse_focus(upload.focus) or (0.0, 0.0)
    if not upload.data:
        raise Invalid("file", "required (a non-empty image file)")
    if len(upload.data) > limits.media_bytes:
        reason = f"more than {limits.media_bytes} bytes (limits.media_bytes)"
        raise TooLarge({"field": "file", "reason": reason})
    images = _images()
    try:
        found: Probe = await asyncio.to_thread(
            images.probe, upload.data, max_pixels=limits.media_pixels
        )
    except images.ImageRejected as exc:
        raise _refuse(exc) from None
    _check_declared(upload.declared_type, found)
    blobs = services.blobs
    async with services.pool.acquire() as conn:
        media_id = await media_sql.next_media_id(conn)
    if found.width * found.height * found.frames <= services.config.media.inline_pixels:
        made = await render_image(services, upload.data, upload.purpose, focus)
        stored = await put_renditions(blobs, f"media/{media_id}", made)
        try:
            async with services.pool.acquire() as conn:
                return await media_sql.insert_ready(
                    conn,
                    media_id=media_id,
                    account_id=account_id,
                    purpose=upload.purpose,
                    description=upload.description,
                    focus=focus,
                    made=stored,
                )
        except BaseException:
            await blobs.delete(stored.blob_keys)
            raise
    key = incoming_key(media_id)
    await blobs.put(key, upload.data, found.content_type)
    try:
        async with services.pool.acquire() as conn, conn.transaction():
            media = await media_sql.insert_upload(
                conn,
                media_id=media_id,
                account_id=account_id,
                purpose=upload.purpose,
                description=upload.description,
                focus=focus,
                upload_key=key,
                content_type=found.content_type,
                size=len(upload.data),
            )
            event = await outbox.record_event(conn, "media.uploaded", {"media_id": media_id})
    except BaseException:
        await blobs.delete([key])
        raise
    await outbox.enqueue_events(services.jobs, [event])
    return media


async def render_image(
    services: Services, data: bytes, purpose: str, focus: tuple[float, float]
) -> Rendered:
    images = _images()
    try:
        made: Rendered = await asyncio.to_thread(
            images.render,
            data,
            purpose=purpose,
            focus=focus,
            sizes=_sizes(services),
            max_pixels=services.config.limits.media_pixels,
        )
    except images.ImageRejected as exc:
        raise _refuse(exc) from None
    return made


@outbox.handles("media.uploaded")
async def _media_uploaded(conn: Conn, event: OutboxEvent, services: Services) -> None:
    # The job reads only the media row, which the upload committed before this event
    # could be handled, so enqueueing inside the event's transaction is safe; the job
    # key makes a second enqueue (the event applied again) a no-op.
    media_id = int(event.payload["media_id"])
    await services.jobs.enqueue(PROCESS_MEDIA, key=media_job_key(media_id), media_id=media_id)


async def process(services: Services, media_id: int) -> str:
    """The job: make an upload's renditions and mark it ready (or failed). Idempotent."""
    async with services.pool.acquire() as conn:
        media = await media_sql.get_media(conn, media_id=media_id)
    if media is None or media.state != "processing" or media.upload_key is None:
        return "skipped"
    blobs = services.blobs
    data = await blobs.get(media.upload_key)
    if data is None:
        async with services.pool.acquire() as conn:
            await media_sql.mark_failed(conn, media_id=media_id, error="the upload was lost")
        return "failed"
    try:
        made = await render_image(services, data, media.purpose, (media.focus_x, media.focus_y))
    except (Invalid, Unprocessable, UnsupportedMedia) as exc:
        async with services.pool.acquire() as conn:
            await media_sql.mark_failed(conn, media_id=media_id, error=str(exc.detail))
        await blobs.delete([media.upload_key])
        return "failed"
    stored = await put_renditions(blobs, f"media/{media_id}", made)
    async with services.pool.acquire() as conn:
        done = await media_sql.mark_ready(conn, media_id=media_id, made=stored)
    if done is None:
        return "skipped"  # processed meanwhile by another run: same keys, same files
    await blobs.delete([media.upload_key])
    return "ready"


# --- reading and editing ----------------------------------------------------------------


def parse_media_id(raw: str, field: str) -> int:
    if not _ID.fullmatch(raw) or not 0 < int(raw) < 2**63:
        raise Invalid(field, "unknown media id")
    return int(raw)


async def get_own(services: Services, account_id: int, media_id: int) -> Media:
    """One's own upload; someone else's is not found, as is a remote post's medium."""
    async with services.pool.acquire() as conn:
        media = await media_sql.get_media(conn, media_id=media_id)
    if media is None or media.account_id != account_id or not media.local:
        raise NotFound("no such media of yours")
    return media


async def describe(
    services: Services,
    account_id: int,
    media_id: int,
    *,
    description: str | None,
    focus: str | None,
) -> Media:
    """Change the alt text and/or focal point of one's own upload."""
    if description is not None:
        check_description(description)
    point = parse_focus(focus)
    async with services.pool.acquire() as conn, conn.transaction():
        media = await media_sql.get_media(conn, media_id=media_id, lock=True)
        if media is None or media.account_id != account_id or not media.local:
            raise NotFound("no such media of yours")
        updated = await media_sql.update_description(
            conn, media_id=media_id, description=description, focus=point
        )
        if updated is not None and updated.post_id is not None:
            event = await outbox.record_event(conn, "post.updated", {"post_id": updated.post_id})
        else:
            event = None
    if event is not None:
        await outbox.enqueue_events(services.jobs, [event])
    assert updated is not None  # noqa: S101 - the row was locked above
    return updated


def _check_usable(media: Media, field: str) -> None:
    if media.state == "processing":
        raise Unprocessable(
            {
                "field": field,
                "reason": "still processing: retry when GET /api/media/{id} says ready",
            }
        )
    if media.state == "failed":
        raise Invalid(field, f"processing failed: {media.error}")


async def attachable(
    conn: Conn, account_id: int, raw_ids: list[str], *, post_id: int | None
) -> list[Media]:
    """Lock and check media to attach to a post (new, or `post_id` being edited).

    Each must be the author's own ready upload for attachments, on no other post.
    Unknown and someone else's ids get the same answer.
    """
    if len(raw_ids) > MAX_ATTACHMENTS:
        raise Invalid("media_ids", f"at most {MAX_ATTACHMENTS} media per post")
    ids = [parse_media_id(raw, f"media_ids.{i}") for i, raw in enumerate(raw_ids)]
    if len(set(ids)) != len(ids):
        raise Invalid("media_ids", "the same media id twice")
    found = await media_sql.lock_media(conn, media_ids=ids)
    chosen = []
    for i, media_id in enumerate(ids):
        field = f"media_ids.{i}"
        media = found.get(media_id)
        if media is None or media.account_id != account_id or not media.local:
            raise Invalid(field, "unknown media id")
        if media.purpose != "attachment":
            raise Invalid(field, f"uploaded as {media.purpose}, not as an attachment")
        if media.post_id is not None and media.post_id != post_id:
            raise Invalid(field, "already attached to another post")
        _check_usable(media, field)
        chosen.append(media)
    return chosen


async def set_profile_media(conn: Conn, account_id: int, which: str, raw_id: str | None) -> None:
    """Make an own, ready upload of purpose `which` (avatar | header) the profile's; None
    removes it."""
    field = f"{which}_media_id"
    if raw_id is None:
        await media_sql.set_profile_media(conn, account_id=account_id, which=which, media=None)
        return
    media_id = parse_media_id(raw_id, field)
    media = (await media_sql.lock_media(conn, media_ids=[media_id])).get(media_id)
    if media is None or media.account_id != account_id or not media.local:
        raise Invalid(field, "unknown media id")
    if media.purpose != which:
        raise Invalid(field, f"upload it with purpose={which} (this one is {media.purpose})")
    _check_usable(media, field)
    await media_sql.set_profile_media(conn, account_id=account_id, which=which, media=media)


def attached_image_url(attached: list[Media]) -> Callable[[str, str | None], str | None]:
    """Images written with an attachment's id or URL show the size asked (default large)."""
    by_src: dict[str, Media] = {}
    for item in attached:
        for src in (str(item.id), item.url, item.large_url, item.small_url):
            if src:
                by_src[src] = item

    def image_url(src: str, size: str | None) -> str | None:
        found = by_src.get(src)
        if found is None:
            return None
        if size == "small":
            return found.small_url
        return found.url if size == "original" else found.large_url

    return image_url
