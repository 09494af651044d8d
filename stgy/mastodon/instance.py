"""GET /api/v1/instance and /api/v2/instance: the server as Mastodon apps read it on start-up."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify

from stgy import __version__
from stgy.config import Config
from stgy.domain import accounts, instance_info
from stgy.domain.account_settings import UI_LANGUAGES
from stgy.domain.media import formats, uploads
from stgy.http.context import config, services
from stgy.mastodon.entities import VAPID_KEY, static_url
from stgy.mastodon.instance_details import rule_entities

bp = Blueprint("mastodon_instance", __name__, url_prefix="/api")

# The Mastodon API version we answer as, and its api_versions number (4.3: 2).
MASTODON_VERSION = "4.3.0"
API_VERSION = 2
# No polls yet: Mastodon's own limits, so that apps lay their forms out as usual.
POLLS = {
    "max_options": 4,
    "max_characters_per_option": 50,
    "min_expiration": 300,
    "max_expiration": 2629746,
}
CHARACTERS_RESERVED_PER_URL = 23


def version() -> str:
    return f"{MASTODON_VERSION} (compatible; stgy {__version__})"


def streaming_url(cfg: Config) -> str:
    scheme = "wss" if cfg.instance.scheme == "https" else "ws"
    return f"{scheme}://{cfg.instance.domain}"


def statuses(cfg: Config) -> dict[str, int]:
    return {
        "max_characters": cfg.limits.post_length,
        "max_media_attachments": uploads.MAX_ATTACHMENTS,
        "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
    }


def media_attachments(cfg: Config) -> dict[str, Any]:
    """What uploads take: our image types and limits; no video or audio yet (0)."""
    types = sorted({*formats.CONTENT_TYPES, *formats.TYPE_ALIASES})
    return {
        "supported_mime_types": types,
        "description_limit": uploads.MAX_DESCRIPTION,
        "image_size_limit": cfg.limits.media_bytes,
        "image_matrix_limit": cfg.limits.media_pixels,
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    }


def account_limits() -> dict[str, int]:
    return {
        "max_display_name_length": accounts.MAX_DISPLAY_NAME,
        "max_note_length": accounts.MAX_BIO,
        "max_avatar_description_length": 0,
        "max_header_description_length": 0,
        "max_featured_tags": 0,
        "max_pinned_statuses": 0,
        "max_profile_fields": accounts.MAX_FIELDS,
        "profile_field_name_limit": accounts.MAX_FIELD_TEXT,
        "profile_field_value_limit": accounts.MAX_FIELD_TEXT,
    }


@bp.get("/v2/instance", strict_slashes=False)
async def instance_v2() -> Response:
    cfg = config()
    about = await instance_info.about(services())
    base = cfg.instance.base_url
    open_ = about.registrations != "closed"
    public = {"local": "public", "remote": "public"}
    return jsonify(
        {
            "domain": cfg.instance.domain,
            "title": about.name,
            "version": version(),
            # No public repository to name yet: the instance's own about page.
            "source_url": f"{base}/about",
            "description": about.description,
            "wrapstodon": None,
            "usage": {"users": {"active_month": about.active_month}},
            "thumbnail": {"url": static_url(base, "avatar-missing.png"), "description": ""},
            "icon": [],
            "languages": list(UI_LANGUAGES),
            "configuration": {
                "urls": {
                    "streaming": streaming_url(cfg),
                    "status": None,
                    "about": f"{base}/about",
                    "privacy_policy": None,
                    "terms_of_service": None,
                },
                "vapid": {"public_key": VAPID_KEY},
                "accounts": account_limits(),
                "statuses": statuses(cfg),
                "media_attachments": media_attachments(cfg),
                "polls": POLLS,
                "translation": {"enabled": False},
                "timelines_access": {
                    "live_feeds": public,
                    "hashtag_feeds": public,
                    "trending_link_feeds": public,
                },
                "limited_federation": not cfg.federation.enabled,
            },
            "registrations": {
                "enabled": open_,
                "approval_required": about.registrations == "approval",
                "message": None,
                "min_age": None,
                "reason_required": about.registrations == "approval",
                "url": None,
            },
            "api_versions": {"mastodon": API_VERSION},
            "contact": {"email": about.contact_email, "account": None},
            "rules": await rule_entities(),
        }
    )


@bp.get("/v1/instance", strict_slashes=False)
async def instance_v1() -> Response:
    cfg = config()
    about = await instance_info.about(services())
    domains = await instance_info.known_domains(services())
    return jsonify(
        {
            "uri": cfg.instance.domain,
            "title": about.name,
            "short_description": about.description,
            "description": about.description,
            "email": about.contact_email,
            "version": version(),
            "urls": {"streaming_api": streaming_url(cfg)},
            "stats": {
                "user_count": about.users,
                "status_count": about.local_posts,
                "domain_count": domains,
            },
            "thumbnail": static_url(cfg.instance.base_url, "avatar-missing.png"),
            "languages": list(UI_LANGUAGES),
            "registrations": about.registrations != "closed",
            "approval_required": about.registrations == "approval",
            "invites_enabled": False,
            "configuration": {
                "accounts": {"max_featured_tags": 0},
                "statuses": statuses(cfg),
                "media_attachments": media_attachments(cfg),
                "polls": POLLS,
            },
            "contact_account": None,
            "rules": await rule_entities(),
        }
    )
