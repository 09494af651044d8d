"""Mastodon's entities as its documentation lists them (docs.joinmastodon.org/entities),
written once, and a check that a JSON value has each documented field, of its type.

A field is (name, type, nullable, optional): `optional` ones (documented as "returned
only when...") may be missing; every other must be there, `null` only when nullable.
"""

from __future__ import annotations

import re
from typing import Any

# Types: "str", "int", "bool", "list", "dict", "datetime" (YYYY-MM-DDTHH:MM:SS.sssZ),
# "float", "date" (YYYY-MM-DD), "id" (a string of digits), "url", or a nested entity's name.
Field = tuple[str, str, bool, bool]  # name, type, nullable, optional

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

# Statuses and what they hold (docs.joinmastodon.org/entities/Status and the others).
MEDIA_ATTACHMENT: list[Field] = [
    ("id", "id", False, False),
    ("type", "str", False, False),
    ("url", "url", True, False),
    ("preview_url", "url", True, False),
    ("remote_url", "url", True, False),
    ("meta", "dict", True, False),
    ("description", "str", True, False),
    ("blurhash", "str", True, False),
]
MENTION: list[Field] = [
    ("id", "id", False, False),
    ("username", "str", False, False),
    ("url", "url", False, False),
    ("acct", "str", False, False),
]
TAG: list[Field] = [
    ("name", "str", False, False),
    ("url", "url", False, False),
]
# The full Tag entity (search results, followed tags); statuses carry TAG, its head.
HASHTAG: list[Field] = [
    *TAG,
    ("history", "list", False, False),
    ("following", "bool", False, True),
]
MEDIA_META_SIZE: list[Field] = [
    ("width", "int", False, False),
    ("height", "int", False, False),
    ("size", "str", False, False),
    ("aspect", "float", False, False),
]
MEDIA_META: list[Field] = [
    ("original", "MEDIA_META_SIZE", False, False),
    ("small", "MEDIA_META_SIZE", False, False),
    ("focus", "dict", False, True),
]
STATUS: list[Field] = [
    ("id", "id", False, False),
    ("uri", "url", False, False),
    ("created_at", "datetime", False, False),
    ("account", "ACCOUNT", False, False),
    ("content", "str", False, False),
    ("visibility", "str", False, False),
    ("sensitive", "bool", False, False),
    ("spoiler_text", "str", False, False),
    ("media_attachments", "[MEDIA_ATTACHMENT]", False, False),
    ("application", "dict", True, True),
    ("mentions", "[MENTION]", False, False),
    ("tags", "[TAG]", False, False),
    ("emojis", "list", False, False),
    ("reblogs_count", "int", False, False),
    ("favourites_count", "int", False, False),
    ("replies_count", "int", False, False),
    ("url", "url", True, False),
    ("in_reply_to_id", "id", True, False),
    ("in_reply_to_account_id", "id", True, False),
    ("reblog", "STATUS", True, False),
    ("poll", "dict", True, False),
    ("card", "dict", True, False),
    ("language", "str", True, False),
    ("text", "str", True, False),
    ("edited_at", "datetime", True, False),
    ("quote", "dict", True, False),
    ("quotes_count", "int", False, False),
    ("quote_approval", "QUOTE_APPROVAL", False, False),
    ("tagged_collections", "list", False, False),
    ("favourited", "bool", False, True),
    ("reblogged", "bool", False, True),
    ("muted", "bool", False, True),
    ("bookmarked", "bool", False, True),
    ("pinned", "bool", False, True),
    ("filtered", "[FILTER_RESULT]", False, True),
]
QUOTE_APPROVAL: list[Field] = [
    ("automatic", "list", False, False),
    ("manual", "list", False, False),
    ("current_user", "str", False, False),
]
CONTEXT: list[Field] = [
    ("ancestors", "[STATUS]", False, False),
    ("descendants", "[STATUS]", False, False),
]
STATUS_SOURCE: list[Field] = [
    ("id", "id", False, False),
    ("text", "str", False, False),
    ("spoiler_text", "str", False, False),
]
STATUS_EDIT: list[Field] = [
    ("content", "str", False, False),
    ("spoiler_text", "str", False, False),
    ("sensitive", "bool", False, False),
    ("created_at", "datetime", False, False),
    ("account", "ACCOUNT", False, False),
    ("poll", "dict", True, True),
    ("media_attachments", "[MEDIA_ATTACHMENT]", False, False),
    ("emojis", "list", False, False),
]
RELATIONSHIP: list[Field] = [
    ("id", "id", False, False),
    ("following", "bool", False, False),
    ("showing_reblogs", "bool", False, False),
    ("notifying", "bool", False, False),
    ("languages", "list", True, False),
    ("followed_by", "bool", False, False),
    ("blocking", "bool", False, False),
    ("blocked_by", "bool", False, False),
    ("muting", "bool", False, False),
    ("muting_notifications", "bool", False, False),
    ("muting_expires_at", "datetime", True, False),
    ("requested", "bool", False, False),
    ("requested_by", "bool", False, False),
    ("domain_blocking", "bool", False, False),
    ("endorsed", "bool", False, False),
    ("note", "str", False, False),
]
NOTIFICATION: list[Field] = [
    ("id", "id", False, False),
    ("type", "str", False, False),
    ("group_key", "str", False, False),
    ("created_at", "datetime", False, False),
    ("account", "ACCOUNT", False, False),
    ("status", "STATUS", True, True),
    ("report", "dict", True, True),
    ("relationship_severance_event", "dict", True, True),
    ("moderation_warning", "dict", True, True),
]

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_URL = re.compile(r"^(https?|wss?)://[^\s]+$")
_SIMPLE = {"str": str, "list": list, "dict": dict}


def _problems(value: Any, fields: list[Field], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: not an object but {type(value).__name__}"]
    found: list[str] = []
    for name, kind, nullable, optional in fields:
        at = f"{where}.{name}"
        if name not in value:
            if not optional:
                found.append(f"{at}: missing")
            continue
        item = value[name]
        if item is None:
            if not nullable:
                found.append(f"{at}: null but not nullable")
            continue
        found.extend(_type_problems(item, kind, at))
    return found


def _type_problems(item: Any, kind: str, at: str) -> list[str]:
    if kind.startswith("["):  # a list of the entity named inside the brackets
        if not isinstance(item, list):
            return [f"{at}: {item!r} is not a list"]
        found: list[str] = []
        for i, element in enumerate(item):
            found.extend(_problems(element, globals()[kind[1:-1]], f"{at}[{i}]"))
        return found
    if kind in _SIMPLE:
        ok = isinstance(item, _SIMPLE[kind])
    elif kind == "int":
        ok = isinstance(item, int) and not isinstance(item, bool)
    elif kind == "float":
        ok = isinstance(item, int | float) and not isinstance(item, bool)
    elif kind == "bool":
        ok = isinstance(item, bool)
    elif kind == "id":
        ok = isinstance(item, str) and item.isdigit()
    elif kind == "datetime":
        ok = isinstance(item, str) and bool(_DATETIME.match(item))
    elif kind == "date":
        ok = isinstance(item, str) and bool(_DATE.match(item))
    elif kind == "url":
        ok = isinstance(item, str) and bool(_URL.match(item))
    else:
        return _problems(item, globals()[kind], at)
    return [] if ok else [f"{at}: {item!r} is not a {kind}"]


def entity_problems(value: Any, fields: list[Field], where: str = "$") -> list[str]:
    """What is wrong with `value` as the entity `fields` describe (empty: nothing)."""
    return _problems(value, fields, where)


def assert_entity(value: Any, fields: list[Field]) -> None:
    problems = entity_problems(value, fields)
    assert problems == [], "\n".join(problems)


def assert_entities(values: Any, fields: list[Field]) -> None:
    """A JSON array of the entity `fields` describe (each item checked)."""
    assert isinstance(values, list), values
    for value in values:
        assert_entity(value, fields)


SEARCH: list[Field] = [
    ("accounts", "[ACCOUNT]", False, False),
    ("statuses", "[STATUS]", False, False),
    ("hashtags", "[HASHTAG]", False, False),
]

FILTER_KEYWORD: list[Field] = [
    ("id", "id", False, False),
    ("keyword", "str", False, False),
    ("whole_word", "bool", False, False),
]
FILTER_STATUS: list[Field] = [
    ("id", "id", False, False),
    ("status_id", "id", False, False),
]
# `keywords` and `statuses` are left out of a FilterResult's filter (as Mastodon does).
FILTER: list[Field] = [
    ("id", "id", False, False),
    ("title", "str", False, False),
    ("context", "list", False, False),
    ("expires_at", "datetime", True, False),
    ("filter_action", "str", False, False),
    ("keywords", "[FILTER_KEYWORD]", False, True),
    ("statuses", "[FILTER_STATUS]", False, True),
]
FILTER_RESULT: list[Field] = [
    ("filter", "FILTER", False, False),
    ("keyword_matches", "list", True, False),
    ("status_matches", "list", True, False),
]
V1_FILTER: list[Field] = [
    ("id", "id", False, False),
    ("phrase", "str", False, False),
    ("context", "list", False, False),
    ("expires_at", "datetime", True, False),
    ("irreversible", "bool", False, False),
    ("whole_word", "bool", False, False),
]
