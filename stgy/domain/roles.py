"""Who may moderate and administer (issue 17). Every check is made here, in the domain,
so the web UI, the native API and the CLI refuse the same things.

Roles are `user`, `moderator` and `admin` (`users.role`). Moderators handle reports and
act on accounts; admins also change instance settings, roles and domain blocks. A
suspended or deleted account has no session (storage.sessions.active_viewer refuses it),
so a suspended moderator can do nothing. The CLI acts as an admin: whoever runs it has
the machine, its database and its secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain.errors import Forbidden, Invalid
from stgy.services import Services
from storage import accounts as accounts_sql
from storage.sessions import Viewer

ROLES = ("user", "moderator", "admin")
MODERATOR = "moderator"
ADMIN = "admin"


@dataclass(frozen=True)
class Staff:
    """Who performs a moderation or admin action, as the audit log names them."""

    account_id: int | None  # None: the CLI
    handle: str  # "cli" for the CLI
    role: str  # "moderator" or "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


CLI = Staff(None, "cli", ADMIN)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid("role", f"one of {', '.join(ROLES)}")
    return role


def may(role: str, needed: str) -> bool:
    """Whether `role` holds `needed` (admin includes moderator)."""
    if needed == MODERATOR:
        return role in (MODERATOR, ADMIN)
    return role == ADMIN


def require(staff: Staff, needed: str) -> Staff:
    if not may(staff.role, needed):
        raise Forbidden(f"only {'admins' if needed == ADMIN else 'moderators and admins'} may")
    return staff


async def staff_of(services: Services, viewer: Viewer, needed: str = MODERATOR) -> Staff:
    """The viewer as staff holding `needed` (moderator or admin); Forbidden otherwise.
    The role is the one read with the session in this request, never a cached one."""
    if not may(viewer.role, needed):
        raise Forbidden(f"only {'admins' if needed == ADMIN else 'moderators and admins'} may")
    async with services.pool.acquire() as conn:
        account = await accounts_sql.get_account(conn, account_id=viewer.account_id)
    handle = account.handle if account is not None else str(viewer.account_id)
    return Staff(viewer.account_id, handle, viewer.role)
