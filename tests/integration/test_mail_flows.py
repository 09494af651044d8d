"""Email confirmation and password reset end to end: API, send_mail job, a real SMTP server."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client
from saq import Worker

from stgy.app import create_app
from stgy.config import Config, load_config
from stgy.http.context import SERVICES_KEY
from stgy.services import Services
from tasks.context import JobContext
from tasks.worker import make_worker
from tests.conftest import config_env, unique_handle
from tests.integration.mail_support import SmtpServer, smtp_server, text_of, token_in

LIMIT = 3  # mails per account or address per hour in these tests


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server("starttls", tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture(scope="module")
def mail_config(database_url: str, tmp_root: Path, smtp: SmtpServer) -> Config:
    return load_config(
        environ=config_env(
            database_url,
            tmp_root,
            queue="mailflows",
            **smtp.env(
                STGY_MAIL_REQUIRE_CONFIRMATION="true",
                STGY_MAIL_RATE_LIMIT_PER_HOUR=str(LIMIT),
            ),
        )
    )


@dataclass
class Mailing:
    client: Client
    services: Services
    smtp: SmtpServer

    async def deliver(self) -> None:
        """Run a worker until the queue is empty: every queued mail goes to the server."""
        worker: Worker[JobContext] = make_worker(self.services, burst=True, dequeue_timeout=0.5)
        await worker.start()

    async def mails_to(self, address: str) -> list[Any]:
        await self.deliver()
        return self.smtp.inbox.messages_to(address)


@pytest.fixture
async def mailing(mail_config: Config, smtp: SmtpServer) -> AsyncIterator[Mailing]:
    app = create_app(mail_config)
    services = await Services.start(mail_config)
    try:
        async with app.test_app():
            yield Mailing(app.test_client(), services, smtp)
    finally:
        await services.close()


@dataclass
class Person:
    handle: str
    email: str
    password: str
    auth: dict[str, str]


async def register(m: Mailing) -> Person:
    handle = unique_handle("m")
    email, password = f"{handle}@example.com", f"long passphrase {handle}"[::-1]
    response = await m.client.post(
        "/api/accounts", json={"handle": handle, "password": password, "email": email}
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    login = await m.client.post("/api/auth/login", json={"handle": handle, "password": password})
    assert login.status_code == 200
    token = (await login.get_json())["token"]
    return Person(handle, email, password, {"Authorization": f"Bearer {token}"})


async def post_status(m: Mailing, person: Person) -> tuple[int, dict[str, Any]]:
    response = await m.client.post("/api/posts", json={"text": "hello"}, headers=person.auth)
    return response.status_code, await response.get_json()


async def confirm(m: Mailing, token: str) -> tuple[int, dict[str, Any]]:
    response = await m.client.post("/api/auth/confirm-email", json={"token": token})
    return response.status_code, await response.get_json()


def some_ip() -> tuple[str, int]:
    """A client address of its own, so per-address limits of other tests do not count."""
    return (f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}", 4000)


async def ask_reset(m: Mailing, ip: tuple[str, int] | None = None, **body: str) -> int:
    response = await m.client.post(
        "/api/auth/password-reset", json=body, scope_base={"client": ip or some_ip()}
    )
    return response.status_code


async def test_registration_mails_a_link_and_posting_waits_for_it(mailing: Mailing) -> None:
    person = await register(mailing)
    status, body = await post_status(mailing, person)
    assert status == 403 and body["error"] == "email_unconfirmed"
    assert "confirm" in body["detail"]["reason"]

    [message] = await mailing.mails_to(person.email)
    assert message["Subject"] == "Confirm your email address for stgy"
    assert f"@{person.handle}" in text_of(message)
    assert "/auth/confirm-email?token=" in text_of(message)
    status, body = await confirm(mailing, token_in(message))
    assert (status, body) == (200, {"status": "confirmed", "email": person.email, "changed": False})

    # The session's next request sees the confirmed account.
    status, _ = await post_status(mailing, person)
    assert status == 201
    settings = await mailing.client.get("/api/accounts/me/settings", headers=person.auth)
    assert (await settings.get_json())["email_confirmed"] is True

    # Single use: the same link again is refused like any unknown token.
    again = await confirm(mailing, token_in(message))
    unknown = await confirm(mailing, "no-such-token")
    assert again == unknown
    assert again[0] == 400 and again[1]["detail"]["field"] == "token"


async def test_resend_replaces_the_link_and_is_limited(mailing: Mailing) -> None:
    person = await register(mailing)
    [first] = await mailing.mails_to(person.email)
    statuses = []
    for _ in range(LIMIT + 1):
        response = await mailing.client.post("/api/auth/confirm-email/resend", headers=person.auth)
        statuses.append(response.status_code)
    assert statuses == [202] * LIMIT + [429]
    mails = await mailing.mails_to(person.email)
    assert len(mails) == 1 + LIMIT
    # Only the newest link works (the worker sends in parallel: mails arrive in any order).
    async with mailing.services.pool.acquire() as conn:
        live = await conn.fetchval(
            "SELECT count(*) FROM mail_tokens t JOIN users u ON u.account_id = t.account_id"
            " WHERE u.email = $1 AND t.used_at IS NULL",
            person.email,
        )
    assert live == 1
    answers = [(await confirm(mailing, token_in(m)))[0] for m in mails]
    assert sorted(answers) == [200] + [400] * LIMIT
    assert answers[mails.index(first)] == 400
    response = await mailing.client.post("/api/auth/confirm-email/resend", headers=person.auth)
    assert response.status_code == 409

    anonymous = await mailing.client.post("/api/auth/confirm-email/resend")
    assert anonymous.status_code == 401


async def test_password_reset_end_to_end(mailing: Mailing) -> None:
    person = await register(mailing)
    await mailing.deliver()
    assert await ask_reset(mailing, handle=person.handle) == 202
    [message] = [m for m in await mailing.mails_to(person.email) if "password" in str(m["Subject"])]
    assert message["Subject"] == "Reset your stgy password"
    token = token_in(message)

    weak = await mailing.client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "short"}
    )
    assert weak.status_code == 400
    assert (await weak.get_json())["detail"]["field"] == "new_password"
    with_handle = await mailing.client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "new_password": f"{person.handle} again"},
    )
    assert with_handle.status_code == 400

    new_password = "a brand new passphrase"
    done = await mailing.client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 200 and (await done.get_json()) == {"status": "password_changed"}

    # Every session ended; the old password is gone, the new one works.
    assert (await mailing.client.get("/api/accounts/me", headers=person.auth)).status_code == 401
    old = await mailing.client.post(
        "/api/auth/login", json={"handle": person.handle, "password": person.password}
    )
    assert old.status_code == 401
    new = await mailing.client.post(
        "/api/auth/login", json={"handle": person.handle, "password": new_password}
    )
    assert new.status_code == 200
    # The reset link reached the address: that confirms it too.
    auth = {"Authorization": f"Bearer {(await new.get_json())['token']}"}
    settings = await mailing.client.get("/api/accounts/me/settings", headers=auth)
    assert (await settings.get_json())["email_confirmed"] is True

    again = await mailing.client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "another one!"}
    )
    unknown = await mailing.client.post(
        "/api/auth/password-reset/confirm",
        json={"token": "x" * 43, "new_password": "another one!"},
    )
    assert again.status_code == unknown.status_code == 400
    assert await again.get_json() == await unknown.get_json()


async def test_expired_reset_token_is_refused_like_an_unknown_one(mailing: Mailing) -> None:
    person = await register(mailing)
    assert await ask_reset(mailing, email=person.email.upper()) == 202
    [message] = [m for m in await mailing.mails_to(person.email) if "password" in m["Subject"]]
    async with mailing.services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE mail_tokens SET expires_at = now() - interval '1 second'"
            " WHERE purpose = 'reset_password' AND lower(email) = lower($1)",
            person.email,
        )
    expired = await mailing.client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token_in(message), "new_password": "a brand new passphrase"},
    )
    assert expired.status_code == 400
    assert (await expired.get_json())["detail"] == {
        "field": "token",
        "reason": "unknown, used or expired token",
    }


async def test_reset_answers_alike_for_unknown_accounts_and_is_limited(mailing: Mailing) -> None:
    person = await register(mailing)
    await mailing.deliver()
    before = mailing.smtp.inbox.count()
    nobody = f"{unique_handle('nobody')}@example.com"
    assert await ask_reset(mailing, email=nobody) == 202
    assert await ask_reset(mailing, handle="no_such_handle_here") == 202
    await mailing.deliver()
    assert mailing.smtp.inbox.count() == before

    # Per address: the same answers for an account that exists and one that does not.
    for login in (person.email, f"{unique_handle('nobody')}@example.com"):
        statuses = [await ask_reset(mailing, email=login) for _ in range(LIMIT + 1)]
        assert statuses == [202] * LIMIT + [429], login
    # Per client address, a few times more.
    ip = some_ip()
    statuses = [await ask_reset(mailing, ip, email=f"{i}{nobody}") for i in range(4 * LIMIT + 1)]
    assert statuses == [202] * (4 * LIMIT) + [429]

    missing = await mailing.client.post("/api/auth/password-reset", json={})
    assert missing.status_code == 400


async def test_the_request_does_not_wait_on_the_mail_server(
    database_url: str, tmp_root: Path, mail_config: Config
) -> None:
    # A mail server that answers nobody: the request is still 202, the mail waits queued.
    config = mail_config.replace("mail", smtp_host="127.0.0.1", smtp_port=1)
    app = create_app(config)
    async with app.test_app():
        client = app.test_client()
        handle = unique_handle("q")
        response = await client.post(
            "/api/accounts",
            json={
                "handle": handle,
                "password": f"long passphrase {handle}"[::-1],
                "email": f"{handle}@example.com",
            },
        )
        assert response.status_code == 201
        response = await client.post(
            "/api/auth/password-reset", json={"handle": handle}, scope_base={"client": some_ip()}
        )
        assert response.status_code == 202
        # The mail waits in the queue for a worker.
        assert await app.extensions[SERVICES_KEY].jobs.depth() >= 1


async def test_tokens_never_reach_the_logs(
    mailing: Mailing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person = await register(mailing)
    assert await ask_reset(mailing, handle=person.handle) == 202
    mails = {m["Subject"]: token_in(m) for m in await mailing.mails_to(person.email)}
    tokens = list(mails.values())
    assert (await confirm(mailing, mails["Confirm your email address for stgy"]))[0] == 200
    response = await mailing.client.post(
        "/api/auth/password-reset/confirm",
        json={"token": mails["Reset your stgy password"], "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 200
    assert "outcome=sent" in caplog.text  # the job's lines were captured
    for token in tokens:
        assert token not in caplog.text
