"""Live updates, feeds and the sessions' last use, in process: the browser's /stream,
`/?since_id=`, RSS and Atom, and `sessions.last_used_at`."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET  # noqa: S405 - our own server's answers, parsed in tests
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from stgy.app import create_app
from stgy.config import Config
from stgy.domain import session_use, streaming
from stgy.http.streaming import STREAMS_KEY
from stgy.services import Services
from stgy.web import live_pages
from tests.conftest import User, make_user, unique_handle
from tests.integration.fetch_peer import (  # noqa: F401 - pytest injects them by name
    Peer,
    fed_client,
    fed_config,
    fed_services,
    peer,
)
from tests.integration.media_support import uploaded
from tests.integration.test_notifications import act, create_post
from tests.integration.test_outbox import drain
from tests.integration.test_streaming import open_stream, subscribers
from tests.web.test_web_forms import post_form
from tests.web.test_web_posts import web_login

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
_POST = re.compile(r'<article class="post" id="post-(\d+)"')


def parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - the feed our own server just made


# --- /stream -----------------------------------------------------------------------------


async def test_the_stream_needs_a_session(app: Quart) -> None:
    browser = app.test_client()
    response = await browser.get("/stream")
    assert response.status_code == 401
    assert response.mimetype == "text/html"  # the web's error page, not an event stream
    forged = await browser.get("/stream", headers={"Cookie": "stgy_session=1.2.forged"})
    assert forged.status_code == 401
    # An API token is not a browser session.
    user = await make_user(browser)
    assert (await browser.get("/stream", headers=user.auth)).status_code == 401


async def test_posts_and_notifications_arrive_on_the_browser_stream(
    client: Client, services: Services
) -> None:
    reader, author = await make_user(client), await make_user(client)
    await act(client, reader, "PUT", f"/api/accounts/{author.id}/follow")
    await drain(services)
    await web_login(client, reader)
    async with open_stream(client, "/stream") as stream:
        headers = stream.connection.headers
        assert headers is not None
        assert headers["Content-Type"].startswith("text/event-stream")
        assert headers["Cache-Control"] == "no-cache"
        assert "Content-Security-Policy" not in headers
        assert await subscribers(services, reader) == 1

        post = await create_post(client, author, "fresh for the web")
        await drain(services)
        # Only the id: the page counts it and fetches the HTML when asked.
        assert await stream.event("update") == {"id": post["id"]}

        fan = await make_user(client)
        await act(client, fan, "PUT", f"/api/accounts/{reader.id}/follow")
        await drain(services)
        notification = await stream.event("notification")
        assert set(notification) == {"id"} and notification["id"].isdigit()

        # Published through the domain directly; a deleted post's update is dropped.
        gone = await create_post(client, author, "soon gone")
        await drain(services)
        assert await stream.event("update") == {"id": gone["id"]}
        await act(client, author, "DELETE", f"/api/posts/{gone['id']}")
        await streaming.publish(
            services,
            [
                (int(reader.id), {"event": "update", "post_id": int(gone["id"])}),
                (int(reader.id), {"event": "update", "post_id": int(post["id"])}),
            ],
        )
        assert await stream.event("update") == {"id": post["id"]}
    assert await subscribers(services, reader) == 0


async def test_logging_out_ends_the_browser_stream(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.1)
    monkeypatch.setattr(live_pages, "SESSION_CHECK_SECONDS", 0.0)
    reader = await make_user(client)
    token = await web_login(client, reader)
    async with client.request("/stream") as connection:
        await connection.send_complete()
        assert await asyncio.wait_for(connection.receive(), 10) == b": connected\n\n"
        assert await asyncio.wait_for(connection.receive(), 10) == b": keepalive\n\n"
        status, _, _ = await post_form(client, "/auth/logout", {"csrf_token": token})
        assert status == 303
        while (chunk := await asyncio.wait_for(connection.receive(), 10)) != b"":
            assert chunk == b": keepalive\n\n"
    assert (await client.get("/stream")).status_code == 401


async def test_shutdown_ends_browser_streams_with_the_api_streams(
    config: Config, services: Services
) -> None:
    app = create_app(config)
    await app.startup()
    running = True
    try:
        browser = app.test_client()
        reader = await make_user(browser)
        await web_login(browser, reader)
        async with browser.request("/stream") as connection:
            await connection.send_complete()
            assert await asyncio.wait_for(connection.receive(), 10) == b": connected\n\n"
            assert app.extensions[STREAMS_KEY].count == 1  # the API's count
            running = False
            await app.shutdown()
            assert await asyncio.wait_for(connection.receive(), 5) == b""
        assert await subscribers(services, reader) == 0
    finally:
        if running:
            await app.shutdown()


# --- the home page's since_id and live bar -----------------------------------------------


async def test_home_since_id_gives_the_newer_posts_alone(
    client: Client, services: Services
) -> None:
    reader, author = await make_user(client), await make_user(client)
    await act(client, reader, "PUT", f"/api/accounts/{author.id}/follow")
    first = await create_post(client, author, "first of three")
    second = await create_post(client, author, "second of three")
    third = await create_post(client, author, "third of three")
    await drain(services)
    await web_login(client, reader)

    home = await (await client.get("/")).get_data(as_text=True)
    assert 'id="new-posts" aria-live="polite" data-stream="/stream"' in home
    assert 'data-one="1 new post" data-many="{n} new posts"' in home

    partial = await client.get(f"/?since_id={first['id']}", headers={"HX-Request": "true"})
    text = await partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in text
    assert _POST.findall(text) == [third["id"], second["id"]]
    assert "Older posts" not in text and 'id="new-posts"' not in text
    # Without htmx it is the home page, with those posts only.
    page = await (await client.get(f"/?since_id={second['id']}")).get_data(as_text=True)
    assert "<html" in page and _POST.findall(page) == [third["id"]]
    empty = await client.get(f"/?since_id={third['id']}", headers={"HX-Request": "true"})
    assert _POST.findall(await empty.get_data(as_text=True)) == []
    bad = await client.get("/?since_id=nonsense")
    assert bad.status_code == 400 and bad.mimetype == "text/html"

    japanese = await client.get("/", headers={"Accept-Language": "ja"})
    assert 'data-many="新しい投稿 {n} 件"' in await japanese.get_data(as_text=True)


# --- feeds -------------------------------------------------------------------------------


async def _feed_posts(client: Client, author: User, other: User) -> dict[str, Any]:
    """The author's posts of every kind; which of them a feed must list."""
    media_id = await uploaded(client, author, description='A "red" <photo> & more')
    made = {
        "plain": await create_post(client, author, "Hello **feeds** #feedtag"),
        "warned": await create_post(
            client,
            author,
            "behind a warning & <b>not bold</b>",
            # Control characters are not XML at all, even escaped: the feed drops them.
            summary='Spoilers\x1b <script>alert(1)</script> ]]> & "quotes"\x0b',
            media_ids=[media_id],
            sensitive=True,
        ),
        "unlisted": await create_post(client, author, "unlisted #feedtag", visibility="unlisted"),
        "private": await create_post(client, author, "private #feedtag", visibility="followers"),
        "direct": await create_post(client, author, f"@{other.handle} direct", visibility="direct"),
    }
    theirs = await create_post(client, other, "someone else's post")
    made["reply_to_other"] = await create_post(
        client, author, "a reply to them", reply_to=theirs["id"]
    )
    made["thread"] = await create_post(
        client, author, "my own thread goes on", reply_to=made["plain"]["id"]
    )
    await act(client, author, "PUT", f"/api/posts/{theirs['id']}/share")
    return made


async def test_account_feeds_list_public_posts_escaped(
    client: Client, services: Services, config: Config
) -> None:
    handle = unique_handle("feed")
    author = await make_user(client, handle, display_name='Ann <& "Feeds"> \'')
    other = await make_user(client)
    made = await _feed_posts(client, author, other)
    base = config.instance.base_url
    listed = [made["thread"], made["warned"], made["plain"]]  # newest first

    response = await client.get(f"/@{handle}.rss")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    body = await response.get_data()
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    rss = parse(body)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == f'Ann <& "Feeds"> \' (@{handle}@{config.instance.domain})'
    assert channel.findtext("link") == f"{base}/@{handle}"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None and self_link.get("href") == f"{base}/@{handle}.rss"
    items = channel.findall("item")
    assert [item.findtext("guid") for item in items] == [
        f"{base}/@{handle}/{post['id']}" for post in listed
    ]
    by_id = {item.findtext("link", "").rsplit("/", 1)[-1]: item for item in items}
    plain = by_id[made["plain"]["id"]]
    assert plain.find("title") is None  # no content warning: no title, as Mastodon does
    assert "<strong>feeds</strong>" in plain.findtext("description", "")
    assert [c.text for c in plain.findall("category")] == ["feedtag"]
    published = parsedate_to_datetime(plain.findtext("pubDate", ""))
    assert published == datetime.fromisoformat(made["plain"]["created_at"]).replace(microsecond=0)
    warned = by_id[made["warned"]["id"]]
    assert warned.findtext("title") == 'Spoilers <script>alert(1)</script> ]]> & "quotes"'
    description = warned.findtext("description", "")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in description and "<b>" not in description
    [content] = warned.findall(f"{MEDIA}content")
    image_url = made["warned"]["media"][0]["url"]
    assert content.get("url") == image_url and content.get("medium") == "image"
    assert content.findtext(f"{MEDIA}description") == 'A "red" <photo> & more'
    assert content.findtext(f"{MEDIA}rating") == "adult"
    enclosure = warned.find("enclosure")
    assert enclosure is not None and enclosure.get("url") == image_url
    assert enclosure.get("type") == "image/jpeg" and int(enclosure.get("length", "0")) > 0

    atom_response = await client.get(f"/@{handle}.atom")
    assert atom_response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = parse(await atom_response.get_data())
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{base}/@{handle}.atom"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == 'Ann <& "Feeds"> \''
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in entries] == [  # type: ignore[union-attr]
        f"{base}/@{handle}/{post['id']}" for post in listed
    ]
    first = entries[1]
    assert first.findtext(f"{ATOM}title") == 'Spoilers <script>alert(1)</script> ]]> & "quotes"'
    assert first.findtext(f"{ATOM}id") == made["warned"]["ap_id"]
    content_element = first.find(f"{ATOM}content")
    assert content_element is not None and content_element.get("type") == "html"
    assert "&lt;b&gt;not bold" in (content_element.text or "")
    enclosure = first.find(f"{ATOM}link[@rel='enclosure']")
    assert enclosure is not None and enclosure.get("href") == image_url
    published_at = datetime.fromisoformat(first.findtext(f"{ATOM}published", ""))
    assert published_at.tzinfo is not None
    # Without a content warning, the title is the start of the text.
    assert entries[2].findtext(f"{ATOM}title") == "Hello feeds #feedtag"

    # The profile page links both feeds.
    profile = await (await client.get(f"/@{handle}")).get_data(as_text=True)
    assert 'type="application/rss+xml" title="RSS feed of Ann' in profile
    assert f'href="/@{handle}.rss"' in profile and f'href="/@{handle}.atom"' in profile


async def test_tag_feeds_list_public_posts_only(client: Client, config: Config) -> None:
    tag = f"t{unique_handle('').replace('_', '')}"
    author, other = await make_user(client), await make_user(client)
    public = await create_post(client, author, f"a #{tag} post")
    await create_post(client, author, f"unlisted #{tag}", visibility="unlisted")
    await create_post(client, author, f"private #{tag}", visibility="followers")
    await create_post(client, author, f"@{other.handle} direct #{tag}", visibility="direct")
    base = config.instance.base_url

    rss = parse(await (await client.get(f"/tags/{tag}.rss")).get_data())
    channel = rss.find("channel")
    assert channel is not None and channel.findtext("title") == f"#{tag}"
    assert channel.findtext("link") == f"{base}/tags/{tag}"
    assert [i.findtext("link") for i in channel.findall("item")] == [
        f"{base}/@{author.handle}/{public['id']}"
    ]
    atom = parse(await (await client.get(f"/tags/{tag.upper()}.atom")).get_data())
    [entry] = atom.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == author.handle.title()
    empty = parse(await (await client.get("/tags/nothingtaggedhere.rss")).get_data())
    assert empty.findall("channel/item") == []
    assert (await client.get("/tags/%21%21.rss")).status_code == 404  # not a tag
    page = await (await client.get(f"/tags/{tag}")).get_data(as_text=True)
    assert f'href="/tags/{tag}.rss"' in page and f'href="/tags/{tag}.atom"' in page


async def test_feeds_of_unknown_and_suspended_accounts_are_404(client: Client) -> None:
    assert (await client.get("/@nobody_here_at_all.rss")).status_code == 404
    assert (await client.get("/@nobody_here_at_all.atom")).status_code == 404
    assert (await client.get("/@x@unknown.example.rss")).status_code == 404


async def test_a_remote_account_has_no_feed_here(fed_client: Client, peer: Peer) -> None:  # noqa: F811
    peer.add_actor("carol", name="Carol Remote")
    profile = await fed_client.get(f"/@carol@{peer.host}")
    assert profile.status_code == 200  # known now
    assert 'type="application/rss+xml"' not in await profile.get_data(as_text=True)
    assert (await fed_client.get(f"/@carol@{peer.host}.rss")).status_code == 404
    assert (await fed_client.get(f"/@carol@{peer.host}.atom")).status_code == 404


# --- sessions' last use ------------------------------------------------------------------


async def _last_used(services: Services, session_id: int) -> tuple[datetime, str | None]:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT last_used_at, last_used_ip FROM sessions WHERE id = $1", session_id
        )
    assert row is not None
    return row[0], row[1]


async def _age(services: Services, session_id: int, by: timedelta) -> datetime:
    async with services.pool.acquire() as conn:
        aged: datetime = await conn.fetchval(
            "UPDATE sessions SET last_used_at = last_used_at - $2::interval, last_used_ip = 'old'"
            " WHERE id = $1 RETURNING last_used_at",
            session_id,
            by,
        )
    return aged


async def _newest_session(services: Services, account_id: str) -> int:
    async with services.pool.acquire() as conn:
        found: int = await conn.fetchval(
            "SELECT max(id) FROM sessions WHERE account_id = $1", int(account_id)
        )
    return found


async def test_last_use_is_recorded_every_few_minutes(client: Client, services: Services) -> None:
    user = await make_user(client)
    api_session = await _newest_session(services, user.id)
    logged_in, _ = await _last_used(services, api_session)

    # Within the interval nothing is written, however many requests come.
    for _ in range(3):
        assert (await client.get("/api/accounts/me", headers=user.auth)).status_code == 200
    assert (await _last_used(services, api_session))[0] == logged_in

    # Older than the interval: the next request writes (after this process forgets that
    # it wrote lately), once.
    aged = await _age(services, api_session, timedelta(minutes=10))
    session_use.forget_recorded()
    assert (await client.get("/api/accounts/me", headers=user.auth)).status_code == 200
    used, address = await _last_used(services, api_session)
    assert used > aged and address != "old"
    aged = await _age(services, api_session, timedelta(minutes=10))
    assert (await client.get("/api/accounts/me", headers=user.auth)).status_code == 200
    assert (await _last_used(services, api_session))[0] == aged  # this process wrote lately

    # The home timeline (which checks the session in its own statement) counts too.
    session_use.forget_recorded()
    assert (await client.get("/api/timelines/home", headers=user.auth)).status_code in (200, 204)
    assert (await _last_used(services, api_session))[0] > aged

    # And a browser's page; its sessions page shows when each was last used.
    await web_login(client, user)
    web_session = await _newest_session(services, user.id)
    aged = await _age(services, web_session, timedelta(hours=2))
    session_use.forget_recorded()
    page = await client.get("/settings/sessions")
    assert (await _last_used(services, web_session))[0] > aged
    text = await page.get_data(as_text=True)
    assert "In use now" in text  # this browser's
    api_used = (await _last_used(services, api_session))[0].astimezone(UTC)
    # The moment in a <time> element of its own, kept on one line.
    assert re.search(
        rf'Last used <time datetime="[^"]+">{api_used:%Y-%m-%d %H:%M} UTC</time>', text
    ), text
