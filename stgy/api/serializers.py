"""Records to the JSON the native API sends.

A post's and an account's JSON are split in two: the fields that change only when
the post is edited or the profile changes (`post_fields`, `account_fields`), which
timeline pages keep rendered in PostgreSQL (storage/renderings.py), and the live
ones (counts, the viewer's own state) that each page adds. The live keys come last,
in the order of LIVE_POST_KEYS and LIVE_ACCOUNT_KEYS, so a page assembled from
stored renderings is byte for byte what `orjson.dumps(post_json(view))` gives.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from stgy.domain.renderings import PageRenderer
from stgy.domain.text import field_html
from storage.accounts import Account
from storage.media import Media
from storage.posts import PostView

# The live keys, in the order they follow the rendered fields (storage/renderings.py
# writes them in this order too).
LIVE_ACCOUNT_KEYS = ("posts_count", "followers_count", "following_count")
LIVE_POST_KEYS = (
    "account",
    "share_of",
    "replies_count",
    "likes_count",
    "shares_count",
    "liked",
    "shared",
    "bookmarked",
)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z (asyncpg returns timestamptz in UTC)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def profile_field(stored: dict[str, str]) -> dict[str, str]:
    """A profile field: its text, and its value as HTML (a remote server's, sanitised;
    ours made from the text)."""
    value = stored.get("value", "")
    return {
        "name": stored.get("name", ""),
        "value": value,
        "value_html": stored.get("value_html") or field_html(value),
    }


def account_fields(account: Account) -> dict[str, Any]:
    """The profile: what changes only with the account row's `updated_at`."""
    return {
        "id": str(account.id),
        "handle": account.handle,
        "acct": account.acct,
        "domain": account.domain,
        "local": account.is_local,
        "display_name": account.display_name,
        "bio": account.bio_source,
        "bio_html": account.bio_html,
        "fields": [profile_field(f) for f in account.fields],
        "locked": account.locked,
        "bot": account.bot,
        "url": account.url,
        "ap_id": account.ap_id,
        "avatar_url": account.avatar_url,
        "header_url": account.header_url,
        "created_at": iso(account.created_at),
    }


def media_type(content_type: str) -> str:
    kind = content_type.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "unknown"


def media_json(media: Media) -> dict[str, Any]:
    return {
        "id": str(media.id),
        "type": media_type(media.content_type),
        "state": media.state,
        "purpose": media.purpose,
        "url": media.url,
        "preview_url": media.small_url,
        "large_url": media.large_url,
        "remote_url": media.remote_url,
        "content_type": media.content_type or None,
        "description": media.description,
        "blurhash": media.blurhash,
        "width": media.width,
        "height": media.height,
        "animated": media.animated,
        "focus": {"x": media.focus_x, "y": media.focus_y},
        "error": media.error,
        "created_at": iso(media.created_at),
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        **account_fields(account),
        "posts_count": account.posts_count,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
    }


def post_fields(view: PostView) -> dict[str, Any]:
    """The post itself: what changes only when it is edited (or a mentioned account's
    handle changes)."""
    return {
        "id": str(view.id),
        "url": view.url,
        "ap_id": view.ap_id,
        "text": view.source,
        "html": view.html,
        "summary": view.summary,
        "sensitive": view.sensitive,
        "language": view.language,
        "visibility": view.visibility,
        "allow_likes": view.allow_likes,
        "allow_replies": view.allow_replies,
        "tags": view.tags,
        "mentions": [
            {
                "id": str(m.id),
                "handle": m.handle,
                "acct": m.handle if m.domain is None else f"{m.handle}@{m.domain}",
                "url": m.url,
            }
            for m in view.mentions
        ],
        "in_reply_to_id": str(view.in_reply_to_id) if view.in_reply_to_id else None,
        "in_reply_to_account_id": (
            str(view.in_reply_to_account_id) if view.in_reply_to_account_id else None
        ),
        "media": [media_json(m) for m in view.media],
        "created_at": iso(view.created_at),
        "edited_at": iso(view.edited_at) if view.edited_at else None,
    }


def post_json(view: PostView) -> dict[str, Any]:
    return {
        **post_fields(view),
        "account": account_json(view.account),
        "share_of": post_json(view.share_of) if view.share_of else None,
        "replies_count": view.replies_count,
        "likes_count": view.likes_count,
        "shares_count": view.shares_count,
        "liked": view.liked,
        "shared": view.shared,
        "bookmarked": view.bookmarked,
    }


def open_object(fields: dict[str, Any]) -> str:
    """JSON of an object without its closing brace, for the live keys to follow."""
    return orjson.dumps(fields)[:-1].decode()


def post_rendering(view: PostView) -> str:
    """What a page stores of a post (its fields, object left open)."""
    return open_object(post_fields(view))


def account_rendering(account: Account) -> str:
    """What a page stores of an account (its profile, object left open)."""
    return open_object(account_fields(account))


# Stored renderings carry this, so renderings made by other code are never used: it
# changes with this module's text, i.e. whenever what it renders may have changed.
RENDERING_FORMAT = zlib.crc32(Path(__file__).read_bytes()) & 0x7FFFFFFF
PAGE_RENDERER = PageRenderer(RENDERING_FORMAT, post_rendering, account_rendering)
