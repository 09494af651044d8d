"""Posts as Mastodon's Status entity, made the way timeline pages are: a rendering of the
post and one of its author (stgy/domain/renderings.py, a second `format` next to the
native API's), with the live fields (counts, the viewer's state) spliced in per page.

A single status (GET /statuses/:id, an action's answer) goes through the same renderer
(`views_page`), so it is byte for byte what a timeline shows of it."""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import Any

import orjson

from stgy.domain.renderings import PageRenderer, RenderedPage
from stgy.domain.view_pages import views_page
from stgy.mastodon.entities import account_entity, mastodon_time
from storage.accounts import Account
from storage.media import Media
from storage.posts import PostView

# Our visibilities as Mastodon's; `local` is public to this instance only: public with
# glitch-soc's `local_only` flag, as the Mastodon forks that have it show it.
VISIBILITY_OUT = {
    "public": "public",
    "unlisted": "unlisted",
    "followers": "private",
    "direct": "direct",
    "local": "public",
}
VISIBILITY_IN = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "followers",
    "direct": "direct",
    "local": "local",
}

# The live fields, as stgy/domain/renderings.py fills them (twelve values, in its
# order): the author's three counts, the shared status, the post's three counts and
# the viewer's three states.
CLOSING = (
    b'%s,"account":%s,"statuses_count":%d,"followers_count":%d,"following_count":%d},'
    b'"reblog":%s,"replies_count":%d,"favourites_count":%d,"reblogs_count":%d,'
    b'"favourited":%s,"reblogged":%s,"bookmarked":%s}'
)
ACCOUNT_LIVE = ("statuses_count", "followers_count", "following_count")


def _fit(width: int, height: int, longest: int) -> tuple[int, int]:
    """The size of a rendition at most `longest` on its longer side (as images.py makes)."""
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _size(width: int, height: int) -> dict[str, Any]:
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": width / height if height else 1.0,
    }


def media_type(content_type: str) -> str:
    """Mastodon's attachment type. An animated GIF stays an `image` (Mastodon's `gifv` is
    a silent looping video, which clients play as such; ours are GIF files)."""
    kind = content_type.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "unknown"


def media_attachment_entity(media: Media, small_size: int) -> dict[str, Any]:
    """The MediaAttachment entity; `meta` has the real sizes of the original and of the
    preview (`small`) when the media is processed."""
    # The focus is stored as a float4: two decimals, as Mastodon keeps it.
    meta: dict[str, Any] = {"focus": {"x": round(media.focus_x, 2), "y": round(media.focus_y, 2)}}
    if media.width and media.height:
        meta["original"] = _size(media.width, media.height)
        meta["small"] = _size(*_fit(media.width, media.height, small_size))
    return {
        "id": str(media.id),
        "type": media_type(media.content_type),
        "url": media.url or media.remote_url,
        "preview_url": media.small_url or media.url or media.remote_url,
        "remote_url": media.remote_url,
        "preview_remote_url": media.remote_preview_url,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }


def interaction_policy(view: PostView) -> dict[str, Any]:
    """Who may like, reply to and share the post, as GoToSocial's `interaction_policy`."""
    everyone = ["public"]
    shareable = view.visibility in ("public", "unlisted", "local")
    return {
        "can_favourite": {
            "always": everyone if view.allow_likes else ["author"],
            "with_approval": [],
        },
        "can_reply": {
            "always": everyone if view.allow_replies else ["author"],
            "with_approval": [],
        },
        "can_reblog": {"always": everyone if shareable else ["author"], "with_approval": []},
    }


def status_fields(view: PostView, base_url: str, small_size: int) -> dict[str, Any]:
    """The Status without its account, reblog, counts and the viewer's state."""
    mentions = [
        {
            "id": str(m.id),
            "username": m.handle,
            "url": m.url or f"{base_url}/@{m.handle}",
            "acct": m.handle if m.domain is None else f"{m.handle}@{m.domain}",
        }
        for m in view.mentions
    ]
    return {
        "id": str(view.id),
        "uri": view.ap_id,
        "url": view.url,
        "created_at": mastodon_time(view.created_at),
        "edited_at": mastodon_time(view.edited_at) if view.edited_at else None,
        "content": view.html,
        "text": view.source,
        "visibility": VISIBILITY_OUT.get(view.visibility, "public"),
        "local_only": view.visibility == "local",
        "sensitive": view.sensitive,
        "spoiler_text": view.summary,
        "language": view.language,
        "in_reply_to_id": str(view.in_reply_to_id) if view.in_reply_to_id else None,
        "in_reply_to_account_id": (
            str(view.in_reply_to_account_id) if view.in_reply_to_account_id else None
        ),
        "media_attachments": [media_attachment_entity(m, small_size) for m in view.media],
        "mentions": mentions,
        "tags": [{"name": tag, "url": f"{base_url}/tags/{tag}"} for tag in view.tags],
        "emojis": [],
        "application": None,
        "poll": None,
        "card": None,
        "quote": None,
        "quotes_count": 0,  # no quote posts here (Mastodon 4.5)
        "quote_approval": {"automatic": [], "manual": [], "current_user": "denied"},
        "tagged_collections": [],
        "muted": False,
        "pinned": False,
        "filtered": [],
        "interaction_policy": interaction_policy(view),
    }


def _open(fields: dict[str, Any]) -> str:
    return orjson.dumps(fields)[:-1].decode()


def account_fields(account: Account, base_url: str) -> dict[str, Any]:
    """The Account entity without its counts (they are live). `last_status_at` is null
    in statuses: it changes with every post, not with the profile."""
    fields = account_entity(account, base_url, None)
    for key in ACCOUNT_LIVE:
        del fields[key]
    return fields


# Changes with this module's and entities.py's text: renderings made by other code are
# never used.
_SOURCE_FORMAT = zlib.crc32(
    Path(__file__).read_bytes() + (Path(__file__).parent / "entities.py").read_bytes()
)


@functools.cache
def status_renderer(base_url: str, small_size: int) -> PageRenderer:
    """The Mastodon face's PageRenderer for an instance (its URLs are in the renderings)."""
    fmt = zlib.crc32(f"{base_url} {small_size}".encode(), _SOURCE_FORMAT) & 0x7FFFFFFF
    return PageRenderer(
        fmt,
        lambda view: _open(status_fields(view, base_url, small_size)),
        lambda account: _open(account_fields(account, base_url)),
        CLOSING,
        no_state=b"false",
        slot=1,
    )


def page_json(page: RenderedPage) -> bytes:
    return b"[" + page.body + b"]"


def status_json(renderer: PageRenderer, view: PostView) -> bytes:
    """One Status, as a timeline page shows it."""
    return views_page(renderer, [view]).body


def statuses_json(renderer: PageRenderer, views: list[PostView]) -> bytes:
    return page_json(views_page(renderer, views))
