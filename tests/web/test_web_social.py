"""Follow requests, the search page and remote interaction, in process.

Remote sides are real servers on loopback: the Mastodon-shaped `peer` (WebFinger without a
subscribe link, actors, notes) and the session's live stgy instance (`live_instance`),
whose WebFinger answer carries our subscribe template."""

from __future__ import annotations

import re
import socket
from urllib.parse import quote, unquote

import httpx
from quart.typing import TestClientProtocol as Client

from tests.conftest import LiveInstance, User, live_instance, make_user, register_over_http
from tests.integration.fetch_peer import Peer, fed_client, fed_config, fed_services, peer
from tests.web.test_web_forms import csrf_of, post_form
from tests.web.test_web_posts import web_login

__all__ = ["fed_client", "fed_config", "fed_services", "live_instance", "peer"]

SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def _text(client: Client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    text = await response.get_data(as_text=True)
    assert response.status_code == status, text[-2000:]
    return text


async def _follow(client: Client, follower: User, target: User) -> None:
    response = await client.put(f"/api/accounts/{target.id}/follow", headers=follower.auth)
    assert response.status_code in (200, 201, 202, 204), await response.get_data(as_text=True)


async def _followers(client: Client, account: User) -> list[str]:
    response = await client.get(f"/api/accounts/{account.id}/followers", headers=account.auth)
    if response.status_code == 204:
        return []
    return [found["handle"] for found in (await response.get_json())["accounts"]]


# --- follow requests ---------------------------------------------------------------


async def test_follow_requests_accepted_and_rejected_by_their_owner_only(client: Client) -> None:
    owner = await make_user(client, display_name="Owner", locked=True)
    asking = [await make_user(client, display_name=f"Asker {n}") for n in range(3)]
    for user in asking:
        await _follow(client, user, owner)
    other = await make_user(client)

    page = client.app.test_client()  # type: ignore[attr-defined]
    token = await web_login(page, owner)
    text = await _text(page, "/follow_requests")
    for user in asking:
        assert f'href="/@{user.handle}"' in text
        assert f'action="/follow_requests/{user.id}/accept"' in text
    # The header shows the count to the owner, on every page.
    home = await _text(page, "/")
    assert '<a href="/follow_requests">Follow requests<span class="nav-count">3' in home

    # Accept without JavaScript: 303 back to the list.
    status, _, answer = await post_form(
        page, f"/follow_requests/{asking[0].id}/accept", {"csrf_token": token}
    )
    assert status == 303 and answer.headers["Location"] == "/follow_requests"  # type: ignore[attr-defined]
    # Reject with htmx: the row alone comes back, decided.
    status, row, _ = await post_form(
        page,
        f"/follow_requests/{asking[1].id}/reject",
        {"csrf_token": token},
        **{"HX-Request": "true"},
    )
    assert status == 200 and "Rejected." in row and "<html" not in row
    assert f'href="/@{asking[1].handle}"' in row

    # Someone else cannot decide the owner's requests: not found, nothing changes.
    stranger = client.app.test_client()  # type: ignore[attr-defined]
    stranger_token = await web_login(stranger, other)
    status, _, _ = await post_form(
        stranger, f"/follow_requests/{asking[2].id}/accept", {"csrf_token": stranger_token}
    )
    assert status == 404
    status, row, _ = await post_form(
        stranger,
        f"/follow_requests/{asking[2].id}/accept",
        {"csrf_token": stranger_token},
        **{"HX-Request": "true"},
    )
    assert status == 404 and "no longer waiting" in row
    assert "Follow requests<span" not in await _text(stranger, "/")

    assert await _followers(client, owner) == [asking[0].handle]
    text = await _text(page, "/follow_requests")
    assert f'href="/@{asking[2].handle}"' in text
    assert f'href="/@{asking[0].handle}"' not in text and f'href="/@{asking[1].handle}"' not in text
    assert 'Follow requests<span class="nav-count">1<' in text
    # A decided request is gone: deciding again is a 404, and a bad id too.
    status, _, _ = await post_form(
        page, f"/follow_requests/{asking[1].id}/accept", {"csrf_token": token}
    )
    assert status == 404
    for path in ("/follow_requests/x/accept", f"/follow_requests/{asking[2].id}/maybe"):
        status, _, _ = await post_form(page, path, {"csrf_token": token})
        assert status == 404, path
    # Without the token: refused; logged out: to the log-in page.
    status, _, _ = await post_form(page, f"/follow_requests/{asking[2].id}/accept", {})
    assert status == 403
    response = await client.app.test_client().get("/follow_requests")  # type: ignore[attr-defined]
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/follow_requests"


async def test_no_requests_says_so(client: Client) -> None:
    user = await make_user(client)
    await web_login(client, user)
    text = await _text(client, "/follow_requests")
    assert "No one is waiting for your approval." in text
    assert 'href="/follow_requests"' not in text.split("<main")[0]


# --- search ------------------------------------------------------------------------


async def test_search_finds_accounts_tags_and_posts(client: Client) -> None:
    author = await make_user(client, display_name="Searchable Sam")
    tag = f"srch{author.handle[-6:]}"
    made = await client.post(
        "/api/posts",
        json={"text": f"zebrafinch sighting #{tag}", "visibility": "public"},
        headers=author.auth,
    )
    assert made.status_code == 201
    post_id = (await made.get_json())["id"]

    text = await _text(client, f"/search?q={author.handle}")
    assert f'href="/@{author.handle}"' in text and "Searchable Sam" in text
    assert 'value="' + author.handle + '"' in text  # the box keeps the query
    text = await _text(client, f"/search?q=%23{tag[:6]}")
    assert f'href="/tags/{tag}"' in text
    text = await _text(client, "/search?q=zebrafinch")
    assert f'id="post-{post_id}"' in text
    # A post's address finds that post; our own profile address that account.
    text = await _text(client, f"/search?q=http://localhost:8000/@{author.handle}/{post_id}")
    assert f'id="post-{post_id}"' in text
    text = await _text(client, f"/search?q=http://localhost:8000/users/{author.handle}")
    assert f'href="/@{author.handle}"' in text
    # The header's box is on every page, labelled.
    assert '<label class="visually-hidden" for="site-search-q">Search</label>' in text


async def test_search_without_or_with_a_bad_query(client: Client) -> None:
    text = await _text(client, "/search")
    assert "<h1>Search</h1>" in text and "Nothing found" not in text
    for query, message in (
        ("", "Type what to look for."),
        ("%20%20", "Type what to look for."),
        ("x" * 201, "Use at most 200 characters."),
        ("a%00b", "must not contain NUL characters"),
    ):
        text = await _text(client, f"/search?q={query}", status=400)
        assert message in text and 'aria-invalid="true"' in text, query
    text = await _text(client, "/search?q=nothingmatchesthisatall")
    assert "Nothing found." in text
    for address in ("@nobody_here/123", "@x/9999999999999999999", "@x/0", "tags/x", "@x@y/1"):
        text = await _text(client, f"/search?q=http://localhost:8000/{address}")
        assert "Nothing found" in text, address


async def test_search_resolves_remote_accounts_and_posts_for_members_only(
    fed_client: Client, peer: Peer
) -> None:
    peer.add_actor("rita", name="Rita Remote")
    note_id = peer.add_note("rita", "a remote kingfisher")

    # A visitor: nothing is asked of the other server.
    text = await _text(fed_client, f"/search?q=@rita@{peer.host}")
    assert "Log in to look it up on its own server." in text
    assert peer.requests == []

    member = await make_user(fed_client)
    await web_login(fed_client, member)
    text = await _text(fed_client, f"/search?q=@rita@{peer.host}")
    assert f'href="/@rita@{peer.host}"' in text and "Rita Remote" in text
    text = await _text(fed_client, f"/search?q={quote(note_id)}")
    assert "a remote kingfisher" in text
    # Now known here: a visitor finds them too.
    visitor = fed_client.app.test_client()  # type: ignore[attr-defined]
    assert "a remote kingfisher" in await _text(visitor, f"/search?q={quote(note_id)}")
    # Unknown on a live server: nothing found, no error.
    text = await _text(fed_client, f"/search?q=@nobody@{peer.host}")
    assert "the address could not be looked up" in text


# --- remote interaction --------------------------------------------------------------


async def test_our_webfinger_publishes_the_subscribe_template(client: Client) -> None:
    user = await make_user(client)
    response = await client.get(
        "/.well-known/webfinger", query_string={"resource": f"acct:{user.handle}@localhost:8000"}
    )
    links = (await response.get_json())["links"]
    assert {
        "rel": SUBSCRIBE,
        "template": "http://localhost:8000/authorize_interaction?uri={uri}",
    } in links


async def test_logged_out_visitors_are_offered_remote_interaction(client: Client) -> None:
    author = await make_user(client, display_name="Iris")
    made = await client.post(
        "/api/posts", json={"text": "interact with me", "visibility": "public"}, headers=author.auth
    )
    post_id = (await made.get_json())["id"]
    actor = f"http://localhost:8000/users/{author.handle}"
    profile = await _text(client, f"/@{author.handle}")
    assert f'href="/interact?uri={quote(actor, safe="/")}"' in profile
    post = await _text(client, f"/@{author.handle}/{post_id}")
    note = f"{actor}/posts/{post_id}"
    assert f'href="/interact?uri={quote(note, safe="/")}"' in post

    response = await client.get("/interact", query_string={"uri": actor})
    text = await response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Follow Iris</h1>" in text
    assert f"@{author.handle}@localhost:8000" in text
    assert "form-action 'self' https: http:" in response.headers["Content-Security-Policy"]
    for bad in ("", "nonsense", "javascript:alert(1)", "http://"):
        text = await _text(client, f"/interact?uri={quote(bad)}", status=400)
        assert "<h1>Not an address</h1>" in text, bad

    # Members of this server are sent straight to their own page.
    token = await csrf_of(client, f"/interact?uri={quote(actor)}")
    status, _, answer = await post_form(
        client, "/interact", {"csrf_token": token, "uri": actor, "acct": "me@localhost:8000"}
    )
    location = answer.headers["Location"]  # type: ignore[attr-defined]
    assert status == 303
    assert location == f"http://localhost:8000/authorize_interaction?uri={quote(actor, safe='')}"


async def test_interact_goes_to_the_visitors_server(
    fed_client: Client, peer: Peer, live_instance: LiveInstance
) -> None:
    uri = "http://localhost:8000/users/someone"
    async with httpx.AsyncClient(base_url=live_instance.url) as http:
        visitor = await register_over_http(http, "far")
    domain = live_instance.config.instance.domain
    token = await csrf_of(fed_client, f"/interact?uri={quote(uri)}")

    async def send(acct: str, **headers: str) -> tuple[int, str, object]:
        form = {"csrf_token": token, "uri": uri, "acct": acct}
        return await post_form(fed_client, "/interact", form, **headers)

    status, _, answer = await send(f"@{visitor.handle}@{domain}")
    assert status == 303
    location = answer.headers["Location"]  # type: ignore[attr-defined]
    base = live_instance.config.instance.base_url
    assert location == f"{base}/authorize_interaction?uri={quote(uri, safe='')}"
    assert unquote(location.split("uri=", 1)[1]) == uri

    # The live instance's page asks its member to log in first, then back to it.
    async with httpx.AsyncClient(base_url=live_instance.url) as http:
        there = await http.get(location.removeprefix(base))
    assert there.status_code == 303
    assert there.headers["Location"].startswith("/auth/login?next=/authorize_interaction%3Furi%3D")

    # A server without the subscribe link, an unknown account, no server, no address.
    peer.add_actor("mo")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, not listening: connections are refused
        for acct, message in (
            (f"mo@{peer.host}", "does not offer remote interaction"),
            (f"nobody@{domain}", "does not know this account"),
            (f"x@127.0.0.1:{closed}", "could not be reached"),
            ("just-a-name", "as user@server"),
            ("a@b@c", "as user@server"),
            ("", "Fill this in."),
        ):
            status, text, _ = await send(acct)
            assert status == 400, acct
            assert message in text and 'aria-invalid="true"' in text, acct
            assert "<h1>" in text  # the whole page without htmx
    status, text, _ = await post_form(
        fed_client, "/interact", {"csrf_token": token, "uri": "not a url", "acct": "a@b.c"}
    )
    assert status == 400 and "<h1>Not an address</h1>" in text


async def test_authorize_interaction_for_an_account_and_a_post(
    fed_client: Client, peer: Peer
) -> None:
    peer.add_actor("ada", name="Ada Remote")
    note_id = peer.add_note("ada", "a post to answer")
    actor = peer.actor_id("ada")

    # Logged out: the log-in page, then back here.
    response = await fed_client.get("/authorize_interaction", query_string={"uri": actor})
    location = response.headers["Location"]
    assert response.status_code == 303
    assert location.startswith("/auth/login?next=/authorize_interaction%3Furi%3D")
    login_page = await _text(fed_client, location)
    back = re.search(r'name="next" value="([^"]+)"', login_page)
    assert back is not None and back.group(1).startswith("/authorize_interaction?uri=")

    member = await make_user(fed_client)
    token = await web_login(fed_client, member)
    text = await _text(fed_client, f"/authorize_interaction?uri={quote(actor)}")
    assert "<h1>Follow Ada Remote</h1>" in text and f"@ada@{peer.host}" in text
    assert re.search(r'action="/accounts/\d+/follow"', text)
    account_id = re.search(r'action="/accounts/(\d+)/follow"', text).group(1)  # type: ignore[union-attr]
    status, _, _ = await post_form(
        fed_client, f"/accounts/{account_id}/follow", {"csrf_token": token, "next": "/"}
    )
    assert status == 303
    text = await _text(fed_client, f"/authorize_interaction?acct=ada@{peer.host}")
    assert "Follow request sent" in text or "You follow this account." in text

    response = await fed_client.get(f"/authorize_interaction?uri={quote(note_id)}")
    assert response.status_code == 303
    post_path = response.headers["Location"]
    assert re.fullmatch(rf"/@ada@{re.escape(peer.host)}/\d+", post_path)
    assert "a post to answer" in await _text(fed_client, post_path)

    for query, status, heading in (
        (f"uri={quote(peer.base)}/users/ghost", 404, "Nothing found"),
        (f"acct=ghost@{peer.host}", 404, "Nothing found"),
        ("uri=nonsense", 400, "Not an address"),
        ("acct=a@b@c", 400, "Not an address"),
        ("", 400, "Not an address"),
    ):
        text = await _text(fed_client, f"/authorize_interaction?{query}", status=status)
        assert f"<h1>{heading}</h1>" in text, query
