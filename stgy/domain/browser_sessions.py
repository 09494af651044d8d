"""Browser logins: an API session row named by a signed cookie, and its CSRF tokens.

A login from the web face makes the same `sessions` row as an API login (so the
sessions list shows it and revoking it ends it everywhere at once); the browser
holds `<session id>.<account id>.<MAC>` in an HttpOnly cookie instead of a JWT,
which would expire within the hour while the session lives for weeks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from stgy.domain import auth
from stgy.services import Services
from storage import sessions as sessions_sql
from storage.sessions import BrowserViewer, Viewer

LIFETIME = auth.SESSION_LIFETIME
_SESSION_PURPOSE = b"stgy web session"
_CSRF_PURPOSE = b"stgy web csrf"


@dataclass(frozen=True)
class BrowserSession:
    cookie: str  # the value of the session cookie
    account_id: int
    session_id: int


def purpose_mac(key: str, purpose: bytes, message: str) -> str:
    """An HMAC-SHA256 of `message` (URL-safe base64, 43 characters) with a key derived
    from the instance's token key for `purpose` alone."""
    # A key of its own per purpose, so a MAC made for one use never passes for another
    # (the JWTs of the API are signed with the same instance secret).
    derived = hmac.new(key.encode(), purpose, hashlib.sha256).digest()
    digest = hmac.new(derived, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _cookie_value(key: str, session_id: int, account_id: int) -> str:
    mac = purpose_mac(key, _SESSION_PURPOSE, f"{session_id}.{account_id}")
    return f"{session_id}.{account_id}.{mac}"


def _parse_cookie(key: str, value: str) -> tuple[int, int] | None:
    """(session id, account id) of a cookie we signed, else None."""
    session, _, rest = value.partition(".")
    account, _, mac = rest.partition(".")
    if not (session.isascii() and session.isdigit() and account.isascii() and account.isdigit()):
        return None
    if len(session) > 20 or len(account) > 20:
        return None
    expected = purpose_mac(key, _SESSION_PURPOSE, f"{session}.{account}")
    if not hmac.compare_digest(expected, mac):
        return None
    return int(session), int(account)


async def log_in(
    services: Services, key: str, *, login: str, password: str, ip: str, user_agent: str
) -> BrowserSession:
    """Check the credentials as an API login does (same limits, same errors) and open a
    session for a browser."""
    token = await auth.login(
        services, key, login=login, password=password, ip=ip, user_agent=user_agent
    )
    account_id, session_id = auth.token_claims(services, key, token.token)
    return BrowserSession(_cookie_value(key, session_id, account_id), account_id, session_id)


async def viewer_of(services: Services, key: str, cookie: str) -> BrowserViewer | None:
    """The viewer of a session cookie, with what a page's header shows of them (one
    statement); None when the cookie is forged, the session revoked or expired, or its
    account suspended, deleted or not approved."""
    parsed = _parse_cookie(key, cookie)
    if parsed is None:
        return None
    session_id, account_id = parsed
    async with services.pool.acquire() as conn:
        return await sessions_sql.browser_viewer(conn, session_id=session_id, account_id=account_id)


async def log_out(services: Services, viewer: Viewer) -> None:
    await auth.logout(services, viewer)


def new_csrf_secret() -> str:
    """The random value of a browser's CSRF cookie."""
    return secrets.token_urlsafe(24)


def csrf_token(key: str, secret: str, session_id: int | None) -> str:
    """The token forms and htmx requests carry: bound to the browser's CSRF cookie and to
    its session, so a token from before a login (or of another browser) does not pass."""
    return purpose_mac(key, _CSRF_PURPOSE, f"{secret}|{session_id or ''}")


def csrf_token_matches(key: str, secret: str, session_id: int | None, token: str) -> bool:
    if not secret or not token:
        return False
    return hmac.compare_digest(csrf_token(key, secret, session_id), token)
