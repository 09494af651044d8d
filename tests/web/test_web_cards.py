"""Posts drawn once and kept (post_cards.CardCache), the action bar drawn per viewer
(action_bar.py), and the blank composer drawn once per language: never stale, never
another viewer's."""

from __future__ import annotations

import re

from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.domain import renderings
from stgy.web import context
from stgy.web.action_bar import ActionBars, action_bar
from stgy.web.i18n import set_language
from stgy.web.post_cards import CardCache, card_cache, drawn_cards, post_articles
from storage.sessions import Viewer
from tests.conftest import make_user
from tests.web.test_web_posts import web_login

_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_COMPOSER_TOKEN = re.compile(
    r'<form class="composer card".*?name="csrf_token" value="([^"]+)"', re.DOTALL
)


async def test_a_kept_post_follows_edits_counts_and_languages(app: Quart, client: Client) -> None:
    reader = await make_user(client, display_name="Reader")
    author = await make_user(client, display_name="Author")
    await client.put(f"/api/accounts/{author.id}/follow", headers=reader.auth)
    made = await client.post(
        "/api/posts",
        json={"text": "first words", "summary": "a warning", "visibility": "public"},
        headers=author.auth,
    )
    post_id = (await made.get_json())["id"]
    await web_login(client, reader)

    first = await (await client.get("/")).get_data(as_text=True)
    assert "first words" in first and "Show content" in first
    cache = app.extensions["stgy.web.cards"]
    assert ("en", int(post_id)) in cache.entries  # drawn, and kept

    # A like changes the live part only: the kept drawing is used, the count is new.
    liking = await client.put(f"/api/posts/{post_id}/like", headers=author.auth)
    assert liking.status_code in (200, 201, 204)
    liked = await (await client.get("/")).get_data(as_text=True)
    assert re.search(r'value="like" aria-pressed="false">Like <span class="count">1</span>', liked)

    # An edit is a new version: drawn again, the old words gone.
    edited = await client.patch(
        f"/api/posts/{post_id}",
        json={"text": "second words", "summary": "a warning"},
        headers=author.auth,
    )
    assert edited.status_code == 200, await edited.get_data(as_text=True)
    after = await (await client.get("/")).get_data(as_text=True)
    assert "second words" in after and "first words" not in after

    # Each language has its own drawing.
    japanese = await (await client.get("/", headers={"Accept-Language": "ja"})).get_data(
        as_text=True
    )
    assert "second words" in japanese and "Show content" not in japanese
    assert ("ja", int(post_id)) in cache.entries
    english = await (await client.get("/")).get_data(as_text=True)
    assert "Show content" in english


async def test_the_blank_composer_carries_each_viewers_own_token(app: Quart) -> None:
    tokens = []
    for name in ("One", "Two"):
        client = app.test_client()
        user = await make_user(client, display_name=name)
        await web_login(client, user)
        page = await (await client.get("/")).get_data(as_text=True)
        meta = _META_TOKEN.search(page)
        composer = _COMPOSER_TOKEN.search(page)
        assert meta and composer and meta.group(1) == composer.group(1)
        assert "\x00" not in page
        tokens.append(meta.group(1))
    assert tokens[0] != tokens[1]


def _post(**changes: object) -> dict[str, object]:
    post: dict[str, object] = {
        "id": "7",
        "account": {"id": "3"},
        "share_of": None,
        "allow_likes": True,
        "visibility": "public",
        "liked": False,
        "shared": False,
        "bookmarked": False,
        "replies_count": 1,
        "likes_count": 2,
        "shares_count": 3,
    }
    post.update(changes)
    return post


async def test_the_action_bar(app: Quart) -> None:
    async with app.test_request_context("/"):
        set_language("en")
        viewer = Viewer(account_id=3, session_id=1, role="user")
        other = Viewer(account_id=4, session_id=2, role="user")
        back = '/tags/x?a="<b>"&c'

        own = str(action_bar(_post(), viewer, 'to"ken', back))
        assert 'value="to&#34;ken"' in own and 'value="/tags/x?a=&#34;&lt;b&gt;&#34;&amp;c"' in own
        assert 'href="/posts/7/delete?next=/tags/x%3Fa%3D%22%3Cb%3E%22%26c"' in own
        assert 'value="like" aria-pressed="false">Like <span class="count">2</span>' in own
        assert 'value="share" aria-pressed="false">Share <span class="count">3</span>' in own

        theirs = str(action_bar(_post(liked=True, bookmarked=True), other, "t", "/"))
        assert "/delete" not in theirs
        assert 'href="/report?account=3&amp;post=7">Report</a>' in theirs
        assert "/report?" not in own
        assert 'value="unlike" class="on" aria-pressed="true">Like' in theirs
        assert 'value="unbookmark" class="on" aria-pressed="true">Bookmark' in theirs

        closed = str(action_bar(_post(allow_likes=False, visibility="followers"), other, "t", "/"))
        assert 'value="like"' not in closed and 'value="share"' not in closed
        assert 'value="bookmark"' in closed

        # A share acts on its original; deleting it deletes the share.
        share = _post(id="9", share_of=_post(id="8", account={"id": "5"}, likes_count=6))
        shared = str(action_bar(share, viewer, "t", "/"))
        assert "/posts/8/actions" in shared and "/posts/9/delete" in shared
        assert '<span class="count">6</span>' in shared
        assert "/report?account=5&amp;post=8" in shared  # the original, by its author

        anonymous = str(action_bar(_post(), None, "t", "/"))
        assert "<form" not in anonymous and "Likes <span" in anonymous

        set_language("ja")
        assert "Like <span" not in str(action_bar(_post(), viewer, "t", "/"))


def test_the_card_cache_keeps_one_version_per_post_and_its_bound() -> None:
    cache = CardCache(10_000)
    cache.put("en", 1, (1,), "a" * 100)  # type: ignore[arg-type]
    assert cache.get("en", 1, (1,)) == "a" * 100
    assert cache.get("en", 1, (2,)) is None and cache.get("ja", 1, (1,)) is None
    cache.put("en", 1, (2,), "b" * 100)  # type: ignore[arg-type]
    assert len(cache) == 1 and cache.get("en", 1, (1,)) is None
    for number in range(2, 100):
        cache.put("en", number, (1,), "c" * 100)  # type: ignore[arg-type]
    assert cache.bytes <= 10_000 and cache.get("en", 99, (1,)) is not None
    assert cache.get("en", 2, (1,)) is None  # the oldest went first
    nothing = CardCache(0)
    nothing.put("en", 1, (1,), "a")  # type: ignore[arg-type]
    assert len(nothing) == 0
    assert card_cache is not None


async def test_timeline_pages_take_a_limit_and_keep_it_in_the_older_link(
    app: Quart, client: Client
) -> None:
    author = await make_user(client, display_name="Prolific")
    for number in range(5):
        await client.post("/api/posts", json={"text": f"limit post {number}"}, headers=author.auth)
    await web_login(client, author)
    page = await (await client.get(f"/@{author.handle}?limit=2")).get_data(as_text=True)
    assert page.count('<article class="post"') == 2
    older = re.search(r'class="older" href="([^"]+)"', page)
    assert older and older.group(1).endswith("&amp;limit=2")
    home = await (await client.get("/?limit=3")).get_data(as_text=True)
    assert home.count('<article class="post"') == 3
    for bad in ("0", "101", "x"):
        refused = await client.get(f"/?limit={bad}", headers={"Accept": "text/html"})
        assert refused.status_code == 400


async def test_kept_posts_are_drawn_from_the_rows_as_from_the_json(
    app: Quart, client: Client
) -> None:
    """A page whose posts are all kept is drawn without parsing its JSON
    (drawn_cards(articles_only=True)): the same articles, live counts and viewer state
    included, as from the parsed page."""
    reader = await make_user(client, display_name="Reader")
    author = await make_user(client, display_name="Author")

    async def post(user: object, **body: object) -> str:
        made = await client.post("/api/posts", json=body, headers=user.auth)  # type: ignore[attr-defined]
        assert made.status_code == 201, await made.get_data(as_text=True)
        return str((await made.get_json())["id"])

    public = await post(author, text="open to all", visibility="public")
    closed = await post(author, text="for followers", visibility="followers", allow_likes=False)
    own = await post(reader, text="my own words", visibility="public")
    await client.put(f"/api/accounts/{author.id}/follow", headers=reader.auth)
    assert (await client.put(f"/api/posts/{public}/like", headers=reader.auth)).status_code < 300
    assert (
        await client.put(f"/api/posts/{closed}/bookmark", headers=reader.auth)
    ).status_code < 300
    assert (await client.put(f"/api/posts/{own}/like", headers=author.auth)).status_code < 300
    shared = await client.put(f"/api/posts/{own}/share", headers=author.auth)
    assert shared.status_code < 300, await shared.get_data(as_text=True)
    listed = await client.get(f"/api/accounts/{author.id}/posts", headers=reader.auth)
    share_id = (await listed.get_json())["posts"][0]["id"]
    assert share_id != own
    ids = [int(share_id), int(own), int(closed), int(public)]

    async with app.test_request_context("/"):
        set_language("en")
        services, renderer = context.services(), context.page_renderer()
        viewer = Viewer(account_id=int(reader.id), session_id=1, role="user")
        bars = ActionBars(viewer, "token", "/")
        page = await renderings.posts_page(services, renderer, ids, int(reader.id))
        parsed = await drawn_cards(page)  # draws and keeps each post
        assert [p["id"] for p in parsed] == [str(i) for i in ids] and "html" in parsed[0]
        again = await renderings.posts_page(services, renderer, ids, int(reader.id))
        kept = await drawn_cards(again, articles_only=True)
        assert all("html" not in p for p in kept)  # made from the rows, not the JSON
        assert str(post_articles(kept, bars)) == str(post_articles(parsed, bars))
        drawn = str(post_articles(kept, bars))
        assert 'value="unlike" class="on" aria-pressed="true">Like <span class="count">1' in drawn
        assert 'value="unbookmark" class="on"' in drawn
        # The share acts on the original; the reader's own post may be deleted, not theirs.
        assert f"/posts/{own}/actions" in drawn and f"/posts/{share_id}/actions" not in drawn
        assert f"/posts/{own}/delete" in drawn and f"/posts/{share_id}/delete" not in drawn

        # A count changed since: the kept drawing is used with the new count.
        assert (
            await client.put(f"/api/posts/{public}/like", headers=author.auth)
        ).status_code < 300
        later = await renderings.posts_page(services, renderer, ids, int(reader.id))
        counted = await drawn_cards(later, articles_only=True)
        assert "html" not in counted[0]
        assert counted[3]["likes_count"] == 2
        assert str(post_articles(counted, bars)) == str(
            post_articles(await drawn_cards(later), bars)
        )
