"""A report about a remote account, forwarded: it reaches the account's instance as a
Flag from our instance actor that does not name the reporter, and becomes a report
there with the reported post kept as it was."""

from __future__ import annotations

from tests.roundtrip.conftest import Peer, eventually, following, local_copy


async def test_forwarded_report_becomes_a_report_there(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    bob_on_a = await following(alice, bob)
    post = await bob.post("a rude thing to say")
    copy = await eventually(lambda: local_copy(a, post["ap_id"]))

    made = await alice.call(
        "POST",
        "/api/reports",
        json={
            "account_id": bob_on_a,
            "post_ids": [str(copy)],
            "category": "other",
            "comment": "please look at this",
            "forward": True,
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["forwarded"] is True

    async def arrived() -> object:
        return await b.pool.fetchrow(
            "SELECT r.id, r.ap_id, r.comment, r.post_ids, ra.ap_id AS reporter"
            " FROM reports r JOIN accounts ra ON ra.id = r.reporter_id"
            " WHERE r.target_account_id = $1",
            int(bob.id),
        )

    report = await eventually(arrived)
    assert report["comment"] == "please look at this"
    assert report["post_ids"] == [int(post["id"])]
    assert report["reporter"] == f"{a.base_url}/actor"  # the instance, not alice
    assert report["ap_id"] == f"{a.base_url}/actor#reports/{made.json()['id']}"
    raw = await b.value("SELECT raw::text FROM inbox_activities WHERE ap_id = $1", report["ap_id"])
    assert raw is not None and '"Flag"' in raw
    assert alice.handle not in raw and alice.actor_url not in raw

    # bob edits the post since: their moderators still read it as it was reported.
    edited = await bob.call("PATCH", f"/api/posts/{post['id']}", json={"text": "nothing"})
    assert edited.status_code == 200, edited.text
    kept = await b.value("SELECT source FROM report_posts WHERE report_id = $1", report["id"])
    assert kept == "a rude thing to say"

    # There, a user cannot see reports; a moderator can, and handles it (audit rows).
    assert (await bob.call("GET", "/api/admin/reports")).status_code == 403
    moderator = await b.register("mod")
    await b.pool.execute(
        "UPDATE users SET role = 'moderator' WHERE account_id = $1", int(moderator.id)
    )
    listed = await moderator.call("GET", "/api/admin/reports")
    assert listed.status_code == 200, listed.text
    found = [r for r in listed.json()["reports"] if r["id"] == str(report["id"])]
    assert found and found[0]["remote"] is True and found[0]["account"]["id"] == bob.id
    detail = (await moderator.call("GET", f"/api/admin/reports/{report['id']}")).json()
    assert detail["posts"][0]["text"] == "a rude thing to say"
    assert detail["posts"][0]["edited_since"] is True
    done = await moderator.call(
        "POST", f"/api/admin/reports/{report['id']}/resolve", json={"comment": "talked"}
    )
    assert done.status_code == 200, done.text
    actions = await b.value(
        "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE target = $1",
        str(report["id"]),
    )
    assert actions == ["report.resolve"]
    # ... and on alice's side, her report and its forwarding left their row.
    forwarded = await a.value(
        "SELECT details->>'forwarded' FROM audit_log WHERE action = 'report.create'"
        " AND target = $1",
        made.json()["id"],
    )
    assert forwarded == "true"
