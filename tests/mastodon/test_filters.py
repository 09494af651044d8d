"""Filters (v2 and the deprecated v1) through Mastodon.py and raw forms on a live
instance: their endpoints, the encodings apps send, bad input, scopes and other people's
filters (what they do to what a person reads: test_filters_applied.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import authorise, register_app, token_for
from tests.mastodon.conftest import bearer as bearer_header
from tests.mastodon.entities import (
    FILTER,
    FILTER_KEYWORD,
    FILTER_STATUS,
    STATUS,
    V1_FILTER,
    assert_entities,
    assert_entity,
)
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, second_api


@contextmanager
def token_clients(live_instance: LiveInstance) -> Iterator[Callable[[Mastodon], httpx.Client]]:
    """Makes httpx clients with an app's token, and closes them."""
    made: list[httpx.Client] = []

    def client(api: Mastodon) -> httpx.Client:
        made.append(bearer(live_instance, api))
        return made[-1]

    try:
        yield client
    finally:
        for one in made:
            one.close()


@pytest.fixture
def clients(live_instance: LiveInstance) -> Iterator[Callable[[Mastodon], httpx.Client]]:
    with token_clients(live_instance) as client:
        yield client


def word() -> str:
    """A keyword no other test's statuses contain."""
    return "w" + uuid.uuid4().hex[:8]


def home(raw: httpx.Client) -> list[dict[str, Any]]:
    answer = raw.get("/api/v1/timelines/home", params={"limit": 40})
    assert answer.status_code == 200, answer.text
    statuses: list[dict[str, Any]] = answer.json()
    assert_entities(statuses, STATUS)
    return statuses


def by_id(statuses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in statuses}


def test_filters_v2_through_mastodon_py(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    clients: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = clients(api)

    made = api.create_filter_v2(
        "Vegetables",
        ["home", "public"],
        "warn",
        keywords_attributes=[
            {"keyword": "broccoli", "whole_word": True},
            {"keyword": "kale", "whole_word": False},
        ],
    )
    assert made["title"] == "Vegetables" and made["context"] == ["home", "public"]
    assert made["filter_action"] == "warn" and made["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [
        ("broccoli", True),
        ("kale", False),
    ]
    filter_id = made["id"]
    listed = raw.get("/api/v2/filters")
    assert listed.status_code == 200
    assert_entities(listed.json(), FILTER)
    assert [f["id"] for f in listed.json()] == [str(filter_id)]
    assert api.filter_v2(filter_id)["title"] == "Vegetables"
    assert [f["title"] for f in api.filters_v2()] == ["Vegetables"]

    # Update: a new title and action, one keyword removed, one changed, one added.
    broccoli, kale = made["keywords"]
    changed = api.update_filter_v2(
        filter_id,
        title="Greens",
        filter_action="hide",
        expires_in=3600,
        keywords_attributes=[
            {"id": broccoli["id"], "_destroy": True},
            {"id": kale["id"], "keyword": "spinach"},
            {"keyword": "chard", "whole_word": False},
        ],
    )
    assert changed["title"] == "Greens" and changed["filter_action"] == "hide"
    assert changed["expires_at"] is not None and changed["context"] == ["home", "public"]
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [
        ("spinach", False),
        ("chard", False),
    ]
    assert str(changed["keywords"][0]["id"]) == str(kale["id"])
    # A keyword id of no keyword of this filter: 404, and nothing changed.
    with pytest.raises(MastodonNotFoundError):
        api.update_filter_v2(
            filter_id, title="Nope", keywords_attributes=[{"id": broccoli["id"], "keyword": "x"}]
        )
    assert api.filter_v2(filter_id)["title"] == "Greens"

    # Keywords one by one.
    added = api.add_filter_keyword_v2(filter_id, "Leek", whole_word=True)
    assert added["keyword"] == "Leek" and added["whole_word"] is True
    keywords = raw.get(f"/api/v2/filters/{filter_id}/keywords")
    assert_entities(keywords.json(), FILTER_KEYWORD)
    assert [k["keyword"] for k in api.filter_keywords_v2(filter_id)] == ["spinach", "chard", "Leek"]
    one = raw.get(f"/api/v2/filters/keywords/{added['id']}")
    assert_entity(one.json(), FILTER_KEYWORD)
    put = raw.put(f"/api/v2/filters/keywords/{added['id']}", data={"keyword": "leeks"})
    assert put.status_code == 200 and put.json()["keyword"] == "leeks"
    assert put.json()["whole_word"] is True
    api.delete_filter_keyword_v2(added["id"])
    assert raw.get(f"/api/v2/filters/keywords/{added['id']}").status_code == 404

    # Statuses.
    posted = api.status_post("a status to filter by itself")
    status_filter = api.add_filter_status_v2(filter_id, posted["id"])
    assert str(status_filter["status_id"]) == str(posted["id"])
    statuses = raw.get(f"/api/v2/filters/{filter_id}/statuses")
    assert_entities(statuses.json(), FILTER_STATUS)
    assert [s["status_id"] for s in statuses.json()] == [str(posted["id"])]
    assert str(api.filter_status_v2(status_filter["id"])["status_id"]) == str(posted["id"])
    again = raw.post(f"/api/v2/filters/{filter_id}/statuses", data={"status_id": posted["id"]})
    assert again.status_code == 422 and "error" in again.json()
    shown = raw.get(f"/api/v2/filters/{filter_id}").json()
    assert_entity(shown, FILTER)
    assert [s["status_id"] for s in shown["statuses"]] == [str(posted["id"])]
    api.delete_filter_status_v2(status_filter["id"])
    assert api.filter_statuses_v2(filter_id) == []

    api.delete_filter_v2(filter_id)
    with pytest.raises(MastodonNotFoundError):
        api.filter_v2(filter_id)
    assert api.filters_v2() == []


def test_filters_v1_through_mastodon_py(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    clients: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = clients(api)

    made = api.filter_create("turnip", ["home", "thread"], irreversible=True, whole_word=False)
    assert made["phrase"] == "turnip" and made["context"] == ["home", "thread"]
    assert made["irreversible"] is True and made["whole_word"] is False
    listed = raw.get("/api/v1/filters")
    assert_entities(listed.json(), V1_FILTER)
    assert [f["phrase"] for f in api.filters()] == ["turnip"]
    assert api.filter(made["id"])["phrase"] == "turnip"
    # A v1 filter is a v2 filter of one keyword, titled by its phrase.
    (v2,) = api.filters_v2()
    assert v2["title"] == "turnip" and v2["filter_action"] == "hide"
    assert [str(k["id"]) for k in v2["keywords"]] == [str(made["id"])]

    changed = api.filter_update(
        made["id"], phrase="parsnip", context=["public"], irreversible=False, expires_in=600
    )
    assert changed["phrase"] == "parsnip" and changed["context"] == ["public"]
    assert changed["irreversible"] is False and changed["expires_at"] is not None
    assert api.filters_v2()[0]["title"] == "parsnip"

    # A filter of two keywords shows as two v1 filters; their shared settings stay v2's.
    api.add_filter_keyword_v2(v2["id"], "swede")
    assert sorted(f["phrase"] for f in api.filters()) == ["parsnip", "swede"]
    refused = raw.put(f"/api/v1/filters/{made['id']}", data={"context[]": "home"})
    assert refused.status_code == 422 and "error" in refused.json()
    assert raw.put(f"/api/v1/filters/{made['id']}", data={"phrase": "beet"}).status_code == 200
    assert sorted(f["phrase"] for f in api.filters()) == ["beet", "swede"]

    api.filter_delete(made["id"])
    assert [f["phrase"] for f in api.filters()] == ["swede"]
    # A phrase longer than a title: the filter is titled by its start.
    long = api.filter_create("long " * 80, ["home"])
    assert long["phrase"] == ("long " * 80).strip()
    assert len(next(f for f in api.filters_v2() if f["id"] != v2["id"])["title"]) == 256
    api.filter_delete(long["id"])
    (left,) = api.filters()
    api.filter_delete(left["id"])
    assert api.filters() == [] and api.filters_v2() == []
    with pytest.raises(MastodonNotFoundError):
        api.filter(left["id"])


def test_filter_forms_as_apps_send_them(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    clients: Callable[[Mastodon], httpx.Client],
) -> None:
    """Rails' forms: `keywords_attributes[][...]` grouped by order, and by index."""
    raw = clients(logged_in_api(live_instance, session, logged_in))
    made = raw.post(
        "/api/v2/filters",
        content=(
            "title=test&context[]=public&context[]=thread"
            "&keywords_attributes[][keyword]=foo&keywords_attributes[][whole_word]=false"
            "&keywords_attributes[][keyword]=bar&keywords_attributes[][whole_word]=true"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert made.status_code == 200, made.text
    assert_entity(made.json(), FILTER)
    assert made.json()["context"] == ["public", "thread"]
    foo, bar = made.json()["keywords"]
    assert (foo["keyword"], foo["whole_word"], bar["keyword"], bar["whole_word"]) == (
        "foo",
        False,
        "bar",
        True,
    )
    # Mastodon's documented update: remove foo, rename bar.
    query = (
        f"keywords_attributes[][id]={foo['id']}&keywords_attributes[][_destroy]=true"
        f"&keywords_attributes[][id]={bar['id']}&keywords_attributes[][keyword]=baz"
    )
    changed = raw.put(f"/api/v2/filters/{made.json()['id']}?{query}")
    assert changed.status_code == 200, changed.text
    assert [(k["id"], k["keyword"], k["whole_word"]) for k in changed.json()["keywords"]] == [
        (bar["id"], "baz", True)
    ]
    # Indexed hashes, in a multipart form.
    indexed = raw.post(
        "/api/v2/filters",
        data={
            "title": "indexed",
            "context[]": "home",
            "filter_action": "hide",
            "keywords_attributes[1][keyword]": "second",
            "keywords_attributes[0][keyword]": "first",
            "keywords_attributes[0][whole_word]": "0",
        },
        files={"unused": ("a.txt", b"x", "text/plain")},
    )
    assert indexed.status_code == 200, indexed.text
    assert [(k["keyword"], k["whole_word"]) for k in indexed.json()["keywords"]] == [
        ("first", False),
        ("second", True),
    ]
    # Rails' arrays of hashes in a multipart form: the n-th values go together.
    listed = raw.post(
        "/api/v2/filters",
        data={
            "title": "listed",
            "context[]": "home",
            "keywords_attributes[][keyword]": ["one", "two"],
            "keywords_attributes[][whole_word]": ["false", "true"],
        },
        files={"unused": ("a.txt", b"x", "text/plain")},
    )
    assert listed.status_code == 200, listed.text
    assert [(k["keyword"], k["whole_word"]) for k in listed.json()["keywords"]] == [
        ("one", False),
        ("two", True),
    ]


def test_bad_input_scopes_and_other_peoples_filters(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    clients: Callable[[Mastodon], httpx.Client],
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = clients(api)
    bad: list[dict[str, Any]] = [
        {"context[]": "home"},  # no title
        {"title": "t"},  # no context
        {"title": "t", "context[]": "timeline"},
        {"title": "t", "context[]": "home", "filter_action": "explode"},
        {"title": "t", "context[]": "home", "expires_in": "soon"},
        {"title": "t", "context[]": "home", "expires_in": "-5"},
        {"title": "x" * 300, "context[]": "home"},
        {"title": "t", "context[]": "home", "keywords_attributes[][keyword]": " "},
    ]
    for form in bad:
        answer = raw.post("/api/v2/filters", data=form)
        assert answer.status_code == 422, (form, answer.text)
        assert answer.json()["error"].startswith("Validation failed"), answer.text
    assert raw.post("/api/v2/filters", json={"title": "t", "context": "home"}).status_code == 200
    assert len(api.filters_v2()) == 1  # nothing half-made by the refused ones
    (made,) = api.filters_v2()
    assert raw.post(f"/api/v2/filters/{made['id']}/keywords", data={}).status_code == 422
    no_status = raw.post(f"/api/v2/filters/{made['id']}/statuses", data={"status_id": "12"})
    assert no_status.status_code == 404
    assert raw.post("/api/v1/filters", data={"context[]": "home"}).status_code == 422
    with pytest.raises(MastodonAPIError):
        api.filter_create("", ["home"])

    # Another person sees none of it, and can change none of it.
    _, other = second_api(live_instance, session, http)
    their = clients(other)
    keyword = api.add_filter_keyword_v2(made["id"], "mine")
    for path in (
        f"/api/v2/filters/{made['id']}",
        f"/api/v2/filters/{made['id']}/keywords",
        f"/api/v2/filters/{made['id']}/statuses",
        f"/api/v2/filters/keywords/{keyword['id']}",
        f"/api/v1/filters/{keyword['id']}",
    ):
        answer = their.get(path)
        assert answer.status_code == 404 and answer.json() == {"error": "Record not found"}
    assert their.delete(f"/api/v2/filters/{made['id']}").status_code == 404
    assert (
        their.put(f"/api/v2/filters/keywords/{keyword['id']}", data={"keyword": "z"}).status_code
        == 404
    )
    assert their.delete(f"/api/v1/filters/{keyword['id']}").status_code == 404
    assert their.get("/api/v2/filters").json() == []
    assert api.filter_v2(made["id"])["keywords"][0]["keyword"] == "mine"
    assert raw.get("/api/v2/filters/notanid").status_code == 404

    # Scopes: read:filters reads, write:filters writes.
    assert httpx.get(f"{live_instance.url}/api/v2/filters").status_code == 401
    app = register_app(http, scopes="read")
    code = authorise(logged_in, app)["code"][0]
    token = token_for(http, app, code).json()["access_token"]
    with httpx.Client(base_url=live_instance.url, headers=bearer_header(token)) as read_only:
        assert read_only.get("/api/v2/filters").status_code == 200
        assert read_only.get("/api/v1/filters").status_code == 200
        refused = read_only.post("/api/v2/filters", data={"title": "t", "context[]": "home"})
        assert refused.status_code == 403 and "error" in refused.json()
        assert read_only.delete(f"/api/v2/filters/{made['id']}").status_code == 403
    assert api.filter_v2(made["id"])["title"] == "t"
