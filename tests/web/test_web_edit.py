"""Editing a post from the web and its history, the bookmarks page, a post's page under a
wrong handle, and mentions in the composer's preview; in process."""

from __future__ import annotations

import re

import orjson
from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.api.serializers import PAGE_RENDERER, post_json
from stgy.domain import interactions, post_reads, view_pages
from stgy.services import Services
from stgy.web.post_cards import PAGE_SIZE, cards
from tests.conftest import User, make_user
from tests.integration.timeline_support import remote_account
from tests.web.test_web_forms import csrf_of, post_form
from tests.web.test_web_posts import web_login

_ARTICLE = re.compile(r'<article class="post" id="post-(\d+)"')


async def _post(client: Client, user: User, text: str, **fields: object) -> dict[str, object]:
    created = await client.post("/api/posts", json={"text": text, **fields}, headers=user.auth)
    assert created.status_code == 201, await created.get_data(as_text=True)
    body: dict[str, object] = await created.get_json()
    return body


async def _versions(services: Services, post_id: object) -> int:
    async with services.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM post_edits WHERE post_id = $1", int(str(post_id))
        )
    return count


async def test_the_author_edits_from_the_web_and_the_history_shows_each_version(
    app: Quart, client: Client, services: Services
) -> None:
    author = await make_user(client, display_name="Author")
    other = await make_user(client)
    post = await _post(client, author, "First *draft* #edits", summary="spoilers", language="en")
    post_id = post["id"]
    token = await web_login(client, author)

    # The action bar of one's own post has Edit, next to Delete.
    page = await (await client.get(f"/@{author.handle}/{post_id}")).get_data(as_text=True)
    assert f'href="/posts/{post_id}/edit"' in page
    assert "/history" not in page  # not edited yet

    form = await client.get(f"/posts/{post_id}/edit")
    assert form.status_code == 200
    text = await form.get_data(as_text=True)
    assert ">First *draft* #edits</textarea>" in text
    assert 'value="spoilers"' in text and 'name="language" type="text" value="en"' in text
    assert f'action="/posts/{post_id}/edit"' in text and 'name="csrf_token"' in text

    # A preview renders the new text in place and saves nothing.
    status, preview, _ = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {
            "text": f"**Second** for @{other.handle}",
            "summary": "",
            "language": "en",
            "preview": "1",
        },
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200 and "<html" not in preview
    assert "<strong>Second</strong>" in preview
    assert f"/@{other.handle}" in preview
    assert await _versions(services, post_id) == 0

    # Bad input: the errors in the form, nothing saved.
    status, answer, _ = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"text": "  \r\n ", "summary": "", "language": "en"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 400 and "<html" not in answer
    assert 'id="f-text" name="text"' in answer and 'aria-invalid="true"' in answer
    status, answer, _ = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"csrf_token": token, "text": "fine", "summary": "", "language": "english"},
    )
    assert status == 400 and "<html" in answer
    assert "Use a two or three letter code, such as en or ja." in answer
    assert 'id="f-language-error"' in answer
    assert await _versions(services, post_id) == 0

    # Saved without JavaScript: 303 to the post's page, which says "Edited".
    status, _, response = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"csrf_token": token, "text": "Second\r\ntry #edits", "summary": "", "language": ""},
    )
    assert status == 303
    assert response.headers["Location"] == f"/@{author.handle}/{post_id}"  # type: ignore[attr-defined]
    edited = await (await client.get(f"/api/posts/{post_id}")).get_json()
    assert edited["post"]["text"] == "Second\ntry #edits"
    assert edited["post"]["summary"] == "" and edited["post"]["language"] is None
    page = await (await client.get(f"/@{author.handle}/{post_id}")).get_data(as_text=True)
    assert f'<a class="edited" href="/@{author.handle}/{post_id}/history">Edited <time' in page

    # With htmx: HX-Redirect to the post.
    status, _, response = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"text": "Third try", "summary": "now a warning", "language": "ja"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200
    assert response.headers["HX-Redirect"] == f"/@{author.handle}/{post_id}"  # type: ignore[attr-defined]
    assert await _versions(services, post_id) == 2
    # Saving the same values again keeps no new version.
    status, _, _ = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"csrf_token": token, "text": "Third try", "summary": "now a warning", "language": "ja"},
    )
    assert status == 303 and await _versions(services, post_id) == 2

    # The history: every version, newest first, each rendered, with its time; logged out too.
    history = await app.test_client().get(f"/@{author.handle}/{post_id}/history")
    assert history.status_code == 200
    shown = await history.get_data(as_text=True)
    third, second, first = (
        shown.index("<p>Third try</p>"),
        shown.index("<p>Second\ntry"),
        shown.index("<em>draft</em>"),
    )
    assert third < second < first
    assert "Current version" in shown and "Original" in shown
    assert "Content warning: now a warning" in shown and "Content warning: spoilers" in shown
    assert shown.count("<time datetime=") == 3
    assert f'href="/@{author.handle}/{post_id}"' in shown

    # Someone else: the form and the save are refused (403), the post unchanged.
    intruder = app.test_client()
    intruder_token = await web_login(intruder, other)
    assert (await intruder.get(f"/posts/{post_id}/edit")).status_code == 403
    status, refused, _ = await post_form(
        intruder,
        f"/posts/{post_id}/edit",
        {"csrf_token": intruder_token, "text": "mine now", "summary": "", "language": ""},
    )
    assert status == 403 and "<html" in refused
    their_page = await (await intruder.get(f"/@{author.handle}/{post_id}")).get_data(as_text=True)
    assert f'href="/posts/{post_id}/edit"' not in their_page
    assert (await client.get(f"/api/posts/{post_id}")).status_code == 200
    assert await _versions(services, post_id) == 2

    # Logged out: the log-in page, then back to the form.
    outsider = app.test_client()
    answer = await outsider.get(f"/posts/{post_id}/edit")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/auth/login?next=/posts/{post_id}/edit"
    assert (await client.get("/posts/nope/edit")).status_code == 404  # not a post id

    # A deleted post can be neither edited nor looked at again.
    deleted = await client.delete(f"/api/posts/{post_id}", headers=author.auth)
    assert deleted.status_code == 200
    assert (await client.get(f"/posts/{post_id}/edit")).status_code == 404
    status, _, _ = await post_form(
        client,
        f"/posts/{post_id}/edit",
        {"csrf_token": token, "text": "back?", "summary": "", "language": ""},
    )
    assert status == 404
    assert (await client.get(f"/@{author.handle}/{post_id}/history")).status_code == 404


async def test_bookmarks_page_lists_the_newest_bookmark_first_and_pages(
    app: Quart, client: Client
) -> None:
    assert (await app.test_client().get("/bookmarks")).headers["Location"] == (
        "/auth/login?next=/bookmarks"
    )
    reader = await make_user(client)
    author = await make_user(client)
    made = [await _post(client, author, f"keep {n}") for n in range(PAGE_SIZE + 2)]
    # Bookmarked oldest post last: the newest bookmark is the oldest post.
    for post in reversed(made):
        done = await client.put(f"/api/posts/{post['id']}/bookmark", headers=reader.auth)
        assert done.status_code == 200
    token = await web_login(client, reader)
    home = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/bookmarks"' in home

    page = await client.get("/bookmarks")
    assert page.status_code == 200
    text = await page.get_data(as_text=True)
    ids = _ARTICLE.findall(text)
    assert ids == [str(p["id"]) for p in made[:PAGE_SIZE]]
    assert 'href="/bookmarks" aria-current="page"' in text
    assert 'value="unbookmark"' in text and 'name="next" value="/bookmarks"' in text
    older = re.search(r'class="older" href="/bookmarks\?max_id=(\d+)"', text)
    assert older is not None
    rest = await client.get(f"/bookmarks?max_id={older.group(1)}", headers={"HX-Request": "true"})
    more = await rest.get_data(as_text=True)
    assert "<html" not in more
    assert _ARTICLE.findall(more) == [str(p["id"]) for p in made[PAGE_SIZE:]]
    assert 'class="older"' not in more
    assert (await client.get("/bookmarks?max_id=nope")).status_code == 400

    # Unbookmarked from the page (no JavaScript): back to it, the post gone from it.
    status, _, response = await post_form(
        client,
        f"/posts/{made[0]['id']}/actions",
        {"csrf_token": token, "do": "unbookmark", "next": "/bookmarks"},
    )
    assert status == 303
    assert response.headers["Location"] == f"/bookmarks#post-{made[0]['id']}"  # type: ignore[attr-defined]
    text = await (await client.get("/bookmarks")).get_data(as_text=True)
    assert f'id="post-{made[0]["id"]}"' not in text


async def test_views_page_is_the_api_json_of_the_same_posts(
    client: Client, services: Services
) -> None:
    reader = await make_user(client)
    author = await make_user(client)
    post = await _post(client, author, "with a share of its own", summary="cw")
    shared = await client.put(f"/api/posts/{post['id']}/share", headers=author.auth)
    assert shared.status_code in (200, 201)
    done = await client.put(f"/api/posts/{post['id']}/bookmark", headers=reader.auth)
    assert done.status_code == 200, await done.get_data(as_text=True)
    # A profile's posts hold a share (the page draws its original inside it) and the post,
    # with the reader's own state (bookmarked).
    views = await post_reads.account_posts(
        services, int(author.id), int(reader.id), since=None, until=None, limit=10
    )
    assert [v.share_of_id for v in views] == [int(post["id"]), None]
    assert views[1].bookmarked is True
    page = view_pages.views_page(PAGE_RENDERER, views)
    assert (page.newest, page.oldest) == (views[0].id, int(post["id"]))
    assert orjson.loads(b"[" + page.body + b"]") == [
        orjson.loads(orjson.dumps(post_json(v))) for v in views
    ]
    # And the bookmarks page of the API is the same JSON as the web's cards.
    found = await interactions.bookmarks(services, int(reader.id), since=None, until=None, limit=10)
    api = await client.get("/api/bookmarks", headers=reader.auth)
    assert (
        cards(view_pages.views_page(PAGE_RENDERER, found.posts)) == (await api.get_json())["posts"]
    )
    assert view_pages.views_page(PAGE_RENDERER, []).body == b""


async def test_a_post_under_a_wrong_handle_moves_to_its_author(app: Quart, client: Client) -> None:
    author = await make_user(client)
    other = await make_user(client)
    post = await _post(client, author, "where am I")
    post_id = post["id"]
    viewer = app.test_client()
    right = await viewer.get(f"/@{author.handle}/{post_id}")
    assert right.status_code == 200

    wrong = await viewer.get(f"/@{other.handle}/{post_id}?ref=mail&x=1")
    assert wrong.status_code == 301
    assert wrong.headers["Location"] == f"/@{author.handle}/{post_id}?ref=mail&x=1"
    for path in (f"/@nobody_at_all/{post_id}", f"/@{author.handle.upper()}/{post_id}"):
        moved = await viewer.get(path)
        assert moved.status_code == 301, path
        assert moved.headers["Location"] == f"/@{author.handle}/{post_id}"
    history = await viewer.get(f"/@{other.handle}/{post_id}/history")
    assert history.status_code == 301
    assert history.headers["Location"] == f"/@{author.handle}/{post_id}/history"

    # The author renames the account: the old address moves to the new one.
    renamed = author.handle + "_new"
    changed = await client.patch("/api/accounts/me", json={"handle": renamed}, headers=author.auth)
    assert changed.status_code == 200, await changed.get_data(as_text=True)
    old_link = await viewer.get(f"/@{author.handle}/{post_id}")
    assert old_link.status_code == 301
    assert old_link.headers["Location"] == f"/@{renamed}/{post_id}"
    assert (await viewer.get(f"/@{renamed}/{post_id}")).status_code == 200

    # An unknown post, or one this viewer may not see: 404, whatever the handle.
    assert (await viewer.get(f"/@{author.handle}/123456789")).status_code == 404
    hidden = await _post(client, author, "followers only", visibility="followers")
    missing = await viewer.get(f"/@{other.handle}/{hidden['id']}")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["Content-Type"]


async def test_preview_links_mentions_of_known_accounts_as_sending_does(
    app: Quart, client: Client, services: Services
) -> None:
    writer = await make_user(client)
    friend = await make_user(client)
    remote_id = await remote_account(services, "faraway")
    async with services.pool.acquire() as conn:
        remote_domain = await conn.fetchval("SELECT domain FROM accounts WHERE id = $1", remote_id)
    text = f"Hi @{friend.handle}, @faraway@{remote_domain} and @ghost@unknown-host.example #tea"
    token = await web_login(client, writer)
    status, shown, _ = await post_form(
        client,
        "/compose",
        {"text": text, "preview": "1", "visibility": "public"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200 and "<html" not in shown
    preview = re.search(r'<div class="post-content">(.*?)</div>\s*</section>', shown, re.S)
    assert preview is not None
    assert f"/@{friend.handle}" in preview.group(1)
    assert f'href="https://{remote_domain}/users/faraway"' in preview.group(1)
    assert "@ghost@unknown-host.example" in preview.group(1)
    assert "unknown-host.example/" not in preview.group(1)  # unknown: plain text

    # Sent, the post has the same HTML the preview showed.
    status, _, _ = await post_form(
        client,
        "/compose",
        {"csrf_token": token, "text": text, "visibility": "public", "next": "/"},
    )
    assert status == 303
    mine = await client.get(f"/api/accounts/{writer.id}/posts")
    sent = (await mine.get_json())["posts"][0]
    assert sent["html"] == preview.group(1)

    # A preview of text that cannot be stored is an error in the form, not a 500.
    status, refused, _ = await post_form(
        client,
        "/compose",
        {"csrf_token": token, "text": "nul \x00 here", "preview": "1", "visibility": "public"},
    )
    assert status == 400 and 'aria-invalid="true"' in refused
    logged_out = app.test_client()
    out_token = await csrf_of(logged_out, "/timelines/local")
    status, _, response = await post_form(
        logged_out, "/compose", {"csrf_token": out_token, "text": "x", "preview": "1"}
    )
    assert status == 303
    assert response.headers["Location"].startswith("/auth/login")  # type: ignore[attr-defined]
