"""Timelines, the composer, a post's page and the actions on a post, in process."""

from __future__ import annotations

import io
import re

from PIL import Image
from quart import Quart, render_template
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from stgy.web.i18n import choose_language
from stgy.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import User, make_user
from tests.web.test_web_forms import csrf_of, post_form

_POST = re.compile(r'<article class="post" id="post-(\d+)"')


async def web_login(client: Client, user: User) -> str:
    token = await csrf_of(client)
    status, _, _ = await post_form(
        client,
        "/auth/login",
        {"csrf_token": token, "login": user.handle, "password": user.password},
    )
    assert status == 303
    return await csrf_of(client, "/")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_home_shows_a_followed_post_and_actions_work_with_and_without_htmx(
    app: Quart, client: Client
) -> None:
    reader = await make_user(client, display_name="Reader")
    author = await make_user(client, display_name="Author")
    followed = await client.put(f"/api/accounts/{author.id}/follow", headers=reader.auth)
    assert followed.status_code in (200, 201, 204), await followed.get_data(as_text=True)

    writer = app.test_client()
    token = await web_login(writer, author)
    upload = {
        "image1": FileStorage(io.BytesIO(png()), filename="red.png", content_type="image/png")
    }
    response = await writer.post(
        "/compose",
        form={
            "csrf_token": token,
            "text": "Hello\r\n#webtest *world*",
            "alt1": "A red rectangle",
            "visibility": "public",
            "allow_likes": "1",
            "allow_replies": "1",
            "next": "/",
        },
        files=upload,
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303, await response.get_data(as_text=True)

    token = await web_login(client, reader)
    home = await client.get("/")
    assert home.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    text = await home.get_data(as_text=True)
    assert "<em>world</em>" in text and 'alt="A red rectangle"' in text
    assert f'href="/@{author.handle}"' in text and "<time datetime=" in text
    post_id = _POST.search(text).group(1)  # type: ignore[union-attr]
    assert 'name="text"' in text  # the composer on home

    # Like without JavaScript: a form post, 303 back to the post.
    status, _, answer = await post_form(
        client, f"/posts/{post_id}/like", {"csrf_token": token, "next": "/"}
    )
    assert status == 303
    assert answer.headers["Location"] == f"/#post-{post_id}"  # type: ignore[attr-defined]
    page = await (await client.get(f"/@{author.handle}/{post_id}")).get_data(as_text=True)
    assert 'aria-pressed="true"' in page and 'value="unlike"' in page
    assert f'action="/posts/{post_id}/actions"' in page

    # With htmx: the action bar alone, the count down again.
    status, bar, _ = await post_form(
        client,
        f"/posts/{post_id}/actions",
        {"do": "unlike", "next": "/"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200 and bar.strip().startswith('<div class="post-actions"')
    assert "<html" not in bar and 'name="do" value="like"' in bar

    # A share shows on the sharer's home with who shared it; undone again.
    status, _, _ = await post_form(
        client, f"/posts/{post_id}/actions", {"csrf_token": token, "do": "share", "next": "/"}
    )
    assert status == 303
    shared = await (await client.get("/")).get_data(as_text=True)
    assert "Shared by Reader" in shared and 'value="unshare"' in shared
    status, _, _ = await post_form(
        client, f"/posts/{post_id}/actions", {"csrf_token": token, "do": "unshare", "next": "/"}
    )
    assert status == 303

    # The tag page and the local timeline show it; logged out too.
    for path in ("/tags/webtest", "/timelines/local", "/timelines/public"):
        shown = await app.test_client().get(path)
        assert shown.status_code == 200, path
        assert f'id="post-{post_id}"' in await shown.get_data(as_text=True), path

    # A reply through /compose?in_reply_to=, shown in the thread.
    form = await (await client.get(f"/compose?in_reply_to={post_id}")).get_data(as_text=True)
    assert f'name="in_reply_to" value="{post_id}"' in form
    status, _, _ = await post_form(
        client,
        "/compose",
        {
            "csrf_token": token,
            "text": "A reply",
            "in_reply_to": post_id,
            "visibility": "public",
            "allow_likes": "1",
            "allow_replies": "1",
            "next": f"/@{author.handle}/{post_id}",
        },
    )
    assert status == 303
    thread = await (await client.get(f"/@{author.handle}/{post_id}")).get_data(as_text=True)
    assert "A reply" in thread

    # The author deletes it: a confirmation page, then the post is gone.
    confirm = await writer.get(f"/posts/{post_id}/delete?next=/")
    assert confirm.status_code == 200
    status, _, _ = await post_form(
        writer, f"/posts/{post_id}/delete", {"csrf_token": await csrf_of(writer, "/"), "next": "/"}
    )
    assert status == 303
    gone = await client.get(f"/@{author.handle}/{post_id}")
    assert gone.status_code == 404


async def test_composer_errors_and_paging(app: Quart, client: Client) -> None:
    user = await make_user(client)
    token = await web_login(client, user)
    status, text, _ = await post_form(
        client,
        "/compose",
        {"csrf_token": token, "text": "   ", "visibility": "public"},
        **{"HX-Request": "true"},
    )
    assert status == 400 and 'aria-invalid="true"' in text and "<html" not in text
    # A preview renders the Markdown and sends nothing.
    status, text, _ = await post_form(
        client,
        "/compose",
        {
            "csrf_token": token,
            "text": "**bold** and #tagged",
            "preview": "1",
            "visibility": "public",
        },
    )
    assert status == 200 and "<strong>bold</strong>" in text and "/tags/tagged" in text
    assert "**bold** and #tagged</textarea>" in text
    assert "No posts here yet." in await (await client.get("/")).get_data(as_text=True)
    for n in range(22):
        created = await client.post("/api/posts", json={"text": f"post {n}"}, headers=user.auth)
        assert created.status_code == 201
    home = await (await client.get("/")).get_data(as_text=True)
    older = re.search(r'class="older" href="/\?max_id=(\d+)"', home)
    assert older is not None and 'hx-swap="outerHTML"' in home
    more = await client.get(f"/?max_id={older.group(1)}", headers={"HX-Request": "true"})
    rest = await more.get_data(as_text=True)
    assert "<html" not in rest and "post 0" in rest and "post 21" not in rest
    assert (await client.get("/?max_id=nope")).status_code == 400


async def test_actions_need_a_login(client: Client) -> None:
    token = await csrf_of(client, "/timelines/local")
    status, _, response = await post_form(client, "/posts/1/like", {"csrf_token": token})
    assert status == 303
    assert response.headers["Location"].startswith("/auth/login")  # type: ignore[attr-defined]


async def test_profile_follow_block_mute_and_lists(app: Quart, client: Client) -> None:
    viewer = await make_user(client, display_name="Viewer")
    other = await make_user(client, display_name="Other Person", bio="Hello *there*")
    created = await client.post("/api/posts", json={"text": "my first post"}, headers=other.auth)
    assert created.status_code == 201
    token = await web_login(client, viewer)

    page = await client.get(f"/@{other.handle}")
    assert page.status_code == 200
    text = await page.get_data(as_text=True)
    assert "Other Person" in text and "my first post" in text
    assert f'action="/accounts/{other.id}/follow"' in text

    # Follow with htmx: the actions alone come back, now saying so.
    status, bar, _ = await post_form(
        client,
        f"/accounts/{other.id}/follow",
        {"next": f"/@{other.handle}"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200 and "<html" not in bar and "You follow this account." in bar
    followers = await (await client.get(f"/@{other.handle}/followers")).get_data(as_text=True)
    assert f'href="/@{viewer.handle}"' in followers
    following = await (await client.get(f"/@{viewer.handle}/following")).get_data(as_text=True)
    assert f'href="/@{other.handle}"' in following

    # Mute and block without JavaScript: 303 back to the profile.
    for change in ("mute", "unfollow", "block"):
        status, _, answer = await post_form(
            client,
            f"/accounts/{other.id}/{change}",
            {"csrf_token": token, "next": f"/@{other.handle}"},
        )
        assert status == 303, change
        assert answer.headers["Location"] == f"/@{other.handle}"  # type: ignore[attr-defined]
    text = await (await client.get(f"/@{other.handle}")).get_data(as_text=True)
    assert "You block this account." in text and "/unblock" in text

    assert (await client.get("/@nobody_here_at_all")).status_code == 404
    # Post pages still answer under /@handle/<id>.
    post_id = (await created.get_json())["id"]
    assert (await client.get(f"/@{other.handle}/{post_id}")).status_code in (200, 404)


def _remote_post() -> dict[str, object]:
    account = {
        "id": "7",
        "handle": "bob",
        "acct": "bob@remote.example",
        "domain": "remote.example",
        "local": False,
        "display_name": "Bob",
        "avatar_url": None,
    }
    return {
        "id": "42",
        "html": '<p>see <a href="https://x.example/" rel="nofollow noopener noreferrer ugc">'
        "x</a></p>",
        "summary": "",
        "sensitive": True,
        "language": "ja",
        "visibility": "public",
        "allow_likes": True,
        "media": [
            {"url": "https://remote.example/a.png", "preview_url": None, "description": "A cat"}
        ],
        "created_at": "2026-12-07T04:26:53.123Z",
        "account": account,
        "share_of": None,
        "replies_count": 0,
        "likes_count": 2,
        "shares_count": 0,
        "liked": None,
        "shared": None,
        "bookmarked": None,
    }


async def test_remote_content_is_marked_for_htmx_to_ignore(app: Quart) -> None:
    async with app.test_request_context("/"):
        choose_language()
        html = await render_template(
            "partials/post.html",
            post=_remote_post(),
            viewer=None,
            csrf_token="t",
            instance=app.extensions["stgy.config"].instance,
            page_path="/",
        )
    assert '<div class="post-content" lang="ja" hx-disable>' in html
    assert 'rel="nofollow noopener noreferrer ugc"' in html
    assert 'href="/@bob@remote.example"' in html and 'href="/@bob@remote.example/42"' in html
    # Sensitive images wait behind a <details>, their alt text kept.
    assert '<details class="sensitive-media">' in html and 'alt="A cat"' in html
    assert '<time datetime="2026-12-07T04:26:53.123Z">2026-12-07 04:26</time>' in html


async def test_a_post_id_answers_html_to_browsers_and_json_ld_to_servers(
    client: Client,
) -> None:
    user = await make_user(client)
    created = await client.post("/api/posts", json={"text": "negotiated"}, headers=user.auth)
    post = await created.get_json()
    path = post["ap_id"].split("//", 1)[1].split("/", 1)[1]
    browser = await client.get("/" + path, headers={"Accept": "text/html"})
    assert browser.status_code in (301, 302, 303)
    page_url = browser.headers["Location"]
    assert page_url.endswith(f"/@{user.handle}/{post['id']}")
    page = await client.get("/" + page_url.split("//", 1)[1].split("/", 1)[1])
    assert page.status_code == 200 and "negotiated" in await page.get_data(as_text=True)
    server = await client.get("/" + path, headers={"Accept": "application/activity+json"})
    assert server.status_code == 200
    assert (await server.get_json())["type"] == "Note"


async def test_following_a_locked_account_shows_the_pending_request(client: Client) -> None:
    viewer = await make_user(client)
    locked = await make_user(client, locked=True)
    token = await web_login(client, viewer)
    status, bar, _ = await post_form(
        client,
        f"/accounts/{locked.id}/follow",
        {"next": f"/@{locked.handle}"},
        **{"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert status == 200 and "Follow request sent: waiting for approval." in bar
    assert f"/accounts/{locked.id}/unfollow" in bar  # withdraw
    page = await (await client.get(f"/@{locked.handle}")).get_data(as_text=True)
    assert "Approves followers" in page and "Withdraw request" in page
