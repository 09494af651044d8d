"""Paging as Mastodon clients do it (max_id / since_id / min_id / limit and the Link
header, through Mastodon.py's fetch_next / fetch_previous), the timelines' and account
statuses' filters, and the rate-limit headers and 429 of the Mastodon API."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from mastodon import Mastodon
from PIL import Image

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person, register_person
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [str(item["id"]) for item in answer.json()]


def links(answer: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The query of each rel in an answer's Link header."""
    found = {}
    for part in answer.headers.get("Link", "").split(","):
        url, _, rel = part.partition(";")
        if url.strip():
            found[rel.strip().split('"')[1]] = parse_qs(urlsplit(url.strip()[1:-1]).query)
    return found


@pytest.fixture
def opened(live_instance: LiveInstance) -> Iterator[Callable[[Mastodon], httpx.Client]]:
    """Raw clients with a Mastodon.py login's token, closed after the test."""
    made: list[httpx.Client] = []

    def open_for(api: Mastodon) -> httpx.Client:
        made.append(bearer(live_instance, api))
        return made[-1]

    yield open_for
    for client in made:
        client.close()


def picture() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(out, "PNG")
    out.seek(0)
    return out


def test_min_id_answers_the_posts_just_above_it_newest_first(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    person: Person,
    opened: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = opened(api)
    tag = "pg" + uuid.uuid4().hex[:10]
    posts = [str(api.status_post(f"post {i} #{tag}")["id"]) for i in range(10)]
    pages = {
        "tag": f"/api/v1/timelines/tag/{tag}",
        "account": f"/api/v1/accounts/{person.id}/statuses",
        "local": "/api/v1/timelines/public?local=true",
        "home": "/api/v1/timelines/home",
    }
    eventually(lambda: posts[-1] in ids(raw.get(pages["home"])), "the last post at home")
    for name, path in pages.items():
        answer = raw.get(path, params={"min_id": posts[2], "limit": 3})
        assert ids(answer) == [posts[5], posts[4], posts[3]], name
        rel = links(answer)
        assert rel["prev"]["min_id"] == [posts[5]] and rel["next"]["max_id"] == [posts[3]], name
        # since_id still gives the newest above it; with min_id too, min_id wins.
        since = raw.get(path, params={"since_id": posts[2], "limit": 3})
        assert ids(since) == [posts[9], posts[8], posts[7]], name
        both = raw.get(path, params={"since_id": posts[6], "min_id": posts[2], "limit": 2})
        assert ids(both) == [posts[4], posts[3]], name
        within = raw.get(path, params={"min_id": posts[2], "max_id": posts[5], "limit": 5})
        assert ids(within) == [posts[4], posts[3]], name
    # Past the newest: an empty page without a Link.
    top = raw.get(pages["tag"], params={"min_id": posts[9]})
    assert ids(top) == [] and "Link" not in top.headers

    # Mastodon.py follows the Link header both ways.
    first = api.timeline_hashtag(tag, limit=4)
    assert [str(s["id"]) for s in first] == posts[9:5:-1]
    second = api.fetch_next(first)
    assert [str(s["id"]) for s in second] == posts[5:1:-1]
    back = api.fetch_previous(second)
    assert [str(s["id"]) for s in back] == posts[9:5:-1]
    last = api.fetch_next(second)
    assert [str(s["id"]) for s in last] == [posts[1], posts[0]]
    assert api.fetch_next(last) is None  # a page short of the limit has no next
    assert [str(s["id"]) for s in api.fetch_previous(last)] == posts[5:1:-1]


def test_min_id_on_favourites_bookmarks_and_notifications(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
    opened: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = opened(api)
    _other, other_api = second_api(live_instance, session, http)
    posts = [str(other_api.status_post(f"liked {i}")["id"]) for i in range(6)]
    for post in posts:
        api.status_favourite(post)
        api.status_bookmark(post)
    liked = raw.get("/api/v1/favourites", params={"min_id": posts[1], "limit": 2})
    assert ids(liked) == [posts[3], posts[2]]

    # Bookmarks go by the bookmarks' own ids, which only the Link header carries.
    newest = raw.get("/api/v1/bookmarks", params={"limit": 2})
    assert ids(newest) == [posts[5], posts[4]]
    older = raw.get("/api/v1/bookmarks", params={"limit": 2, **links(newest)["next"]})
    assert ids(older) == [posts[3], posts[2]]
    oldest = raw.get("/api/v1/bookmarks", params={"limit": 2, **links(older)["next"]})
    assert ids(oldest) == [posts[1], posts[0]]
    back = raw.get("/api/v1/bookmarks", params={"limit": 2, **links(oldest)["prev"]})
    assert ids(back) == [posts[3], posts[2]]

    mentions = [str(other_api.status_post(f"@{person.handle} hello {i}")["id"]) for i in range(5)]
    found = eventually(
        lambda: [n for n in api.notifications(types=["mention"], limit=40)][:5],
        "five mentions",
    )
    found = eventually(
        lambda: (
            len(api.notifications(types=["mention"], limit=40)) >= 5
            and api.notifications(types=["mention"], limit=40)
        ),
        "five mentions",
    )
    assert [str(n["status"]["id"]) for n in found[:5]] == mentions[::-1]
    marks = [str(n["id"]) for n in found[:5]][::-1]
    page = raw.get(
        "/api/v1/notifications", params={"types[]": "mention", "min_id": marks[0], "limit": 2}
    )
    assert ids(page) == [marks[2], marks[1]]
    assert links(page)["prev"]["min_id"] == [marks[2]]


def test_account_lists_page_by_account_ids(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    opened: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = opened(api)
    blocked = sorted((register_person(http, "b").id for _ in range(5)), key=int)
    for account_id in blocked:
        assert raw.post(f"/api/v1/accounts/{account_id}/block").status_code == 200
    first = raw.get("/api/v1/blocks", params={"limit": 2})
    assert ids(first) == [blocked[4], blocked[3]]
    second = raw.get("/api/v1/blocks", params=links(first)["next"])
    assert ids(second) == [blocked[2], blocked[1]]
    assert ids(raw.get("/api/v1/blocks", params=links(second)["prev"])) == blocked[4:2:-1]
    up = raw.get("/api/v1/blocks", params={"min_id": blocked[0], "limit": 2})
    assert ids(up) == [blocked[2], blocked[1]]
    since = raw.get("/api/v1/blocks", params={"since_id": blocked[0], "limit": 2})
    assert ids(since) == [blocked[4], blocked[3]]
    last = raw.get("/api/v1/blocks", params={"max_id": blocked[1], "limit": 2})
    assert ids(last) == [blocked[0]] and "next" not in links(last)


def test_tag_timeline_any_all_none(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    opened: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = opened(api)
    t1, t2, t3 = ("tg" + uuid.uuid4().hex[:8] for _ in range(3))
    only_1 = str(api.status_post(f"one #{t1}")["id"])
    one_two = str(api.status_post(f"both #{t1} #{t2}")["id"])
    only_2 = str(api.status_post(f"two #{t2}")["id"])
    one_three = str(api.status_post(f"one and three #{t1} #{t3}")["id"])
    media = api.media_post(picture(), mime_type="image/png")
    pictured = str(api.status_post(f"a picture #{t1}", media_ids=[media["id"]])["id"])

    def tagged(**params: str | list[str]) -> list[str]:
        return ids(raw.get(f"/api/v1/timelines/tag/{t1}", params=params))

    assert tagged() == [pictured, one_three, one_two, only_1]
    assert tagged(**{"any[]": [t2]}) == [pictured, one_three, only_2, one_two, only_1]
    assert tagged(**{"all[]": [t2]}) == [one_two]
    assert tagged(**{"all[]": [t2, t3]}) == []
    assert tagged(**{"none[]": [t3]}) == [pictured, one_two, only_1]
    assert tagged(**{"any[]": [t2], "none[]": [t3, t1]}) == [only_2]
    assert tagged(only_media="true") == [pictured]
    assert tagged(local="true") == [pictured, one_three, one_two, only_1]
    assert tagged(remote="true") == []
    # An invalid tag in all[] matches nothing; in none[] it is ignored.
    assert tagged(**{"all[]": ["no such tag!"]}) == []
    assert tagged(**{"none[]": ["no such tag!"]}) == [pictured, one_three, one_two, only_1]
    # Paging with the extra tags kept in the Link.
    first = raw.get(f"/api/v1/timelines/tag/{t1}", params={"any[]": [t2], "limit": 2})
    assert ids(first) == [pictured, one_three]
    rest = raw.get(f"/api/v1/timelines/tag/{t1}", params=links(first)["next"])
    assert ids(rest) == [only_2, one_two]
    # The public timeline's media filter, on the same posts.
    public = ids(raw.get("/api/v1/timelines/public", params={"only_media": "true"}))
    assert pictured in public and not {only_1, one_two, only_2, one_three} & set(public)
    assert pictured in ids(raw.get("/api/v1/timelines/public", params={"local": "true"}))
    assert pictured not in ids(raw.get("/api/v1/timelines/public", params={"remote": "true"}))


def test_account_statuses_filters(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
    opened: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = opened(api)
    _other, other_api = second_api(live_instance, session, http)
    theirs = str(other_api.status_post("someone else's post")["id"])
    tag = "ac" + uuid.uuid4().hex[:8]
    plain = str(api.status_post(f"plain #{tag}")["id"])
    thread = str(api.status_post("continuing my thread", in_reply_to_id=plain)["id"])
    reply = str(api.status_post("a reply to someone", in_reply_to_id=theirs)["id"])
    reblog = str(api.status_reblog(theirs)["id"])
    media = api.media_post(picture(), mime_type="image/png")
    pictured = str(api.status_post("a picture", media_ids=[media["id"]])["id"])
    path = f"/api/v1/accounts/{person.id}/statuses"

    def shown(**params: str) -> list[str]:
        return ids(raw.get(path, params=params))

    assert shown() == [pictured, reblog, reply, thread, plain]
    # A reply to one's own post stays (a thread), as Mastodon keeps it.
    assert shown(exclude_replies="true") == [pictured, reblog, thread, plain]
    assert shown(exclude_reblogs="true") == [pictured, reply, thread, plain]
    assert shown(only_media="true") == [pictured]
    assert shown(tagged=tag) == [plain]
    assert shown(tagged=f"#{tag}".upper()) == [plain]
    assert shown(exclude_replies="1", exclude_reblogs="1", limit="2") == [pictured, thread]
    # Filters apply before the limit: full pages, and the Link leads on from them.
    page = raw.get(path, params={"exclude_replies": "true", "limit": "2"})
    assert ids(page) == [pictured, reblog]
    assert ids(raw.get(path, params=links(page)["next"])) == [thread, plain]
    # stgy has no pinned posts: an empty list, and an unknown account is still 404.
    assert shown(pinned="true") == []
    assert (
        raw.get("/api/v1/accounts/9999999/statuses", params={"pinned": "true"}).status_code == 404
    )
    assert raw.get(path, params={"tagged": "not a tag!"}).status_code == 422
