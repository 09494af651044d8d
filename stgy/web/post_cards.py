"""Posts as the web's templates read them: the JSON a timeline page assembles from the
stored renderings (the API's bytes, parsed once), so the HTML and the JSON pages share
one query and one rendering per post."""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup
from quart import current_app, request

from stgy.domain.errors import Invalid
from stgy.domain.renderings import LIVE_FIELDS, RenderedPage
from stgy.http.validation import parse_cursor
from stgy.web import context, rendering
from stgy.web.action_bar import ActionBars
from stgy.web.i18n import current_language

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

STATIC_TEMPLATE = "partials/post_static.html"
_CACHE_KEY = "stgy.web.cards"
# What an entry costs beyond its text: the key, the versions tuple, the dict slot.
_OVERHEAD = 400
# Entries at most (the bytes bound alone would allow max_bytes / _OVERHEAD).
MAX_ENTRIES = 50_000


# What an action bar needs of a post besides its live fields, the same for every
# version-equal drawing: the author's id, allow_likes and visibility; and for a share,
# the original's id, allow_likes, visibility and author's id (its Report link).
Facts = tuple[str, bool, str, tuple[str, bool, str, str] | None]


def facts_of(post: dict[str, Any]) -> Facts:
    original = post["share_of"]
    target = (
        (
            str(original["id"]),
            bool(original["allow_likes"]),
            str(original["visibility"]),
            str(original["account"]["id"]),
        )
        if original
        else None
    )
    return (str(post["account"]["id"]), bool(post["allow_likes"]), str(post["visibility"]), target)


class CardCache:
    """Posts drawn as HTML (partials/post_static.html: all of a post but its action bar),
    one entry per post and language, kept with the versions it was drawn from
    (RenderedPage.versions). An entry is used only while those are the page's, so it is
    never stale and nothing has to be told of a change; a post drawn again replaces its
    entry. Bounded by its text's size and its number of entries: past either bound, the
    oldest entries go (first in, first out, down to three quarters), as in
    stgy/page_cache.py."""

    def __init__(self, max_bytes: int, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.bytes = 0
        self.entries: dict[tuple[str, int], tuple[tuple[Any, ...], Markup, Facts | None]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, language: str, post_id: int, versions: tuple[Any, ...]) -> Markup | None:
        entry = self.entries.get((language, post_id))
        if entry is None or entry[0] != versions:
            return None
        return entry[1]

    def put(
        self,
        language: str,
        post_id: int,
        versions: tuple[Any, ...],
        html: Markup,
        facts: Facts | None = None,
    ) -> None:
        if self.max_bytes <= 0 or self.max_entries <= 0:
            return
        key = (language, post_id)
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old[1]) + _OVERHEAD
        self.entries[key] = (versions, html, facts)
        self.bytes += len(html) + _OVERHEAD
        if self.bytes > self.max_bytes or len(self.entries) > self.max_entries:
            self._shrink(self.max_bytes * 3 // 4, self.max_entries * 3 // 4)

    def _shrink(self, target: int, entries_target: int) -> None:
        for key in list(self.entries):
            if self.bytes <= target and len(self.entries) <= entries_target:
                break
            html = self.entries.pop(key)[1]
            self.bytes -= len(html) + _OVERHEAD


def card_cache() -> CardCache:
    """This app's cache (one per app, so two apps in a process never share posts)."""
    cache: CardCache | None = current_app.extensions.get(_CACHE_KEY)
    if cache is None:
        cache = CardCache(context.config().server.card_cache_mb * 1024 * 1024)
        current_app.extensions[_CACHE_KEY] = cache
    return cache


async def drawn_cards(page: RenderedPage, *, articles_only: bool = False) -> list[dict[str, Any]]:
    """`cards(page)`, each with `card_html`: its unchanging part drawn, from memory when
    this process drew the same versions in this language before. Templates then draw
    only the action bars (partials/post.html).

    `articles_only`: the page shows the posts as articles alone (post_articles): when
    every post is kept drawn, its cards are made from the page's rows, with what an
    action bar reads, and the page's JSON is not parsed at all."""
    if not page.body or not page.ids:
        return cards(page)
    cache = card_cache()
    language = current_language()
    if articles_only:
        light = _kept_cards(cache, language, page)
        if light is not None:
            return light
    posts = cards(page)
    if len(page.ids) != len(posts):
        return posts  # a page made without its versions: drawn whole (partials/post.html)
    template = None
    for post, post_id, versions in zip(posts, page.ids, page.versions(), strict=True):
        html = cache.get(language, post_id, versions)
        if html is None:
            if template is None:
                template = rendering.templates().get_template(STATIC_TEMPLATE)
            # An autoescaping template's output: already escaped.
            html = Markup(template.render(post=post))  # noqa: S704
            cache.put(language, post_id, versions, html, facts_of(post))
        post["card_html"] = html
    return posts


def _kept_cards(cache: CardCache, language: str, page: RenderedPage) -> list[dict[str, Any]] | None:
    """The page's posts as post_articles reads them, from the kept drawings and the
    page's rows; None unless every post is kept with its facts at its versions."""
    entries = cache.entries
    found: list[dict[str, Any]] = []
    for post_id, versions, (live, original_live) in zip(
        page.ids, page.versions(), page.live(), strict=True
    ):
        entry = entries.get((language, post_id))
        if entry is None or entry[0] != versions or entry[2] is None:
            return None
        author, allow_likes, visibility, target = entry[2]
        post: dict[str, Any] = dict(zip(LIVE_FIELDS, live, strict=True))
        post.update(
            id=str(post_id),
            account={"id": author},
            allow_likes=allow_likes,
            visibility=visibility,
            share_of=None,
            card_html=entry[1],
        )
        if target is not None and original_live is not None:
            original: dict[str, Any] = dict(zip(LIVE_FIELDS, original_live, strict=True))
            original.update(
                id=target[0],
                allow_likes=target[1],
                visibility=target[2],
                account={"id": target[3]},
            )
            post["share_of"] = original
        found.append(post)
    return found


def _article(post: dict[str, Any], bars: ActionBars | None, focus: bool) -> str:
    static = post.get("card_html")
    if static is None:
        template = rendering.templates().get_template(STATIC_TEMPLATE)
        static = Markup(template.render(post=post))  # noqa: S704 - autoescaped output
    bar = bars.markup(post) if bars is not None else ""
    return (
        f'<article class="post{" focused" if focus else ""}" id="post-{int(post["id"])}">'
        f"{static}\n{bar}\n</article>"
    )


def post_article(
    post: dict[str, Any],
    bars: ActionBars | None,
    *,
    focus: bool = False,
) -> Markup:
    """One post as a page shows it: its `<article>`, the unchanging part (`card_html` when
    drawn_cards kept it, else partials/post_static.html drawn now) and its action bar
    (none when `bars` is None). Written here rather than as an included template: an
    include per post of a page, with its own context, cost more than the rest of it."""
    return Markup(_article(post, bars, focus))  # noqa: S704 - escaped parts and integers


def post_articles(posts: list[dict[str, Any]], bars: ActionBars | None) -> Markup:
    """The articles of a page's posts, each on a line of its own: one call from the
    template for the page rather than one per post."""
    return Markup("".join(["\n" + _article(post, bars, False) for post in posts]))  # noqa: S704


def cards(page: RenderedPage) -> list[dict[str, Any]]:
    """The page's posts, newest first, as dicts of the API's post JSON."""
    if not page.body:
        return []
    found: list[dict[str, Any]] = orjson.loads(b"[" + page.body + b"]")
    return found


def max_id() -> int | None:
    """The `?max_id=` of an "older posts" link: the page ends before that post."""
    return parse_cursor(request.args.get("max_id"), "max_id")


def page_size() -> int:
    """Posts on a timeline page: `?limit=` (1 to MAX_PAGE_SIZE, as the API's pages), else
    PAGE_SIZE. The "Older posts" link keeps it (`limit_query`)."""
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise Invalid("limit", f"must be a number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def limit_query() -> str:
    """`&limit=N` for the links of a page asked with another size than PAGE_SIZE."""
    size = page_size()
    return "" if size == PAGE_SIZE else f"&limit={size}"


def older_than(page: RenderedPage, shown: int) -> int | None:
    """The id to page on from, when the page was full (there may be older posts)."""
    return page.oldest if shown >= page_size() else None


def post_time(iso: str) -> str:
    """A post's time as a page shows it: `2026-12-07 04:26` (UTC, as sent)."""
    return iso[:16].replace("T", " ") if len(iso) >= 16 else iso
