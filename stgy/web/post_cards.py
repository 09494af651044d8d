"""Posts as the web's templates read them: the JSON a timeline page assembles from the
stored renderings (the API's bytes, parsed once), so the HTML and the JSON pages share
one query and one rendering per post."""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup
from quart import current_app, request

from stgy.domain.errors import Invalid
from stgy.domain.renderings import RenderedPage
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
        self.entries: dict[tuple[str, int], tuple[tuple[Any, ...], Markup]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, language: str, post_id: int, versions: tuple[Any, ...]) -> Markup | None:
        entry = self.entries.get((language, post_id))
        if entry is None or entry[0] != versions:
            return None
        return entry[1]

    def put(self, language: str, post_id: int, versions: tuple[Any, ...], html: Markup) -> None:
        if self.max_bytes <= 0 or self.max_entries <= 0:
            return
        key = (language, post_id)
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old[1]) + _OVERHEAD
        self.entries[key] = (versions, html)
        self.bytes += len(html) + _OVERHEAD
        if self.bytes > self.max_bytes or len(self.entries) > self.max_entries:
            self._shrink(self.max_bytes * 3 // 4, self.max_entries * 3 // 4)

    def _shrink(self, target: int, entries_target: int) -> None:
        for key in list(self.entries):
            if self.bytes <= target and len(self.entries) <= entries_target:
                break
            versions, html = self.entries.pop(key)
            self.bytes -= len(html) + _OVERHEAD


def card_cache() -> CardCache:
    """This app's cache (one per app, so two apps in a process never share posts)."""
    cache: CardCache | None = current_app.extensions.get(_CACHE_KEY)
    if cache is None:
        cache = CardCache(context.config().server.card_cache_mb * 1024 * 1024)
        current_app.extensions[_CACHE_KEY] = cache
    return cache


async def drawn_cards(page: RenderedPage) -> list[dict[str, Any]]:
    """`cards(page)`, each with `card_html`: its unchanging part drawn, from memory when
    this process drew the same versions in this language before. Templates then draw
    only the action bars (partials/post.html)."""
    posts = cards(page)
    if not posts or len(page.ids) != len(posts):
        return posts  # a page made without its versions: drawn whole (partials/post.html)
    cache = card_cache()
    language = current_language()
    template = None
    for post, post_id, versions in zip(posts, page.ids, page.versions(), strict=True):
        html = cache.get(language, post_id, versions)
        if html is None:
            if template is None:
                template = rendering.templates().get_template(STATIC_TEMPLATE)
            # An autoescaping template's output: already escaped.
            html = Markup(template.render(post=post))  # noqa: S704
            cache.put(language, post_id, versions, html)
        post["card_html"] = html
    return posts


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
    static = post.get("card_html")
    if static is None:
        template = rendering.templates().get_template(STATIC_TEMPLATE)
        static = Markup(template.render(post=post))  # noqa: S704 - autoescaped output
    bar = bars.bar(post) if bars is not None else ""
    return Markup(  # noqa: S704 - the parts are escaped markup and an integer
        f'<article class="post{" focused" if focus else ""}" id="post-{int(post["id"])}">'
        f"{static}\n{bar}\n</article>"
    )


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
