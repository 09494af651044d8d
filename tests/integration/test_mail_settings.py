"""Email change, mail settings, notification mails and one-click unsubscribe (spool backend)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.services import Services
from tests.conftest import User, make_user, unique_handle
from tests.integration.mail_support import html_of, read_spool, text_of, token_in
from tests.integration.test_notifications import last_event_id, run_again
from tests.integration.test_outbox import drain


def email_of(user: User) -> str:
    return f"{user.handle}@example.com"


async def spooled_to(config: Config, services: Services, address: str) -> list[EmailMessage]:
    await drain(services)
    return [m for m in read_spool(config.path(config.mail.spool_path)) if m["To"] == address]


async def settings_of(client: Client, user: User) -> dict[str, Any]:
    response = await client.get("/api/accounts/me/settings", headers=user.auth)
    assert response.status_code == 200
    body: dict[str, Any] = await response.get_json()
    return body


async def turn_on(client: Client, user: User, **settings: bool) -> dict[str, Any]:
    response = await client.patch("/api/accounts/me/settings", json=settings, headers=user.auth)
    assert response.status_code == 200, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def test_email_change_waits_for_the_new_address(
    client: Client, services: Services, config: Config
) -> None:
    user = await make_user(client)
    other = await make_user(client)
    new_email = f"{unique_handle('new')}@example.org"

    async def change(**body: str) -> tuple[int, dict[str, Any]]:
        response = await client.post("/api/accounts/me/email", json=body, headers=user.auth)
        return response.status_code, await response.get_json()

    assert (await change(email=new_email, password="not my password"))[0] == 401
    assert (await change(email="not an address", password=user.password))[0] == 400
    status, body = await change(email=email_of(other).upper(), password=user.password)
    assert status == 409 and body["detail"]["field"] == "email"
    assert (await change(email=email_of(user), password=user.password))[0] == 400

    status, body = await change(email=new_email, password=user.password)
    assert (status, body) == (202, {"status": "confirmation_sent", "pending_email": new_email})
    settings = await settings_of(client, user)
    assert settings["email"] == email_of(user) and settings["pending_email"] == new_email

    # The old address is told, with no link to follow; the new one gets the link.
    [notice] = [
        m for m in await spooled_to(config, services, email_of(user)) if "changed" in m["Subject"]
    ]
    assert new_email in text_of(notice) and "token=" not in text_of(notice)
    [link] = await spooled_to(config, services, new_email)
    assert link["Subject"] == "Confirm your new email address for stgy"

    # Until it is followed, the old address stays.
    login = {"handle": email_of(user), "password": user.password}
    assert (await client.post("/api/auth/login", json=login)).status_code == 200
    confirmed = await client.post("/api/auth/confirm-email", json={"token": token_in(link)})
    assert confirmed.status_code == 200
    assert await confirmed.get_json() == {
        "status": "confirmed",
        "email": new_email,
        "changed": True,
    }

    settings = await settings_of(client, user)
    assert settings["email"] == new_email and settings["email_confirmed"] is True
    assert settings["pending_email"] is None
    assert (await client.post("/api/auth/login", json=login)).status_code == 401
    login["handle"] = new_email
    assert (await client.post("/api/auth/login", json=login)).status_code == 200


async def test_email_change_to_an_address_taken_meanwhile_is_a_conflict(
    client: Client, services: Services, config: Config
) -> None:
    user = await make_user(client)
    wanted = f"{unique_handle('race')}@example.org"
    response = await client.post(
        "/api/accounts/me/email",
        json={"email": wanted, "password": user.password},
        headers=user.auth,
    )
    assert response.status_code == 202
    [link] = await spooled_to(config, services, wanted)
    # Someone registers the address before the link is followed.
    handle = unique_handle()
    registered = await client.post(
        "/api/accounts",
        json={"handle": handle, "password": f"pass phrase {handle}"[::-1], "email": wanted},
    )
    assert registered.status_code == 201
    confirmed = await client.post("/api/auth/confirm-email", json={"token": token_in(link)})
    assert confirmed.status_code == 409
    assert (await settings_of(client, user))["email"] == email_of(user)


async def test_notification_mails_are_off_until_turned_on(
    client: Client, services: Services, config: Config
) -> None:
    alice, bob = await make_user(client), await make_user(client)
    assert await settings_of(client, alice) == {
        "email": email_of(alice),
        "email_confirmed": False,
        "pending_email": None,
        "mail_on_follow": False,
        "mail_on_mention": False,
    }
    await client.put(f"/api/accounts/{alice.id}/follow", headers=bob.auth)
    await client.post("/api/posts", json={"text": f"hi @{alice.handle}"}, headers=bob.auth)
    assert [m["Subject"] for m in await spooled_to(config, services, email_of(alice))] == [
        "Confirm your email address for stgy"
    ]
    bad = await client.patch(
        "/api/accounts/me/settings", json={"mail_on_follow": "yes"}, headers=alice.auth
    )
    assert bad.status_code == 400


async def test_follow_and_mention_mails_each_once_with_unsubscribe(
    client: Client, services: Services, config: Config
) -> None:
    alice, bob, carol = await make_user(client), await make_user(client), await make_user(client)
    settings = await turn_on(client, alice, mail_on_follow=True, mail_on_mention=True)
    assert settings["mail_on_follow"] is True and settings["mail_on_mention"] is True
    start = await last_event_id(services)

    await client.put(f"/api/accounts/{alice.id}/follow", headers=bob.auth)
    mention = await client.post(
        "/api/posts", json={"text": f"@{alice.handle} look <here> & there"}, headers=bob.auth
    )
    post = await mention.get_json()
    # A reply that does not mention her is a notification, not a mail; nor a muted actor.
    await client.post(
        "/api/posts", json={"text": "no mention", "reply_to": post["id"]}, headers=carol.auth
    )
    await client.put(f"/api/accounts/{carol.id}/mute", headers=alice.auth)
    await client.post("/api/posts", json={"text": f"@{alice.handle} hey"}, headers=carol.auth)

    mails = await spooled_to(config, services, email_of(alice))
    by_subject = {str(m["Subject"]): m for m in mails}
    follow = by_subject[f"{bob.handle.title()} now follows you on stgy"]
    mentioned = by_subject[f"{bob.handle.title()} mentioned you on stgy"]
    assert len(mails) == 3  # with the confirmation mail of the registration
    assert f"@{bob.handle}" in text_of(follow)
    assert "look <here> & there" in text_of(mentioned)
    assert "look &lt;here&gt; &amp; there" in html_of(mentioned)
    assert post["url"] in text_of(mentioned)
    for message in (follow, mentioned):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"].startswith("<notification.")

    # Applying the events again (a job that ran twice) mails nobody again.
    assert await run_again(services, start) > 0
    again = await spooled_to(config, services, email_of(alice))
    assert len(again) == 3

    # One click (RFC 8058) turns off that kind of mail, and only that kind.
    link = urlsplit(str(follow["List-Unsubscribe"]).strip("<>"))
    assert link.path == "/api/mail/unsubscribe"
    token = parse_qs(link.query)["token"][0]
    peek = await client.get("/api/mail/unsubscribe", query_string={"token": token})
    assert await peek.get_json() == {"kind": "follow", "enabled": True}
    clicked = await client.post(
        "/api/mail/unsubscribe",
        query_string={"token": token},
        form={"List-Unsubscribe": "One-Click"},
    )
    assert clicked.status_code == 200
    assert await clicked.get_json() == {"kind": "follow", "enabled": False}
    settings = await settings_of(client, alice)
    assert settings["mail_on_follow"] is False and settings["mail_on_mention"] is True

    dave = await make_user(client)
    await client.put(f"/api/accounts/{alice.id}/follow", headers=dave.auth)
    assert len(await spooled_to(config, services, email_of(alice))) == 3


async def test_forged_unsubscribe_tokens_are_refused(client: Client) -> None:
    user = await make_user(client)
    await turn_on(client, user, mail_on_mention=True)
    for token in ("", "garbage", f"{user.id}.mention.forged", f"{user.id}.other.x", "1.follow."):
        response = await client.post("/api/mail/unsubscribe", query_string={"token": token})
        assert response.status_code == 400, token
        assert (await response.get_json())["detail"]["field"] == "token"
    assert (await settings_of(client, user))["mail_on_mention"] is True
