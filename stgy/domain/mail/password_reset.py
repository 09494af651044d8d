"""Forgotten passwords: a single-use, expiring link by mail, then a new password.

Asking always gets the same answer whether or not the account exists, so the
form tells nobody who is registered; the mail goes out in a job, so the answer
does not wait on the mail server either. A reset ends every session.
"""

from __future__ import annotations

from urllib.parse import quote as url_quote

from stgy.domain.accounts import check_password
from stgy.domain.auth import hash_password
from stgy.domain.errors import Invalid
from stgy.domain.mail import messages
from stgy.domain.mail.email_confirmation import BAD_TOKEN, check_token
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import mail as mail_sql
from storage import sessions as sessions_sql

RESET_PATH = "/auth/reset-password"
MAX_LOGIN = 254
# One address may ask for several accounts' resets (a household, an office).
IP_FACTOR = 4


async def request_reset(services: Services, *, login: str, ip: str) -> None:
    """Mail a reset link to the account named by handle or email, if there is one."""
    login = login.strip().removeprefix("@")
    if not login or len(login) > MAX_LOGIN:
        raise Invalid("email", "required: the account's email address or handle")
    limit = services.config.mail.rate_limit_per_hour
    # Counted whether or not the account exists, so a 429 tells nothing either.
    await messages.count_mail(services, [f"ip:{ip}"], limit * IP_FACTOR)
    await messages.count_mail(services, [f"reset:{login.lower()}"], limit)
    async with services.pool.acquire() as conn:
        user = await mail_sql.find_user(conn, login=login)
        if user is None or not user.active:
            return
        token, token_hash = messages.new_token()
        async with conn.transaction():
            await mail_sql.insert_token(
                conn,
                account_id=user.account_id,
                purpose="reset_password",
                token_hash=token_hash,
                email=user.email,
                expires_at=messages.expiry("reset_password"),
            )
    link = f"{services.config.instance.base_url}{RESET_PATH}?token={url_quote(token)}"
    message = messages.compose(
        services.config,
        to=user.email,
        template="reset_password",
        context={
            "handle": user.handle,
            "display_name": user.display_name,
            "link": link,
            "minutes": int(messages.LIFETIMES["reset_password"].total_seconds() // 60),
        },
    )
    await messages.enqueue(services, message)


async def reset(services: Services, *, token: str, new_password: str) -> None:
    """Set a new password with a mailed token; every session of the account ends."""
    check_token(token)
    token_hash = messages.token_hash(token)
    async with services.pool.acquire() as conn:
        live = await mail_sql.find_live_token(
            conn, token_hash=token_hash, purposes=["reset_password"]
        )
        user = await mail_sql.get_user(conn, account_id=live.account_id) if live else None
    if live is None or user is None or not user.active:
        raise Invalid("token", BAD_TOKEN)
    # A weak password leaves the token unspent, so the person can try another.
    try:
        check_password(new_password, handle=user.handle, email=user.email)
    except Invalid as exc:
        raise Invalid("new_password", exc.reason) from None
    password_hash = await hash_password(services.config.auth, new_password)
    async with services.pool.acquire() as conn, conn.transaction():
        used = await mail_sql.use_token(conn, token_hash=token_hash, purposes=["reset_password"])
        if used is None:  # spent by a racing request meanwhile
            raise Invalid("token", BAD_TOKEN)
        await accounts_sql.set_password_hash(
            conn, account_id=used.account_id, password_hash=password_hash
        )
        await sessions_sql.revoke_all_sessions(conn, account_id=used.account_id)
        # The link reached the address it was sent to: that confirms it.
        await mail_sql.mark_confirmed(conn, account_id=used.account_id, email=used.email)
