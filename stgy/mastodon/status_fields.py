"""Mastodon's status entities and what holds them (Status, attachments, notifications,
conversations, search results...), as its documentation lists them: the second half of
stgy/mastodon/entity_fields.py, which explains the field format."""

from __future__ import annotations

Field = tuple[str, str, bool, bool]  # name, type, nullable, optional

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
SEARCH: list[Field] = [
    ("accounts", "[ACCOUNT]", False, False),
    ("statuses", "[STATUS]", False, False),
    ("hashtags", "[HASHTAG]", False, False),
]
CONVERSATION: list[Field] = [
    ("id", "id", False, False),
    ("unread", "bool", False, False),
    ("accounts", "[ACCOUNT]", False, False),
    ("last_status", "STATUS", True, False),
]
REPORT: list[Field] = [
    ("id", "id", False, False),
    ("action_taken", "bool", False, False),
    ("action_taken_at", "datetime", True, False),
    ("category", "str", False, False),
    ("comment", "str", False, False),
    ("forwarded", "bool", False, False),
    ("created_at", "datetime", False, False),
    ("status_ids", "list", True, False),
    ("rule_ids", "list", True, False),
    ("target_account", "ACCOUNT", False, False),
]
NOTIFICATION_GROUP: list[Field] = [
    ("group_key", "str", False, False),
    ("notifications_count", "int", False, False),
    ("type", "str", False, False),
    ("most_recent_notification_id", "id", False, False),
    ("page_min_id", "id", False, True),
    ("page_max_id", "id", False, True),
    ("latest_page_notification_at", "datetime", False, True),
    ("sample_account_ids", "list", False, False),
    ("status_id", "id", False, True),
    ("moderation_warning", "dict", False, True),
]
GROUPED_NOTIFICATIONS_RESULTS: list[Field] = [
    ("accounts", "[ACCOUNT]", False, False),
    ("partial_accounts", "list", False, True),
    ("statuses", "[STATUS]", False, False),
    ("notification_groups", "[NOTIFICATION_GROUP]", False, False),
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
