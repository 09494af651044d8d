"""A person's filters as Mastodon's entities: Filter, FilterKeyword, FilterStatus,
FilterResult and the deprecated V1::Filter (one per keyword)."""

from __future__ import annotations

from typing import Any

from stgy.domain.filter_matching import Match
from stgy.mastodon.entities import mastodon_time
from storage.filters import Filter, FilterKeyword, FilterPost


def keyword_entity(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_status_entity(post: FilterPost) -> dict[str, Any]:
    return {"id": str(post.id), "status_id": str(post.post_id)}


def filter_entity(found: Filter, *, rules: bool = True) -> dict[str, Any]:
    """The Filter; its keywords and statuses only when `rules` (a FilterResult's filter
    leaves them out, as Mastodon's does)."""
    entity: dict[str, Any] = {
        "id": str(found.id),
        "title": found.title,
        "context": list(found.context),
        "expires_at": mastodon_time(found.expires_at) if found.expires_at else None,
        "filter_action": found.action,
    }
    if rules:
        entity["keywords"] = [keyword_entity(k) for k in found.keywords]
        entity["statuses"] = [filter_status_entity(p) for p in found.posts]
    return entity


def filter_result_entity(match: Match) -> dict[str, Any]:
    return {
        "filter": filter_entity(match.filter, rules=False),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }


def v1_filter_entity(found: Filter, keyword: FilterKeyword) -> dict[str, Any]:
    """A keyword of a filter as the v1 API shows it: its own filter, by the keyword's id."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": list(found.context),
        "whole_word": keyword.whole_word,
        "expires_at": mastodon_time(found.expires_at) if found.expires_at else None,
        "irreversible": found.action == "hide",
    }
