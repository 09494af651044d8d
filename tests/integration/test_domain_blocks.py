"""Domain blocks through the native API and the domain (issue 17): admins only, every
change audited, suspensions cut follows and timeline entries and keep the instance flag
the inbox and delivery check, silences leave public timelines, reject_reports drops
Flags, reject_media keeps attachments out, Mastodon's CSV in and out."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.domain import domain_blocks
from stgy.domain.domain_block_csv import parse_csv
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_inbox import (
    activity_of,
    local_actor,
    make_remote,
    note_of,
    post_activity,
    write_post,
)
from tests.integration.test_outbox import drain


async def value(services: Services, query: str, *args: object) -> Any:
    async with services.pool.acquire() as conn:
        return await conn.fetchval(query, *args)


async def make_staff(client: Client, services: Services, role: str) -> dict[str, str]:
    user = await make_user(client)
    async with services.pool.acquire() as conn:
        await conn.execute("UPDATE users SET role = $2 WHERE account_id = $1", int(user.id), role)
    return user.auth


async def audit_actions(services: Services, domain: str) -> list[str]:
    async with services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action FROM audit_log WHERE target_type = 'domain' AND target = $1 ORDER BY id",
            domain,
        )
    return [row[0] for row in rows]


async def test_only_admins_manage_blocks_and_every_change_is_audited(
    client: Client, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    moderator = await make_staff(client, services, "moderator")
    user = await make_staff(client, services, "user")
    domain = "audited-blocks.example"
    body = {"domain": domain, "severity": "silence", "public_comment": "spam"}
    for auth in (moderator, user):
        refused = await client.post("/api/admin/domain_blocks", json=body, headers=auth)
        assert refused.status_code == 403
        assert (await client.get("/api/admin/domain_blocks", headers=auth)).status_code == 403
    assert (await client.post("/api/admin/domain_blocks", json=body)).status_code == 401
    assert (
        await value(services, "SELECT count(*) FROM domain_blocks WHERE domain = $1", domain) == 0
    )

    made = await client.post("/api/admin/domain_blocks", json=body, headers=admin)
    assert made.status_code == 201, await made.get_data(as_text=True)
    block = await made.get_json()
    assert block["severity"] == "silence" and block["public_comment"] == "spam"
    again = await client.post("/api/admin/domain_blocks", json=body, headers=admin)
    assert again.status_code == 409
    bad = await client.post(
        "/api/admin/domain_blocks", json={"domain": "x.example", "severity": "ban"}, headers=admin
    )
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "severity"
    not_domain = await client.post(
        "/api/admin/domain_blocks", json={"domain": "not a domain"}, headers=admin
    )
    assert (await not_domain.get_json())["detail"]["field"] == "domain"

    path = f"/api/admin/domain_blocks/{block['id']}"
    assert (
        await client.patch(path, json={"severity": "suspend"}, headers=moderator)
    ).status_code == 403
    changed = await client.patch(
        path, json={"severity": "suspend", "private_comment": "worse"}, headers=admin
    )
    assert changed.status_code == 200
    assert (await changed.get_json())["severity"] == "suspend"
    assert await value(services, "SELECT blocked FROM instances WHERE domain = $1", domain)
    listed = await (await client.get("/api/admin/domain_blocks", headers=admin)).get_json()
    assert domain in [b["domain"] for b in listed["domain_blocks"]]
    assert (await client.delete(path, headers=moderator)).status_code == 403
    assert (await client.delete(path, headers=admin)).status_code == 204
    assert (await client.delete(path, headers=admin)).status_code == 404
    assert not await value(services, "SELECT blocked FROM instances WHERE domain = $1", domain)
    assert await audit_actions(services, domain) == [
        "domain_block.create",
        "domain_block.update",
        "domain_block.delete",
    ]
    assert (
        await value(
            services,
            "SELECT comment FROM audit_log WHERE target = $1 AND action = 'domain_block.update'",
            domain,
        )
        == "worse"
    )


async def test_suspension_cuts_follows_both_ways_and_refuses_activities(
    client: Client, config: Config, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    user = await make_user(client)
    remote = await make_remote(services, host=f"a.sus{id(client) % 10_000}.example")
    parent = remote.host.split(".", 1)[1]
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            int(user.id),
            remote.account_id,
        )
    follow_in = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow_in) == 202
    note = note_of(remote, "before the block")
    assert await post_activity(client, config, remote, activity_of(remote, "Create", note)) == 202
    await drain(services)
    entries = "SELECT count(*) FROM timeline_entries WHERE owner_id = $1 AND author_id = $2"
    assert await value(services, entries, int(user.id), remote.account_id) == 1
    follows = "SELECT count(*) FROM follows WHERE $1 IN (follower_id, followee_id)"
    assert await value(services, follows, remote.account_id) == 2

    made = await client.post(
        "/api/admin/domain_blocks", json={"domain": parent, "severity": "suspend"}, headers=admin
    )
    assert made.status_code == 201
    assert await value(services, follows, remote.account_id) == 0
    assert await value(services, entries, int(user.id), remote.account_id) == 0
    details = await value(
        services,
        "SELECT details::text FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT 1",
        parent,
    )
    assert '"follows_cut": 2' in details and '"timeline_entries_removed": 1' in details
    # Its activities are refused at the door (a subdomain of the suspended domain).
    later = activity_of(remote, "Create", note_of(remote, "after the block"))
    assert await post_activity(client, config, remote, later) == 403
    # A domain below a suspended one is refused by the CSV too: a single blocks domain.
    block_id = (await made.get_json())["id"]
    assert (
        await client.delete(f"/api/admin/domain_blocks/{block_id}", headers=admin)
    ).status_code == 204
    assert await post_activity(client, config, remote, later) == 202


async def test_silence_keeps_posts_out_of_public_timelines_only(
    client: Client, config: Config, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    follower = await make_user(client)
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            int(follower.id),
            remote.account_id,
        )
    note = note_of(remote, "quiet")
    assert await post_activity(client, config, remote, activity_of(remote, "Create", note)) == 202
    await drain(services)

    async def public_ids(path: str) -> list[str]:
        answer = await client.get(path)
        if answer.status_code == 204:
            return []
        return [p["ap_id"] for p in (await answer.get_json())["posts"]]

    assert note["id"] in await public_ids("/api/timelines/public?limit=100")
    made = await client.post(
        "/api/admin/domain_blocks",
        json={"domain": remote.host, "severity": "silence"},
        headers=admin,
    )
    assert made.status_code == 201
    assert note["id"] not in await public_ids("/api/timelines/public?limit=100")
    # Still taken in: its followers get it in their home timelines.
    later = note_of(remote, "still delivered")
    assert await post_activity(client, config, remote, activity_of(remote, "Create", later)) == 202
    await drain(services)
    home = await client.get("/api/timelines/home", headers=follower.auth)
    assert later["id"] in [p["ap_id"] for p in (await home.get_json())["posts"]]
    assert later["id"] not in await public_ids("/api/timelines/public?limit=100")
    block_id = (await made.get_json())["id"]
    await client.delete(f"/api/admin/domain_blocks/{block_id}", headers=admin)
    assert note["id"] in await public_ids("/api/timelines/public?limit=100")


async def test_reject_reports_drops_flags_and_reject_media_drops_attachments(
    client: Client, config: Config, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    user = await make_user(client)
    post = await write_post(client, user, text="reported here")
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            int(user.id),
            remote.account_id,
        )
    made = await client.post(
        "/api/admin/domain_blocks",
        json={
            "domain": remote.host,
            "severity": "noop",
            "reject_reports": True,
            "reject_media": True,
        },
        headers=admin,
    )
    assert made.status_code == 201
    flag = activity_of(remote, "Flag", [local_actor(config, user), post["ap_id"]], content="x")
    assert await post_activity(client, config, remote, flag) == 202
    note = note_of(
        remote,
        "with a picture",
        attachment=[
            {"type": "Document", "mediaType": "image/png", "url": f"https://{remote.host}/a.png"}
        ],
    )
    assert await post_activity(client, config, remote, activity_of(remote, "Create", note)) == 202
    await drain(services)
    assert await value(services, "SELECT count(*) FROM reports WHERE ap_id = $1", flag["id"]) == 0
    error = await value(services, "SELECT error FROM inbox_activities WHERE ap_id = $1", flag["id"])
    assert "reports from this domain are rejected" in error
    post_id = await value(services, "SELECT id FROM posts WHERE ap_id = $1", note["id"])
    assert post_id is not None
    assert await value(services, "SELECT count(*) FROM media WHERE post_id = $1", post_id) == 0
    assert await domain_blocks.rejects_media(services, "cdn." + remote.host)
    assert not await domain_blocks.rejects_media(services, "other.example")


async def test_csv_round_trips_and_a_bad_file_changes_nothing(
    client: Client, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    moderator = await make_staff(client, services, "moderator")
    csv_text = (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        'csv-one.example,suspend,false,false,"spam, lots",false\n'
        "csv-two.example,silence,true,false,,true\n"
        "csv-three.example,noop,false,true,reports abuse,false\n"
    )
    refused = await client.post("/api/admin/domain_blocks/import", data=csv_text, headers=moderator)
    assert refused.status_code == 403
    done = await client.post("/api/admin/domain_blocks/import", data=csv_text, headers=admin)
    assert done.status_code == 200, await done.get_data(as_text=True)
    assert await done.get_json() == {"created": 3, "updated": 0, "unchanged": 0}
    exported = await client.get("/api/admin/domain_blocks/export", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = await exported.get_data(as_text=True)
    assert text.splitlines()[0] == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    )
    mine = [s for s in parse_csv(text) if s.domain.startswith("csv-")]
    assert sorted(
        (s.domain, s.severity, s.reject_media, s.reject_reports, s.public_comment, s.obfuscate)
        for s in mine
    ) == [
        ("csv-one.example", "suspend", False, False, "spam, lots", False),
        ("csv-three.example", "noop", False, True, "reports abuse", False),
        ("csv-two.example", "silence", True, False, "", True),
    ]
    # The export imported again changes nothing.
    again = await client.post("/api/admin/domain_blocks/import", data=text, headers=admin)
    assert (await again.get_json())["created"] == 0
    assert (await again.get_json())["updated"] == 0
    bad = "#domain,#severity\ncsv-four.example,suspend\ncsv-five.example,ban\n"
    refused_file = await client.post("/api/admin/domain_blocks/import", data=bad, headers=admin)
    assert refused_file.status_code == 400
    assert "line 3" in (await refused_file.get_json())["detail"]["reason"]
    assert (
        await value(
            services, "SELECT count(*) FROM domain_blocks WHERE domain = 'csv-four.example'"
        )
        == 0
    )
    # Bare domains, one a line: suspensions, as Mastodon reads them.
    plain = await client.post(
        "/api/admin/domain_blocks/import", data="csv-six.example\n", headers=admin
    )
    assert (await plain.get_json())["created"] == 1
    assert (
        await value(services, "SELECT severity FROM domain_blocks WHERE domain = 'csv-six.example'")
        == "suspend"
    )
    assert await audit_actions(services, "csv-two.example") == ["domain_block.create"]
    for domain in ("csv-one.example", "csv-two.example", "csv-three.example", "csv-six.example"):
        block_id = await value(services, "SELECT id FROM domain_blocks WHERE domain = $1", domain)
        await client.delete(f"/api/admin/domain_blocks/{block_id}", headers=admin)
