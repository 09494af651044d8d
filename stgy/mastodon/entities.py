"""Records to Mastodon's entities (docs.joinmastodon.org/entities): every documented field,
nulls as explicit null, ids as strings, times as `YYYY-MM-DDTHH:MM:SS.sssZ`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stgy.domain.own_account import OwnAccount
from stgy.domain.text import field_html
from storage.accounts import Account
from storage.markers import Marker
from storage.oauth import OAuthApp

# The one CustomEmoji-free, push-free server key we have (no Web Push yet).
VAPID_KEY = ""
# Mastodon's roles as an app sees them (Role entity): the permissions are Mastodon's bit
# flags (1 administrator, 0x20 manage reports, 0x40 manage taxonomies, 0x400 manage
# users, 0x10000 invite users), the nearest match to our three roles.
_ROLES = {
    "user": ("-99", "", "65536"),
    "moderator": ("1", "Moderator", str(0x20 | 0x40 | 0x400 | 0x10000)),
    "admin": ("2", "Admin", "1"),
}


def mastodon_time(value: datetime) -> str:
    """A time as Mastodon writes it: UTC, milliseconds, Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def static_url(base_url: str, name: str) -> str:
    return f"{base_url}/static/{name}"


def _profile_url(account: Account, base_url: str) -> str:
    if account.url:
        return account.url
    return f"{base_url}/@{account.handle}"


def account_entity(
    account: Account, base_url: str, last_post_at: datetime | None
) -> dict[str, Any]:
    """The Account entity (`suspended`, `limited` and `memorial` are sent only when true,
    as Mastodon does; none is yet)."""
    avatar = account.avatar_url or static_url(base_url, "avatar-missing.png")
    header = account.header_url or static_url(base_url, "header-missing.png")
    return {
        "id": str(account.id),
        "username": account.handle,
        "acct": account.acct,  # bare for our own accounts
        "url": _profile_url(account, base_url),
        "uri": account.ap_id,
        "display_name": account.display_name,
        "note": account.bio_html,
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": header,
        "header_static": header,
        "header_description": "",
        "locked": account.locked,
        "fields": [
            {
                "name": field.get("name", ""),
                "value": field.get("value_html") or field_html(field.get("value", "")),
                "verified_at": None,
            }
            for field in account.fields
        ],
        "emojis": [],
        "bot": account.bot,
        "group": False,
        "discoverable": account.discoverable,
        "indexable": account.discoverable,
        "noindex": (not account.discoverable) if account.is_local else None,
        "moved": None,
        "created_at": mastodon_time(account.created_at),
        "last_status_at": last_post_at.astimezone(UTC).date().isoformat() if last_post_at else None,
        "statuses_count": account.posts_count,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "hide_collections": False,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "roles": [] if account.is_local else None,
        "feature_approval": {"automatic": [], "manual": [], "current_user": "missing"},
    }


def role_entity(role: str) -> dict[str, Any]:
    role_id, name, permissions = _ROLES.get(role, _ROLES["user"])
    return {
        "id": role_id,
        "name": name,
        "color": "",
        "permissions": permissions,
        "highlighted": role != "user",
        "collection_limit": 0,
    }


def credential_account_entity(own: OwnAccount, base_url: str) -> dict[str, Any]:
    """The CredentialAccount entity: the Account with `source` and `role`."""
    account = own.account
    return {
        **account_entity(account, base_url, own.last_post_at),
        "source": {
            "note": account.bio_source,
            "fields": [
                {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                for f in account.fields
            ],
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "follow_requests_count": own.follow_requests,
            "hide_collections": False,
            "discoverable": account.discoverable,
            "indexable": account.discoverable,
            "attribution_domains": [],
            "quote_policy": "nobody",
        },
        "role": role_entity(own.role),
    }


def application_entity(app: OAuthApp) -> dict[str, Any]:
    """The Application entity (what /api/v1/apps/verify_credentials shows)."""
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uris": list(app.redirect_uris),
        "redirect_uri": "\n".join(app.redirect_uris),
        "vapid_key": VAPID_KEY,
    }


def credential_application_entity(app: OAuthApp, client_secret: str) -> dict[str, Any]:
    """The CredentialApplication entity: once, at registration, with the secret."""
    return {
        **application_entity(app),
        "client_id": app.client_id,
        "client_secret": client_secret,
        "client_secret_expires_at": 0,
    }


def marker_entity(marker: Marker) -> dict[str, Any]:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": mastodon_time(marker.updated_at),
    }
