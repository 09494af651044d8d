"""The list timeline on a live instance: replies_policy, pages past the stored entries,
exclusive lists leaving home, the helpers the streams use, account deletion, the trim
cron and the home filters."""

from __future__ import annotations

import asyncpg
import httpx
import requests
from quart import Quart

from stgy.domain import lists as lists_domain
from stgy.domain import timelines
from stgy.mastodon.status_entities import status_renderer
from stgy.services import Services
from storage import list_timelines as list_timelines_sql
from storage import lists as lists_sql
from storage import timelines as timelines_sql
from tests.conftest import LiveInstance, make_user
from tests.integration.timeline_support import create_post
from tests.mastodon.conftest import Person
from tests.mastodon.list_support import home_ids, ids_of, login_token, on_database
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import eventually, second_api


def test_replies_policy_decides_which_replies_show(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    alice, alice_api = second_api(live_instance, session, http)
    bob, bob_api = second_api(live_instance, session, http)
    carol, carol_api = second_api(live_instance, session, http)
    api.account_follow(alice.id)
    api.account_follow(bob.id)  # carol is not followed
    listed = api.list_create("Alice", replies_policy="none")
    api.list_accounts_add(listed["id"], [alice.id])

    alice_own = alice_api.status_post("a thread starts")
    to_self = alice_api.status_post("and goes on", in_reply_to_id=alice_own["id"])
    to_owner = alice_api.status_post(
        "answering you", in_reply_to_id=api.status_post("a question")["id"]
    )
    to_bob = alice_api.status_post("answering bob", in_reply_to_id=bob_api.status_post("b")["id"])
    to_carol = alice_api.status_post(
        "answering carol", in_reply_to_id=carol_api.status_post("c")["id"]
    )

    def shown(policy: str) -> set[str]:
        api.list_update(listed["id"], "Alice", replies_policy=policy)
        return set(ids_of(api.timeline_list(listed["id"])))

    always = {str(alice_own["id"]), str(to_self["id"]), str(to_owner["id"])}
    # The fan-out job writes the entries; once the last reply is in, all are.
    eventually(lambda: shown("followed") == always | {str(to_bob["id"])}, "fan-out")
    assert shown("none") == always
    assert shown("list") == always
    api.list_accounts_add(listed["id"], [bob.id])
    bob_ids = set(ids_of(api.account_statuses(bob.id)))
    assert shown("list") == always | {str(to_bob["id"])} | bob_ids
    assert str(to_carol["id"]) not in shown("followed") | shown("list") | shown("none")


def test_pages_past_the_stored_entries_are_read_from_the_members_posts(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    alice, alice_api = second_api(live_instance, session, http)
    bob, bob_api = second_api(live_instance, session, http)
    carol, carol_api = second_api(live_instance, session, http)
    for other in (alice, bob, carol):
        api.account_follow(other.id)
    listed = api.list_create("Trimmed")
    api.list_accounts_add(listed["id"], [alice.id, bob.id])
    carols = [str(carol_api.status_post(f"carol {i}")["id"]) for i in range(3)]
    posted = [
        str((alice_api if i % 2 else bob_api).status_post(f"post {i}")["id"]) for i in range(9)
    ]
    expected = posted[::-1]
    eventually(lambda: ids_of(api.timeline_list(listed["id"], limit=40)) == expected, "fan-out")

    async def trim(conn: asyncpg.Connection) -> int:
        await list_timelines_sql.trim(conn, after_list=0, lists=1000, keep=3)
        floor: int = await list_timelines_sql.entries_floor(conn, list_id=int(listed["id"]))
        return floor

    floor = on_database(live_instance, trim)
    assert floor == int(expected[3])  # the newest three stay stored, above the floor

    def every_page(limit: int) -> list[str]:
        page = api.timeline_list(listed["id"], limit=limit)
        seen: list[str] = []
        while page:
            seen += ids_of(page)
            page = api.fetch_next(page)
        return seen

    # The same posts, in the same order, none twice, across the floor.
    assert every_page(2) == expected and every_page(4) == expected
    assert ids_of(api.timeline_list(listed["id"], max_id=expected[1], limit=4)) == expected[2:6]
    assert ids_of(api.timeline_list(listed["id"], since_id=expected[6])) == expected[:6]
    # Carol joins: her posts, all older than the floor, are read from her posts.
    api.list_accounts_add(listed["id"], [carol.id])
    assert every_page(5) == expected + carols[::-1]
    api.list_accounts_delete(listed["id"], [alice.id])
    assert every_page(3) == [p for p in expected + carols[::-1] if p not in posted[1::2]]


def test_exclusive_lists_leave_the_home_timeline(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    alice, alice_api = second_api(live_instance, session, http)
    bob, bob_api = second_api(live_instance, session, http)
    api.account_follow(alice.id)
    api.account_follow(bob.id)
    from_alice = str(alice_api.status_post("alice at home")["id"])
    from_bob = str(bob_api.status_post("bob at home")["id"])
    eventually(lambda: {from_alice, from_bob} <= set(home_ids(api)), "fan-out to home")

    plain = api.list_create("Plain")
    api.list_accounts_add(plain["id"], [alice.id, bob.id])
    assert {from_alice, from_bob} <= set(home_ids(api))  # a list alone hides nothing

    only = api.list_create("Only here", exclusive=True)
    assert only["exclusive"] is True
    api.list_accounts_add(only["id"], [alice.id])
    home = home_ids(api)
    assert from_alice not in home and from_bob in home
    later = str(alice_api.status_post("alice, later")["id"])
    newer_bob = str(bob_api.status_post("bob, later")["id"])
    eventually(lambda: newer_bob in home_ids(api), "bob's later post at home")
    assert later not in home_ids(api)
    eventually(lambda: {later, from_alice} <= set(ids_of(api.timeline_list(only["id"]))), "list")

    api.list_update(only["id"], "Only here", exclusive=False)
    assert {from_alice, later} <= set(home_ids(api))
    api.list_update(only["id"], "Only here", exclusive=True)
    assert from_alice not in home_ids(api)
    api.list_accounts_delete(only["id"], [alice.id])
    assert from_alice in home_ids(api)

    # Past the stored home entries (trimmed to one), home is computed from follows: the
    # exclusive list's members stay out there too.
    api.list_accounts_add(only["id"], [alice.id])
    me = int(person.id)

    async def trim_home(conn: asyncpg.Connection) -> None:
        await timelines_sql.trim(conn, after_owner=me - 1, owners=1, keep=1)

    on_database(live_instance, trim_home)
    assert on_database(live_instance, lambda conn: timelines_sql.entry_ids(conn, owner_id=me)) == [
        int(newer_bob)
    ]
    home = home_ids(api)
    assert {newer_bob, from_bob} <= set(home)
    assert from_alice not in home and later not in home


def test_storage_for_streaming_and_account_deletion(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    other, other_api = second_api(live_instance, session, http)
    third, third_api = second_api(live_instance, session, http)
    api.account_follow(other.id)
    other_api.account_follow(third.id)
    first = api.list_create("One")
    second = api.list_create("Two")
    others = other_api.list_create("Of the other")
    api.list_accounts_add(first["id"], [other.id])
    api.list_accounts_add(second["id"], [other.id])
    other_api.list_accounts_add(others["id"], [third.id])
    me, them = int(person.id), int(other.id)

    async def check(conn: asyncpg.Connection) -> None:
        found = await lists_sql.lists_receiving(conn, author_id=them, owners=[me, int(third.id)])
        assert found == sorted([(int(first["id"]), me), (int(second["id"]), me)])
        assert await lists_sql.lists_receiving(conn, author_id=them, owners=[them]) == []
        assert await lists_sql.owner_of(conn, list_id=int(others["id"])) == them
        assert await lists_sql.owner_of(conn, list_id=1) is None

    on_database(live_instance, check)

    # The other person deletes their account: their lists go, and they leave ours.
    gone = http.request(
        "DELETE",
        "/api/accounts/me",
        json={"password": other.password},
        headers={"Authorization": f"Bearer {login_token(http, other)}"},
    )
    assert gone.status_code == 204, gone.text

    async def emptied(conn: asyncpg.Connection) -> bool:
        owned = await lists_sql.owner_of(conn, list_id=int(others["id"]))
        members = await lists_sql.lists_receiving(conn, author_id=them, owners=[me])
        return owned is None and members == []

    eventually(lambda: on_database(live_instance, emptied), "the account's lists deleted")
    assert api.list_accounts(first["id"]) == []
    assert [x["title"] for x in api.lists()] == ["One", "Two"]


async def test_the_cron_trims_list_entries_and_raises_the_floor(
    app: Quart, services: Services
) -> None:
    client = app.test_client()
    owner, author = await make_user(client), await make_user(client)
    answer = await client.put(f"/api/accounts/{author.id}/follow", headers=owner.auth)
    assert answer.status_code == 204
    posted = [await create_post(client, services, author, f"post {i}") for i in range(4)]
    made = await lists_domain.create_list(
        services, int(owner.id), title="Trim me", replies_policy=None, exclusive=None
    )
    # Joining brings the author's posts in (the backfill, in the request).
    await lists_domain.add_members(services, int(owner.id), made.id, [int(author.id)])
    async with services.pool.acquire() as conn:
        assert await list_timelines_sql.entries_floor(conn, list_id=made.id) == 0
    assert await timelines.trim_list_timelines(services, keep=1) >= 3
    async with services.pool.acquire() as conn:
        floor = await list_timelines_sql.entries_floor(conn, list_id=made.id)
        kept = await conn.fetch("SELECT post_id FROM list_entries WHERE list_id = $1", made.id)
    assert floor == posted[-2] and [row["post_id"] for row in kept] == [posted[-1]]
    page = await timelines.list_timeline(
        services,
        status_renderer(services.config.instance.base_url, services.config.media.small_size),
        int(owner.id),
        made.id,
        since=None,
        until=None,
        limit=10,
    )
    assert list(page.ids) == posted[::-1]


def test_home_filters_apply_to_list_timelines(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    alice, alice_api = second_api(live_instance, session, http)
    api.account_follow(alice.id)
    listed = api.list_create("Filtered")
    api.list_accounts_add(listed["id"], [alice.id])
    plain = str(alice_api.status_post("nothing special")["id"])
    hidden = str(alice_api.status_post("about quokkas today")["id"])
    warned = str(alice_api.status_post("wombats again")["id"])
    every = {plain, hidden, warned}
    eventually(lambda: {str(s["id"]) for s in api.timeline_list(listed["id"])} == every, "fan-out")
    api.create_filter_v2("hide", ["home"], "hide", keywords_attributes=[{"keyword": "quokkas"}])
    api.create_filter_v2("warn", ["home"], "warn", keywords_attributes=[{"keyword": "wombats"}])
    api.create_filter_v2("public", ["public"], "hide", keywords_attributes=[{"keyword": "special"}])
    page = {str(s["id"]): s for s in api.timeline_list(listed["id"])}
    assert set(page) == {plain, warned}  # hidden by a home filter; a public one: no matter
    assert [r["filter"]["title"] for r in page[warned]["filtered"]] == ["warn"]
    assert page[plain]["filtered"] == []
