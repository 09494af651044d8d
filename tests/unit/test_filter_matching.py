"""Matching text against filters: case, whole words, keywords that start or end with a
sign, chosen posts, contexts and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stgy.domain.filter_matching import matcher
from storage.filters import Filter, FilterKeyword, FilterPost

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def a_filter(
    *keywords: tuple[str, bool],
    context: tuple[str, ...] = ("home",),
    posts: tuple[int, ...] = (),
    expires_at: datetime | None = None,
) -> Filter:
    return Filter(
        1,
        7,
        "f",
        context,
        "warn",
        expires_at,
        tuple(FilterKeyword(10 + i, 1, k, whole) for i, (k, whole) in enumerate(keywords)),
        tuple(FilterPost(20 + i, 1, post) for i, post in enumerate(posts)),
    )


def keywords_in(found: Filter, text: str) -> list[str] | None:
    made = matcher([found], "home", NOW)
    assert made is not None
    matches = made.match(text, [])
    return matches[0].keyword_matches if matches else None


def test_whole_words_and_parts() -> None:
    cat = a_filter(("Cat", True))
    assert keywords_in(cat, "a CAT sat") == ["Cat"]
    assert keywords_in(cat, "cat.") == ["Cat"]
    assert keywords_in(cat, "concatenate") is None
    assert keywords_in(a_filter(("cat", False)), "concatenate") == ["cat"]
    # A keyword that starts or ends with a sign is bounded only on its word side.
    assert keywords_in(a_filter(("#tag", True)), "see #tag here") == ["#tag"]
    assert keywords_in(a_filter(("#tag", True)), "see #tags here") is None
    assert keywords_in(a_filter(("c++", True)), "I write c++!") == ["c++"]
    # Signs in a keyword are matched as they are, not as a pattern.
    assert keywords_in(a_filter(("a.b", False)), "axb") is None


def test_posts_contexts_and_expiry() -> None:
    chosen = a_filter(posts=(99,))
    made = matcher([chosen], "home", NOW)
    assert made is not None
    assert made.match("anything", [5, 99])[0].status_matches == ["99"]
    assert made.match("anything", [5]) == []
    assert matcher([a_filter(("x", False), context=("public",))], "home", NOW) is None
    gone = a_filter(("x", False), expires_at=NOW - timedelta(seconds=1))
    assert matcher([gone], "home", NOW) is None
    later = a_filter(("x", False), expires_at=NOW + timedelta(seconds=1))
    assert matcher([later], "home", NOW) is not None
