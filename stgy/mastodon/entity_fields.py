"""Mastodon's entities as its documentation lists them (docs.joinmastodon.org/entities),
written once: the Mastodon face's OpenAPI document (stgy/mastodon/openapi.py) is made
from them, and the tests check every answer against them.

A field is (name, type, nullable, optional): `optional` ones (documented as "returned
only when...") may be missing; every other must be there, `null` only when nullable.
Types: "str", "int", "bool", "list", "dict", "datetime" (YYYY-MM-DDTHH:MM:SS.sssZ),
"float", "date" (YYYY-MM-DD), "id" (a string of digits), "url", a nested entity's name,
or "[NAME]": a list of that entity.
"""

from __future__ import annotations

# The status entities live in stgy/mastodon/status_fields.py; every entity is named here.
from stgy.mastodon.status_fields import *  # noqa: F403
from stgy.mastodon.status_fields import Field

ROLE: list[Field] = [
    ("id", "str", False, False),
    ("name", "str", False, False),
    ("color", "str", False, False),
    ("permissions", "str", False, False),
    ("highlighted", "bool", False, False),
    ("collection_limit", "int", False, False),
]
FIELD: list[Field] = [
    ("name", "str", False, False),
    ("value", "str", False, False),
    ("verified_at", "datetime", True, False),
]
FEATURE_APPROVAL: list[Field] = [
    ("automatic", "list", False, False),
    ("manual", "list", False, False),
    ("current_user", "str", False, False),
]
ACCOUNT: list[Field] = [
    ("id", "id", False, False),
    ("username", "str", False, False),
    ("acct", "str", False, False),
    ("url", "url", True, False),
    ("uri", "url", False, False),
    ("display_name", "str", False, False),
    ("note", "str", False, False),
    ("avatar", "url", False, False),
    ("avatar_static", "url", False, False),
    ("avatar_description", "str", False, False),
    ("header", "url", False, False),
    ("header_static", "url", False, False),
    ("header_description", "str", False, False),
    ("locked", "bool", False, False),
    ("fields", "list", False, False),
    ("emojis", "list", False, False),
    ("bot", "bool", False, False),
    ("group", "bool", False, False),
    ("discoverable", "bool", True, False),
    ("indexable", "bool", False, False),
    ("noindex", "bool", True, True),
    ("moved", "dict", True, True),
    ("memorial", "bool", False, True),
    ("suspended", "bool", False, True),
    ("limited", "bool", False, True),
    ("created_at", "datetime", False, False),
    ("last_status_at", "date", True, False),
    ("statuses_count", "int", False, False),
    ("followers_count", "int", False, False),
    ("following_count", "int", False, False),
    ("hide_collections", "bool", True, False),
    ("show_media", "bool", False, False),
    ("show_media_replies", "bool", False, False),
    ("show_featured", "bool", False, False),
    ("roles", "list", True, False),
    ("feature_approval", "FEATURE_APPROVAL", False, False),
]
SOURCE: list[Field] = [
    ("attribution_domains", "list", False, False),
    ("note", "str", False, False),
    ("fields", "list", False, False),
    ("privacy", "str", False, False),
    ("sensitive", "bool", False, False),
    ("language", "str", False, False),
    ("follow_requests_count", "int", False, False),
    ("hide_collections", "bool", True, False),
    ("discoverable", "bool", True, False),
    ("indexable", "bool", False, False),
    ("quote_policy", "str", False, False),
]
CREDENTIAL_ACCOUNT: list[Field] = [
    *ACCOUNT,
    ("source", "SOURCE", False, False),
    ("role", "ROLE", False, False),
]
APPLICATION: list[Field] = [
    ("id", "id", False, False),
    ("name", "str", False, False),
    ("website", "url", True, True),
    ("scopes", "list", False, False),
    ("redirect_uris", "list", False, False),
    ("redirect_uri", "str", False, False),
    ("vapid_key", "str", False, False),
]
CREDENTIAL_APPLICATION: list[Field] = [
    *APPLICATION,
    ("client_id", "str", False, False),
    ("client_secret", "str", False, False),
    ("client_secret_expires_at", "int", False, False),
]
TOKEN: list[Field] = [
    ("access_token", "str", False, False),
    ("token_type", "str", False, False),
    ("scope", "str", False, False),
    ("created_at", "int", False, False),
]
MARKER: list[Field] = [
    ("last_read_id", "str", False, False),
    ("version", "int", False, False),
    ("updated_at", "datetime", False, False),
]
PREFERENCES: list[Field] = [
    ("posting:default:visibility", "str", False, False),
    ("posting:default:sensitive", "bool", False, False),
    ("posting:default:language", "str", True, False),
    ("reading:expand:media", "str", False, False),
    ("reading:expand:spoilers", "bool", False, False),
]
RULE: list[Field] = [
    ("id", "str", False, False),
    ("text", "str", False, False),
    ("hint", "str", False, False),
    ("translations", "dict", False, False),
]
INSTANCE_URLS: list[Field] = [
    ("streaming", "url", False, False),
    ("status", "url", True, False),
    ("about", "url", False, False),
    ("privacy_policy", "url", True, False),
    ("terms_of_service", "url", True, False),
]
ACCOUNT_LIMITS: list[Field] = [
    ("max_display_name_length", "int", False, False),
    ("max_note_length", "int", False, False),
    ("max_avatar_description_length", "int", False, False),
    ("max_header_description_length", "int", False, False),
    ("max_featured_tags", "int", False, False),
    ("max_pinned_statuses", "int", False, False),
    ("max_profile_fields", "int", False, False),
    ("profile_field_name_limit", "int", False, False),
    ("profile_field_value_limit", "int", False, False),
]
STATUS_LIMITS: list[Field] = [
    ("max_characters", "int", False, False),
    ("max_media_attachments", "int", False, False),
    ("characters_reserved_per_url", "int", False, False),
]
MEDIA_LIMITS_V1: list[Field] = [
    ("supported_mime_types", "list", False, False),
    ("image_size_limit", "int", False, False),
    ("image_matrix_limit", "int", False, False),
    ("video_size_limit", "int", False, False),
    ("video_frame_rate_limit", "int", False, False),
    ("video_matrix_limit", "int", False, False),
]
MEDIA_LIMITS: list[Field] = [*MEDIA_LIMITS_V1, ("description_limit", "int", False, False)]
POLL_LIMITS: list[Field] = [
    ("max_options", "int", False, False),
    ("max_characters_per_option", "int", False, False),
    ("min_expiration", "int", False, False),
    ("max_expiration", "int", False, False),
]
TIMELINE_ACCESS_PART: list[Field] = [
    ("local", "str", False, False),
    ("remote", "str", False, False),
]
TIMELINES_ACCESS: list[Field] = [
    ("live_feeds", "TIMELINE_ACCESS_PART", False, False),
    ("hashtag_feeds", "TIMELINE_ACCESS_PART", False, False),
    ("trending_link_feeds", "TIMELINE_ACCESS_PART", False, False),
]
CONFIGURATION: list[Field] = [
    ("urls", "INSTANCE_URLS", False, False),
    ("vapid", "VAPID", False, False),
    ("accounts", "ACCOUNT_LIMITS", False, False),
    ("statuses", "STATUS_LIMITS", False, False),
    ("media_attachments", "MEDIA_LIMITS", False, False),
    ("polls", "POLL_LIMITS", False, False),
    ("translation", "TRANSLATION", False, False),
    ("timelines_access", "TIMELINES_ACCESS", False, False),
    ("limited_federation", "bool", False, False),
]
VAPID: list[Field] = [("public_key", "str", False, False)]
TRANSLATION: list[Field] = [("enabled", "bool", False, False)]
THUMBNAIL: list[Field] = [
    ("url", "url", False, False),
    ("description", "str", False, False),
    ("blurhash", "str", False, True),
    ("versions", "dict", False, True),
]
REGISTRATIONS: list[Field] = [
    ("enabled", "bool", False, False),
    ("approval_required", "bool", False, False),
    ("message", "str", True, False),
    ("min_age", "int", True, False),
    ("reason_required", "bool", True, False),
    ("url", "url", True, False),
]
CONTACT: list[Field] = [("email", "str", False, False), ("account", "ACCOUNT", True, False)]
INSTANCE: list[Field] = [
    ("domain", "str", False, False),
    ("title", "str", False, False),
    ("version", "str", False, False),
    ("source_url", "url", False, False),
    ("description", "str", False, False),
    ("wrapstodon", "str", True, False),
    ("usage", "USAGE", False, False),
    ("thumbnail", "THUMBNAIL", False, False),
    ("icon", "list", False, False),
    ("languages", "list", False, False),
    ("configuration", "CONFIGURATION", False, False),
    ("registrations", "REGISTRATIONS", False, False),
    ("api_versions", "API_VERSIONS", False, False),
    ("contact", "CONTACT", False, False),
    ("rules", "list", False, False),
]
USAGE: list[Field] = [("users", "USAGE_USERS", False, False)]
USAGE_USERS: list[Field] = [("active_month", "int", False, False)]
API_VERSIONS: list[Field] = [("mastodon", "int", False, False)]
V1_CONFIGURATION: list[Field] = [
    ("accounts", "V1_ACCOUNT_LIMITS", False, False),
    ("statuses", "STATUS_LIMITS", False, False),
    ("media_attachments", "MEDIA_LIMITS_V1", False, False),
    ("polls", "POLL_LIMITS", False, False),
]
V1_ACCOUNT_LIMITS: list[Field] = [("max_featured_tags", "int", False, False)]
V1_INSTANCE: list[Field] = [
    ("uri", "str", False, False),
    ("title", "str", False, False),
    ("short_description", "str", False, False),
    ("description", "str", False, False),
    ("email", "str", False, False),
    ("version", "str", False, False),
    ("urls", "V1_URLS", False, False),
    ("stats", "V1_STATS", False, False),
    ("thumbnail", "url", True, False),
    ("languages", "list", False, False),
    ("registrations", "bool", False, False),
    ("approval_required", "bool", False, False),
    ("invites_enabled", "bool", False, False),
    ("configuration", "V1_CONFIGURATION", False, False),
    ("contact_account", "ACCOUNT", True, False),
    ("rules", "list", False, False),
]
V1_URLS: list[Field] = [("streaming_api", "url", False, False)]
V1_STATS: list[Field] = [
    ("user_count", "int", False, False),
    ("status_count", "int", False, False),
    ("domain_count", "int", False, False),
]
OAUTH_ERROR: list[Field] = [
    ("error", "str", False, False),
    ("error_description", "str", False, False),
]
ERROR: list[Field] = [("error", "str", False, False)]
FAMILIAR_FOLLOWERS: list[Field] = [
    ("id", "id", False, False),
    ("accounts", "[ACCOUNT]", False, False),
]
DOMAIN_BLOCK: list[Field] = [
    ("domain", "str", False, False),
    ("digest", "str", False, False),
    ("severity", "str", False, False),
    ("comment", "str", True, True),
]
EXTENDED_DESCRIPTION: list[Field] = [
    ("updated_at", "datetime", True, False),
    ("content", "str", False, False),
]
UNREAD_COUNT: list[Field] = [("count", "int", False, False)]
LIST: list[Field] = [
    ("id", "id", False, False),
    ("title", "str", False, False),
    ("replies_policy", "str", False, False),
    ("exclusive", "bool", False, False),
]
