"""Remote HTML read as text (a remote post's plain text, profile field values), hashtags
linked in remote bios, and the actor's `PropertyValue` fields and `type` lists."""

from __future__ import annotations

from typing import Any

from federation.fetch import MAX_ACTOR_FIELDS, MAX_FIELD_NAME, parse_actor
from federation.values import type_of
from federation.vocab import PropertyValue
from stgy.domain.html_text import html_to_text, link_hashtags
from stgy.domain.remote.remote_keys import profile_fields
from stgy.domain.remote.remote_posts import note_content, note_text
from stgy.domain.text import sanitize_html

TAGS = "https://stgy.example/tags"


def test_paragraphs_are_apart_by_a_blank_line() -> None:
    assert html_to_text("<p>One</p><p>Two</p>") == "One\n\nTwo"
    assert html_to_text("<p>One</p>\n\n  <p>  Two  </p>") == "One\n\nTwo"
    assert html_to_text("<h1>Title</h1><blockquote><p>quoted</p></blockquote>end") == (
        "Title\n\nquoted\n\nend"
    )


def test_br_is_a_line_break_and_white_space_collapses() -> None:
    assert html_to_text("<p>line one<br>line two<br/>three</p>") == "line one\nline two\nthree"
    assert html_to_text("<p>a  \n  b\tc</p>") == "a b c"
    assert html_to_text("<p>trailing <br> lead</p>") == "trailing\nlead"
    assert html_to_text("<pre>  keep\n    indent</pre>") == "keep\n    indent"


def test_lists_put_each_item_on_a_line() -> None:
    markup = "<p>Shopping:</p><ul><li>eggs</li><li>tea</li></ul><ol><li>first</li></ol>"
    assert html_to_text(markup) == "Shopping:\n\neggs\ntea\n\nfirst"
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == (
        "a b\nc"
    )


def test_entities_are_decoded() -> None:
    assert html_to_text("<p>Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#39; caf&eacute;</p>") == (
        "Tom & Jerry <3 \"x\" 'y' café"
    )
    assert html_to_text("a&nbsp;b") == "a\xa0b"
    assert html_to_text("") == ""


def test_links_become_their_text() -> None:
    mastodon = (
        '<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">'
        '@<span>bob</span></a></span> see <a href="https://example.com/a/b">'
        '<span class="invisible">https://</span><span class="">example.com/a/b</span>'
        '<span class="invisible"></span></a> <a href="https://m.example/tags/cats"'
        ' class="mention hashtag" rel="tag">#<span>cats</span></a></p>'
    )
    assert html_to_text(sanitize_html(mastodon)) == "@bob see https://example.com/a/b #cats"


def test_note_text_prefers_a_markdown_or_plain_source() -> None:
    html = "<p>rendered <strong>text</strong></p>"
    markdown = {"content": "rendered **text**", "mediaType": "text/markdown; charset=utf-8"}
    plain = {"content": "plain words", "mediaType": "text/plain"}
    assert note_text({"source": markdown}, html) == "rendered **text**"
    assert note_text({"source": plain}, html) == "plain words"
    assert note_text({"source": {"content": "x", "mediaType": "text/html"}}, html) == (
        "rendered text"
    )
    assert note_text({"source": "not an object"}, html) == "rendered text"
    assert note_text({}, html) == "rendered text"
    content = note_content({"content": "<p>a</p><script>x</script>", "contentMap": {"ja": ""}})
    assert (content.html, content.text, content.language) == ("<p>a</p>", "a", "ja")


def test_unlinked_hashtags_of_a_bio_are_linked_to_our_tag_pages() -> None:
    bio = sanitize_html(
        "<p>I like #cats &amp; #日本語, <a href='https://m.example/tags/dogs' rel='tag'>#dogs</a>"
        " <code>#code</code> and https://x.example/#anchor</p>"
    )
    linked = link_hashtags(bio, TAGS)
    assert f'<a href="{TAGS}/cats" class="mention hashtag"' in linked
    assert f'href="{TAGS}/%E6%97%A5%E6%9C%AC%E8%AA%9E"' in linked
    assert 'href="https://m.example/tags/dogs"' in linked and f"{TAGS}/dogs" not in linked
    assert "<code>#code</code>" in linked and f"{TAGS}/anchor" not in linked
    assert "&amp;" in linked
    assert html_to_text(linked) == html_to_text(bio)


def test_property_values_of_an_actor_are_read_and_bounded() -> None:
    actor: dict[str, Any] = {
        "id": "https://m.example/users/zoe",
        "type": "Person",
        "preferredUsername": "zoe",
        "inbox": "https://m.example/users/zoe/inbox",
        "publicKey": {
            "id": "https://m.example/users/zoe#main-key",
            "owner": "https://m.example/users/zoe",
            "publicKeyPem": "PEM",
        },
        "attachment": [
            {"type": "PropertyValue", "name": "Site", "value": "<a href='https://z.example'>z</a>"},
            {"type": "Image", "url": "https://m.example/x.png"},
            {"type": "PropertyValue", "name": "", "value": "no name"},
            {"type": "PropertyValue", "name": "n" * 300, "value": 5},
            "not an object",
            *({"type": "PropertyValue", "name": f"f{i}", "value": "v"} for i in range(30)),
        ],
    }
    parsed = parse_actor(actor)
    assert len(parsed.fields) == MAX_ACTOR_FIELDS
    assert parsed.fields[0] == PropertyValue("Site", "<a href='https://z.example'>z</a>")
    assert parsed.fields[1].name == "f0"
    actor["attachment"] = {"type": "PropertyValue", "name": "n" * 300, "value": "v"}
    assert [len(f.name) for f in parse_actor(actor).fields] == [MAX_FIELD_NAME]
    del actor["attachment"]
    assert parse_actor(actor).fields == ()


def test_profile_fields_keep_sanitised_html_and_text() -> None:
    stored = profile_fields(
        (
            PropertyValue(
                "Site",
                '<a href="https://z.example" onclick="x()"><span class="invisible">https://'
                "</span>z.example</a><script>alert(1)</script>",
            ),
            PropertyValue("Pronouns", "they/them"),
        )
    )
    site, pronouns = stored
    assert site["name"] == "Site" and site["value"] == "https://z.example"
    assert "onclick" not in site["value_html"] and "script" not in site["value_html"]
    assert 'href="https://z.example"' in site["value_html"]
    assert pronouns == {"name": "Pronouns", "value": "they/them", "value_html": "they/them"}


def test_type_lists_give_the_first_known_type() -> None:
    known = {"Create", "Note"}
    assert type_of(["ex:Thing", "Create"], known) == "Create"
    assert type_of(["Create", "ex:Thing"], known) == "Create"
    assert type_of("Listen", known) == "Listen"
    assert type_of(["ex:A", "ex:B"], known) == "ex:A"
    assert type_of([1, None], known) is None and type_of(None, known) is None
