"""Matching posts against a person's active filters of one context: which filters, by
which keywords or chosen posts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.filters import Filter, FilterKeyword


def _pattern(keyword: FilterKeyword) -> re.Pattern[str]:
    """A keyword as a case-insensitive pattern; a whole word is bounded where it starts
    or ends with a word character (a keyword like `#tag` or `c++` still matches)."""
    text = re.escape(keyword.keyword)
    if keyword.whole_word:
        if re.match(r"\w", keyword.keyword):
            text = r"\b" + text
        if re.search(r"\w$", keyword.keyword):
            text += r"\b"
    return re.compile(text, re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    filter: Filter
    keyword_matches: list[str] | None
    status_matches: list[str] | None


@dataclass(frozen=True)
class Matcher:
    """A person's active filters of one context, ready to match posts."""

    filters: tuple[tuple[Filter, tuple[tuple[str, re.Pattern[str]], ...], frozenset[int]], ...]

    def match(self, text: str, post_ids: Iterable[int]) -> list[Match]:
        ids = set(post_ids)
        found = []
        for filter_, patterns, filtered_posts in self.filters:
            keywords = [word for word, pattern in patterns if pattern.search(text)]
            posts_hit = sorted(str(post_id) for post_id in ids & filtered_posts)
            if keywords or posts_hit:
                found.append(Match(filter_, keywords or None, posts_hit or None))
        return found


def matcher(
    filters: list[Filter], context: str | None, now: datetime | None = None
) -> Matcher | None:
    """A matcher for the filters of `context` (None: of any context) not expired by
    `now`; None when there are none (the common case: nothing to do to a page)."""
    moment = now or datetime.now(UTC)
    chosen = tuple(
        (
            f,
            tuple((k.keyword, _pattern(k)) for k in f.keywords),
            frozenset(p.post_id for p in f.posts),
        )
        for f in filters
        if (context is None or context in f.context)
        and (f.expires_at is None or f.expires_at > moment)
    )
    return Matcher(chosen) if chosen else None
