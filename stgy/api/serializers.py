"""Records to the JSON the native API sends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.accounts import Account
from storage.media import Media
from storage.posts import PostView


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z (asyncpg returns timestamptz in UTC)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "handle": account.handle,
        "acct": account.acct,
        "domain": account.domain,
        "local": account.is_local,
        "display_name": account.display_name,
        "bio": account.bio_source,
        "bio_html": account.bio_html,
        "fields": account.fields,
        "locked": account.locked,
        "bot": account.bot,
        "url": account.url,
        "ap_id": account.ap_id,
        "avatar_url": account.avatar_url,
        "header_url": account.header_url,
        "posts_count": account.posts_count,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
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


def post_json(view: PostView) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "url": view.url,
        "ap_id": view.ap_id,
        "account": account_json(view.account),
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
        "share_of": post_json(view.share_of) if view.share_of else None,
        "media": [media_json(m) for m in view.media],
        "replies_count": view.replies_count,
        "likes_count": view.likes_count,
        "shares_count": view.shares_count,
        "created_at": iso(view.created_at),
        "edited_at": iso(view.edited_at) if view.edited_at else None,
        "liked": view.liked,
        "shared": view.shared,
        "bookmarked": view.bookmarked,
    }
