"""Account pages in process: unsubscribe from a mail's link, sessions of others, language."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.domain.mail import mail_notifications
from stgy.services import Services
from tests.conftest import make_user, unique_handle
from tests.web.test_web_forms import csrf_of, post_form, sign_up


async def test_unsubscribe_page_asks_then_turns_the_mails_off(
    client: Client, services: Services
) -> None:
    user = await make_user(client)
    await mail_notifications.update_settings(
        services, int(user.id), mail_on_follow=True, mail_on_mention=True
    )
    token = await mail_notifications.unsubscribe_token(services, int(user.id), "mention")
    page = await client.get(f"/mail/unsubscribe?token={token}")
    text = await page.get_data(as_text=True)
    assert page.status_code == 200 and "Stop the mails about mentions?" in text
    # Opening the link changed nothing: a link scanner may have opened it.
    assert (await mail_notifications.get_settings(services, int(user.id))).mail_on_mention
    csrf = await csrf_of(client, f"/mail/unsubscribe?token={token}")
    status, text, _ = await post_form(
        client, "/mail/unsubscribe", {"csrf_token": csrf, "token": token}
    )
    assert status == 200 and "You will no longer get mails about mentions." in text
    settings = await mail_notifications.get_settings(services, int(user.id))
    assert not settings.mail_on_mention and settings.mail_on_follow
    again = await client.get(f"/mail/unsubscribe?token={token}")
    assert "already off" in await again.get_data(as_text=True)
    forged = await client.get(f"/mail/unsubscribe?token={user.id}.follow.forged")
    assert forged.status_code == 400


async def test_a_session_of_someone_else_cannot_be_ended(client: Client) -> None:
    other = await make_user(client)
    me = await client.get("/api/accounts/me", headers=other.auth)
    assert me.status_code == 200
    status, _, _ = await sign_up(client, unique_handle("sess"))
    assert status == 303
    csrf = await csrf_of(client, "/settings/sessions")
    # Session ids are time-ordered integers: a guess at another account's gets a 404.
    status, text, _ = await post_form(client, "/settings/sessions/1/end", {"csrf_token": csrf})
    assert status == 404
    assert (await client.get("/api/accounts/me", headers=other.auth)).status_code == 200


async def test_the_account_language_wins_over_the_browser(client: Client) -> None:
    status, _, _ = await sign_up(client, unique_handle("lang"))
    assert status == 303
    csrf = await csrf_of(client, "/settings/language")
    status, _, _ = await post_form(
        client, "/settings/language", {"csrf_token": csrf, "language": "ja"}
    )
    assert status == 303
    page = await client.get("/settings/language", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in await page.get_data(as_text=True)
    csrf = await csrf_of(client, "/settings/language")
    status, text, _ = await post_form(
        client, "/settings/language", {"csrf_token": csrf, "language": "fr"}
    )
    assert status == 400 and "one of en, ja" in text


async def test_the_list_unsubscribe_link_opened_in_a_browser_goes_to_the_page(
    client: Client, services: Services
) -> None:
    user = await make_user(client)
    token = await mail_notifications.unsubscribe_token(services, int(user.id), "follow")
    browser = await client.get(
        f"/api/mail/unsubscribe?token={token}",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert browser.status_code == 303
    assert browser.headers["Location"] == f"/mail/unsubscribe?token={token}"
    program = await client.get(f"/api/mail/unsubscribe?token={token}")
    assert program.status_code == 200 and (await program.get_json())["kind"] == "follow"
