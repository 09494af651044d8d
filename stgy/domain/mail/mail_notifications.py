"""Notification mails (new follower, mention), their per-user settings and unsubscribing.

Opt-in: a user gets these mails only after turning them on. The outbox handlers
run after the in-app notification handlers of the same event and mail exactly the
notifications those made (so blocks, mutes and visibility apply alike), each once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
from dataclasses import dataclass
from urllib.parse import quote as url_quote

from stgy.domain import notifications as _notifications  # noqa: F401 - its handlers run first
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.domain.mail import messages
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import mail as mail_sql
from storage import posts as posts_sql
from storage.db import Conn
from storage.mail import MailUser, NotificationMail
from storage.outbox import OutboxEvent

KINDS = ("follow", "mention")
UNSUBSCRIBE_PATH = "/api/mail/unsubscribe"
# The page a person opens from the mail body (the header's link is for one-click POSTs).
UNSUBSCRIBE_PAGE = "/mail/unsubscribe"
BAD_UNSUBSCRIBE = "not a valid unsubscribe token"
SETTINGS_PATH = "/settings/notifications"
EXCERPT = 500


@dataclass(frozen=True)
class MailSettings:
    email: str
    email_confirmed: bool
    pending_email: str | None
    mail_on_follow: bool
    mail_on_mention: bool


@dataclass(frozen=True)
class Unsubscribed:
    account_id: int
    kind: str


async def get_settings(services: Services, account_id: int) -> MailSettings:
    async with services.pool.acquire() as conn:
        user = await mail_sql.get_user(conn, account_id=account_id)
        pending = await mail_sql.pending_email(conn, account_id=account_id)
    if user is None or not user.active:
        raise NotFound("no such account")
    return MailSettings(
        user.email, user.confirmed, pending, user.mail_on_follow, user.mail_on_mention
    )


async def update_settings(
    services: Services,
    account_id: int,
    *,
    mail_on_follow: bool | None = None,
    mail_on_mention: bool | None = None,
) -> MailSettings:
    async with services.pool.acquire() as conn:
        await mail_sql.update_settings(
            conn,
            account_id=account_id,
            mail_on_follow=mail_on_follow,
            mail_on_mention=mail_on_mention,
        )
    return await get_settings(services, account_id)


async def _key(services: Services, conn: Conn | None = None) -> bytes:
    value = await messages.instance_secret(
        services, "mail_unsubscribe_key", lambda: secrets.token_urlsafe(48), conn
    )
    return value.encode()


def _signature(key: bytes, account_id: int, kind: str) -> str:
    digest = hmac.new(key, f"unsubscribe:{account_id}:{kind}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def unsubscribe_token(
    services: Services, account_id: int, kind: str, conn: Conn | None = None
) -> str:
    """A token that turns off one kind of mail for one account; it never expires."""
    return f"{account_id}.{kind}.{_signature(await _key(services, conn), account_id, kind)}"


async def _check_unsubscribe(services: Services, token: str) -> Unsubscribed:
    account_part, _, rest = token.partition(".")
    kind, _, signature = rest.partition(".")
    if not account_part.isascii() or not account_part.isdigit() or len(account_part) > 19:
        raise Invalid("token", BAD_UNSUBSCRIBE)
    if kind not in KINDS:
        raise Invalid("token", BAD_UNSUBSCRIBE)
    account_id = int(account_part)
    expected = _signature(await _key(services), account_id, kind)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Invalid("token", BAD_UNSUBSCRIBE)
    return Unsubscribed(account_id, kind)


async def check_unsubscribe(services: Services, token: str) -> tuple[Unsubscribed, bool]:
    """What the token would turn off, and whether it is on now."""
    found = await _check_unsubscribe(services, token)
    settings = await get_settings(services, found.account_id)
    enabled = settings.mail_on_follow if found.kind == "follow" else settings.mail_on_mention
    return found, enabled


async def unsubscribe(services: Services, token: str) -> Unsubscribed:
    """Turn off the kind of mail the token names (again is harmless)."""
    found = await _check_unsubscribe(services, token)
    off = {f"mail_on_{found.kind}": False}
    await update_settings(services, found.account_id, **off)
    return found


async def _send(
    conn: Conn,
    services: Services,
    claimed: NotificationMail,
    user: MailUser,
    template: str,
    context: dict[str, object],
) -> None:
    config = services.config
    token = await unsubscribe_token(services, user.account_id, template_kind(template), conn)
    message = messages.compose(
        config,
        to=user.email,
        template=template,
        context={
            "handle": user.handle,
            "display_name": user.display_name,
            "settings_link": f"{config.instance.base_url}{SETTINGS_PATH}",
            "unsubscribe_link": f"{config.instance.base_url}{UNSUBSCRIBE_PAGE}"
            f"?token={url_quote(token)}",
            **context,
        },
        unsubscribe_url=f"{config.instance.base_url}{UNSUBSCRIBE_PATH}?token={url_quote(token)}",
        # Fixed per notification, so a job enqueued twice while it waits sends once.
        message_id=f"<notification.{claimed.notification_id}@{config.instance.host}>",
    )
    await messages.enqueue(services, message, conn)


def template_kind(template: str) -> str:
    return "follow" if template == "new_follower" else "mention"


def _profile_link(services: Services, url: str | None, acct: str) -> str:
    return url or f"{services.config.instance.base_url}/@{acct}"


@outbox.handles("follow.accepted")
async def _mail_new_follower(conn: Conn, event: OutboxEvent, services: Services) -> None:
    claimed = await mail_sql.claim_follow_mail(
        conn,
        account_id=int(event.payload["followee_id"]),
        from_account_id=int(event.payload["follower_id"]),
    )
    if claimed is None:
        return
    users = await mail_sql.get_users(conn, account_ids=[claimed.account_id])
    follower = await accounts_sql.get_account(conn, account_id=claimed.from_account_id)
    user = users.get(claimed.account_id)
    if user is None or not user.active or follower is None:
        return
    await _send(
        conn,
        services,
        claimed,
        user,
        "new_follower",
        {
            "follower_name": messages.one_line(follower.display_name or follower.handle),
            "follower_acct": follower.acct,
            "follower_link": _profile_link(services, follower.url, follower.acct),
        },
    )


@outbox.handles("post.created")
async def _mail_mentions(conn: Conn, event: OutboxEvent, services: Services) -> None:
    post_id = int(event.payload["post_id"])
    claimed = await mail_sql.claim_mention_mails(conn, post_id=post_id)
    if not claimed:
        return
    users = await mail_sql.get_users(conn, account_ids=[c.account_id for c in claimed])
    for item in claimed:
        user = users.get(item.account_id)
        if user is None or not user.active:
            continue
        # Loaded as the recipient sees it (they can, or they would not be notified).
        views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=user.account_id)
        post = views.get(post_id)
        if post is None or post.deleted_at is not None:
            return
        # Remote posts come as HTML only: their text is the HTML without its tags.
        import nh3  # with the first mention mail: idle processes never need it

        text = post.source or html.unescape(nh3.clean(post.html, tags=set())).strip()
        await _send(
            conn,
            services,
            item,
            user,
            "mention",
            {
                "author_name": messages.one_line(post.account.display_name or post.account.handle),
                "author_acct": post.account.acct,
                "excerpt": text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…",
                "post_link": post.url or post.ap_id,
            },
        )
