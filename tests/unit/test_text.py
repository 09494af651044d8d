"""Mentions, hashtags, Markdown rendering and sanitising of what people write."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stgy.domain.errors import Invalid
from stgy.domain.text import (
    Mention,
    check_storable,
    find_mentions_and_tags,
    normalise_tag,
    render_markdown,
    render_post,
    sanitize_html,
)

TAGS_URL = "https://social.example/tags"
KNOWN = {
    ("alice", None): "https://social.example/@alice",
    ("bob", "remote.example"): "https://remote.example/@bob",
}


def mention_url(mention: Mention) -> str | None:
    return KNOWN.get(mention.key)


def render(source: str) -> str:
    return render_post(source, mention_url=mention_url, tags_url=TAGS_URL)


def mentions(source: str) -> list[tuple[str, str | None]]:
    return [(m.handle, m.domain) for m in find_mentions_and_tags(source)[0]]


def tags(source: str) -> list[str]:
    return find_mentions_and_tags(source)[1]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("hi @alice", [("alice", None)]),
        ("@alice, @Bob@Remote.Example!", [("alice", None), ("Bob", "remote.example")]),
        ("(@alice) and @alice again", [("alice", None)]),
        ("@bob@localhost:8000 hi", [("bob", "localhost:8000")]),
        ("end of sentence @alice.", [("alice", None)]),
        ("@first.last@remote.example", [("first.last", "remote.example")]),
        ("mail alice@example.com or a.b+c@example.com", []),
        ("see https://example.com/@alice and http://x.example/p?u=@bob", []),
        ("`@alice` in code", []),
        ("```\n@alice\n```", []),
        ("    @alice indented code", []),
        ("[@alice](https://example.com) is a link already", []),
        ("<https://example.com/@alice>", []),
        ("escaped \\@alice", []),
        ("word@alice", []),
    ],
)
def test_mentions(source: str, expected: list[tuple[str, str | None]]) -> None:
    assert mentions(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("#Stgy and #stgy and #STGY", ["stgy"]),
        ("#123 is a number, #1st is a tag", ["1st"]),
        ("#日本語 #café #Ελληνικά", ["日本語", "café", "ελληνικά"]),
        ("#snake_case #_under", ["snake_case", "_under"]),
        ("#___ #_1", []),
        ("https://example.com/page#anchor", []),
        ("C# and x#y and &#35;", []),
        ("`#code` and\n\n```\n#block\n```", []),
        ("# heading, not a tag", []),
        ("escaped \\#tag", []),
        ("#tag, #end.", ["tag", "end"]),
        ("#" + "a" * 100 + " #" + "b" * 101, ["a" * 100]),
        ("**#bold** _#em_", ["bold", "em"]),
    ],
)
def test_tags(source: str, expected: list[str]) -> None:
    assert tags(source) == expected


def test_normalise_tag() -> None:
    assert normalise_tag("Cafe\u0301") == "café"  # NFC
    assert normalise_tag("123") is None
    assert normalise_tag("a-b") is None
    assert normalise_tag("") is None


def test_known_mentions_are_linked_unknown_stay_text() -> None:
    html = render("hi @alice, @Bob@remote.example and @carol")
    assert (
        '<span class="h-card"><a href="https://social.example/@alice" class="u-url mention"'
        ' rel="nofollow noopener noreferrer ugc">@<span>alice</span></a></span>'
    ) in html
    assert 'href="https://remote.example/@bob"' in html and "@<span>Bob</span>" in html
    assert html.endswith(" and @carol</p>")


def test_hashtags_are_linked() -> None:
    html = render("#Stgy and #日本語")
    assert (
        '<a href="https://social.example/tags/stgy" class="mention hashtag"'
        ' rel="nofollow noopener noreferrer ugc tag">#<span>Stgy</span></a>'
    ) in html
    assert "/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E" in html


def test_markdown_around_links_survives() -> None:
    html = render("**@alice** says `@alice` \\*not em\\* &copy; [#x](https://x.example)")
    assert '<strong><span class="h-card">' in html
    assert "<code>@alice</code>" in html
    assert "*not em*" in html and "©" in html
    assert '<a href="https://x.example" rel="nofollow noopener noreferrer ugc">#x</a>' in html


def test_sanitising() -> None:
    html = render('<script>alert(1)</script> [x](javascript:alert(1)) ![i](x.png "t")')
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    dirty = (
        '<p onclick="x()">a</p><a href="http://a" rel="opener" target="_blank">b</a>'
        '<a href="http://b" title=" rel=">c</a><iframe src="http://evil"></iframe>'
    )
    clean = sanitize_html(dirty)
    assert clean == (
        '<p>a</p><a href="http://a" rel="nofollow noopener noreferrer ugc">b</a>'
        '<a href="http://b" title=" rel=" rel="nofollow noopener noreferrer ugc">c</a>'
    )
    assert sanitize_html(clean) == clean
    assert 'rel="nofollow noopener noreferrer ugc"' in render_markdown("[a](https://a.example)")


def test_check_storable() -> None:
    check_storable("text", "fine ✓")
    for bad in ("nul\x00", "surrogate\ud800"):
        with pytest.raises(Invalid) as caught:
            check_storable("text", bad)
        assert caught.value.field == "text"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("@#ab_1 .:/`*[]()<>&;\\\n-éü日"), max_size=60))
def test_rendering_is_safe_and_stable(source: str) -> None:
    html = render(source)
    assert "<script" not in html
    assert sanitize_html(html) == html
    found_mentions, found_tags = find_mentions_and_tags(source)
    assert all(normalise_tag(tag) == tag for tag in found_tags)
    assert len({m.key for m in found_mentions}) == len(found_mentions)


def test_no_htmx_attribute_survives_sanitising() -> None:
    """Remote HTML must not be able to drive htmx in our pages (web UI, issue 13)."""
    hostile = (
        '<p hx-get="/settings/delete" hx-trigger="load">a</p>'
        '<a href="https://example.com/" hx-post="/posts/1/actions" data-hx-post="/x"'
        ' hx-on:click="alert(1)" data-hx-trigger="load" hx-vals=\'{"do": "like"}\'>b</a>'
        '<span class="h-card" data-hx-get="/x" hx-boost="true">c</span>'
        '<img src="https://example.com/i.png" alt="d" hx-get="/x" data-hx-swap="outerHTML">'
    )
    cleaned = sanitize_html(hostile)
    assert "hx-" not in cleaned
    assert "data-" not in cleaned
    # What is allowed stays: the text, the link, the image.
    assert "https://example.com/" in cleaned and 'alt="d"' in cleaned and ">c<" in cleaned
