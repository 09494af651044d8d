"""What filters do to what a person reads, on a live instance: `filtered` on matching
statuses, `hide` filters leaving them out, in the contexts chosen, until they expire;
and the stream event a change publishes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
import requests
from mastodon import Mastodon

from stgy.domain import streaming
from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import FILTER_RESULT, assert_entities
from tests.mastodon.test_filters import by_id, home, token_clients, word
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import eventually, second_api


@pytest.fixture
def clients(live_instance: LiveInstance) -> Iterator[Callable[[Mastodon], httpx.Client]]:
    with token_clients(live_instance) as client:
        yield client


@pytest.fixture
def reader(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    clients: Callable[[Mastodon], httpx.Client],
) -> tuple[Mastodon, httpx.Client]:
    """The person's Mastodon.py client, and a raw client with the same token."""
    api = logged_in_api(live_instance, session, logged_in)
    return api, clients(api)


def test_filters_apply_to_what_the_person_reads(
    live_instance: LiveInstance,
    session: requests.Session,
    http: httpx.Client,
    person: Person,
    clients: Callable[[Mastodon], httpx.Client],
    reader: tuple[Mastodon, httpx.Client],
) -> None:
    api, raw = reader
    warn, hide, whole, public_only = word(), word(), word(), word()

    plain = api.status_post("nothing to see here")
    warned = api.status_post(f"I like {warn.upper()} a lot")  # case does not matter
    in_cw = api.status_post("behind a warning", spoiler_text=f"about {warn}")
    hidden = api.status_post(f"the {hide} status")
    part = api.status_post(f"con{whole}ation")  # inside a word: no whole-word match
    full = api.status_post(f"{whole}!")
    elsewhere = api.status_post(f"{public_only} here")
    chosen = api.status_post("picked by id")
    ids = [str(s["id"]) for s in (plain, warned, in_cw, hidden, part, full, elsewhere, chosen)]

    # Without filters every status carries `filtered`: [].
    before = by_id(home(raw))
    assert all(before[i]["filtered"] == [] for i in ids)

    warn_filter = api.create_filter_v2(
        "warned",
        ["home", "thread", "account"],
        "warn",
        keywords_attributes=[
            {"keyword": warn, "whole_word": True},
            {"keyword": whole, "whole_word": True},
        ],
    )
    api.add_filter_status_v2(warn_filter["id"], chosen["id"])
    api.create_filter_v2(
        "hidden", ["home"], "hide", keywords_attributes=[{"keyword": hide, "whole_word": False}]
    )
    api.create_filter_v2(
        "public", ["public"], "hide", keywords_attributes=[{"keyword": public_only}]
    )

    after = by_id(home(raw))
    assert str(hidden["id"]) not in after  # hide: left out of the page
    for status in (plain, part, elsewhere):
        assert after[str(status["id"])]["filtered"] == []
    result = after[str(warned["id"])]["filtered"]
    assert_entities(result, FILTER_RESULT)
    assert [r["filter"]["title"] for r in result] == ["warned"]
    assert result[0]["keyword_matches"] == [warn] and result[0]["status_matches"] is None
    assert "keywords" not in result[0]["filter"]
    assert after[str(in_cw["id"])]["filtered"][0]["keyword_matches"] == [warn]
    assert after[str(full["id"])]["filtered"][0]["keyword_matches"] == [whole]
    by_status = after[str(chosen["id"])]["filtered"][0]
    assert by_status["status_matches"] == [str(chosen["id"])]
    assert by_status["keyword_matches"] is None

    # The public timeline: only the `public` filter applies there (hiding its status).
    public = raw.get("/api/v1/timelines/public", params={"local": "true", "limit": 40})
    assert public.status_code == 200
    found = by_id(public.json())
    assert str(elsewhere["id"]) not in found
    assert found[str(warned["id"])]["filtered"] == []
    assert str(hidden["id"]) in found
    # Read by someone else, nothing is filtered.
    _, other = second_api(live_instance, session, http)
    theirs = by_id(clients(other).get("/api/v1/timelines/public?local=true").json())
    assert str(elsewhere["id"]) in theirs and theirs[str(warned["id"])]["filtered"] == []

    # The person's account page (`account`) and a thread (`thread`).
    page = raw.get(f"/api/v1/accounts/{person.id}/statuses", params={"limit": 40}).json()
    assert by_id(page)[str(warned["id"])]["filtered"][0]["filter"]["title"] == "warned"
    reply = api.status_post(f"a reply with {warn}", in_reply_to_id=plain["id"])
    context = raw.get(f"/api/v1/statuses/{plain['id']}/context").json()
    assert context["descendants"][0]["id"] == str(reply["id"])
    assert context["descendants"][0]["filtered"][0]["keyword_matches"] == [warn]

    # A reblog carries the filter results of what it shares.
    api.status_reblog(warned["id"])
    reblogs = [s for s in home(raw) if s["reblog"] and s["reblog"]["id"] == str(warned["id"])]
    assert reblogs and reblogs[0]["filtered"][0]["keyword_matches"] == [warn]
    assert reblogs[0]["reblog"]["filtered"][0]["keyword_matches"] == [warn]

    # Deleting the hide filter brings its status back.
    hide_filter = next(f for f in api.filters_v2() if f["title"] == "hidden")
    api.delete_filter_v2(hide_filter["id"])
    assert str(hidden["id"]) in by_id(home(raw))


def test_expired_filters_and_notifications(
    live_instance: LiveInstance,
    session: requests.Session,
    http: httpx.Client,
    person: Person,
    reader: tuple[Mastodon, httpx.Client],
) -> None:
    api, raw = reader
    soon, noisy = word(), word()
    posted = api.status_post(f"{soon} for a second")
    api.create_filter_v2(
        "short", ["home"], "warn", expires_in=1, keywords_attributes=[{"keyword": soon}]
    )
    assert by_id(home(raw))[str(posted["id"])]["filtered"][0]["filter"]["title"] == "short"
    time.sleep(1.2)  # past its expiry: the filter is listed but no longer applied
    assert [f["title"] for f in api.filters_v2()] == ["short"]
    assert by_id(home(raw))[str(posted["id"])]["filtered"] == []

    # Notifications: a mention matching a `hide` filter of the notifications context is
    # left out; one matching a `warn` filter carries the result in its status.
    api.create_filter_v2(
        "noisy", ["notifications"], "hide", keywords_attributes=[{"keyword": noisy}]
    )
    warned = word()
    api.create_filter_v2(
        "warned", ["notifications"], "warn", keywords_attributes=[{"keyword": warned}]
    )
    _, other = second_api(live_instance, session, http)
    loud = other.status_post(f"@{person.handle} {noisy}")
    mild = other.status_post(f"@{person.handle} {warned}")
    quiet = other.status_post(f"@{person.handle} hello")

    def mentions() -> list[dict[str, Any]]:
        answer = raw.get("/api/v1/notifications", params={"types[]": "mention"})
        assert answer.status_code == 200
        found: list[dict[str, Any]] = answer.json()
        return found

    got = eventually(lambda: len(mentions()) >= 2 and mentions(), "mentions notified")
    statuses = {n["status"]["id"]: n["status"] for n in got}
    assert str(loud["id"]) not in statuses
    assert statuses[str(quiet["id"])]["filtered"] == []
    assert statuses[str(mild["id"])]["filtered"][0]["filter"]["title"] == "warned"
    # The hidden one was there all along: without the filter it shows.
    noisy_filter = next(f for f in api.filters_v2() if f["title"] == "noisy")
    api.delete_filter_v2(noisy_filter["id"])
    assert str(loud["id"]) in {n["status"]["id"] for n in mentions()}
    # The home timeline is another context: nothing filters there.
    assert "filtered" in by_id(home(raw)).get(str(posted["id"]), {})


def test_a_change_of_filters_is_published_on_the_persons_stream(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    channel = streaming.user_channel(live_instance.config, int(person.id))
    with redis.Redis.from_url(live_instance.config.redis.url) as client:
        pubsub = client.pubsub()
        pubsub.subscribe(channel)

        def published() -> list[dict[str, Any]]:
            found = []
            while (message := pubsub.get_message(timeout=5)) is not None:
                if message["type"] == "message":
                    found.append(json.loads(message["data"]))
                    break
            return found

        made = api.create_filter_v2("streamed", ["home"], "warn")
        assert published() == [{"event": "filters_changed"}]
        api.add_filter_keyword_v2(made["id"], "streamed")
        assert published() == [{"event": "filters_changed"}]
        api.delete_filter_v2(made["id"])
        assert published() == [{"event": "filters_changed"}]
        pubsub.close()


def test_statuses_asked_for_carry_every_matching_filter_and_are_never_hidden(
    reader: tuple[Mastodon, httpx.Client],
) -> None:
    # As Mastodon: outside the timelines (a status by id, the answer to an action on it,
    # bookmarks, favourites, search) `filtered` names each active filter that matches,
    # whatever its contexts, and a `hide` filter hides nothing there.
    api, raw = reader
    public_word, hide_word = word(), word()
    status = api.status_post(f"both {public_word} and {hide_word}")
    plain = api.status_post(f"plain {word()}")
    api.create_filter_v2(
        "elsewhere", ["public"], "warn", keywords_attributes=[{"keyword": public_word}]
    )
    api.create_filter_v2("gone", ["home"], "hide", keywords_attributes=[{"keyword": hide_word}])
    assert str(status["id"]) not in by_id(home(raw))  # hidden on the home timeline

    def titles(entity: dict[str, Any]) -> list[str]:
        assert_entities(entity["filtered"], FILTER_RESULT)
        return sorted(result["filter"]["title"] for result in entity["filtered"])

    one = raw.get(f"/api/v1/statuses/{status['id']}")
    assert one.status_code == 200
    assert titles(one.json()) == ["elsewhere", "gone"]
    assert titles(raw.get(f"/api/v1/statuses/{plain['id']}").json()) == []
    for action in ("favourite", "bookmark"):
        answer = raw.post(f"/api/v1/statuses/{status['id']}/{action}")
        assert answer.status_code == 200
        assert titles(answer.json()) == ["elsewhere", "gone"]
    api.status_bookmark(plain["id"])
    for listed in ("/api/v1/bookmarks", "/api/v1/favourites"):
        found = by_id(raw.get(listed).json())
        assert titles(found[str(status["id"])]) == ["elsewhere", "gone"], listed
    assert titles(by_id(raw.get("/api/v1/bookmarks").json())[str(plain["id"])]) == []
    searched = raw.get("/api/v2/search", params={"q": hide_word, "type": "statuses"}).json()
    assert [s["id"] for s in searched["statuses"]] == [str(status["id"])]
    assert titles(searched["statuses"][0]) == ["elsewhere", "gone"]
