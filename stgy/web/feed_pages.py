"""RSS 2.0 and Atom 1.0 feeds: `/@<handle>.rss|.atom` (a local account's public posts) and
`/tags/<tag>.rss|.atom`, the 20 latest, built with ElementTree (which escapes every
text and attribute) from the posts the domain chose."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # noqa: S405 - we write XML here, never parse it
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from quart import Blueprint, Response

from stgy.domain import feeds
from stgy.web import context
from stgy.web.i18n import gettext as _

if TYPE_CHECKING:  # the records the domain returns; no storage call from here
    from storage.accounts import Account
    from storage.posts import PostView

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
ET.register_namespace("atom", ATOM)
ET.register_namespace("media", MEDIA)
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# Characters XML 1.0 does not allow at all, even escaped (most C0 controls, lone
# surrogates, U+FFFE/U+FFFF): dropped from every text, or the feed would not parse.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Block elements part words; inline ones (links, emphasis) do not.
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|ul|ol|blockquote|pre|h[1-6])\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
TITLE_CHARACTERS = 80


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _base() -> str:
    return context.config().instance.base_url


def _profile_url(account: Account) -> str:
    return f"{_base()}/@{account.acct}"


def _post_url(post: PostView) -> str:
    return f"{_base()}/@{post.account.acct}/{post.id}"


def _name(account: Account) -> str:
    return account.display_name or account.handle


def _plain(markup: str) -> str:
    """A post's HTML as one line of text (for a title where there is no content warning)."""
    text = " ".join(html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", markup))).split())
    if len(text) > TITLE_CHARACTERS:
        text = text[: TITLE_CHARACTERS - 1].rstrip() + "…"
    return text


def _images(post: PostView) -> list[tuple[str, str, int, str]]:
    """(url, content type, bytes, description) of the post's images that have a URL."""
    found = []
    for media in post.media:
        url = media.url or media.remote_url
        if url and media.content_type.startswith("image/"):
            found.append((url, media.content_type, media.bytes, media.description))
    return found


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _answer(root: ET.Element, content_type: str) -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "max-age=300"
    response.headers["Vary"] = "Cookie, Accept-Language"  # the feed's own words are translated
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- RSS 2.0 ---------------------------------------------------------------------------


def _rss(
    title: str, link: str, description: str, self_url: str, posts: list[PostView]
) -> ET.Element:
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _add(rss, "channel")
    _add(channel, "title", title)
    _add(channel, "link", link)
    _add(channel, "description", description)
    _add(channel, f"{{{ATOM}}}link", href=self_url, rel="self", type="application/rss+xml")
    _add(channel, "generator", "stgy")
    if posts:
        _add(channel, "lastBuildDate", _rfc822(posts[0].edited_at or posts[0].created_at))
    for post in posts:
        item = _add(channel, "item")
        if post.summary:
            _add(item, "title", post.summary)
        url = _post_url(post)
        _add(item, "link", url)
        _add(item, "guid", url, isPermaLink="true")
        _add(item, "pubDate", _rfc822(post.created_at))
        _add(item, "description", post.html)
        for tag in post.tags:
            _add(item, "category", tag)
        images = _images(post)
        if images:  # RSS allows one enclosure; media:content lists them all
            url, kind, size, _alt = images[0]
            _add(item, "enclosure", url=url, type=kind, length=str(size))
        for url, kind, size, alt in images:
            content = _add(item, f"{{{MEDIA}}}content", url=url, type=kind, medium="image")
            if size:
                content.set("fileSize", str(size))
            rating = "adult" if post.sensitive else "nonadult"
            _add(content, f"{{{MEDIA}}}rating", rating, scheme="urn:simple")
            if alt:
                _add(content, f"{{{MEDIA}}}description", alt, type="plain")
    return rss


# --- Atom 1.0 --------------------------------------------------------------------------


def _atom(
    title: str,
    link: str,
    subtitle: str,
    self_url: str,
    posts: list[PostView],
    author: Account | None,
) -> ET.Element:
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, f"{{{ATOM}}}id", self_url)
    _add(feed, f"{{{ATOM}}}title", title)
    _add(feed, f"{{{ATOM}}}subtitle", subtitle)
    updated = max((p.edited_at or p.created_at for p in posts), default=None)
    if updated is None:
        updated = author.updated_at if author is not None else datetime.now(UTC)
    _add(feed, f"{{{ATOM}}}updated", _rfc3339(updated))
    _add(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=link)
    _add(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, f"{{{ATOM}}}generator", "stgy")
    if author is not None:
        _author(feed, author)
        if author.avatar_url:
            _add(feed, f"{{{ATOM}}}icon", author.avatar_url)
    for post in posts:
        entry = _add(feed, f"{{{ATOM}}}entry")
        url = _post_url(post)
        _add(entry, f"{{{ATOM}}}id", post.ap_id or url)
        _add(entry, f"{{{ATOM}}}title", post.summary or _plain(post.html))
        _add(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url)
        _add(entry, f"{{{ATOM}}}published", _rfc3339(post.created_at))
        _add(entry, f"{{{ATOM}}}updated", _rfc3339(post.edited_at or post.created_at))
        if author is None:
            _author(entry, post.account)
        _add(entry, f"{{{ATOM}}}content", post.html, type="html")
        for tag in post.tags:
            _add(entry, f"{{{ATOM}}}category", term=tag)
        for image_url, kind, size, alt in _images(post):
            enclosure = _add(entry, f"{{{ATOM}}}link", rel="enclosure", href=image_url, type=kind)
            if size:
                enclosure.set("length", str(size))
            if alt:
                enclosure.set("title", _clean(alt))
    return feed


def _author(parent: ET.Element, account: Account) -> None:
    author = _add(parent, f"{{{ATOM}}}author")
    _add(author, f"{{{ATOM}}}name", _name(account))
    _add(author, f"{{{ATOM}}}uri", _profile_url(account))


# --- Routes ----------------------------------------------------------------------------


async def _account_feed(acct: str, kind: str) -> Response:
    found = await feeds.account_feed(context.services(), acct)
    account = found.account
    title = f"{_name(account)} (@{account.acct}@{context.config().instance.domain})"
    description = _("Public posts of %(name)s", name=_name(account))
    link = _profile_url(account)
    self_url = f"{link}.{kind}"
    if kind == "rss":
        return _answer(_rss(title, link, description, self_url, found.posts), RSS_TYPE)
    atom = _atom(title, link, description, self_url, found.posts, account)
    return _answer(atom, ATOM_TYPE)


async def _tag_feed(tag: str, kind: str) -> Response:
    found = await feeds.tag_feed(context.services(), tag)
    title = f"#{found.tag}"
    description = _("Public posts with #%(tag)s", tag=found.tag)
    link = f"{_base()}/tags/{quote(found.tag)}"
    self_url = f"{link}.{kind}"
    if kind == "rss":
        return _answer(_rss(title, link, description, self_url, found.posts), RSS_TYPE)
    return _answer(_atom(title, link, description, self_url, found.posts, None), ATOM_TYPE)


@bp.get("/@<acct>.rss")
async def account_rss(acct: str) -> Response:
    return await _account_feed(acct, "rss")


@bp.get("/@<acct>.atom")
async def account_atom(acct: str) -> Response:
    return await _account_feed(acct, "atom")


@bp.get("/tags/<tag>.rss")
async def tag_rss(tag: str) -> Response:
    return await _tag_feed(tag, "rss")


@bp.get("/tags/<tag>.atom")
async def tag_atom(tag: str) -> Response:
    return await _tag_feed(tag, "atom")
