"""Text people write: Markdown rendered once at write time to sanitised HTML, with mentions
and hashtags found in it and linked."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from stgy.domain.errors import Invalid

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


def _commonmark() -> MarkdownIt:
    """CommonMark without raw HTML, plus tables and strikethrough; links get safe rel
    values. markdown-it is imported on first use: idle processes never need it."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.enable(["table", "strikethrough"])


@functools.cache
def _markdown() -> MarkdownIt:
    return _commonmark()


@functools.cache
def _post_markdown() -> MarkdownIt:
    """Posts keep backslash escapes and entities as tokens of their own, so `\\#1` or
    `\\@name` stay plain text; they become text again before rendering."""
    return _commonmark().disable("text_join")


def _token(kind: str, content: str) -> Token:
    from markdown_it.token import Token

    return Token(kind, "", 0, content=content)


ALLOWED_TAGS = {
    "p",
    "br",
    "a",
    "span",
    "em",
    "strong",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "title", "rel"},
    "span": {"class"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# ugc: links in what people write, local or remote (a hint to search engines).
LINK_REL = "nofollow noopener noreferrer ugc"
MAX_TAG_LENGTH = 100

# nh3 either forces one rel on every link or lets rel through as written; we want
# both (every link nofollow, hashtag links also rel="tag"), so rel is normalised by
# the filter and added afterwards to links that had none. nh3's output escapes
# < > " inside attribute values, so these patterns see whole start tags only.
_ANCHOR_START = re.compile(r"<a((?: [a-z-]+=\"[^\"]*\")*)>")
_ATTRIBUTE = re.compile(r' ([a-z-]+)="[^"]*"')


def _normalise_rel(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "rel":
        return LINK_REL + " tag" if "tag" in value.split() else LINK_REL
    return value


def _add_missing_rel(match: re.Match[str]) -> str:
    attributes = match.group(1)
    if "rel" in _ATTRIBUTE.findall(attributes):
        return match.group(0)
    return f'<a{attributes} rel="{LINK_REL}">'


def sanitize_html(markup: str) -> str:
    """Keep a safe allow-list of tags and attributes; every link gets rel="nofollow ..."."""
    import nh3  # with the first HTML cleaned: idle processes never need it

    cleaned = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_normalise_rel,
        url_schemes=URL_SCHEMES,
        link_rel=None,
    )
    return _ANCHOR_START.sub(_add_missing_rel, cleaned)


# A profile field whose whole value is a URL is shown as a link to it.
_URL_VALUE = re.compile(r"https?://[^\s<>\"']+")


def field_html(value: str) -> str:
    """A local profile field's value as HTML: escaped text, or a link when the whole
    value is an http(s) URL (rel="me", as Mastodon verifies links back to a profile)."""
    text = html.escape(value)
    if _URL_VALUE.fullmatch(value):
        return f'<a href="{text}" target="_blank" rel="nofollow noopener noreferrer me">{text}</a>'
    return text


def render_markdown(source: str) -> str:
    return sanitize_html(_markdown().render(source)).strip()


def check_storable(field: str, value: str) -> None:
    """PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: refuse both."""
    if "\x00" in value:
        raise Invalid(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field, "must be valid Unicode (no lone surrogates)") from None


# --- Mentions and hashtags ---------------------------------------------------------

# `@handle` or `@handle@domain[:port]`, not inside a word, an email address or a path.
_MENTION = re.compile(
    r"(?<![\w/@.+-])@([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)"
    r"(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?))?"
)
# A `#` that may start a tag: not inside a word, a path, an anchor or `&#...`.
_HASH = re.compile(r"(?<![\w/&#)])#")
_URL = re.compile(r"(?:https?|mailto):[^\s<>\"]+", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """A mention as written: the handle, and the domain (lowercased) when one was given."""

    handle: str
    domain: str | None

    @property
    def key(self) -> tuple[str, str | None]:
        return self.handle.lower(), self.domain


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    mention: Mention | None = None
    tag: str | None = None  # as written, without '#'


def _is_tag_char(char: str) -> bool:
    category = unicodedata.category(char)
    return char == "_" or category[0] in "LM" or category == "Nd"


def normalise_tag(tag: str) -> str | None:
    """The stored form of a tag (NFC, lowercase), or None when it is not a valid tag.

    Tags are unicode letters, marks, digits and underscores, with at least one letter
    (so `#123` is not a tag), at most MAX_TAG_LENGTH characters.
    """
    tag = unicodedata.normalize("NFC", tag).lower()
    if not 0 < len(tag) <= MAX_TAG_LENGTH or not all(_is_tag_char(c) for c in tag):
        return None
    if not any(unicodedata.category(c)[0] == "L" for c in tag):
        return None
    return tag


def _find_in(text: str, skip: int = 0) -> list[_Found]:
    """Mentions and hashtags in a run of plain text, in order, outside URLs.

    The first `skip` characters are context only (the end of the text before).
    """
    urls = [m.span() for m in _URL.finditer(text)]

    def wanted(start: int) -> bool:
        return start >= skip and not any(a <= start < b for a, b in urls)

    found: list[_Found] = []
    for m in _MENTION.finditer(text):
        if wanted(m.start()):
            domain = m.group(2).lower() if m.group(2) else None
            mention = Mention(m.group(1), domain)
            found.append(_Found(m.start() - skip, m.end() - skip, mention=mention))
    for m in _HASH.finditer(text):
        end = m.end()
        while end < len(text) and _is_tag_char(text[end]):
            end += 1
        written = text[m.end() : end]
        if written and wanted(m.start()) and normalise_tag(written) is not None:
            found.append(_Found(m.start() - skip, end - skip, tag=written))
    found.sort(key=lambda f: f.start)
    return found


def _scannable(tokens: list[Token]) -> Iterator[tuple[list[Token], int, str]]:
    """(children, index, character before) of every text token outside code and links.

    Escapes and entities (`text_special`) are not scanned, but give context.
    """
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        depth = 0
        for index, child in enumerate(token.children):
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "text" and depth == 0:
                before = token.children[index - 1] if index else None
                context = ""
                if before is not None and before.type in ("text", "text_special"):
                    context = before.content[-1:]
                yield token.children, index, context


def find_mentions_and_tags(source: str) -> tuple[list[Mention], list[str]]:
    """Mentions (deduplicated, in order) and normalised tags (deduplicated, in order).

    Code spans, code blocks, link texts, URLs, email addresses and escaped
    characters (`\\@name`, `\\#tag`) hold none.
    """
    mentions: dict[tuple[str, str | None], Mention] = {}
    tags: dict[str, None] = {}
    for children, index, context in _scannable(_post_markdown().parse(source)):
        for item in _find_in(context + children[index].content, len(context)):
            if item.mention is not None:
                mentions.setdefault(item.mention.key, item.mention)
            elif item.tag is not None:
                tag = normalise_tag(item.tag)
                if tag is not None:
                    tags.setdefault(tag, None)
    return list(mentions.values()), list(tags)


def _html_token(content: str) -> Token:
    return _token("html_inline", content)


def _text_token(content: str) -> Token:
    return _token("text", content)


def _link_html(item: _Found, mention_url: Callable[[Mention], str | None], tags_url: str) -> str:
    if item.mention is not None:
        url = mention_url(item.mention)
        if url is None:
            return ""
        return (
            f'<span class="h-card"><a href="{html.escape(url)}" class="u-url mention">'
            f"@<span>{html.escape(item.mention.handle)}</span></a></span>"
        )
    assert item.tag is not None  # noqa: S101 - a found item is a mention or a tag
    return hashtag_link(item.tag, tags_url)


def hashtag_link(written: str, tags_url: str) -> str:
    """The link a hashtag becomes (`written` without its `#`), to `{tags_url}/{tag}`."""
    href = tags_url + "/" + quote(normalise_tag(written) or "", safe="")
    return (
        f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(written)}</span></a>"
    )


def hashtag_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, tag as written) of each hashtag in a run of plain text, outside URLs."""
    return [(f.start, f.end, f.tag) for f in _find_in(text) if f.tag is not None]


# STGY's size syntax right after an image: `![alt](src){size=large}`.
_IMAGE_SIZE = re.compile(r"^\{size=(small|large|original)\}")
IMAGE_SIZES = ("small", "large", "original")


def _size_images(tokens: list[Token], image_url: Callable[[str, str | None], str | None]) -> None:
    """Take the `{size=...}` after each image and let `image_url` pick its source."""
    for token in tokens:
        children = token.children or []
        for index, child in enumerate(children):
            if child.type != "image":
                continue
            size = None
            after = children[index + 1] if index + 1 < len(children) else None
            if after is not None and after.type == "text":
                found = _IMAGE_SIZE.match(after.content)
                if found is not None:
                    size = found.group(1)
                    after.content = after.content[found.end() :]
            url = image_url(str(child.attrGet("src") or ""), size)
            if url is not None:
                child.attrSet("src", url)


def render_post(
    source: str,
    *,
    mention_url: Callable[[Mention], str | None],
    tags_url: str,
    image_url: Callable[[str, str | None], str | None] | None = None,
) -> str:
    """Markdown to sanitised HTML; known mentions and every hashtag become links.

    `mention_url` gives the profile URL of a mentioned account, or None for an
    unknown one (left as plain text). Hashtags link to `{tags_url}/{tag}`.
    `image_url(src, size)` may replace an image's source, given the size written
    after it (`{size=small|large|original}`, or None); the size text is removed.
    """
    tokens = _post_markdown().parse(source)
    _size_images(tokens, image_url or (lambda src, size: None))
    replacements: list[tuple[list[Token], int, list[Token]]] = []
    for children, index, context in _scannable(tokens):
        text = children[index].content
        pieces: list[Token] = []
        position = 0
        for item in _find_in(context + text, len(context)):
            link = _link_html(item, mention_url, tags_url)
            if not link:
                continue
            if item.start > position:
                pieces.append(_text_token(text[position : item.start]))
            pieces.append(_html_token(link))
            position = item.end
        if pieces:
            if position < len(text):
                pieces.append(_text_token(text[position:]))
            replacements.append((children, index, pieces))
    # Replace from the back so earlier indices stay valid.
    for children, index, pieces in reversed(replacements):
        children[index : index + 1] = pieces
    for token in tokens:
        for child in token.children or []:
            if child.type == "text_special":
                child.type = "text"
    rendered = _post_markdown().renderer.render(tokens, _post_markdown().options, {})
    return sanitize_html(rendered).strip()
