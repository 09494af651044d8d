"""Lists through Mastodon.py on a live instance: the lists, their members and their
timeline, every refusal as Mastodon answers it, and the bounds; the raw JSON checked
against Mastodon's List entity."""

from __future__ import annotations

import httpx
import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError
from quart import Quart

from stgy.domain import lists as lists_domain
from stgy.domain.errors import Invalid
from stgy.services import Services
from tests.conftest import LiveInstance, make_user
from tests.mastodon.conftest import Person, authorise, register_app, token_for
from tests.mastodon.entities import ACCOUNT, LIST, STATUS, assert_entities, assert_entity
from tests.mastodon.list_support import ids_of
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, next_page, second_api


def test_lists_members_and_timeline_through_mastodon_py(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    alice, alice_api = second_api(live_instance, session, http)
    bob, bob_api = second_api(live_instance, session, http)
    carol, carol_api = second_api(live_instance, session, http)
    for other in (alice, bob, carol):
        api.account_follow(other.id)

    made = api.list_create("Friends")
    assert made["title"] == "Friends" and made["replies_policy"] == "list"
    assert made["exclusive"] is False
    assert_entities(raw.get("/api/v1/lists").json(), LIST)
    assert [str(x["id"]) for x in api.lists()] == [str(made["id"])]
    assert_entity(raw.get(f"/api/v1/lists/{made['id']}").json(), LIST)
    assert api.list(made["id"])["title"] == "Friends"
    changed = api.list_update(made["id"], "  Close friends ", replies_policy="followed")
    assert changed["title"] == "Close friends" and changed["replies_policy"] == "followed"
    # PUT changes only what it is given.
    kept = raw.put(f"/api/v1/lists/{made['id']}", data={"exclusive": "false"}).json()
    assert kept["title"] == "Close friends" and kept["replies_policy"] == "followed"

    # Members: accounts the person follows; pages newest account first, limit=0 for all.
    api.list_accounts_add(made["id"], [alice.id, bob.id])
    members = api.list_accounts(made["id"])
    assert sorted(str(a["id"]) for a in members) == sorted([alice.id, bob.id])
    assert_entities(raw.get(f"/api/v1/lists/{made['id']}/accounts").json(), ACCOUNT)
    first = api.list_accounts(made["id"], limit=1)
    assert len(first) == 1
    second = api.fetch_next(first)
    assert second is not None and len(second) == 1
    assert {str(first[0]["id"]), str(second[0]["id"])} == {alice.id, bob.id}
    third = api.fetch_next(second)
    assert not third
    everyone = raw.get(f"/api/v1/lists/{made['id']}/accounts", params={"limit": "0"})
    assert len(everyone.json()) == 2 and "Link" not in everyone.headers
    assert [x["title"] for x in api.account_lists(alice.id)] == ["Close friends"]
    assert_entities(raw.get(f"/api/v1/accounts/{alice.id}/lists").json(), LIST)
    assert api.account_lists(carol.id) == []

    # The timeline: the members' posts and shares, newest first; nobody else's.
    own = api.status_post("mine, not in the list")
    a1 = alice_api.status_post("alice one")
    c1 = carol_api.status_post("carol, not a member")
    b1 = bob_api.status_post("bob one")
    shared = alice_api.status_reblog(c1["id"])
    a2 = alice_api.status_post("alice two")
    expected = ids_of([a2, shared, b1, a1])
    # The fan-out job writes the list's entries.
    eventually(lambda: ids_of(api.timeline_list(made["id"])) == expected, "the list's posts")
    assert_entities(raw.get(f"/api/v1/timelines/list/{made['id']}").json(), STATUS)
    page = api.timeline_list(made["id"], limit=2)
    assert ids_of(page) == expected[:2]
    older = api.fetch_next(page)
    assert older is not None and ids_of(older) == expected[2:]
    answer = raw.get(f"/api/v1/timelines/list/{made['id']}", params={"limit": "3"})
    assert ids_of(raw.get(next_page(answer)).json()) == expected[3:]
    assert ids_of(api.timeline_list(made["id"], since_id=b1["id"])) == expected[:2]
    assert ids_of(api.timeline_list(made["id"], max_id=shared["id"])) == expected[2:]
    assert str(own["id"]) not in ids_of(api.timeline_list(made["id"]))
    # A post the owner may not see (followers-only of someone who blocks... here: direct
    # to someone else) stays out.
    alice_api.status_post(f"@{carol.handle} just for carol", visibility="direct")
    assert ids_of(api.timeline_list(made["id"])) == expected

    # Removing a member, unfollowing one, blocking one: each leaves the list.
    api.list_accounts_delete(made["id"], [bob.id])
    api.list_accounts_delete(made["id"], [bob.id])  # already out: no matter
    assert str(b1["id"]) not in ids_of(api.timeline_list(made["id"]))
    api.list_accounts_add(made["id"], [bob.id])
    api.account_unfollow(bob.id)
    assert [str(a["id"]) for a in api.list_accounts(made["id"])] == [alice.id]
    api.account_block(alice.id)
    assert api.list_accounts(made["id"]) == []
    assert api.timeline_list(made["id"]) == []

    api.list_delete(made["id"])
    assert api.lists() == []
    with pytest.raises(MastodonNotFoundError):
        api.list(made["id"])
    raw.close()


def test_refusals_answer_as_mastodon(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    stranger, _ = second_api(live_instance, session, http)
    api.account_follow(other.id)
    mine = api.list_create("Mine")
    theirs = other_api.list_create("Theirs")

    # Someone else's list is not found, whatever is asked of it.
    for method, path in [
        ("GET", f"/api/v1/lists/{theirs['id']}"),
        ("PUT", f"/api/v1/lists/{theirs['id']}"),
        ("DELETE", f"/api/v1/lists/{theirs['id']}"),
        ("GET", f"/api/v1/lists/{theirs['id']}/accounts"),
        ("POST", f"/api/v1/lists/{theirs['id']}/accounts"),
        ("DELETE", f"/api/v1/lists/{theirs['id']}/accounts"),
        ("GET", f"/api/v1/timelines/list/{theirs['id']}"),
        ("GET", "/api/v1/lists/not-a-number"),
        ("GET", "/api/v1/timelines/list/99999999999999999999"),
    ]:
        body = {"title": "x", "account_ids[]": [other.id]} if method in ("PUT", "POST") else None
        answer = raw.request(method, path, data=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json() == {"error": "Record not found"}
    assert other_api.list(theirs["id"])["title"] == "Theirs"  # untouched

    # Only followed accounts can be added (404, as Mastodon), all or none.
    refused = raw.post(
        f"/api/v1/lists/{mine['id']}/accounts", data={"account_ids[]": [other.id, stranger.id]}
    )
    assert refused.status_code == 404 and refused.json() == {"error": "Record not found"}
    assert api.list_accounts(mine["id"]) == []
    unknown = raw.post(f"/api/v1/lists/{mine['id']}/accounts", data={"account_ids[]": "x1"})
    assert unknown.status_code == 404
    api.list_accounts_add(mine["id"], [other.id])
    twice = raw.post(f"/api/v1/lists/{mine['id']}/accounts", data={"account_ids[]": other.id})
    assert twice.status_code == 422
    assert twice.json() == {"error": "Validation failed: Account has already been taken"}
    with pytest.raises(MastodonAPIError):
        api.list_accounts_add(mine["id"], [other.id])
    assert api.account_lists(other.id)[0]["title"] == "Mine"
    assert raw.get("/api/v1/accounts/12345/lists").status_code == 404

    # Titles and replies_policy are checked; nothing is written when refused.
    for data, field in [
        ({}, "Title can't be blank"),
        ({"title": "   "}, "Title can't be blank"),
        ({"title": "x" * 201}, "Title"),
        ({"title": "ok", "replies_policy": "everyone"}, "Replies policy"),
        ({"title": "ok", "exclusive": "maybe"}, "exclusive"),
    ]:
        answer = raw.post("/api/v1/lists", data=data)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"].startswith("Validation failed: " + field), answer.json()
    blank = raw.put(f"/api/v1/lists/{mine['id']}", data={"title": ""})
    assert blank.status_code == 422
    assert [x["title"] for x in api.lists()] == ["Mine"]
    with_json = raw.post("/api/v1/lists", json={"title": "By JSON", "exclusive": True})
    assert with_json.status_code == 200 and with_json.json()["exclusive"] is True

    # At most MAX_LISTS lists per account.
    for n in range(len(api.lists()), lists_domain.MAX_LISTS):
        assert raw.post("/api/v1/lists", data={"title": f"list {n}"}).status_code == 200
    over = raw.post("/api/v1/lists", data={"title": "one too many"})
    assert over.status_code == 422 and "Lists" in over.json()["error"]
    assert len(api.lists()) == lists_domain.MAX_LISTS

    # Scopes: read:lists to read, write:lists to change.
    for scopes, method, path, status in [
        ("read:statuses", "GET", "/api/v1/lists", 403),
        ("read:statuses", "GET", f"/api/v1/timelines/list/{mine['id']}", 403),
        ("read:lists", "GET", "/api/v1/lists", 200),
        ("read:lists", "POST", "/api/v1/lists", 403),
        ("read:lists", "DELETE", f"/api/v1/lists/{mine['id']}", 403),
        ("write:lists", "GET", f"/api/v1/lists/{mine['id']}/accounts", 403),
    ]:
        app = register_app(http, scopes=scopes)
        token = token_for(http, app, authorise(logged_in, app)["code"][0]).json()["access_token"]
        answer = http.request(
            method,
            path,
            headers={"Authorization": f"Bearer {token}"},
            data={"title": "no"} if method == "POST" else None,
        )
        assert answer.status_code == status, (scopes, method, path, answer.text)
        if status == 403:
            assert answer.json() == {"error": "This action is outside the authorized scopes"}
    assert http.get("/api/v1/lists").status_code == 401
    raw.close()


async def test_members_are_bounded_per_list(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    owner = await make_user(client)
    followed = [await make_user(client) for _ in range(3)]
    for account in followed:
        answer = await client.put(f"/api/accounts/{account.id}/follow", headers=owner.auth)
        assert answer.status_code == 204, await answer.get_data(as_text=True)
    owner_id = int(owner.id)
    made = await lists_domain.create_list(
        services, owner_id, title="Small", replies_policy=None, exclusive=None
    )
    monkeypatch.setattr(lists_domain, "MAX_MEMBERS", 2)
    ids = [int(a.id) for a in followed]
    with pytest.raises(Invalid):
        await lists_domain.add_members(services, owner_id, made.id, ids)
    await lists_domain.add_members(services, owner_id, made.id, ids[:2])
    with pytest.raises(Invalid):
        await lists_domain.add_members(services, owner_id, made.id, ids[2:])
    page = await lists_domain.members(
        services, owner_id, made.id, since=None, until=None, limit=None
    )
    assert sorted(page.ids) == sorted(ids[:2])
