"""An account's own settings: its password, its logins (sessions) and its UI language."""

from __future__ import annotations

from stgy.domain.accounts import check_password
from stgy.domain.auth import hash_password, password_matches
from stgy.domain.errors import Invalid, NotFound, Unauthorized
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import mail as mail_sql
from storage import sessions as sessions_sql
from storage.sessions import SessionInfo, Viewer

# The languages the web UI speaks (stgy/web/translations/ has a catalog for each).
UI_LANGUAGES = ("en", "ja")


async def change_password(
    services: Services, viewer: Viewer, *, current_password: str, new_password: str
) -> None:
    """Set a new password when the current one is right; every other session ends."""
    async with services.pool.acquire() as conn:
        creds = await accounts_sql.get_credentials(conn, account_id=viewer.account_id)
        user = await mail_sql.get_user(conn, account_id=viewer.account_id)
    if creds is None or user is None or not user.active:
        raise NotFound("no such account")
    if not await password_matches(creds.password_hash, current_password):
        raise Unauthorized({"field": "current_password", "reason": "wrong password"})
    try:
        check_password(new_password, handle=user.handle, email=user.email)
    except Invalid as exc:
        raise Invalid("new_password", exc.reason) from None
    password_hash = await hash_password(services.config.auth, new_password)
    async with services.pool.acquire() as conn, conn.transaction():
        await accounts_sql.set_password_hash(
            conn, account_id=viewer.account_id, password_hash=password_hash
        )
        await sessions_sql.revoke_other_sessions(
            conn, account_id=viewer.account_id, keep_session_id=viewer.session_id
        )


async def list_sessions(services: Services, account_id: int) -> list[SessionInfo]:
    async with services.pool.acquire() as conn:
        return await sessions_sql.list_sessions(conn, account_id=account_id)


async def end_session(services: Services, account_id: int, session_id: int) -> None:
    """Log one of the account's sessions out (the current one too, if asked)."""
    async with services.pool.acquire() as conn:
        ended = await sessions_sql.revoke_own_session(
            conn, account_id=account_id, session_id=session_id
        )
    if not ended:
        raise NotFound("no such session")


async def set_language(services: Services, account_id: int, language: str | None) -> None:
    """Choose the UI language (None: follow the browser)."""
    if language is not None and language not in UI_LANGUAGES:
        raise Invalid("language", f"one of {', '.join(UI_LANGUAGES)}")
    async with services.pool.acquire() as conn:
        await accounts_sql.set_language(conn, account_id=account_id, language=language)
