"""Records to the JSON the native API sends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.accounts import Account


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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
